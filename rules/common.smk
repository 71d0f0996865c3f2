# Config validation, the language tables, wildcard constraints and the get_* input functions.
# Logic lives in hkd/ (tested Python); this file only connects it to Snakemake.
import json
import os
import sys
from pathlib import Path

from snakemake.utils import validate

# Every step runs `python -m hkd.<module>`: the environment that runs the jobs has the hkd package
# installed (tools/install.sh: `pip install -e .`; conda envs: their post-deploy scripts). Snakemake
# itself imports it from the workflow's folder, for the config checks below.
HKD_ROOT = Path(workflow.basedir)
sys.path.insert(0, str(HKD_ROOT))

from hkd import clusters_file as hkd_clusters
from hkd import codefiles
from hkd import config as hkd_config
from hkd import fairseq_args
from hkd import models as hkd_models
from hkd import plan as hkd_plan

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


# One pattern per kind of job. A training job (hkd.train) has inputs data (the binarized pairs)
# and depends (what else its run is trained on), params data (their folder), work (its work folder),
# options (hkd.train's own: --publish, --mixed-precision) and fairseq (the model's arguments). An
# evaluation job (hkd.evaluate) has inputs checkpoint, data and references, params EVALUATION (the
# config's `evaluation`), data, langs, system, jsons, hyps, out_dir (a directory output: ["--out-dir",
# it], written whole; else []) and extra (the arguments after `--`).
TRAIN = (
    "python -m hkd.train --data {params.data:q} --work-dir {params.work:q}"
    " --checkpoint {output.checkpoint:q} --curve {output.curve:q} --threads {threads}"
    " {params.options:q} --depends {input.data:q} {input.depends:q}"
    " -- {params.fairseq} > {log:q} 2>&1"
)
EVALUATE = (
    "python -m hkd.evaluate --data {params.data:q} --checkpoint {input.checkpoint:q}"
    " --src-langs {params.langs:q} --tgt-lang {params.target:q} --references {input.references:q}"
    " --system {params.system:q} --beam {params.beam:q} --tokenize {params.tokenize:q}"
    " --batch-size {params.batch_size:q} --max-len-a {params.max_len_a:q}"
    " --max-len-b {params.max_len_b:q} --threads {threads}"
    " --out-jsons {params.jsons:q} --out-hyps {params.hyps:q} {params.out_dir:q} {params.extra} > {log:q} 2>&1"
)
EVALUATION = {
    "target": TARGET,
    **{
        key: config["evaluation"][key]
        for key in ("beam", "tokenize", "batch_size", "max_len_a", "max_len_b")
    },
}


def work_folder(wildcards, output):
    """A training job's work folder (hkd.train: one run folder per settings), beside its checkpoint."""
    return os.path.join(os.path.dirname(output.checkpoint), "work")


def pair_folder(wildcards, input):
    """A one-pair job's binarized folder (results/data/bin/<lang>), from its data."""
    return os.path.dirname(input.data[0])


def pairs_folder(wildcards, input=None):
    """The folder of every pair's binarized folder (results/data/bin; bin_pair_files). Not read from a
    job's data: Snakemake also evaluates the params of a job whose inputs still wait on the clusters
    checkpoint (`snakemake results/assistants/all/all/checkpoint_best.pt`), without its inputs.
    """
    return PAIRS_FOLDER


def hkd_generate_extra(wildcards):
    # a function: the `{lang}` placeholder is for hkd.evaluate, not a wildcard
    return f"-- {fairseq_args.quote(fairseq_args.assistant_generate_args())}"


def code(*modules):
    """The source files a step runs (hkd.codefiles: its modules and every hkd / hkd_fairseq module they
    import), relative to the working directory: inputs, so that editing any of them reruns the step.
    """
    names = [m if "." in m else f"hkd.{m}" for m in modules]
    return codefiles.workdir_paths(codefiles.code_files(names), HKD_ROOT)


# what the fairseq runs load of the plugin (--user-dir hkd_fairseq), by kind of model
PLUGIN_PLAIN = "hkd_fairseq.curve"  # fairseq's own tasks: the curve recorder only
PLUGIN_ASSISTANT = ("hkd_fairseq.hkd_multilingual", "hkd_fairseq.selective_kd")
PLUGIN_STUDENT = ("hkd_fairseq.hkd_multilingual", "hkd_fairseq.adaptive_kd")


def corpus_files(wildcards=None):
    """The canonical corpus TSVs of the configured corpus source."""
    source = config["corpus"]["source"]
    return {s: f"results/corpus/{source}/all_talks_{s}.tsv" for s in SPLITS}


def synthetic_plan(wildcards=None):
    """The synthetic corpus's language plan, when the config names one (else the demo's ten)."""
    plan = config["corpus"]["synthetic"]["languages"]
    return {"plan": plan} if plan else {}


