"""Translate test sets with a trained fairseq model and score them with sacreBLEU (BLEU and chrF).

    python -m hkd.evaluate --data results/data/bin/kk --checkpoint results/teachers/kk/checkpoint_best.pt \
        --src-langs kk --tgt-lang en --references results/data/raw/kk/test.en --system teacher \
        --beam 5 --tokenize none --out-jsons results/eval/teacher/kk.json --out-hyps results/eval/teacher/kk.hyp \
        [-- extra fairseq-generate arguments, e.g. the multilingual task's]

A multilingual model is evaluated on all its languages in one call (one list entry per language in
--src-langs, --references, --out-jsons, --out-hyps), and its checkpoint is loaded once: the
fairseq-generate settings are parsed and turned into fairseq's config once (hydra's compose, the
slowest part of a fairseq-generate start), the model is built and loaded once, and each language
then gets its own task (its dictionaries and test set; cheap) and is decoded by the same model. The
settings of one language may differ from the first one's in the task's settings only (the source
language; ``{lang}`` in the extra arguments stands for it): anything else is an error.

Decoding is fairseq-generate's own loop (``fairseq_cli.generate``: batches, beam search, BPE removal
with sentencepiece, the seed set before each language), so the hypotheses are those of one
fairseq-generate run per language. They are scored against the *raw* reference text, so the score
does not depend on the BPE model. The default tokenizer is ``none``, as in the paper (the TED corpus
is already tokenised); chrF (character-level, so independent of the tokenizer) is saved beside BLEU,
each with its sacreBLEU signature. Every test sentence must come back translated: a count mismatch is
an error. The outputs are written when every language is scored, all through temporary files renamed
at the end (hkd.fileio.atomic_outputs; hypotheses first, scores last), so a killed evaluation leaves
no score file at all, and a rerun removes the temporary files a killed one left. With ``--out-dir``
(the workflow's evaluation of a multilingual model: one output folder), the whole folder is written
beside it and renamed into place (hkd.fileio.atomic_directory): a kill leaves no folder with some of
its languages.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import time
from pathlib import Path

from hkd.fairseq_args import PLUGIN_DIR, device_args
from hkd.fileio import atomic_directory, atomic_outputs, remove_stale_temporaries

log = logging.getLogger("hkd.evaluate")
_UNSET = object()


def score(hyps: list[str], refs: list[str], tokenize: str) -> dict:
    """Corpus BLEU and chrF (sacreBLEU's defaults: character 6-grams, beta 2), each with its
    sacreBLEU signature."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(tokenize=tokenize), CHRF()
    result, chrf_result = bleu.corpus_score(hyps, [refs]), chrf.corpus_score(hyps, [refs])
    return {"bleu": round(result.score, 2), "signature": str(bleu.get_signature()),
            "bleu_detail": str(result), "chrf": round(chrf_result.score, 2),
            "chrf_signature": str(chrf.get_signature()), "sentences": len(hyps)}


def generate_argv(data: Path, checkpoint: Path, src: str, tgt: str, beam: int, batch_size: int, subset: str,
                  extra: list[str]) -> list[str]:
    """fairseq-generate's command line for one language's `subset` (extra: the length limits, the task's)."""
    return [str(data), "--path", str(checkpoint), "--user-dir", str(PLUGIN_DIR), "--gen-subset", subset,
            "--source-lang", src, "--target-lang", tgt, "--beam", str(beam), "--batch-size", str(batch_size),
            "--remove-bpe", "sentencepiece", "--num-workers", "0", *device_args(), *extra]


def changed_settings(first: dict, other: dict) -> dict:
    """The settings of `other` (parsed arguments, by name) whose values differ from `first`'s."""
    return {key: value for key, value in other.items() if first.get(key, _UNSET) != value}


def task_config_for(task_cfg, changes: dict):
    """A copy of the first language's task config (a Namespace for fairseq's older tasks, an omegaconf
    DictConfig for dataclass ones) with `changes` applied; a change outside the task's settings is an
    error (it would need its own fairseq config: another evaluation call)."""
    is_dict = not isinstance(task_cfg, argparse.Namespace)
    known = set(task_cfg.keys()) if is_dict else set(vars(task_cfg))
    outside = sorted(set(changes) - known)
    if outside:
        raise ValueError(f"only the task's settings may differ between the languages of one evaluation; "
                         f"these differ too: {', '.join(outside)}")
    cfg = copy.deepcopy(task_cfg)
    for key, value in changes.items():
        if is_dict:
            cfg[key] = value
        else:
            setattr(cfg, key, value)
    return cfg


class Translator:
    """One fairseq model, loaded once from the first language's fairseq-generate arguments, then
    translating each language's test set with the task that language's arguments describe."""

    def __init__(self, argv: list[str]):
        import ast

        import torch
        from fairseq import checkpoint_utils, options, tasks, utils
        from fairseq.dataclass.utils import convert_namespace_to_omegaconf

        started = time.perf_counter()
        self.args = options.parse_args_and_arch(options.get_generation_parser(), input_args=argv)
        cfg = self.cfg = convert_namespace_to_omegaconf(self.args)
        if cfg.generation.replace_unk is not None or cfg.generation.lm_path is not None:
            raise ValueError("hkd.evaluate supports neither --replace-unk nor --lm-path")
        if cfg.dataset.max_tokens is None and cfg.dataset.batch_size is None:
            cfg.dataset.max_tokens = 12000  # fairseq-generate's default
        utils.import_user_module(cfg.common)
        self.use_cuda = torch.cuda.is_available() and not cfg.common.cpu
        self.task = tasks.setup_task(cfg.task)
        self.models, self.saved_cfg = checkpoint_utils.load_model_ensemble(
            utils.split_paths(cfg.common_eval.path), arg_overrides=ast.literal_eval(cfg.common_eval.model_overrides),
            task=self.task, suffix=cfg.checkpoint.checkpoint_suffix,
            strict=cfg.checkpoint.checkpoint_shard_count == 1, num_shards=cfg.checkpoint.checkpoint_shard_count)
        for model in self.models:
            if cfg.common.fp16:
                model.half()
            if self.use_cuda:
                model.cuda()
            model.prepare_for_inference_(cfg)
        log.info("%s loaded once, in %.1f s (settings, task, model)", cfg.common_eval.path,
                 time.perf_counter() - started)

    def task_for(self, argv: list[str]):
        """The task of one language's arguments (the first language's own task for the same ones)."""
        from fairseq import options, tasks

        args = options.parse_args_and_arch(options.get_generation_parser(), input_args=argv)
        changes = changed_settings(vars(self.args), vars(args))
        if not changes:
            return self.task
        task = tasks.setup_task(task_config_for(self.cfg.task, changes))
        if task.target_dictionary != self.task.target_dictionary:
            raise ValueError(f"{argv[0]}: the target dictionary of {changes} is not the model's")
        return task

    def translate(self, argv: list[str]) -> dict[int, str]:
        """fairseq-generate's decoding of one language (its arguments: `argv`); hypotheses by sentence id
        (BPE removed, detokenised: fairseq-generate's ``D-`` lines)."""
        import numpy as np
        from fairseq import utils
        from fairseq_cli.generate import get_symbols_to_strip_from_output

        started, cfg, models = time.perf_counter(), self.cfg, self.models
        task = self.task_for(argv)
        subset = cfg.dataset.gen_subset
        task.load_dataset(subset, task_cfg=self.saved_cfg.task)
        if cfg.common.seed is not None and not cfg.generation.no_seed_provided:  # as fairseq-generate
            np.random.seed(cfg.common.seed)
            utils.set_torch_seed(cfg.common.seed)
        itr = task.get_batch_iterator(
            dataset=task.dataset(subset), max_tokens=cfg.dataset.max_tokens, max_sentences=cfg.dataset.batch_size,
            max_positions=utils.resolve_max_positions(task.max_positions(), *[m.max_positions() for m in models]),
            ignore_invalid_inputs=cfg.dataset.skip_invalid_size_inputs_valid_test,
            required_batch_size_multiple=cfg.dataset.required_batch_size_multiple, seed=cfg.common.seed,
            num_shards=cfg.distributed_training.distributed_world_size,
            shard_id=cfg.distributed_training.distributed_rank, num_workers=cfg.dataset.num_workers,
            data_buffer_size=cfg.dataset.data_buffer_size).next_epoch_itr(shuffle=False)
        generator = task.build_generator(models, cfg.generation, extra_gen_cls_kwargs={
            "lm_model": None, "lm_weight": cfg.generation.lm_weight})
        tokenizer, bpe = task.build_tokenizer(cfg.tokenizer), task.build_bpe(cfg.bpe)
        strip = get_symbols_to_strip_from_output(generator)
        hyps: dict[int, str] = {}
        for sample in itr:
            sample = utils.move_to_cuda(sample) if self.use_cuda else sample
            if "net_input" not in sample:
                continue
            prefix = sample["target"][:, :cfg.generation.prefix_size] if cfg.generation.prefix_size > 0 else None
            hypos = task.inference_step(generator, models, sample, prefix_tokens=prefix,
                                        constraints=sample.get("constraints"))
            for i, sample_id in enumerate(sample["id"].tolist()):
                # the best hypothesis, as fairseq-generate prints it (post_process_prediction's string,
                # without its re-encoding, which adds unknown words to the dictionary)
                text = task.target_dictionary.string(hypos[i][0]["tokens"].int().cpu(),
                                                     cfg.common_eval.post_process, extra_symbols_to_ignore=strip)
                text = bpe.decode(text) if bpe is not None else text
                hyps[sample_id] = tokenizer.decode(text) if tokenizer is not None else text
        log.info("%s: %d sentences translated in %.1f s", argv[argv.index("--source-lang") + 1], len(hyps),
                 time.perf_counter() - started)
        return hyps


def evaluate_one(args, translator: Translator | None, src: str, reference: Path,
                 extra: list[str]) -> tuple[Translator, list[str], dict]:
    """One language: the translator (made from this language's arguments if none yet), its hypotheses,
    and its score record."""
    refs = reference.read_text(encoding="utf-8").splitlines()
    limits = ["--max-len-a", str(args.max_len_a), "--max-len-b", str(args.max_len_b)]
    argv = generate_argv(args.data, args.checkpoint, src, args.tgt_lang, args.beam, args.batch_size, args.subset,
                         limits + extra)
    log.info("fairseq-generate %s", " ".join(argv))
    translator = translator or Translator(argv)
    by_id = translator.translate(argv)
    missing = sorted(set(range(len(refs))) - set(by_id))
    if missing or len(by_id) != len(refs):
        raise RuntimeError(f"{args.checkpoint}: {len(by_id)} hypotheses for {len(refs)} references in "
                           f"{reference} (first missing ids: {missing[:5]})")
    hyps = [by_id[i] for i in range(len(refs))]
    result = {"lang": src, "system": args.system, "checkpoint": str(args.checkpoint),
              "beam": args.beam, "max_len": [args.max_len_a, args.max_len_b], **score(hyps, refs, args.tokenize)}
    log.info("%s %s: BLEU %.2f (%s)", args.system, src, result["bleu"], result["signature"])
    return translator, hyps, result


def write_results(results: list[tuple[list[str], dict]], out_jsons: list[Path], out_hyps: list[Path],
                  out_dir: Path | None = None) -> None:
    """Every language's outputs, once all are scored: all written to temporary files, then renamed, the
    hypotheses first and the scores (what the tables read) last; with `out_dir` (which holds them all),
    written in a new folder that then replaces `out_dir`."""
    if out_dir is not None:
        outside = [str(p) for p in [*out_jsons, *out_hyps] if out_dir not in Path(p).parents]
        if outside:
            raise ValueError(f"--out-dir {out_dir}: {outside[0]} is not inside it")
        with atomic_directory(out_dir) as tmp:
            write_results(results, [tmp / Path(p).relative_to(out_dir) for p in out_jsons],
                          [tmp / Path(p).relative_to(out_dir) for p in out_hyps])
        return
    finals = {("hyp", i): path for i, path in enumerate(out_hyps)}
    finals.update({("json", i): path for i, path in enumerate(out_jsons)})
    with atomic_outputs(finals) as tmps:
        for i, (hyps, result) in enumerate(results):
            tmps["hyp", i].write_text("".join(h + "\n" for h in hyps), encoding="utf-8", newline="\n")
            tmps["json", i].write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8",
                                        newline="\n")


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
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="the folder holding every output, written whole (a kill leaves none of it)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="-- then extra fairseq-generate arguments")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    counts = {len(args.src_langs), len(args.references), len(args.out_jsons), len(args.out_hyps)}
    if len(counts) != 1:
        parser.error("--src-langs, --references, --out-jsons and --out-hyps need one entry per language")
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    import torch

    torch.set_num_threads(args.threads)
    for path in [*args.out_hyps, *args.out_jsons]:
        remove_stale_temporaries(path)
    translator, results = None, []
    for src, ref in zip(args.src_langs, args.references):
        translator, hyps, result = evaluate_one(args, translator, src, ref, [a.replace("{lang}", src) for a in extra])
        results.append((hyps, result))
    write_results(results, args.out_jsons, args.out_hyps, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
