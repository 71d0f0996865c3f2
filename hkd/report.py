"""The BLEU tables: one row per language, one column per system, with the training size.

    python -m hkd.report --scores results/eval/*/*.json --counts results/data/raw/counts.tsv \
        --langs kk be ... --out-tsv results/tables/bleu.tsv --out-md results/tables/bleu.md

Each score file is one (system, language) result written by hkd.evaluate. A model folder (an
assistant's scores on its languages) fills a table column through --columns COLUMN=FOLDER; folders
among --scores are left to --columns (Snakemake lists them as inputs there). The table lists the
languages in config order (low to high resource in the paper's order), the number of training pairs
after filtering, each system's BLEU, and an average row. Every (system, language) pair of the inputs
must be there exactly once: a duplicate or a score for a language outside --langs is an error.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from hkd.train import write_atomic_text

log = logging.getLogger("hkd.report")

# Column order of the systems, as in the paper's Table 6; other systems follow, sorted.
SYSTEM_ORDER = ["teacher", "universal", "selective_all", "cluster_t1", "cluster_t2", "cluster_t3",
                "cluster_t4", "hkd"]


def load_scores(paths: list[Path], langs: list[str]) -> dict[str, dict[str, float]]:
    """{system: {lang: bleu}} from hkd.evaluate's JSON files."""
    table: dict[str, dict[str, float]] = {}
    for path in paths:
        result = json.loads(path.read_text(encoding="utf-8"))
        system, lang = result["system"], result["lang"]
        if lang not in langs:
            raise ValueError(f"{path}: language {lang!r} is not one of --langs")
        if lang in table.setdefault(system, {}):
            raise ValueError(f"{path}: a second score for system {system!r}, language {lang!r}")
        table[system][lang] = float(result["bleu"])
    return table


def assign_columns(table: dict[str, dict[str, float]], columns: list[str]) -> dict[str, dict[str, float]]:
    """Fill table columns from model folders: `COLUMN=FOLDER` puts the scores of the model evaluated in
    FOLDER (one JSON per language) in COLUMN; several folders fill one column (one per cluster), and
    a language may come from one folder only per column."""
    out = {k: dict(v) for k, v in table.items()}
    for spec in columns:
        name, _, folder = spec.partition("=")
        if not name or not folder:
            raise ValueError(f"--columns: expected COLUMN=FOLDER, got {spec!r}")
        for path in sorted(Path(folder).glob("*.json")):
            result = json.loads(path.read_text(encoding="utf-8"))
            if result["lang"] in out.setdefault(name, {}):
                raise ValueError(f"{path}: column {name!r} already has a score for {result['lang']!r}")
            out[name][result["lang"]] = float(result["bleu"])
    return out


def train_sizes(counts: Path) -> dict[str, int]:
    with open(counts, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {r["lang"]: int(r["kept"]) for r in rows if r["split"] == "train"}


def systems_in_order(systems) -> list[str]:
    known = [s for s in SYSTEM_ORDER if s in systems]
    return known + sorted(set(systems) - set(known))


def build_rows(scores: dict[str, dict[str, float]], sizes: dict[str, int], langs: list[str]) -> list[list[str]]:
    systems = systems_in_order(scores)
    rows = [["lang", "train_pairs", *systems]]
    for lang in langs:
        rows.append([lang, str(sizes.get(lang, "")),
                     *(f"{scores[s][lang]:.2f}" if lang in scores[s] else "NA" for s in systems)])
    averages = []
    for s in systems:
        values = [scores[s][lang] for lang in langs if lang in scores[s]]
        averages.append(f"{sum(values) / len(values):.2f}" if values else "NA")
    rows.append(["average", str(sum(sizes.get(lang, 0) for lang in langs)), *averages])
    return rows


def to_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scores", type=Path, nargs="+", required=True)
    parser.add_argument("--columns", nargs="*", default=[], metavar="COLUMN=FOLDER",
                        help="table columns filled from model folders (the assistants serving clusters)")
    parser.add_argument("--counts", type=Path, required=True, help="hkd.extract's counts file")
    parser.add_argument("--langs", nargs="+", required=True)
    parser.add_argument("--out-tsv", type=Path, required=True)
    parser.add_argument("--out-md", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    files = [p for p in args.scores if not p.is_dir()]  # folders are read through --columns
    table = assign_columns(load_scores(files, args.langs), args.columns)
    rows = build_rows(table, train_sizes(args.counts), args.langs)
    write_atomic_text(args.out_tsv, "".join("\t".join(r) + "\n" for r in rows))
    write_atomic_text(args.out_md, to_markdown(rows))
    log.info("\n%s", to_markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