def corpus_columns():
    """The corpus columns the run reads: its languages, their merge sources and the target."""
    return [*LANGS, *config["merge"], TARGET]


def local_corpus_path():
    return os.path.expanduser(config["corpus"]["local_path"] or "")


def local_corpus_files(wildcards):
    """The files a local corpus is read from (hkd.corpus.local_inputs): inputs, so that a fixed or
    replaced corpus is read again."""
    from hkd import corpus as hkd_corpus  # imported here: pyarrow is slow to load

    return hkd_corpus.local_inputs(local_corpus_path())


def local_corpus_fingerprint(wildcards):
    """Size and modification time of each local corpus file: a params value, so that a corpus replaced
    by an older file (whose time does not trigger a rerun) is read again too."""
    from hkd import corpus as hkd_corpus

    return hkd_corpus.fingerprint(local_corpus_files(wildcards))


def raw_pair_files(lang, splits=SPLITS):
    return [
        f"results/data/raw/{lang}/{s}.{side}" for s in splits for side in (lang, TARGET)
    ]


def spm_pair_files(lang, splits=SPLITS):
    return [
        f"results/data/spm/{lang}/{s}.{side}" for s in splits for side in (lang, TARGET)
    ]


PAIRS_FOLDER = "results/data/bin"


def bin_pair_files(lang, splits=SPLITS):
    return [
        f"{PAIRS_FOLDER}/{lang}/{FAIRSEQ_SPLIT[s]}.{lang}-{TARGET}.{side}.{ext}"
        for s in splits
        for side in (lang, TARGET)
        for ext in ("bin", "idx")
    ]


def get_teacher_args(wildcards):
    """fairseq-train arguments of language `lang`'s teacher (a params value: changes rerun the job)."""
    args = fairseq_args.teacher_args(wildcards.lang, TARGET, config["teacher"])
    return fairseq_args.quote(args)


CLUSTERING = config["clustering"]
TYPES = list(CLUSTERING["types"])
# random clusters with another type's sizes (hkd.random_clusters): trained and evaluated like the
# others, compared in Table 9; not among the student's assistants nor Table 6's columns
RANDOM_TYPES = [t for t in TYPES if CLUSTERING["types"][t]["method"] == "random"]
VECTOR_TYPES = [t for t in TYPES if t not in RANDOM_TYPES]


def assistant_priority(wildcards):
    """The student's assistants before the random types' and selective_all's, which no training waits
    for: those fill the cores the student's chain leaves idle, and run beside the student.
    """
    return 1 if wildcards.ctype in RANDOM_TYPES or wildcards.ctype == "all" else 5


ASSISTANT = config["assistant"]


wildcard_constraints:
    ctype="|".join([*TYPES, "all"]),
    cluster=r"c\d+|all",


def multi_bin_files():
    """The multilingual data folder: every pair's binarized files, linked into one folder."""
    return [
        f.replace(f"results/data/bin/{lang}/", "results/data/bin/all/")
        for lang in LANGS
        for f in bin_pair_files(lang)
    ]


def get_universal_args(wildcards):
    args = fairseq_args.universal_args(LANGS, TARGET, config["universal"])
    return fairseq_args.quote(args)


def universal_generate_args():
    return fairseq_args.quote(fairseq_args.multilingual_generate_args(LANGS, TARGET))


def get_typology_table(wildcards=None):
    if CLUSTERING["typology"] == "synthetic":
        return "results/corpus/synthetic/typology.tsv"
    return f"results/clustering/typology_{CLUSTERING['typology']}.tsv"


def get_typology_fit_table(wildcards=None):
    """The rows the typology SVD is fitted on: every URIEL language (the demo: its own table)."""
    if CLUSTERING["typology"] == "synthetic":
        return get_typology_table()
    return f"results/clustering/uriel_{CLUSTERING['typology']}.tsv"


def get_learned_vectors(wildcards=None):
    return CLUSTERING["learned_vectors"] or "results/clustering/learned.tsv"


def get_cluster_files(wildcards=None):
    """Per-type clusters files (computed), or the clusters file the config names; then the random types."""
    if CLUSTERING["clusters"] == "computed":
        return [f"results/clustering/types/{t}.yaml" for t in TYPES]
    random = [f"results/clustering/types/{t}.yaml" for t in RANDOM_TYPES]
    return [str(Path(CLUSTERING["clusters"]))] + random


def get_like_clusters(wildcards):
    """The clusters file holding the type whose sizes a random type keeps."""
    if CLUSTERING["clusters"] == "computed":
        return f"results/clustering/types/{CLUSTERING['types'][wildcards.ctype]['like']}.yaml"
    return str(Path(CLUSTERING["clusters"]))


def option(flag, value):
    """A command line option from a config value: [flag, *value] for a list, [flag, value] for a
    scalar, [] when the config leaves it unset (null) or empty."""
    if value is None or value == []:
        return []
    return [flag, *value] if isinstance(value, list) else [flag, value]


