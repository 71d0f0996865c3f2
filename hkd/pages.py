"""Self-contained HTML pages for the Snakemake report: the result tables, the data counts, the config.

The report shows an HTML result in the page itself (a TSV would only be a download), so every table a
researcher reads is turned into a small HTML page with its numbers as text, no scripts and no external
resources.

``markdown``: every "## " section of the markdown files given (hkd.report's bleu.md: Table 6 with its
significance marks, the chrF table, Tables 7-8, and any table added there later; hkd.paper's
comparison) becomes one page in --out-dir, named ``NN-<slug of the heading>.html`` in the order of the
files and sections; paragraphs stay paragraphs, pipe tables become tables::

    python -m hkd.pages markdown --inputs results/tables/bleu.md --out-dir results/report/tables

``tsv``: one TSV file (every column, as it is) as one page with a title::

    python -m hkd.pages tsv --input results/data/raw/counts.tsv --title "Data counts" --out counts.html

``config``: the config the workflow ran with (as JSON, what Snakemake holds after the config files,
--config and the schema's defaults), written as YAML::

    python -m hkd.pages config --config-json '{"name": "demo", ...}' --out config.html
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from hkd.fileio import atomic_directory, write_atomic_text

log = logging.getLogger("hkd.pages")

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1e293b; background: #fff; }
h1 { font-size: 1.3em; }
p { max-width: 60em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #cbd5e1; padding: 0.2em 0.55em; }
th { background: #e2e8f0; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.summary td { font-weight: bold; background: #f1f5f9; }
tbody tr:hover td { background: #fef9c3; }
pre { background: #f8fafc; border: 1px solid #cbd5e1; padding: 0.8em; font-size: 0.85em; }
"""
SUMMARY_ROWS = ("average", "total")  # first cells of the rows shown in bold
NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?(\s+\S+)*$|^NA$")


@dataclass
class Section:
    """One "## " section of a markdown file: its heading and its blocks (paragraphs and tables)."""
    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)  # ("p", text) or ("table", rows)


def table_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_markdown(text: str, source: str = "") -> list[Section]:
    """The sections of a markdown file of headings, paragraphs and pipe tables (what hkd.report and
    hkd.paper write). Text before the first "## " heading is a section titled by `source`."""
    sections: list[Section] = []
    paragraph: list[str] = []
    table: list[list[str]] | None = None

    def close():
        nonlocal table
        if paragraph:
            current().blocks.append(("p", " ".join(paragraph)))
            paragraph.clear()
        if table is not None:
            current().blocks.append(("table", table))
            table = None

    def current() -> Section:
        if not sections:
            sections.append(Section(source or "untitled"))
        return sections[-1]

    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            close()
            sections.append(Section(stripped.lstrip("#").strip()))
        elif stripped.startswith("|"):
            if paragraph:
                close()
            cells = table_cells(stripped)
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue  # the header separator
            if table is None:
                table = []
            elif len(cells) != len(table[0]):
                raise ValueError(f"{source}:{number}: a table row of {len(cells)} cells under a header "
                                 f"of {len(table[0])}")
            table.append(cells)
        elif not stripped:
            close()
        else:
            if table is not None:
                close()
            paragraph.append(stripped)
    close()
    return [s for s in sections if s.blocks]


def html_table(rows: list[list[str]]) -> str:
    """An HTML table: the first row is the header; numbers (with their marks) are right-aligned and
    the average row is bold."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = []
    for row in rows[1:]:
        cls = ' class="summary"' if row and row[0].lower() in SUMMARY_ROWS else ""
        cells = "".join(f'<td class="num">{html.escape(c)}</td>' if NUMBER.match(c) else f"<td>{html.escape(c)}</td>"
                        for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def html_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")


def section_page(section: Section) -> str:
    parts = [f"<p>{html.escape(text)}</p>" if kind == "p" else html_table(text) for kind, text in section.blocks]
    return html_page(section.title, "\n".join(parts))


def slug(title: str, most: int = 48) -> str:
    """A short file name from a heading, the paper's table number first, cut at a word:
    "BLEU per language (Table 6)" -> "table-6-bleu-per-language"."""
    table = re.search(r"\(Table (\w+)\)", title)
    if table:
        title = f"table {table.group(1)} " + title.replace(table.group(0), "")
    words = re.sub(r"[^a-z0-9]+", " ", title.lower()).split()
    out = ""
    for word in words:
        if out and len(out) + 1 + len(word) > most:
            break
        out = f"{out}-{word}" if out else word[:most]
    return out or "section"


def markdown_pages(inputs: list[Path], out_dir: Path) -> list[Path]:
    """One page per section of the markdown files, in --out-dir (replaced whole: hkd.fileio.atomic_directory)."""
    sections = []
    for path in inputs:
        found = parse_markdown(Path(path).read_text(encoding="utf-8"), str(path))
        if not found:
            raise ValueError(f"{path}: no section with a table or text")
        sections += found
    names = [f"{number:02d}-{slug(section.title)}.html" for number, section in enumerate(sections, 1)]
    with atomic_directory(out_dir) as tmp:
        for name, section in zip(names, sections):
            (tmp / name).write_text(section_page(section), encoding="utf-8", newline="\n")
            log.info("%s: %s", out_dir / name, section.title)
    return [out_dir / name for name in names]


def tsv_page(tsv: Path, title: str) -> str:
    with open(tsv, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t")]
    if not rows:
        raise ValueError(f"{tsv}: empty (expected a header line)")
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(rows[0]):
            raise ValueError(f"{tsv}:{number}: {len(row)} cells under a header of {len(rows[0])}")
    return html_page(title, f"<p>From <code>{html.escape(str(tsv))}</code>.</p>\n" + html_table(rows))


def config_page(config: dict) -> str:
    import yaml

    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
    return html_page("The config this run used", "<p>Every setting after the config files, --config and "
                     "the schema's defaults.</p>\n" f"<pre>{html.escape(text)}</pre>")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("markdown", help="one page per section of markdown files")
    p.add_argument("--inputs", type=Path, nargs="+", required=True)
    p.add_argument("--out-dir", type=Path, required=True)
    p = sub.add_parser("tsv", help="one TSV file as a page")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("config", help="the config as a page")
    p.add_argument("--config-json", required=True, help="the config as one JSON object")
    p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if args.command == "markdown":
        markdown_pages(args.inputs, args.out_dir)
    elif args.command == "tsv":
        write_atomic_text(args.out, tsv_page(args.input, args.title))
    else:
        try:
            config = json.loads(args.config_json)
        except ValueError as e:
            raise ValueError(f"--config-json: not JSON ({e})") from None
        if not isinstance(config, dict):
            raise ValueError(f"--config-json: expected a JSON object, got {type(config).__name__}")
        write_atomic_text(args.out, config_page(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
