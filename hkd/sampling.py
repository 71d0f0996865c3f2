"""Temperature up-sampling of small language pairs for multilingual training (pure functions).

Multilingual models see every pair in one stream; small pairs are up-sampled so that a pair with n_l
sentences gets a share proportional to (n_l / N) ** (1 / T) (T = 1: proportional to the data, T -> inf:
uniform; the paper's practice, after Wang et al. 2020, is to up-sample low-resource pairs). Pairs are
only ever *up*-sampled: the largest pair keeps its size n_max and pair l gets

    m_l = round(n_max * (n_l / n_max) ** (1 / T))   (>= n_l for T >= 1)

sentences per epoch: floor(m_l / n_l) full copies of the pair plus a fresh random remainder each
epoch, so every sentence is seen at least once per epoch.

    python -m hkd.sampling --sizes kk=3259 be=4410 tr=182300 --temperature 5
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def upsampled_sizes(sizes: list[int], temperature: float) -> list[int]:
    """Sentences per epoch of each pair (see the module docstring); an empty pair stays empty."""
    if temperature < 1.0:
        raise ValueError(f"the sampling temperature must be >= 1 (only up-sampling), got {temperature}")
    if any(n < 0 for n in sizes):
        raise ValueError(f"negative pair size in {sizes}")
    n_max = max(sizes, default=0)
    if n_max == 0:
        return [0 for _ in sizes]
    return [0 if n == 0 else max(n, round(n_max * (n / n_max) ** (1.0 / temperature))) for n in sizes]


def upsample_indices(size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` indices into a pair of `size` sentences: full copies, then a random remainder drawn
    without replacement (sorted). int64 array of length `count`."""
    if size == 0:
        if count:
            raise ValueError(f"cannot draw {count} sentences from an empty pair")
        return np.zeros(0, dtype=np.int64)
    copies, rest = divmod(count, size)
    parts = [np.tile(np.arange(size, dtype=np.int64), copies)]
    if rest:
        parts.append(np.sort(rng.choice(size, rest, replace=False)).astype(np.int64))
    return np.concatenate(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", required=True, help="LANG=SENTENCES ...")
    parser.add_argument("--temperature", type=float, default=5.0)
    args = parser.parse_args(argv)
    try:
        pairs = [(lang, int(n)) for lang, n in (item.split("=", 1) for item in args.sizes)]
    except ValueError:
        parser.error(f"--sizes takes LANG=SENTENCES items, got {args.sizes}")
    counts = upsampled_sizes([n for _, n in pairs], args.temperature)
    for (lang, n), m in zip(pairs, counts):
        print(f"{lang}\t{n}\t{m}\t{m / n if n else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