def random_focus_args(wildcards):
    return " ".join(option("--focus", CLUSTERING["types"][wildcards.ctype]["focus"]))


def partial_types_args():
    partial = [t for t in RANDOM_TYPES if CLUSTERING["types"][t]["focus"]]
    return " ".join(option("--partial-types", partial))


def allow_missing_args():
    pairs = CLUSTERING["allow_missing"].items()
    return " ".join(f"--allow-missing {t}:{','.join(langs)}" for t, langs in pairs)


def clusters_file():
    """The clusters of every type; a Snakemake checkpoint: the assistants' jobs follow from it (read
    once per version of the file: hkd.clusters_file.read_cached)."""
    return hkd_clusters.read_cached(checkpoints.clusters.get().output.clusters)


def assistant_plan():
    """The teacher-assistants of the clusters file (hkd.plan: the models, which serves each cluster)."""
    random = {t: CLUSTERING["types"][t]["like"] for t in RANDOM_TYPES}
    return hkd_plan.make_plan(
        clusters_file(), LANGS, ASSISTANT["selective_all"], random
    )


def members(wildcards):
    return assistant_plan().units[(wildcards.ctype, wildcards.cluster)]


def get_assistant_inputs(wildcards):
    langs = members(wildcards)
    return {
        "data": [f for lang in langs for f in bin_pair_files(lang, ["train", "dev"])],
        "depends": [
            *(f"results/stores/teacher/{lang}" for lang in langs),
            *(f"results/teachers/{lang}/checkpoint_best.pt" for lang in langs),
            *(f"results/teachers/{lang}/curve.jsonl" for lang in langs),
        ],
    }


def get_assistant_args(wildcards):
    # a function of the wildcards only: Snakemake records such params, and reruns the job when they
    # change (it records no params that are functions of input or output)
    args = fairseq_args.assistant_args(
        members(wildcards),
        TARGET,
        ASSISTANT,
        stores="results/stores/teacher",
        # hkd.train: in the run's folder; the flags log is published as a declared output at the end
        state="{run}/selective_state.json",
        flags_log="{run}/selective.jsonl",
        # the teachers' dev BLEU (best valid_bleu of their curves): measured once, when they trained
        teacher_bleu="results/teachers/{lang}/curve.jsonl",
    )
    return fairseq_args.quote(args)


def get_assistant_eval_inputs(wildcards):
    langs = members(wildcards)
    return {
        "checkpoint": f"results/assistants/{wildcards.ctype}/{wildcards.cluster}/checkpoint_best.pt",
        "data": [f for lang in langs for f in bin_pair_files(lang, ["test"])],
        "references": [f"results/data/raw/{lang}/test.{TARGET}" for lang in langs],
    }


def get_assistant_store_inputs(wildcards):
    langs = members(wildcards)
    folder = f"results/assistants/{wildcards.ctype}/{wildcards.cluster}"
    return {
        "checkpoint": f"{folder}/checkpoint_best.pt",
        "data": [f for lang in langs for f in bin_pair_files(lang, ["train"])],
    }


STUDENT = config["student"]


def get_student_prepare_inputs(wildcards):
    units = assistant_plan().student_units()
    return {
        "stores": [f"results/stores/assistant/{c}/{n}" for c, n in units],
        "curves": [f"results/assistants/{c}/{n}/curve.jsonl" for c, n in units],
    }


def get_student_args(wildcards):
    # of the wildcards only, so that Snakemake records it (see get_assistant_args)
    folder = "results/student/assistants"
    args = fairseq_args.student_args(
        LANGS,
        TARGET,
        STUDENT,
        stores=f"{folder}/stores/{{type}}/{{cluster}}/{{lang}}",
        assistant_map=f"{folder}/map.json",
        assistant_bleu=f"{folder}/dev_bleu.json",
        alpha_log="{run}/alpha.jsonl",  # hkd.train publishes it as a declared output at the end
    )
    return fairseq_args.quote(args)


def get_score_files(wildcards):
    """Every system's scores: teachers and universal per language, assistants and the student per
    model folder."""
    files = expand(
        "results/eval/{system}/{lang}.json", system=["teacher", "universal"], lang=LANGS
    )
    files += [f"results/eval/assistant/{c}/{n}" for c, n in assistant_plan().units]
    return files + ["results/eval/student"]


def get_table_columns(wildcards):
    """`COLUMN=FOLDER` per cluster (the table column of its type, the scores of the model serving it),
    and the student's column."""
    columns = assistant_plan().table_columns()
    return " ".join(
        [f"{c}=results/eval/assistant/{u[0]}/{u[1]}" for c, u in columns]
        + ["hkd=results/eval/student"]
    )


