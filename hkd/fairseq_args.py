"""fairseq command-line arguments built from the workflow's model settings (pure functions).

The config describes a model by a few named settings (layers, sizes, dropout, schedule); this module
turns them into the fairseq-train arguments, so the mapping is written once and tested, and Snakemake
passes the result to the job as a parameter (a changed setting reruns the job). Each builder takes
its config section (``teacher``, ``universal``, ``assistant``, ``student``) as validated, with the
schema's defaults filled in, and owns the table from its keys to fairseq's flags. The model settings'
defaults are the schema's (``$defs.settings``), for a caller that passes only some of them.

    bilingual_args("kk", "en", {"encoder_layers": 2, "embed_dim": 64})  # -> ["--task", ...]
"""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import yaml

# fairseq's --user-dir: the plugin's folder, found without importing it (and so fairseq)
PLUGIN_DIR = Path(importlib.util.find_spec("hkd_fairseq").origin).resolve().parent

SCHEMA = Path(__file__).resolve().parent.parent / "config" / "schema.yaml"


def setting_defaults(schema: Path = SCHEMA) -> dict:
    """The default of every model setting, from the config schema (``$defs.settings``)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: read at every Snakemake start
    properties = yaml.load(schema.read_text(encoding="utf-8"), Loader=loader)["$defs"]["settings"]["properties"]
    return {key: spec["default"] for key, spec in properties.items()}


DEFAULTS = setting_defaults()


def merged_settings(default: dict, override: dict | None = None) -> dict:
    """The model's settings: the schema's defaults, then the config's default, then a per-item override."""
    unknown = set(default) - set(DEFAULTS) | set(override or {}) - set(DEFAULTS)
    if unknown:
        raise KeyError(f"unknown model setting(s): {sorted(unknown)}")
    return {**DEFAULTS, **default, **(override or {})}


def transformer_args(settings: dict) -> list[str]:
    """fairseq-train arguments of an encoder-decoder Transformer trained with label-smoothed CE,
    Adam and an inverse square root schedule, early-stopped on dev BLEU (BPE removed) or, with
    stop_metric "loss", on dev loss (dev BLEU is still computed and recorded in the curve)."""
    s = merged_settings(settings)
    args = [
        "--arch", "transformer",
        "--encoder-layers", str(s["encoder_layers"]), "--decoder-layers", str(s["decoder_layers"]),
        "--encoder-embed-dim", str(s["embed_dim"]), "--decoder-embed-dim", str(s["embed_dim"]),
        "--encoder-ffn-embed-dim", str(s["ffn_dim"]), "--decoder-ffn-embed-dim", str(s["ffn_dim"]),
        "--encoder-attention-heads", str(s["attention_heads"]),
        "--decoder-attention-heads", str(s["attention_heads"]),
        "--share-decoder-input-output-embed",
        "--dropout", str(s["dropout"]),
        "--criterion", "label_smoothed_cross_entropy", "--label-smoothing", str(s["label_smoothing"]),
        "--optimizer", "adam", "--adam-betas", "(0.9,0.98)", "--clip-norm", "0.0",
        "--lr", str(s["lr"]), "--lr-scheduler", "inverse_sqrt", "--warmup-updates", str(s["warmup_updates"]),
        "--warmup-init-lr", "1e-07",
        "--max-tokens", str(s["max_tokens"]), "--max-epoch", str(s["max_epoch"]),
        "--patience", str(s["patience"]), "--seed", str(s["seed"]),
        "--validate-interval", str(s["validate_interval"]),
        "--eval-bleu", "--eval-bleu-args", json.dumps({"beam": s["eval_bleu_beam"], "max_len_a": s["eval_bleu_max_len_a"],
                                                       "max_len_b": s["eval_bleu_max_len_b"]}, separators=(",", ":")),
        "--eval-bleu-remove-bpe", "sentencepiece",
    ]
    if s["stop_metric"] == "bleu":
        args += ["--best-checkpoint-metric", "bleu", "--maximize-best-checkpoint-metric"]
    elif s["stop_metric"] == "loss":
        args += ["--best-checkpoint-metric", "loss"]
    else:
        raise ValueError(f"stop_metric: expected 'bleu' or 'loss', got {s['stop_metric']!r}")
    if s["save_interval_updates"]:
        args += ["--save-interval-updates", str(s["save_interval_updates"]), "--keep-interval-updates", "1"]
    return args


def bilingual_args(src: str, tgt: str, settings: dict) -> list[str]:
    """A bilingual model: fairseq's translation task on one pair."""
    return ["--task", "translation", "--source-lang", src, "--target-lang", tgt] + transformer_args(settings)


def teacher_settings(lang: str, teacher: dict) -> dict:
    """Language `lang`'s teacher settings, from the config's ``teacher`` section: its ``default``
    settings, then the language's entry of ``overrides`` (if any)."""
    return merged_settings(teacher["default"], teacher["overrides"].get(lang))


def teacher_args(lang: str, tgt: str, teacher: dict) -> list[str]:
    """Language `lang`'s teacher (see teacher_settings)."""
    return bilingual_args(lang, tgt, teacher_settings(lang, teacher))


