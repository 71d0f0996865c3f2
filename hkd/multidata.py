"""One fairseq data folder holding every pair, for the multilingual models.

Each pair is binarized in its own folder (results/data/bin/{lang}); fairseq's multilingual task reads
all pairs from one folder. This step copies every pair's files into one folder. (Not hard links: a
link shares its source's modification time, and Snakemake then takes the output for older than its
inputs.)

    python -m hkd.multidata --pairs results/data/bin/kk results/data/bin/be ... --out results/data/bin/all
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hkd.fileio import copy_atomic, remove_stale_temporaries

log = logging.getLogger("hkd.multidata")


def link_pairs(pairs: list[Path], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    seen: dict[str, Path] = {}
    for folder in pairs:
        files = sorted(p for p in folder.iterdir() if p.suffix in (".bin", ".idx", ".txt") and p.name != "preprocess.log")
        if not files:
            raise FileNotFoundError(f"{folder}: no binarized data in it")
        for src in files:
            dst = out / src.name
            if src.name.startswith("dict."):  # the shared dictionary, copied by every pair: identical
                if src.name in seen and seen[src.name].read_bytes() != src.read_bytes():
                    raise ValueError(f"{src} differs from {seen[src.name]}: the pairs do not share one dictionary")
                seen[src.name] = src
            if dst.is_symlink():  # a link of an older layout: replace it, not its target
                dst.unlink()
            remove_stale_temporaries(dst)
            copy_atomic(src, dst)  # a kill between two copies never leaves a file cut short
            written.append(dst)
    log.info("%s: %d files from %d pairs", out, len(written), len(pairs))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=Path, nargs="+", required=True, help="per-pair binarized folders")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    link_pairs(args.pairs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
