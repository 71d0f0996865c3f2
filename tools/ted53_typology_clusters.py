"""Clusters the 53 TED languages from URIEL typology alone and compares with the paper's type 4.

Needs no corpus: URIEL ``syntax_knn`` vectors (lang2vec), clustered as ``hkd.cluster_languages --method
typology`` does (average linkage, cosine distance, k by silhouette over 3..n-1), printed beside the
paper's type 4 (``wals_kb`` in config/paper_clusters.yaml) with the adjusted Rand index between them.
Also prints, for comparison, the same clustering of the 0.65 centred-SVD reduction (``--reduce``)::

    .venv/bin/python tools/ted53_typology_clusters.py \\
        [--languages /work/shared/reference/ted53_languages.tsv] [--paper config/paper_clusters.yaml] \\
        [--paper-type wals_kb] [--feature-set syntax_knn]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hkd.cluster_languages import adjusted_rand, cluster_vectors, representation  # noqa: E402
from hkd.clusters_file import labels_of, parse_clusters  # noqa: E402
from hkd.typology import TED_TO_ISO3, uriel_features  # noqa: E402


def ted_languages(path: Path) -> list[str]:
    if not path.is_file():  # outside this workplace: the 53 codes of the mapping table, sorted
        print(f"{path} not found: using the 53 codes of hkd.typology.TED_TO_ISO3", file=sys.stderr)
        return sorted(code for code in TED_TO_ISO3 if code != "en")
    rows = [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [row[rows[0].index("code")] for row in rows[1:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", type=Path, default=Path("/work/shared/reference/ted53_languages.tsv"))
    parser.add_argument("--paper", type=Path, default=ROOT / "config" / "paper_clusters.yaml")
    parser.add_argument("--paper-type", default="wals_kb")
    parser.add_argument("--feature-set", default="syntax_knn")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")

    langs = ted_languages(args.languages)
    paper, _ = parse_clusters(args.paper.read_text(encoding="utf-8"), str(args.paper))
    reference = paper[args.paper_type]
    names, matrix = uriel_features(langs, args.feature_set)
    table = dict(zip(langs, matrix))
    print(f"{len(langs)} TED languages, URIEL {args.feature_set}: {len(names)} features")
    for reduce in (False, True):
        X = representation("typology", table, None, langs, reduce=reduce)
        result = cluster_vectors(X, langs)
        ari, n = adjusted_rand(result.labels, labels_of(reference))
        curve = " ".join(f"{k}:{s:.3f}" for k, s in list(result.silhouette.items())[:10] if not math.isnan(s))
        label = "SVD-reduced to 0.65 (--reduce)" if reduce else "raw vectors (default)"
        print(f"\n== computed, {label}: {X.shape[1]} dims, k = {result.k}; silhouette {curve} ...")
        print(f"== ARI vs paper {args.paper_type}: {ari:.4f} over {n} languages")
        if reduce:
            for name, members in result.clusters().items():
                print(f"  {name}: {' '.join(members)}")
            continue
        computed = result.clusters()
        print(f"{'computed':<10} {'size':>4}  members | best-matching paper cluster (overlap)")
        for name, members in computed.items():
            match = max(reference, key=lambda c: len(set(reference[c]) & set(members)))
            print(
                f"  {name:<8} {len(members):>4}  {' '.join(members)} | {match} "
                f"({len(set(reference[match]) & set(members))}/{len(reference[match])})"
            )
        print(f"{'paper':<10} {'size':>4}  members")
        for name, members in reference.items():
            print(f"  {name:<8} {len(members):>4}  {' '.join(members)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