# each stage's training curves ({name}: the teacher's language, the assistant's type/cluster)
CURVES = {
    "teachers": "results/teachers/{name}/curve.jsonl",
    "universal": "results/universal/curve.jsonl",
    "assistants": "results/assistants/{name}/curve.jsonl",
    "student": "results/student/curve.jsonl",
}


def trained_models(stages=hkd_models.STAGES):
    """The models of these stages (hkd.models); the assistants' only when asked for, as they follow
    from the clusters checkpoint."""
    units = assistant_plan().units if "assistants" in stages else None
    return hkd_models.trained_models(LANGS, config, CURVES, stages, units)


def get_convergence_models(wildcards):
    """NAME=CURVE:MAX_EPOCH:PATIENCE:METRIC of every model trained (hkd.convergence)."""
    return " ".join(m.spec for m in trained_models())


def get_convergence_curves(wildcards):
    return [m.curve for m in trained_models()]


def get_random_pairs(wildcards):
    """`random_tN=cluster_tN` for each random type: Table 9's tests of random against actual clusters."""
    columns = [c for c, _ in assistant_plan().table_columns()]
    return " ".join(f"{r}={c}" for r, c in hkd_plan.random_pairs(columns))


def significance_baselines():
    """The configured baselines of the paired bootstrap that this run trains (selective_all only when
    the config asks for it)."""
    wanted = config["evaluation"]["significance"]["baselines"]
    trained = ["teacher", "universal"] + (
        ["selective_all"] if ASSISTANT["selective_all"] else []
    )
    return " ".join(b for b in wanted if b in trained)


SYNTHETIC = config["corpus"]["source"] == "synthetic"
PAPER_TABLE = config["evaluation"]["paper_table"]


# What the workflow builds (rule all), besides the report's pictures. The teachers' results and
# stores are named here too, not only through what uses them: they do not depend on the clusters, so
# they are scheduled before the clustering checkpoint.
RUN_TARGETS = [
    *expand("results/eval/teacher/{lang}.json", lang=LANGS),
    *expand("results/stores/teacher/{lang}", lang=LANGS),
    "results/tables/bleu.tsv",
    "results/tables/convergence.tsv",
    "results/student/alpha.jsonl",
    "results/clustering/clusters.yaml",
    "results/clustering/membership.tsv",
    *(
        expand("results/clustering/types/{ctype}.png", ctype=VECTOR_TYPES)
        if CLUSTERING["clusters"] == "computed"
        else []
    ),
    *(["results/clustering/ari.tsv"] if SYNTHETIC else []),
    *(["results/tables/vs_paper.md"] if PAPER_TABLE else []),
]


# The report's categories (report() in rules/*.smk), one per stage, in the order of the report's
# menu (it sorts them by name).
CATEGORY = {
    "results": "1 Results",
    "data": "2 Data and config",
    "teachers": "3 Teachers",
    "universal": "4 Universal model",
    "clustering": "5 Clustering",
    "assistants": "6 Teacher-assistants",
    "student": "7 Student",
}


CURVE_STAGES = list(hkd_models.STAGES)


wildcard_constraints:
    stage="|".join(CURVE_STAGES),


def get_stage_curves(wildcards):
    """{model name: (curve.jsonl, the metric its best checkpoint is chosen by)} of one stage's models."""
    return {m.name: (m.curve, m.metric) for m in trained_models([wildcards.stage])}


def get_table_markdown(wildcards=None):
    """The markdown tables shown as report pages: every markdown output of the BLEU table rule (Tables
    6-9 and whatever it writes), and the comparison with the paper's Table 6 when configured.
    """
    files = [f for f in rules.bleu_table.output if f.endswith(".md")]
    return files + ([rules.paper_table.output.markdown] if PAPER_TABLE else [])


def assistant_label(wildcards):
    langs = ", ".join(members(wildcards))
    return {"assistant": f"{wildcards.ctype}/{wildcards.cluster} ({langs})"}


# the report's inputs that do not depend on the clusters
REPORT_FILES = [
    "results/report/tables",
    "results/report/results/bleu_by_size.png",
    "results/report/data/counts.html",
    "results/report/data/config.html",
    "results/report/clustering/membership.png",
    "results/report/student/alpha.png",
    "results/report/results/convergence.html",
    *expand("results/report/curves/{stage}.png", stage=CURVE_STAGES),
    *(["results/report/clustering/ari.html"] if SYNTHETIC else []),
]


def report_selective_pictures(wildcards):
    """One selective-KD picture per trained assistant (after the clustering checkpoint)."""
    return [
        f"results/report/assistants/selective/{c}/{n}.png"
        for c, n in assistant_plan().units
    ]


def config_json():
    """The config as the workflow holds it, as one shell-quoted JSON argument (hkd.pages config)."""
    return fairseq_args.quote([json.dumps(config)])
