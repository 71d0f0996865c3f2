"""Translate test sets with a trained fairseq model and score them with sacreBLEU (BLEU and chrF).

    python -m hkd.evaluate --data results/data/bin/kk --checkpoint results/teachers/kk/checkpoint_best.pt \
        --src-langs kk --tgt-lang en --references results/data/raw/kk/test.en --system teacher \
        --beam 5 --tokenize none --out-jsons results/eval/teacher/kk.json --out-hyps results/eval/teacher/kk.hyp \
        [-- extra fairseq-generate arguments, e.g. the multilingual task's]

A multilingual model is evaluated on all its languages in one call (one list entry per language in
--src-langs, --references, --out-jsons, --out-hyps): fairseq-generate runs in this process, once per
language, so fairseq is imported once; ``{lang}`` in the extra arguments stands for that language.

fairseq-generate decodes with beam search and removes the BPE (sentencepiece); the hypotheses are
scored against the *raw* reference text, so the score does not depend on the BPE model. The default
tokenizer is ``none``, as in the paper (the TED corpus is already tokenised); chrF (character-level,
so independent of the tokenizer) is saved beside BLEU, each with its sacreBLEU signature. Every test
sentence must come back translated: a count mismatch is an error. The outputs are written when every
language is scored (hypotheses, then scores; each atomically), so a killed evaluation leaves no score
file at all.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from hkd.fairseq_args import PLUGIN_DIR, device_args
from hkd.fileio import write_atomic_text

log = logging.getLogger("hkd.evaluate")


def parse_generate_output(path: Path) -> dict[int, str]:
    """Detokenised hypotheses (``D-<id>`` lines) of a fairseq-generate results file, by sentence id."""
    hyps: dict[int, str] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.startswith("D-"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) not in (2, 3):
                raise ValueError(f"{path}:{number}: unexpected fairseq-generate line: {line[:80]!r}")
            sent_id = int(fields[0][2:])
            hyps[sent_id] = fields[2] if len(fields) == 3 else ""
    return hyps


def score(hyps: list[str], refs: list[str], tokenize: str) -> dict:
    """Corpus BLEU and chrF (sacreBLEU's defaults: character 6-grams, beta 2), each with its
    sacreBLEU signature."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(tokenize=tokenize), CHRF()
    result, chrf_result = bleu.corpus_score(hyps, [refs]), chrf.corpus_score(hyps, [refs])
    return {"bleu": round(result.score, 2), "signature": str(bleu.get_signature()),
            "bleu_detail": str(result), "chrf": round(chrf_result.score, 2),
            "chrf_signature": str(chrf.get_signature()), "sentences": len(hyps)}


def generate(data: Path, checkpoint: Path, src: str, tgt: str, beam: int, batch_size: int,
             subset: str, extra: list[str]) -> dict[int, str]:
    """fairseq-generate, in this process, on one language's `subset`; hypotheses by sentence id."""
    from fairseq import options
    from fairseq_cli.generate import main as generate_main

    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            str(data), "--path", str(checkpoint), "--user-dir", str(PLUGIN_DIR), "--gen-subset", subset,
            "--source-lang", src, "--target-lang", tgt, "--beam", str(beam), "--batch-size", str(batch_size),
            "--remove-bpe", "sentencepiece", "--results-path", tmp, "--num-workers", "0", *device_args(), *extra,
        ]
        log.info("fairseq-generate %s", " ".join(argv))
        args = options.parse_args_and_arch(options.get_generation_parser(), input_args=argv)
        generate_main(args)
        return parse_generate_output(Path(tmp) / f"generate-{subset}.txt")


def evaluate_one(args, src: str, reference: Path, extra: list[str]) -> tuple[list[str], dict]:
    """One language: its hypotheses, and its score record."""
    refs = reference.read_text(encoding="utf-8").splitlines()
    limits = ["--max-len-a", str(args.max_len_a), "--max-len-b", str(args.max_len_b)]
    by_id = generate(args.data, args.checkpoint, src, args.tgt_lang, args.beam, args.batch_size, args.subset,
                     limits + extra)
    missing = sorted(set(range(len(refs))) - set(by_id))
    if missing or len(by_id) != len(refs):
        raise RuntimeError(f"{args.checkpoint}: {len(by_id)} hypotheses for {len(refs)} references in "
                           f"{reference} (first missing ids: {missing[:5]})")
    hyps = [by_id[i] for i in range(len(refs))]
    result = {"lang": src, "system": args.system, "checkpoint": str(args.checkpoint),
              "beam": args.beam, "max_len": [args.max_len_a, args.max_len_b], **score(hyps, refs, args.tokenize)}
    log.info("%s %s: BLEU %.2f (%s)", args.system, src, result["bleu"], result["signature"])
    return hyps, result


def write_results(results: list[tuple[list[str], dict]], out_jsons: list[Path], out_hyps: list[Path]) -> None:
    """Every language's outputs, once all are scored: the hypotheses, then the scores (what the tables
    read) last, each file atomically."""
    for (hyps, _), out_hyp in zip(results, out_hyps):
        write_atomic_text(out_hyp, "".join(h + "\n" for h in hyps))
    for (_, result), out_json in zip(results, out_jsons):
        write_atomic_text(out_json, json.dumps(result, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--src-langs", nargs="+", required=True)
    parser.add_argument("--tgt-lang", required=True)
    parser.add_argument("--references", type=Path, nargs="+", required=True, help="raw reference text, per language")
    parser.add_argument("--system", required=True, help="the system's name in the tables")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-len-a", type=float, default=0, help="hypotheses stop at a * source length + b "
                        "tokens (fairseq-generate's defaults: a 0, b 200)")
    parser.add_argument("--max-len-b", type=int, default=200)
    parser.add_argument("--tokenize", default="none", help="sacreBLEU tokenizer")
    parser.add_argument("--subset", default="test")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-jsons", type=Path, nargs="+", required=True)
    parser.add_argument("--out-hyps", type=Path, nargs="+", required=True)
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="-- then extra fairseq-generate arguments")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    counts = {len(args.src_langs), len(args.references), len(args.out_jsons), len(args.out_hyps)}
    if len(counts) != 1:
        parser.error("--src-langs, --references, --out-jsons and --out-hyps need one entry per language")
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    import torch

    torch.set_num_threads(args.threads)
    results = [evaluate_one(args, src, ref, [a.replace("{lang}", src) for a in extra])
               for src, ref in zip(args.src_langs, args.references)]
    write_results(results, args.out_jsons, args.out_hyps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
