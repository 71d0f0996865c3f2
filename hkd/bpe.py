"""One shared sentencepiece BPE model and one shared fairseq dictionary for every language.

Teachers, teacher-assistants and the student must share one output vocabulary, or their
distributions cannot be compared token by token (knowledge distillation depends on it). So one BPE
model is learned on all languages, and one fairseq dictionary holds every BPE piece and every
language token (``__xx__``) that the multilingual models will use.

The BPE training sample is temperature-balanced (as for multilingual NMT training): a language with
n_l sentences gets a share proportional to (n_l / N) ** (1 / T), so large languages do not swamp
small ones; the English side of all pairs is one more "language" of the sample.

    python -m hkd.bpe train --inputs a/train.a a/train.en b/train.b ... --model-prefix spm/spm \
        --vocab-size 32000 --temperature 5 --sample-sentences 2000000
    python -m hkd.bpe encode --model spm/spm.model --inputs raw/test.kk raw/test.en --outputs spm/test.kk spm/test.en
    python -m hkd.bpe dict --model spm/spm.model --inputs spm/*/train.* --langs kk be ... --target en \
        --output dict.txt
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import random
import shutil
import sys
from pathlib import Path

from hkd.fileio import write_atomic_lines

log = logging.getLogger("hkd.bpe")

SPM_SPECIALS = {"<unk>", "<s>", "</s>", "<pad>"}
UNKNOWN = "<unk>"  # sentencepiece's unknown piece, and the unknown word of a fairseq dictionary


def lang_token(lang: str) -> str:
    """The language token of `lang`, in fairseq's multilingual format."""
    return f"__{lang}__"


def read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def temperature_shares(sizes: dict[str, int], temperature: float) -> dict[str, float]:
    """Sampling probability per language: (n_l / N) ** (1 / T), renormalised (T = 1: proportional)."""
    total = sum(sizes.values())
    if total == 0:
        raise ValueError("no training sentences at all")
    weights = {k: (n / total) ** (1.0 / temperature) for k, n in sizes.items() if n > 0}
    norm = sum(weights.values())
    return {k: w / norm for k, w in weights.items()}


