"""Tests for hkd.extract on hand-made TED-shaped TSVs (run: .venv/bin/pytest tests/test_extract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hkd.extract import COUNT_COLUMNS, ExtractError, Limits, classify, clean, is_null, main, token_count
from hkd.tsv import TsvError

HEADER = ["talk_name", "en", "kk", "pt", "pt-br", "be"]


def write_tsv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")


def make_corpus(tmp_path: Path, train=None, dev=None, test=None) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    default = [["t1", "hello .", "kk1", "pt1", "ptbr1", "be1"], ["t1", "bye .", "kk2", "pt2", "ptbr2", "be2"]]
    write_tsv(corpus / "all_talks_train.tsv", train if train is not None else default)
    write_tsv(corpus / "all_talks_dev.tsv", dev if dev is not None else [["d", "dev en", "kd", "pd", "pbd", "bd"]])
    write_tsv(corpus / "all_talks_test.tsv", test if test is not None else [["x", "test en", "kt", "pt", "pbt", "bt"]])
    return corpus


def run(tmp_path: Path, corpus: Path, langs=("kk", "pt", "be"), merges=("pt-br:pt",), extra=()) -> tuple[Path, dict]:
    out = tmp_path / "out"
    counts_path = tmp_path / "counts.tsv"
    argv = ["--corpus-dir", str(corpus), "--langs", *langs, "--out-dir", str(out), "--counts", str(counts_path)]
    for m in merges:
        argv += ["--merge", m]
    assert main(argv + list(extra)) == 0
    lines = counts_path.read_text(encoding="utf-8").splitlines()
    assert tuple(lines[0].split("\t")) == COUNT_COLUMNS
    counts = {}
    for line in lines[1:]:
        row = dict(zip(COUNT_COLUMNS, line.split("\t")))
        counts[row["lang"], row["split"]] = {k: int(v) for k, v in row.items() if k not in ("lang", "split")}
    return out, counts


def read(out: Path, lang: str, split: str, side: str) -> list[str]:
    text = (out / lang / f"{split}.{side}").read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return text.splitlines()


def test_pure_helpers():
    assert is_null("__NULL__") and is_null(" _ _ NULL _ _ ") and not is_null("NULL pointer")
    assert clean("  a\rb\u2028c \n") == "a b c"
    assert classify("a", "__NULL__", None) == "null"
    assert classify("", "b", None) == "empty"
    assert classify("a", "b", {"b"}) == "test_overlap"
    assert classify("a", "b", {"a"}) == "test_overlap"
    assert classify("a", "b", set()) == "kept"


def test_end_to_end_outputs_counts_and_alignment(tmp_path):
    corpus = make_corpus(tmp_path)
    out, counts = run(tmp_path, corpus)
    assert read(out, "kk", "train", "kk") == ["kk1", "kk2"]
    assert read(out, "kk", "train", "en") == ["hello .", "bye ."]
    # merge: row order, pt's own pair first, then pt-br's
    assert read(out, "pt", "train", "pt") == ["pt1", "ptbr1", "pt2", "ptbr2"]
    assert read(out, "pt", "train", "en") == ["hello .", "hello .", "bye .", "bye ."]
    assert read(out, "pt", "dev", "pt") == ["pd", "pbd"]
    assert not (out / "pt-br").exists()
    for lang in ("kk", "pt", "be"):
        for split in ("train", "dev", "test"):
            assert len(read(out, lang, split, lang)) == len(read(out, lang, split, "en"))
    assert counts["pt", "train"] == dict(
        rows=2, merged_in=2, null_dropped=0, empty_dropped=0, too_long_dropped=0, ratio_dropped=0,
        test_overlap_dropped=0, kept=4, merged_kept=2,
    )
    assert counts["kk", "test"]["kept"] == 1
    assert len(counts) == 9
    assert not list(out.rglob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_null_markers_dropped_and_null_word_kept(tmp_path):
    train = [
        ["t", "__NULL__", "a1", "p", "pb", "b"],
        ["t", "e2", "_ _ NULL _ _", "p", "pb", "b"],
        ["t", "e3", " __NULL__ ", "p", "pb", "b"],
        ["t", "the NULL hypothesis .", "a null value", "p", "pb", "b"],
        ["t", "null", "NULL", "p", "pb", "b"],
        ["t", "e6", "   ", "p", "pb", "b"],
        ["t", "", "a7", "p", "pb", "b"],
    ]
    out, counts = run(tmp_path, make_corpus(tmp_path, train=train))
    assert read(out, "kk", "train", "kk") == ["a null value", "NULL"]
    assert read(out, "kk", "train", "en") == ["the NULL hypothesis .", "null"]
    c = counts["kk", "train"]
    assert (c["rows"], c["null_dropped"], c["empty_dropped"], c["kept"]) == (7, 3, 2, 2)


def test_quotes_preserved_verbatim(tmp_path):
    train = [
        ["t", 'he said " hi " .', "&quot; x &quot;", '"unclosed', "p'", "b"],
        ["t", '" start', "a", "&apos;", "pb", '"b"'],
    ]
    out, _ = run(tmp_path, make_corpus(tmp_path, train=train))
    assert read(out, "kk", "train", "kk") == ["&quot; x &quot;", "a"]
    assert read(out, "kk", "train", "en") == ['he said " hi " .', '" start']
    assert read(out, "pt", "train", "pt") == ['"unclosed', "p'", "&apos;", "pb"]
    assert read(out, "be", "train", "be") == ["b", '"b"']


def test_test_overlap_removed_from_train_only(tmp_path):
    test = [["x", "shared en", "kt", "from pt test", "pbt", "  be only  "]]
    train = [
        ["t", "shared en", "k1", "p1", "pb1", "b1"],  # target side in test
        ["t", "e2", "from pt test", "p2", "pb2", "b2"],  # kk source equals a pt test sentence
        ["t", "e3", "k3", "p3", "be only", "b3"],  # pt-br (merged) source equals a be test sentence
        ["t", "e4", "k4", "p4", "pb4", "kt"],  # be source equals kk test sentence
    ]
    dev = [["d", "shared en", "kd", "pd", "pbd", "bd"]]
    out, counts = run(tmp_path, make_corpus(tmp_path, train=train, dev=dev, test=test))
    assert read(out, "kk", "train", "kk") == ["k3", "k4"]
    assert read(out, "pt", "train", "pt") == ["p2", "pb2", "p3", "p4", "pb4"]
    assert read(out, "be", "train", "be") == ["b2", "b3"]
    assert counts["kk", "train"]["test_overlap_dropped"] == 2
    assert counts["pt", "train"]["test_overlap_dropped"] == 3
    assert counts["pt", "train"]["merged_kept"] == 2
    assert counts["be", "train"]["test_overlap_dropped"] == 2
    assert read(out, "kk", "dev", "en") == ["shared en"]  # dev is not filtered
    assert counts["kk", "dev"]["test_overlap_dropped"] == 0
    for (lang, split), c in counts.items():
        dropped = c["null_dropped"] + c["empty_dropped"] + c["test_overlap_dropped"]
        assert c["rows"] + c["merged_in"] == dropped + c["kept"], (lang, split)


def test_overlap_uses_unrequested_columns(tmp_path):
    header = HEADER + ["eo"]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_tsv(
        corpus / "all_talks_train.tsv",
        [["t", "e", "only eo test", "p", "pb", "b", "x"], ["t", "e2", "k2", "p", "pb", "b", "x"]],
        header,
    )
    write_tsv(corpus / "all_talks_dev.tsv", [["d", "e", "k", "p", "pb", "b", "x"]], header)
    write_tsv(corpus / "all_talks_test.tsv", [["x", "te", "kt", "pt", "pbt", "bt", "only eo test"]], header)
    out, counts = run(tmp_path, corpus, langs=("kk",), merges=())
    assert read(out, "kk", "train", "kk") == ["k2"]


def expect_error(tmp_path, corpus, match, langs=("kk", "pt", "be"), merges=("pt-br:pt",)):
    with pytest.raises((ExtractError, TsvError), match=match):
        run(tmp_path, corpus, langs=langs, merges=merges)
    # nothing that looks finished is left behind
    assert not (tmp_path / "counts.tsv").exists()
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def test_ragged_row_names_file_and_line(tmp_path):
    corpus = make_corpus(tmp_path, train=[["t", "e", "k", "p", "pb", "b"], ["t", "e", "k", "p", "pb"]])
    expect_error(tmp_path, corpus, r"all_talks_train\.tsv:3: ragged row: 5 fields, the header has 6")


def test_bad_utf8_names_file_line_and_offset(tmp_path):
    corpus = make_corpus(tmp_path)
    path = corpus / "all_talks_dev.tsv"
    path.write_bytes(path.read_bytes() + b"d\te\tab\xffc\tp\tpb\tb\n")
    expect_error(tmp_path, corpus, r"all_talks_dev\.tsv:3: invalid UTF-8 at byte 6 of the line \(byte 56 of the file")


def test_missing_column_names_column_and_file(tmp_path):
    corpus = make_corpus(tmp_path)
    write_tsv(corpus / "all_talks_test.tsv", [["x", "e", "k", "p", "b"]], ["talk_name", "en", "kk", "pt", "be"])
    expect_error(tmp_path, corpus, r"all_talks_test\.tsv:1: missing column\(s\) 'pt-br'")
    write_tsv(corpus / "all_talks_test.tsv", [["e", "k", "p", "pb", "b"]], HEADER[1:])
    expect_error(tmp_path, corpus, r"all_talks_test\.tsv:1: missing column\(s\) 'talk_name'")
    write_tsv(corpus / "all_talks_test.tsv", [["x", "k", "p", "pb", "b"]], ["talk_name", "kk", "pt", "pt-br", "be"])
    expect_error(tmp_path, corpus, r"all_talks_test\.tsv:1: missing column\(s\) 'en'")
    write_tsv(corpus / "all_talks_test.tsv", [["x", "e", "k", "p", "pb", "b"]], HEADER)
    expect_error(tmp_path, corpus, r"all_talks_test\.tsv:1: missing column\(s\) 'xx'", langs=("kk", "xx"), merges=())


def test_duplicate_column(tmp_path):
    corpus = make_corpus(tmp_path)
    write_tsv(corpus / "all_talks_dev.tsv", [["d", "e", "k", "p", "pb", "k"]], HEADER[:-1] + ["kk"])
    expect_error(tmp_path, corpus, r"all_talks_dev\.tsv:1: duplicate column 'kk'")


def test_empty_pair_names_file_language_split(tmp_path):
    corpus = make_corpus(tmp_path, dev=[["d", "e", "__NULL__", "p", "pb", "b"]])
    expect_error(tmp_path, corpus, r"all_talks_dev\.tsv: empty pair: language 'kk' .* split 'dev'")


def test_merge_arguments_checked(tmp_path):
    corpus = make_corpus(tmp_path)
    expect_error(tmp_path, corpus, r"'pt-br' is merged away", langs=("kk", "pt", "pt-br"))
    expect_error(tmp_path, corpus, r"destination 'pt' is not in --langs", langs=("kk",))
    expect_error(tmp_path, corpus, r"expected SOURCE:DEST", merges=("pt-br",))
    expect_error(tmp_path, corpus, r"target 'en'", langs=("kk", "en"), merges=())


def test_crlf_and_line_breaks_inside_fields_keep_alignment(tmp_path):
    corpus = make_corpus(tmp_path)
    path = corpus / "all_talks_train.tsv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n").replace(b"kk1", b"k\xe2\x80\xa8k\x0c1"))
    out, _ = run(tmp_path, corpus)
    assert read(out, "kk", "train", "kk") == ["k k 1", "kk2"]
    assert read(out, "be", "train", "be") == ["be1", "be2"]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_utf8_byte_order_mark_is_accepted(tmp_path, line_end):
    corpus = make_corpus(tmp_path)
    for path in corpus.iterdir():  # as an editor or a spreadsheet export saves them
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", line_end))
    out, counts = run(tmp_path, corpus)
    assert read(out, "kk", "train", "kk") == ["kk1", "kk2"] and read(out, "kk", "train", "en") == ["hello .", "bye ."]
    assert counts["pt", "train"]["kept"] == 4


def test_utf16_and_cr_only_line_ends_are_named(tmp_path):
    corpus = make_corpus(tmp_path)
    path = corpus / "all_talks_train.tsv"
    text = path.read_bytes()
    path.write_bytes(text.replace(b"\n", b"\r"))
    expect_error(tmp_path, corpus, r"all_talks_train\.tsv: its line ends are CR only \(\\r, classic Mac OS: a CR in "
                 r"line 1 at byte 27, no LF\); save it with LF \(or CRLF\) line ends")
    path.write_bytes(text.decode().encode("utf-16"))
    expect_error(tmp_path, corpus, r"all_talks_train\.tsv:1: the file is UTF-16 \(byte-order mark ff fe\); save it as UTF-8")


def test_length_guard_drops_long_and_lopsided_pairs_and_counts_them(tmp_path):
    long = " ".join(["w"] * 300)
    train = [["t", "hello .", "kk1", "p", "pb", "be1"], ["t", long, "kk2", "p", "pb", "b"],
             ["t", "a b c d e f g h i j", "x", "p", "pb", "b"], ["t", "bye .", "kk4 " * 7, "p", "pb", "b"]]
    corpus = make_corpus(tmp_path, train=train)
    out, counts = run(tmp_path, corpus, langs=("kk",), merges=())
    # "x" against 10 tokens: ratio 10 > 9; the 300-token English side is longer than 250
    assert read(out, "kk", "train", "kk") == ["kk1", ("kk4 " * 7).strip()]
    assert counts["kk", "train"] | {} == dict(rows=4, merged_in=0, null_dropped=0, empty_dropped=0, too_long_dropped=1,
                                          ratio_dropped=1, test_overlap_dropped=0, kept=2, merged_kept=0)
    out, counts = run(tmp_path, corpus, langs=("kk",), merges=(), extra=("--max-tokens", "0", "--max-ratio", "0"))
    assert counts["kk", "train"]["kept"] == 4  # both limits off
    out, counts = run(tmp_path, corpus, langs=("kk",), merges=(), extra=("--max-tokens", "8", "--max-ratio", "3"))
    assert (counts["kk", "train"]["too_long_dropped"], counts["kk", "train"]["ratio_dropped"]) == (2, 1)


def test_length_guard_helpers():
    assert token_count("a  b\tc") == 3 and token_count("a b c d", cap=2) == 3 and token_count("a b", cap=2) == 2
    assert classify("a", "b c d e f g h i j k", None, Limits(250, 9)) == "ratio"
    assert classify("a b", "b c d e f g h i j k", None, Limits(250, 9)) == "kept"
    assert classify("a " * 251, "b " * 251, None, Limits(250, 9)) == "too_long"
    assert classify("a " * 251, "b", None, Limits(0, 0)) == "kept"
    assert classify("__NULL__", "b " * 300, None, Limits(250, 9)) == "null"  # the earlier filters first