def universal_args(langs: list[str], tgt: str, universal: dict) -> list[str]:
    """The universal many-to-one model over every pair (the config's ``universal`` section), the source
    marked by its language token (``__xx__``) (Johnson et al. 2017): fairseq's
    translation_multi_simple_epoch task, small pairs up-sampled by temperature sampling. fairseq's
    multilingual task has no dev-BLEU validation, so the best checkpoint is the one of lowest dev loss."""
    pairs = ",".join(f"{lang}-{tgt}" for lang in langs)
    args = ["--task", "translation_multi_simple_epoch", "--lang-pairs", pairs, "--langs", ",".join([*langs, tgt]),
            "--encoder-langtok", "src", "--sampling-method", "temperature",
            "--sampling-temperature", str(universal["sampling_temperature"])]
    model = transformer_args(universal["settings"])
    cut = model.index("--eval-bleu")
    return args + model[:cut] + ["--best-checkpoint-metric", "loss"]


def multilingual_generate_args(langs: list[str], tgt: str) -> list[str]:
    """What fairseq-generate needs, on top of a pair, to decode with a multilingual model."""
    pairs = ",".join(f"{lang}-{tgt}" for lang in langs)
    return ["--task", "translation_multi_simple_epoch", "--lang-pairs", pairs, "--langs", ",".join([*langs, tgt]),
            "--encoder-langtok", "src"]


def assistant_args(langs: list[str], tgt: str, assistant: dict, stores: str, state: str, flags_log: str,
                   teacher_bleu: str | None = None) -> list[str]:
    """A teacher-assistant: many-to-one over one cluster's pairs, distilled from each pair's teacher
    by selective KD (Eq. 2) with the teachers' top-k stores (hkd_fairseq's hkd_multilingual task and
    selective_kd criterion), early-stopped on dev BLEU. `assistant` is the config's ``assistant``
    section; `teacher_bleu`: where the teachers' dev BLEU is read (e.g. their curves, a {lang}
    pattern) instead of decoding again."""
    a = assistant
    task = ["--task", "hkd_multilingual", "--langs", ",".join(langs), "--target-lang", tgt,
            "--sampling-temperature", str(a["sampling_temperature"]), "--kd-stores", stores,
            "--selective-interval", str(a["selective_interval"]), "--selective-tau", str(a["selective_tau"]),
            "--selective-state", state, "--selective-log", flags_log]
    if teacher_bleu:
        task += ["--teacher-bleu", teacher_bleu]
    return task + transformer_args(a["settings"]) + ["--criterion", "selective_kd", "--kd-lambda", str(a["kd_lambda"])]


# the config's student keys of the adaptive_kd criterion, and their flags
STUDENT_CRITERION_FLAGS = (("lambda1", "--kd-lambda1"), ("lambda2_start", "--kd-lambda2-start"),
                           ("lambda2_end", "--kd-lambda2-end"), ("anneal_k", "--kd-anneal-k"),
                           ("anneal_x0", "--kd-anneal-x0"), ("alpha_temperature", "--alpha-temperature"))


def student_args(langs: list[str], tgt: str, student: dict, stores: str, assistant_map: str,
                 assistant_bleu: str, alpha_log: str) -> list[str]:
    """The ultimate student: many-to-one over every pair, distilled by adaptive KD (Eq. 3-4) from the
    assistants' top-k stores (hkd_fairseq's hkd_multilingual task, adaptive_kd criterion), early-stopped
    on dev BLEU. `student` is the config's ``student`` section: the model's settings, the sampling
    temperature, the criterion's lambda1, lambda2_start, lambda2_end, anneal_k, anneal_x0 and
    alpha_temperature, and exclude_weakest_variance (the rule then reads `assistant_bleu`)."""
    task = ["--task", "hkd_multilingual", "--langs", ",".join(langs), "--target-lang", tgt,
            "--sampling-temperature", str(student["sampling_temperature"]), "--assistant-stores", stores,
            "--assistant-map", assistant_map, "--alpha-log", alpha_log]
    if student["exclude_weakest_variance"] is not None:
        task += ["--exclude-weakest-variance", str(student["exclude_weakest_variance"]),
                 "--assistant-bleu", assistant_bleu]
    criterion = ["--criterion", "adaptive_kd"]
    for key, flag in STUDENT_CRITERION_FLAGS:
        criterion += [flag, str(student[key])]
    return task + transformer_args(student["settings"]) + criterion


def assistant_generate_args() -> list[str]:
    """What fairseq-generate needs, on top of a pair, to decode with a teacher-assistant (hkd.evaluate
    puts the language it decodes in place of ``{lang}``)."""
    return ["--task", "hkd_multilingual", "--langs", "{lang}"]


def quote(args: list[str]) -> str:
    """The arguments as one shell-quoted string (for a Snakemake `params:` value)."""
    return shlex.join(args)


def device_args(mixed_precision: bool = False) -> list[str]:
    """Where fairseq trains: every visible GPU (distributed data parallel when several; fp16 mixed
    precision when asked), else the CPU. Not part of the run's key: a run resumes on other hardware."""
    import torch

    if torch.cuda.is_available():
        return ["--fp16"] if mixed_precision else []
    return ["--cpu"]
