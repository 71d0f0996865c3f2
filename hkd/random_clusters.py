"""Random clusters with the sizes of a named clustering type: the paper's ablation (Table 9).

    python -m hkd.random_clusters --type random_t1 --like svcca_all --clusters results/clustering/types/svcca_all.yaml \
        --langs na nb nc ... --seed 1 [--focus gl el] --out-clusters results/clustering/types/random_t1.yaml

The clusters of type --like (read from --clusters, a clusters file holding that type) are slots with
their sizes; the languages are drawn into them with a seeded shuffle (Python's
random.Random("SEED:LIKE") over --langs order: each named type draws its own), so the random type
has exactly the cluster sizes of --like, and the same seed gives the same clusters (a byte-identical
file).

Without --focus (the demo): every language of --like is drawn; the result is a random partition
with --like's cluster sizes, and Table 9 compares every language's random cluster against its actual one.

With --focus (the paper: gl and el): each focus language keeps the slot of its own --like cluster, so
its random cluster has the size of its actual one (the paper's "same number of languages per
cluster"); the other members of those slots are drawn from the non-focus languages, without
replacement across slots; only the clusters that hold a focus language are written (the other
languages are in no cluster of this type: hkd.cluster_languages combine --partial-types allows that). Two
focus languages that share an actual cluster share the random one (as in the paper's Rand.4 of gl and
el; its Rand.2 drew them apart, which a partition cannot).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from pathlib import Path

from hkd.clusters_file import ClustersError, canonical, parse_clusters, write_clusters

log = logging.getLogger("hkd.random_clusters")


def random_clusters(like: dict[str, list[str]], langs: list[str], seed: int,
                    focus: list[str] | None = None, salt: str = "") -> dict[str, list[str]]:
    """Clusters c1..cN with the sizes of `like`'s clusters, members drawn with `seed` and `salt` (the
    named type's name: each type draws its own languages); see the module's docstring. Members in
    `langs` order, clusters numbered by their first member's position."""
    slots = list(like.values())
    clustered = [lang for lang in langs if any(lang in members for members in slots)]
    unknown = sorted({m for members in slots for m in members} - set(langs))
    if unknown:
        raise ClustersError(f"the clusters hold languages outside --langs: {unknown}")
    focus = list(focus or [])
    missing = [lang for lang in focus if lang not in clustered]
    if missing:
        raise ClustersError(f"--focus: {missing} in no cluster of the named type")
    pool = [lang for lang in clustered if lang not in focus]
    random.Random(f"{seed}:{salt}").shuffle(pool)
    labels: dict[str, str] = {}
    for index, members in enumerate(slots):
        kept = [lang for lang in focus if lang in members]
        if focus and not kept:
            continue
        drawn, pool = pool[:len(members) - len(kept)], pool[len(members) - len(kept):]
        labels.update({lang: str(index) for lang in kept + drawn})
    return canonical(labels, langs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--type", required=True, help="the random type's name (the YAML top-level key)")
    parser.add_argument("--like", required=True, help="the clustering type whose cluster sizes are kept")
    parser.add_argument("--clusters", type=Path, required=True, help="a clusters file holding the --like type")
    parser.add_argument("--langs", nargs="+", required=True, help="the corpus languages, in output order")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--focus", nargs="+", help="languages that keep their cluster's size (default: none, "
                        "every language drawn)")
    parser.add_argument("--out-clusters", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    clusters, _ = parse_clusters(args.clusters.read_text(encoding="utf-8"), str(args.clusters))
    if args.like not in clusters:
        raise ClustersError(f"{args.clusters}: no type {args.like!r} (types: {', '.join(clusters)})")
    drawn = random_clusters(clusters[args.like], args.langs, args.seed, args.focus, salt=args.like)
    for name, members in drawn.items():
        log.info("%s %s: %s", args.type, name, " ".join(members))
    sizes = " ".join(str(len(m)) for m in drawn.values())
    header = (f"clustering type {args.type}: random clusters with the sizes of {args.like} ({sizes}), seed "
              f"{args.seed}" + (f", focus {' '.join(args.focus)}" if args.focus else "") + "; written by "
              "hkd.random_clusters")
    write_clusters(args.out_clusters, {args.type: drawn}, args.langs, header)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ClustersError as error:
        print(f"hkd.random_clusters: error: {error}", file=sys.stderr)
        sys.exit(1)