def balanced_sample(pools: dict[str, list[str]], budget: int, temperature: float, seed: int) -> list[str]:
    """Draw `budget` sentences across pools with temperature-balanced shares (deterministic).

    A pool smaller than its share is repeated (upsampled), as temperature sampling does in training.
    """
    rng = random.Random(seed)
    shares = temperature_shares({k: len(v) for k, v in pools.items()}, temperature)
    sample: list[str] = []
    for key in sorted(shares):
        pool = pools[key]
        want = max(1, round(shares[key] * budget))
        if want <= len(pool):
            sample.extend(rng.sample(pool, want))
        else:
            sample.extend(pool * (want // len(pool)) + rng.sample(pool, want % len(pool)))
        log.info("bpe sample: %s %d of %d sentences (share %.3f)", key, want, len(pool), shares[key])
    return sample


def pools_from_inputs(inputs: list[Path], target: str) -> dict[str, list[str]]:
    """Group training files by their language suffix (train.kk -> kk); target sides form one pool."""
    pools: dict[str, list[str]] = collections.defaultdict(list)
    for path in inputs:
        lang = path.suffix.lstrip(".")
        if not lang:
            raise ValueError(f"{path}: cannot tell the language from the file name (expected train.<lang>)")
        pools[lang].extend(read_lines(path))
    if target in pools:  # the same English sentence can come from several pairs: count it once
        pools[target] = list(dict.fromkeys(pools[target]))
    return dict(pools)


def train(inputs: list[Path], model_prefix: Path, vocab_size: int, temperature: float,
          sample_sentences: int, character_coverage: float, seed: int, target: str) -> None:
    import sentencepiece as spm

    sample = balanced_sample(pools_from_inputs(inputs, target), sample_sentences, temperature, seed)
    # A fixed work folder, not a random temporary one: sentencepiece records its input path in the
    # model, and the same inputs must give a byte-identical model.
    work = model_prefix.parent / f".{model_prefix.name}.work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    text = work / "sample.txt"
    text.write_text("".join(s + "\n" for s in sample), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(work / "spm"), model_type="bpe",
        vocab_size=vocab_size, character_coverage=character_coverage, hard_vocab_limit=False,
        input_sentence_size=len(sample), shuffle_input_sentence=False,
        num_threads=1, minloglevel=2,
    )
    for ext in ("model", "vocab"):  # rename last, so a finished-looking model is a finished one
        os.replace(work / f"spm.{ext}", model_prefix.with_suffix(f".{ext}"))
    shutil.rmtree(work)
    log.info("bpe: %s.model, %d requested pieces, %d sample sentences", model_prefix, vocab_size, len(sample))


def encode(model: Path, inputs: list[Path], outputs: list[Path]) -> dict[Path, int]:
    """Apply the BPE model to each input file, writing the pieces space-separated, line by line.

    A character the model does not cover (with ``character_coverage`` < 1 the rarest characters of
    the sample get no piece) is written as ``<unk>``, the unknown word of fairseq's dictionaries;
    sentencepiece's string output would pass it through as a token of no dictionary. How many such
    pieces each file has is logged and returned (nothing is dropped: the line keeps its place).
    """
    import sentencepiece as spm

    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} input file(s) but {len(outputs)} output file(s)")
    sp = spm.SentencePieceProcessor(model_file=str(model))
    unk, unknown = sp.unk_id(), {}
    for input_path, output in zip(inputs, outputs):
        lines = read_lines(input_path)
        ids = sp.encode(lines)
        for number, (line, enc) in enumerate(zip(lines, ids), start=1):
            if not enc:
                raise ValueError(f"{input_path}:{number}: line encodes to nothing: {line!r}")
        unknown[input_path] = sum(i == unk for enc in ids for i in enc)
        if unknown[input_path]:
            log.info("bpe encode: %s: %d piece(s) of characters the model does not cover, written as %s",
                     input_path, unknown[input_path], UNKNOWN)
        write_atomic_lines(output, (" ".join(sp.id_to_piece(enc)) for enc in ids))  # one call a line
    return unknown


def build_dictionary(model: Path, inputs: list[Path], langs: list[str]) -> list[tuple[str, int]]:
    """fairseq dictionary entries: every BPE piece (counted on `inputs`), then the language tokens.

    Every piece of the BPE model is kept, even one unseen in training text, so the dictionary depends
    only on the BPE model and the language list, and its size is the same for every model.
    """
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    counts: collections.Counter[str] = collections.Counter()
    for path in inputs:
        for line in read_lines(path):
            counts.update(line.split())
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    pieces = [p for p in pieces if p not in SPM_SPECIALS]
    unknown = set(counts) - set(pieces) - {UNKNOWN}
    if unknown:
        raise ValueError(f"{len(unknown)} token(s) in the encoded text are not pieces of {model}: "
                         f"{sorted(unknown)[:5]}; was the text encoded with another model?")
    entries = sorted(((p, counts.get(p, 0)) for p in pieces), key=lambda e: (-e[1], e[0]))
    return entries + [(lang_token(lang), 0) for lang in langs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train", help="learn the shared BPE model")
    p.add_argument("--inputs", type=Path, nargs="+", required=True, help="train.<lang> files, all sides")
    p.add_argument("--model-prefix", type=Path, required=True)
    p.add_argument("--vocab-size", type=int, required=True)
    p.add_argument("--temperature", type=float, default=5.0)
    p.add_argument("--sample-sentences", type=int, default=2_000_000)
    p.add_argument("--character-coverage", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--target", default="en")
    p = sub.add_parser("encode", help="apply the BPE model to files")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--inputs", type=Path, nargs="+", required=True)
    p.add_argument("--outputs", type=Path, nargs="+", required=True, help="one per input, same order")
    p = sub.add_parser("dict", help="write the shared fairseq dictionary")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--inputs", type=Path, nargs="+", required=True, help="BPE-encoded training files")
    p.add_argument("--langs", nargs="+", required=True, help="every language, target included")
    p.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if args.cmd == "train":
        train(args.inputs, args.model_prefix, args.vocab_size, args.temperature, args.sample_sentences,
              args.character_coverage, args.seed, args.target)
    elif args.cmd == "encode":
        encode(args.model, args.inputs, args.outputs)
    else:
        entries = build_dictionary(args.model, args.inputs, args.langs)
        write_atomic_lines(args.output, (f"{tok} {count}" for tok, count in entries))
        log.info("dict: %s, %d entries (%d language tokens)", args.output, len(entries), len(args.langs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
