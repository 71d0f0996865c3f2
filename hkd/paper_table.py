"""A run's BLEU table beside the paper's Table 6: the same languages and columns, side by side.

    python -m hkd.paper_table --table results/tables/bleu.tsv --paper config/paper_table6.tsv \\
        --out-tsv results/tables/vs_paper.tsv --out-md results/tables/vs_paper.md

--table is hkd.report's BLEU table (lang, train_pairs, one column per system, an average row);
--paper is the paper's Table 6 as transcribed (config/paper_table6.tsv: src, train_k, individual,
universal, selective_all, cluster_t1..t4, hkd; '#' lines are comments; NA where the paper has no
value). The paper's `individual` is this workflow's `teacher`. The output has one row per language of
--table, in its order: lang, the run's train_pairs and the paper's, then for every Table 6 system the
run's BLEU, the paper's and the difference (`<system>`, `<system>_paper`, `<system>_diff` = run -
paper, NA unless both are numbers), and the average row of both. A system
of Table 6 that the run lacks is a column of NA and is named in the log and in the markdown's note;
so is a language of the run that the paper lacks.

For a run that is not the paper's (the rehearsal, config/rehearsal.yaml), the table shows that every
language and every column is there and how the shape compares; its numbers are not a result.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hkd.fileio import write_atomic_text

log = logging.getLogger("hkd.paper_table")

# The paper's Table 6 columns, by this workflow's system names (paper `individual` = `teacher`).
SYSTEMS = ["teacher", "universal", "selective_all", "cluster_t1", "cluster_t2", "cluster_t3", "cluster_t4", "hkd"]
PAPER_NAME = {"teacher": "individual"}


class TableError(ValueError):
    """A table that cannot be read; the message names the file and line."""


def read_table(path: Path, key: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(header, {row key: {column: cell}}) of a TSV whose first column is `key`; '#' lines skipped."""
    header: list[str] | None = None
    rows: dict[str, dict[str, str]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if header is None:
            if fields[0] != key:
                raise TableError(f"{path}: line {number}: the header's first column must be {key!r}, got {fields[0]!r}")
            header = fields
            continue
        if len(fields) != len(header):
            raise TableError(f"{path}: line {number}: {len(fields)} fields, the header has {len(header)}")
        if fields[0] in rows:
            raise TableError(f"{path}: line {number}: {fields[0]!r} appears twice")
        rows[fields[0]] = dict(zip(header, fields))
    if header is None:
        raise TableError(f"{path}: no header")
    return header, rows


def paper_average(paper: dict[str, dict[str, str]], langs: list[str], column: str) -> str:
    values = [float(paper[lang][column]) for lang in langs if lang in paper and paper[lang][column] != "NA"]
    return f"{sum(values) / len(values):.2f}" if values else "NA"


def with_difference(ours: str, theirs: str) -> list[str]:
    """[ours, theirs, ours - theirs] (2 decimals; NA unless both are numbers; marks after ours ignored)."""
    try:
        return [ours, theirs, f"{float(ours.split()[0]) - float(theirs):.2f}"]
    except (ValueError, IndexError):
        return [ours, theirs, "NA"]


def side_by_side(run_header: list[str], run: dict, paper: dict) -> tuple[list[list[str]], list[str]]:
    """The rows of the comparison table, and notes on what either side lacks."""
    langs = [lang for lang in run if lang != "average"]
    notes = []
    missing_systems = [s for s in SYSTEMS if s not in run_header]
    if missing_systems:
        notes.append(f"the run has no column {', '.join(missing_systems)}")
    missing_langs = [lang for lang in langs if lang not in paper]
    if missing_langs:
        notes.append(f"the paper has no row for {', '.join(missing_langs)}")
    header = ["lang", "train_pairs", "train_pairs_paper"]
    for system in SYSTEMS:
        header += [system, f"{system}_paper", f"{system}_diff"]
    rows = [header]
    for lang in langs:
        theirs = paper.get(lang)
        row = [lang, run[lang]["train_pairs"],
               str(round(float(theirs["train_k"]) * 1000)) if theirs else "NA"]
        for system in SYSTEMS:
            row += with_difference(run[lang].get(system, "NA"), theirs[PAPER_NAME.get(system, system)] if theirs else "NA")
        rows.append(row)
    if "average" in run:
        known = [lang for lang in langs if lang in paper]
        total = sum(round(float(paper[lang]["train_k"]) * 1000) for lang in known)
        row = ["average", run["average"]["train_pairs"], str(total) if known else "NA"]
        for system in SYSTEMS:
            row += with_difference(run["average"].get(system, "NA"), paper_average(paper, langs, PAPER_NAME.get(system, system)))
        rows.append(row)
    return rows, notes


def to_markdown(rows: list[list[str]], notes: list[str]) -> str:
    lines = ["## BLEU per language: this run beside the paper's Table 6", "",
             "`<system>`: this run; `<system>_paper`: Saleh et al., Table 6 (`teacher` is the paper's "
             "`individual`); `<system>_diff`: this run - the paper; `train_pairs_paper`: the paper's training "
             "sentences.", ""]
    lines += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    if notes:
        lines += [""] + [f"Note: {note}." for note in notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, required=True, help="hkd.report's bleu.tsv")
    parser.add_argument("--paper", type=Path, required=True, help="the paper's Table 6 (config/paper_table6.tsv)")
    parser.add_argument("--out-tsv", type=Path, required=True)
    parser.add_argument("--out-md", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    try:
        run_header, run = read_table(args.table, "lang")
        paper_header, paper = read_table(args.paper, "src")
        lacking = [c for c in ["train_k", *(PAPER_NAME.get(s, s) for s in SYSTEMS)] if c not in paper_header]
        if lacking:
            raise TableError(f"{args.paper}: no column {', '.join(lacking)}")
        if "train_pairs" not in run_header:
            raise TableError(f"{args.table}: no column train_pairs")
    except TableError as err:
        log.error("%s", err)
        return 1
    rows, notes = side_by_side(run_header, run, paper)
    for note in notes:
        log.warning("%s", note)
    log.info("%d languages, %d systems beside the paper's", len(rows) - 1 - ("average" in run),
             sum(s in run_header for s in SYSTEMS))
    write_atomic_text(args.out_tsv, "".join("\t".join(row) + "\n" for row in rows))
    write_atomic_text(args.out_md, to_markdown(rows, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
