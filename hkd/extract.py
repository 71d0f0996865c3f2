"""Extract X->en sentence pairs from the canonical TED talks corpus (Qi et al. 2018).

Reads ``all_talks_{train,dev,test}.tsv`` from ``--corpus-dir`` and writes, for every language L in
``--langs``, six aligned one-sentence-per-line files ``OUT/L/{train,dev,test}.{L,en}``::

    python -m hkd.extract --corpus-dir data/ted --langs kk be pt fr --out-dir data/pairs \\
        --counts data/pairs/counts.tsv --merge pt-br:pt --merge fr-ca:fr [--target en]

Input: TSV with a header; ``talk_name`` then one column per language code. Fields are split on TAB
only, quotes are never interpreted (Moses text keeps ``"`` and ``&quot;`` verbatim), and every line is
decoded strictly as UTF-8.

Filtering, in this order, per candidate pair (source cell, English cell) of one row:

1. ``null``: either side is exactly ``__NULL__`` or ``_ _ NULL _ _`` after stripping whitespace (a
   sentence that merely contains "NULL" is kept, unlike the original reader);
2. ``empty``: either side is empty or whitespace only;
3. ``too_long``: either side has more than ``--max-tokens`` tokens (whitespace-separated; the text is
   Moses-tokenised), default 250 as in fairseq's data preparation scripts (Moses'
   ``clean-corpus-n.perl ... 1 250``): a 30 MB line is not a sentence;
4. ``ratio``: the longer side has more than ``--max-ratio`` times the tokens of the shorter, default 9
   (clean-corpus-n.perl's ratio): a misaligned pair. Languages written without spaces between words
   (th, my) have few tokens a sentence: if counts.tsv shows many ``ratio_dropped`` for one, raise it;
5. ``test_overlap`` (train split only): the source or the English sentence equals, after stripping,
   any sentence of the test file (any column, English included, requested or not).

The length limits apply to every split (fairseq cannot train on, nor translate, a sentence longer
than its positions or its batch); ``--max-tokens 0`` / ``--max-ratio 0`` turn one off.

Written sentences are stripped and any character that Python or fairseq would read as a line break
inside a field (``\\r``, ``\\x0b``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028, U+2029) becomes a
space, so the two sides always have the same number of lines.

``--merge SRC:DST`` adds the pairs of column SRC to language DST (the paper merges pt-br into pt and
fr-ca into fr). Order of the output = corpus row order; within one row, DST's own pair comes first,
then one pair per merge source in the order the ``--merge`` flags were given.

Counts file (TSV with header), one row per (lang, split), also logged to stderr:

    lang  split  rows  merged_in  null_dropped  empty_dropped  too_long_dropped  ratio_dropped
    test_overlap_dropped  kept  merged_kept

``rows`` = data rows of the split's file (each gives one candidate pair from column L), ``merged_in`` =
candidate pairs from merge-source columns (one per row and source), ``kept`` includes ``merged_kept``
(the kept pairs that came from a merge source). Every candidate is accounted for:
``rows + merged_in == null_dropped + empty_dropped + too_long_dropped + ratio_dropped +
test_overlap_dropped + kept``.

Errors name the file and line: missing or duplicate header column, a requested language left with no
pair in a split (``ExtractError``); ragged row, invalid UTF-8 (with the byte offset), CR-only line
ends (``hkd.tsv.TsvError``: the corpus reader, shared with hkd.corpus, which also accepts a UTF-8
byte-order mark and CRLF line ends). Outputs
are written to temporary names and renamed only when every split succeeded.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from hkd.fileio import temporary_beside, write_atomic_text as write_atomic
from hkd.tsv import TsvError, iter_rows

log = logging.getLogger("hkd.extract")

NULL_MARKERS = frozenset({"__NULL__", "_ _ NULL _ _"})
SPLITS = ("train", "dev", "test")
FILE_NAMES = {split: f"all_talks_{split}.tsv" for split in SPLITS}
TALK_COLUMN = "talk_name"
# Characters that str.splitlines() or text-mode readers treat as line ends, besides "\n".
_LINE_BREAKS = str.maketrans({c: " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


class ExtractError(ValueError):
    """Misshapen input or arguments; the message names the file, line, column or flag."""


@dataclass
class Counts:
    """Pair counts of one (lang, split); field order = counts-file column order after lang, split."""

    rows: int = 0
    merged_in: int = 0
    null_dropped: int = 0
    empty_dropped: int = 0
    too_long_dropped: int = 0
    ratio_dropped: int = 0
    test_overlap_dropped: int = 0
    kept: int = 0
    merged_kept: int = 0


COUNT_COLUMNS = ("lang", "split") + tuple(f.name for f in fields(Counts))


def clean(text: str) -> str:
    """Sentence as written out: in-field line breaks turned into spaces, surrounding space stripped."""
    return text.translate(_LINE_BREAKS).strip()


def is_null(text: str) -> bool:
    """True only for a whole-cell missing-translation marker, never for a sentence containing NULL."""
    return text.strip() in NULL_MARKERS


@dataclass(frozen=True)
class Limits:
    """The length guard: most tokens a side, most tokens of the longer side per token of the shorter
    (0: no limit)."""

    max_tokens: int = 250
    max_ratio: float = 9.0


def token_count(text: str, cap: int = 0) -> int:
    """Whitespace-separated tokens of ``text``; with a cap, counting stops at cap + 1 (a 30 MB line
    costs one copy, not millions of words)."""
    return len(text.split(None, cap) if cap else text.split())


def classify(src: str, tgt: str, overlap: frozenset[str] | set[str] | None, limits: Limits = Limits(0, 0)) -> str:
    """Fate of one pair of cleaned cells: 'null', 'empty', 'too_long', 'ratio', 'test_overlap' or 'kept'."""
    if is_null(src) or is_null(tgt):
        return "null"
    if not src or not tgt:
        return "empty"
    if limits.max_tokens or limits.max_ratio:
        n_src, n_tgt = token_count(src, limits.max_tokens), token_count(tgt, limits.max_tokens)
        if limits.max_tokens and max(n_src, n_tgt) > limits.max_tokens:
            return "too_long"
        if limits.max_ratio and max(n_src, n_tgt) > limits.max_ratio * min(n_src, n_tgt):
            return "ratio"
    if overlap is not None and (src in overlap or tgt in overlap):
        return "test_overlap"
    return "kept"


def parse_merges(specs: list[str], langs: list[str], target: str) -> dict[str, list[str]]:
    """``['pt-br:pt', ...]`` -> {dst: [src, ...]} in flag order, after checking it against --langs."""
    merges: dict[str, list[str]] = {}
    seen: set[str] = set()
    for spec in specs:
        src, sep, dst = spec.partition(":")
        if not sep or not src or not dst or ":" in dst:
            raise ExtractError(f"--merge {spec!r}: expected SOURCE:DEST, e.g. pt-br:pt")
        if src in langs:
            raise ExtractError(f"--merge {spec!r}: {src!r} is merged away, so it must not be in --langs")
        if dst not in langs:
            raise ExtractError(f"--merge {spec!r}: destination {dst!r} is not in --langs")
        if src in seen or src == target or src == dst:
            raise ExtractError(f"--merge {spec!r}: {src!r} is already merged, the target or the destination")
        seen.add(src)
        merges.setdefault(dst, []).append(src)
    return merges


def column_index(header: list[str], path: Path, required: list[str]) -> dict[str, int]:
    """Map column name -> position; duplicate names and missing required columns are errors."""
    index: dict[str, int] = {}
    for pos, name in enumerate(header):
        name = name.strip()
        if name in index:
            raise ExtractError(f"{path}:1: duplicate column {name!r} (positions {index[name] + 1} and {pos + 1})")
        index[name] = pos
    missing = [name for name in required if name not in index]
    if missing:
        raise ExtractError(
            f"{path}:1: missing column(s) {', '.join(map(repr, missing))}; header has {len(header)} columns: "
            f"{' '.join(h.strip() for h in header[:70])}"
        )
    return index


class _PairFiles:
    """Temporary source/English files of one (lang, split), renamed into place by ``commit``."""

    def __init__(self, out_dir: Path, lang: str, split: str, target: str):
        directory = out_dir / lang
        directory.mkdir(parents=True, exist_ok=True)
        self.finals = [directory / f"{split}.{lang}", directory / f"{split}.{target}"]
        self.temps: list[Path] = []
        self.handles = []
        for final in self.finals:
            tmp = temporary_beside(final)
            self.temps.append(tmp)
            self.handles.append(open(tmp, "w", encoding="utf-8", newline="\n"))

    def write(self, src: str, tgt: str) -> None:
        self.handles[0].write(src + "\n")
        self.handles[1].write(tgt + "\n")

    def close(self) -> None:
        for h in self.handles:
            h.close()

    def commit(self) -> None:
        for tmp, final in zip(self.temps, self.finals):
            os.replace(tmp, final)

    def discard(self) -> None:
        self.close()
        for tmp in self.temps:
            tmp.unlink(missing_ok=True)


def extract_split(
    path: Path,
    split: str,
    langs: list[str],
    merges: dict[str, list[str]],
    target: str,
    out_dir: Path,
    overlap: set[str] | None,
    files: list[_PairFiles],
    collect: set[str] | None = None,
    limits: Limits = Limits(0, 0),
) -> dict[str, Counts]:
    """Stream one corpus file, writing kept pairs to temporary files (appended to ``files``).

    ``overlap``: sentences whose pairs are dropped (train only). ``collect``: if given, receives every
    cleaned non-null, non-empty cell of the file except talk_name (used to build the test set).
    """
    rows = iter_rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ExtractError(f"{path}:1: empty file, expected a header starting with {TALK_COLUMN!r}") from None
    sources = {lang: [lang] + merges.get(lang, []) for lang in langs}
    required = [TALK_COLUMN, target] + [c for lang in langs for c in sources[lang]]
    index = column_index(header, path, required)
    talk_pos = index[TALK_COLUMN]
    tgt_pos = index[target]
    plan = [(lang, [(index[c], c != lang) for c in sources[lang]]) for lang in langs]
    counts = {lang: Counts() for lang in langs}
    writers = {}
    for lang in langs:
        writers[lang] = _PairFiles(out_dir, lang, split, target)
        files.append(writers[lang])
    for _, cells in rows:
        if collect is not None:
            for pos, cell in enumerate(cells):
                text = clean(cell)
                if pos != talk_pos and text and text not in NULL_MARKERS:
                    collect.add(text)
        tgt = clean(cells[tgt_pos])
        for lang, columns in plan:
            c = counts[lang]
            c.rows += 1
            for pos, merged in columns:
                c.merged_in += merged
                src = clean(cells[pos])
                fate = classify(src, tgt, overlap, limits)
                if fate == "kept":
                    c.kept += 1
                    c.merged_kept += merged
                    writers[lang].write(src, tgt)
                else:
                    setattr(c, f"{fate}_dropped", getattr(c, f"{fate}_dropped") + 1)
    for w in writers.values():
        w.close()
    for lang, c in counts.items():
        if c.kept == 0:
            raise ExtractError(
                f"{path}: empty pair: language {lang!r} has no {lang}-{target} pair left in split {split!r} "
                f"(rows={c.rows} merged_in={c.merged_in} null={c.null_dropped} empty={c.empty_dropped} "
                f"too_long={c.too_long_dropped} ratio={c.ratio_dropped} test_overlap={c.test_overlap_dropped})"
            )
    return counts


def format_counts(counts: dict[tuple[str, str], Counts]) -> str:
    """Counts-file text: header line + one row per (lang, split), TAB-separated."""
    lines = ["\t".join(COUNT_COLUMNS)]
    for (lang, split), c in counts.items():
        lines.append("\t".join([lang, split, *map(str, astuple(c))]))
    return "\n".join(lines) + "\n"


def extract(
    corpus_dir: Path,
    langs: list[str],
    out_dir: Path,
    merges: dict[str, list[str]],
    target: str,
    limits: Limits = Limits(0, 0),
) -> dict[tuple[str, str], Counts]:
    """Extract all splits (test first, to build the overlap set); commit files only if all succeed."""
    files: list[_PairFiles] = []
    per_split: dict[str, dict[str, Counts]] = {}
    test_sentences: set[str] = set()
    try:
        for split in ("test", "dev", "train"):
            path = corpus_dir / FILE_NAMES[split]
            if not path.is_file():
                raise ExtractError(f"{path}: corpus file not found (expected in --corpus-dir {corpus_dir})")
            log.info("reading %s", path)
            per_split[split] = extract_split(
                path,
                split,
                langs,
                merges,
                target,
                out_dir,
                overlap=test_sentences if split == "train" else None,
                files=files,
                collect=test_sentences if split == "test" else None,
                limits=limits,
            )
            if split == "test":
                log.info("test set: %d distinct sentences (all columns) for the overlap filter", len(test_sentences))
        for f in files:
            f.commit()
    finally:
        for f in files:
            f.discard()
    return {(lang, split): per_split[split][lang] for lang in langs for split in SPLITS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-dir", type=Path, required=True, help="folder with all_talks_{train,dev,test}.tsv")
    parser.add_argument("--langs", nargs="+", required=True, help="source language codes to extract")
    parser.add_argument("--out-dir", type=Path, required=True, help="writes OUT/L/{train,dev,test}.{L,en}")
    parser.add_argument("--counts", type=Path, required=True, help="counts TSV, one row per (lang, split)")
    parser.add_argument("--merge", action="append", default=[], metavar="SRC:DST", help="add column SRC to DST")
    parser.add_argument("--target", default="en", help="target language column (default: en)")
    parser.add_argument("--max-tokens", type=int, default=Limits.max_tokens, help="most tokens a side (0: no limit)")
    parser.add_argument("--max-ratio", type=float, default=Limits.max_ratio,
                        help="most tokens of the longer side per token of the shorter (0: no limit)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")

    duplicates = sorted({lang for lang in args.langs if args.langs.count(lang) > 1})
    if duplicates:
        raise ExtractError(f"--langs: {' '.join(duplicates)} given more than once")
    if args.target in args.langs:
        raise ExtractError(f"--langs: the target {args.target!r} cannot also be a source language")
    merges = parse_merges(args.merge, args.langs, args.target)
    if args.max_tokens < 0 or args.max_ratio < 0 or 0 < args.max_ratio < 1:
        raise ExtractError("--max-tokens must be >= 0 and --max-ratio 0 (no limit) or >= 1")
    limits = Limits(args.max_tokens, args.max_ratio)
    log.info("length guard: at most %s tokens a side, a token ratio of at most %s (0: no limit); the drops "
             "are the too_long_dropped and ratio_dropped columns", limits.max_tokens, limits.max_ratio)

    counts = extract(args.corpus_dir, args.langs, args.out_dir, merges, args.target, limits)
    text = format_counts(counts)
    write_atomic(args.counts, text)
    for line in text.splitlines():
        log.info("%s", line)
    log.info("wrote %d languages to %s, counts to %s", len(args.langs), args.out_dir, args.counts)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ExtractError, TsvError) as error:
        print(f"hkd.extract: error: {error}", file=sys.stderr)
        sys.exit(1)
