"""What the ultimate student needs to know about its teacher-assistants, in one folder.

    python -m hkd.student prepare --clusters results/clustering/clusters.yaml --langs kk be ... \
        --stores results/stores/assistant --curves results/assistants --out-dir results/student/assistants

Every cluster of every type is one teacher-assistant of the paper: a language is taught by C_sim
assistants, one per clustering type whose clusters hold it (hkd.plan). The workflow trains one
model per distinct set of languages, so two types that form the same cluster (the paper's svcca53 c2
and svcca23 c9) share one model, the one hkd.plan says serves them. The student still sees one
assistant per type, as in the paper. ``--skip-types TYPE ...`` leaves types out of the student's
assistants (the random clusters of the paper's Table 9 ablation, hkd.random_clusters).

Writes into OUT-DIR:

- ``map.json``: ``{lang: ["type/cluster", ...]}``, the assistants of each language (clusters-file order);
- ``stores/TYPE/CLUSTER``: a relative link to the serving model's stores (``STORES/UNIT/<lang>``), so
  ``--assistant-stores OUT-DIR/stores/{type}/{cluster}/{lang}`` finds every assistant's store;
- ``dev_bleu.json``: ``{lang: {"type/cluster": bleu}}``, each assistant's dev BLEU on each of its
  languages at its best checkpoint, from its training curve (``CURVES/UNIT/curve.jsonl``: the
  ``valid_bleu_<lang>`` of the validation with the best ``valid_bleu``), for the weakest-assistant rule.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from hkd.clusters_file import parse_clusters
from hkd.curves import best_epoch_bleu
from hkd.fileio import atomic_directory, write_atomic_text
from hkd.plan import make_plan, teaching

log = logging.getLogger("hkd.student")


def write_assistants(out_dir: Path, names: list[str], serves: dict[str, str], stores: Path, curves: Path,
                     table: dict[str, list[str]]) -> None:
    """The folder's contents: a link per assistant to its serving model's stores, map.json, dev_bleu.json."""
    (out_dir / "stores").mkdir(parents=True)
    unit_bleu = {}
    for name in names:
        unit = serves[name]
        target = stores / unit
        if not target.is_dir():
            raise FileNotFoundError(f"{target}: the stores of {unit} (serving {name}) are missing")
        link = out_dir / "stores" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(target.resolve(), link.parent.resolve()), link)
        if unit not in unit_bleu:
            unit_bleu[unit] = best_epoch_bleu(curves / unit / "curve.jsonl")
    bleu = {}
    for lang, lang_names in table.items():
        bleu[lang] = {}
        for name in lang_names:
            scores = unit_bleu[serves[name]]
            if lang not in scores:
                raise KeyError(f"{curves / serves[name] / 'curve.jsonl'}: no valid_bleu_{lang} (the dev BLEU of "
                               f"{name} on {lang}; was it trained with --eval-bleu?)")
            bleu[lang][name] = scores[lang]
    write_atomic_text(out_dir / "map.json", json.dumps(table, indent=1) + "\n")
    write_atomic_text(out_dir / "dev_bleu.json", json.dumps(bleu, indent=1, sort_keys=True) + "\n")


def prepare(clusters_path: Path, langs: list[str], stores: Path, curves: Path, out_dir: Path,
            skip_types: list[str] | None = None) -> dict[str, list[str]]:
    clusters = parse_clusters(clusters_path.read_text(encoding="utf-8"), str(clusters_path))[0]
    unknown = sorted(set(skip_types or []) - set(clusters))
    if unknown:
        raise ValueError(f"--skip-types: {clusters_path} has no type {unknown}")
    for skipped in skip_types or []:
        log.info("type %s: not among the student's assistants (--skip-types)", skipped)
    plan = make_plan(clusters, langs, False, {t: "" for t in skip_types or []})
    table = teaching({t: c for t, c in clusters.items() if t not in (skip_types or [])}, langs)
    serves = {f"{t}/{n}": f"{u[0]}/{u[1]}" for (t, n), u in plan.clusters().items()}
    names = sorted({name for names in table.values() for name in names})
    with atomic_directory(out_dir) as tmp:  # the folder is one output: whole, or not there
        write_assistants(tmp, names, serves, stores, curves, table)
    for lang, lang_names in table.items():
        log.info("%s: %d assistants %s", lang, len(lang_names), lang_names)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="the student's assistant map, store links and dev BLEU")
    p.add_argument("--clusters", type=Path, required=True)
    p.add_argument("--langs", nargs="+", required=True)
    p.add_argument("--stores", type=Path, required=True, help="folder of the models' stores (STORES/UNIT/<lang>)")
    p.add_argument("--curves", type=Path, required=True, help="folder of the models (CURVES/UNIT/curve.jsonl)")
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--skip-types", nargs="*", default=[], metavar="TYPE",
                   help="clustering types the student does not learn from (the random clusters of Table 9)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    prepare(args.clusters, args.langs, args.stores, args.curves, args.out_dir, args.skip_types)
    return 0


if __name__ == "__main__":
    sys.exit(main())
