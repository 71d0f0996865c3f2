"""The report's HTML pages (hkd.pages)."""

from __future__ import annotations

import json

import pytest

from hkd import pages

MARKDOWN = """## BLEU per language (Table 6)

| lang | train_pairs | teacher | hkd |
|---|---|---|---|
| kk | 3300 | 3.42 +U | 6.61 |
| average | 3300 | 3.42 | 6.61 |

## Share of first and second places per training-size band, without the student (Table 7)

Percent of the 1st and 2nd places of the band's languages;
each row sums to 100.

| band | languages | teacher |
|---|---|---|
| <=10k | 1 | 100.00 |

## Random clusters against actual ones (Table 9)

| type | bleu |
|---|---|
| random | NA |
"""


def test_markdown_sections_paragraphs_and_tables():
    sections = pages.parse_markdown(MARKDOWN, "bleu.md")
    assert [s.title for s in sections] == [
        "BLEU per language (Table 6)",
        "Share of first and second places per training-size band, without the student (Table 7)",
        "Random clusters against actual ones (Table 9)"]
    kind, rows = sections[0].blocks[0]
    assert kind == "table" and rows[1] == ["kk", "3300", "3.42 +U", "6.61"]
    assert sections[1].blocks[0] == ("p", "Percent of the 1st and 2nd places of the band's languages; "
                                          "each row sums to 100.")
    with pytest.raises(ValueError, match=r"bad.md:4: a table row of 2 cells under a header of 3"):
        pages.parse_markdown("## t\n| a | b | c |\n|---|---|---|\n| 1 | 2 |\n", "bad.md")


def test_one_page_per_section_with_the_numbers_as_text(tmp_path):
    md = tmp_path / "bleu.md"
    md.write_text(MARKDOWN)
    out = tmp_path / "tables"
    (out / "stale.html").parent.mkdir()
    (out / "stale.html").write_text("old")
    pages.main(["markdown", "--inputs", str(md), "--out-dir", str(out)])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["01-table-6-bleu-per-language.html",
                     "02-table-7-share-of-first-and-second-places-per.html",
                     "03-table-9-random-clusters-against-actual-ones.html"]
    table6 = (out / names[0]).read_text()
    assert '<td class="num">3.42 +U</td>' in table6 and '<tr class="summary">' in table6
    assert "<h1>BLEU per language (Table 6)</h1>" in table6 and "<script" not in table6
    assert "&lt;=10k" in (out / names[1]).read_text()  # escaped
    empty = tmp_path / "empty.md"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="empty.md: no section"):
        pages.markdown_pages([empty], tmp_path / "x")


def test_slugs_are_short_and_lead_with_the_table_number():
    assert pages.slug("BLEU per language (Table 6)") == "table-6-bleu-per-language"
    assert pages.slug("chrF per language") == "chrf-per-language"
    assert pages.slug("!!!") == "section"
    assert len(pages.slug("word " * 40)) <= 48


def test_tsv_and_config_pages(tmp_path):
    counts = tmp_path / "counts.tsv"
    counts.write_text("lang\tsplit\tkept\nkk\ttrain\t3300\n")
    out = tmp_path / "counts.html"
    pages.main(["tsv", "--input", str(counts), "--title", "Data counts", "--out", str(out)])
    assert '<td class="num">3300</td>' in out.read_text()
    counts.write_text("lang\tsplit\tkept\nkk\ttrain\n")
    with pytest.raises(ValueError, match=r"counts.tsv:2: 2 cells under a header of 3"):
        pages.tsv_page(counts, "x")
    config = tmp_path / "config.html"
    pages.main(["config", "--config-json", json.dumps({"name": "demo", "languages": ["kk", "be"]}),
                "--out", str(config)])
    text = config.read_text()
    assert "name: demo" in text and "- kk" in text
    with pytest.raises(ValueError, match="--config-json: not JSON"):
        pages.main(["config", "--config-json", "{", "--out", str(config)])
