# Config validation, the language tables, wildcard constraints and the get_* input functions.
# Logic lives in hkd/ (tested Python); this file only connects it to Snakemake.
import os
import sys
from pathlib import Path

from snakemake.utils import validate

# Every step runs `python -m hkd.<module>`: the environment that runs the jobs has the hkd package
# installed (tools/install.sh: `pip install -e .`; conda envs: their post-deploy scripts). Snakemake
# itself imports it from the workflow's folder, for the config checks below.
HKD_ROOT = Path(workflow.basedir)
sys.path.insert(0, str(HKD_ROOT))

from hkd import config as hkd_config
from hkd import fairseq_args

validate(config, str(HKD_ROOT / "config" / "schema.yaml"))
hkd_config.check(config)

LANGS = list(config["languages"])
TARGET = config["target"]
SPLITS = ["train", "dev", "test"]
# fairseq's name of each split in binarized data
FAIRSEQ_SPLIT = {"train": "train", "dev": "valid", "test": "test"}


wildcard_constraints:
    lang="|".join(LANGS),
    split="|".join(SPLITS),


def code(module):
    """The hkd module a step runs: an input, so that editing it reruns the step."""
    return str(HKD_ROOT / "hkd" / f"{module}.py")


def corpus_files(wildcards=None):
    """The canonical corpus TSVs of the configured corpus source."""
    source = config["corpus"]["source"]
    return {s: f"results/corpus/{source}/all_talks_{s}.tsv" for s in SPLITS}


def raw_pair_files(lang, splits=SPLITS):
    return [
        f"results/data/raw/{lang}/{s}.{side}" for s in splits for side in (lang, TARGET)
    ]


def spm_pair_files(lang, splits=SPLITS):
    return [
        f"results/data/spm/{lang}/{s}.{side}" for s in splits for side in (lang, TARGET)
    ]


def bin_pair_files(lang, splits=SPLITS):
    return [
        f"results/data/bin/{lang}/{FAIRSEQ_SPLIT[s]}.{lang}-{TARGET}.{side}.{ext}"
        for s in splits
        for side in (lang, TARGET)
        for ext in ("bin", "idx")
    ]


def teacher_settings(lang):
    return fairseq_args.merged_settings(
        config["teacher"]["default"],
        (config["teacher"].get("overrides") or {}).get(lang),
    )


def get_teacher_args(wildcards):
    """fairseq-train arguments of language `lang`'s teacher (a params value: changes rerun the job)."""
    args = fairseq_args.bilingual_args(
        wildcards.lang, TARGET, teacher_settings(wildcards.lang)
    )
    return fairseq_args.quote(args)
