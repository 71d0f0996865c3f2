# The ultimate student: assistant top-k stores (with reference log-probabilities), then one
# many-to-one model trained by adaptive knowledge distillation from every assistant whose cluster
# holds the language (HKD phase 2), and its evaluation.


rule assistant_store:
    input:
        unpack(get_assistant_store_inputs),
        code=code("topk_store"),
    output:
        directory("results/stores/assistant/{ctype}/{cluster}"),
    log:
        "logs/assistant_store/{ctype}/{cluster}.log",
    priority: 5
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=480,
        gpu=1,
    params:
        langs=lambda wildcards: members(wildcards),
        target=TARGET,
        k=ASSISTANT["topk"],
        # one store per language: {lang} is hkd.topk_store's placeholder, not a wildcard
        data=lambda wildcards, input: os.path.join(
            pairs_folder(wildcards, input), "{lang}"
        ),
        out=lambda wildcards, output: os.path.join(output[0], "{lang}"),
    shell:
        "python -m hkd.topk_store dump --data {params.data:q}"
        " --checkpoint {input.checkpoint:q} --src-lang {params.langs:q} --tgt-lang {params.target:q}"
        " --k {params.k:q} --ref-lprobs --threads {threads} --out {params.out:q} > {log:q} 2>&1"


rule student_assistants:
    input:
        unpack(get_student_prepare_inputs),
        clusters="results/clustering/clusters.yaml",
        code=code("student"),
    output:
        directory("results/student/assistants"),
    log:
        "logs/student_assistants.log",
    # on the student's chain, as its stores and training are: above the random types' and selective_all's
    # assistants (assistant_priority), which would otherwise take both cores and hold the student back
    priority: 5
    conda:
        "../envs/data.yaml"
    params:
        langs=LANGS,
        skip=RANDOM_TYPES,
        # the folders of the models' stores and curves (STORES/TYPE/CLUSTER, CURVES/TYPE/CLUSTER/curve.jsonl)
        stores=lambda wildcards, input: os.path.dirname(
            os.path.dirname(input.stores[0])
        ),
        curves=lambda wildcards, input: os.path.dirname(
            os.path.dirname(os.path.dirname(input.curves[0]))
        ),
    shell:
        "python -m hkd.student prepare --clusters {input.clusters:q} --langs {params.langs:q}"
        " --skip-types {params.skip:q} --stores {params.stores:q} --curves {params.curves:q}"
        " --out-dir {output:q} > {log:q} 2>&1"


rule train_student:
    input:
        data=[f for lang in LANGS for f in bin_pair_files(lang, ["train", "dev"])],
        depends=lambda wildcards: [
            *get_student_prepare_inputs(wildcards)["stores"],
            "results/student/assistants",
        ],
        dict="results/data/dict.txt",
        code=code("train", *PLUGIN_STUDENT),
    output:
        checkpoint="results/student/checkpoint_best.pt",
        curve="results/student/curve.jsonl",
        alpha="results/student/alpha.jsonl",
    log:
        "logs/train_student.log",
    benchmark:
        "benchmarks/train_student.tsv"
    priority: 5
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    resources:
        mem_mb=32000,
        runtime=5760,
        gpu=1,
    params:
        fairseq=get_student_args,
        data=pairs_folder,
        work=work_folder,
        options=lambda wildcards, output: [
            *(["--mixed-precision"] if STUDENT["mixed_precision"] else []),
            "--publish",
            f"alpha.jsonl={output.alpha}",
        ],
    shell:
        TRAIN


rule evaluate_student:
    input:
        checkpoint="results/student/checkpoint_best.pt",
        data=[f for lang in LANGS for f in bin_pair_files(lang, ["test"])],
        references=expand(
            "results/data/raw/{lang}/test.{target}", lang=LANGS, target=TARGET
        ),
        code=code("evaluate", PLUGIN_STUDENT[0]),
    output:
        directory("results/eval/student"),
    log:
        "logs/evaluate_student.log",
    benchmark:
        "benchmarks/evaluate_student.tsv"
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        **EVALUATION,
        data=pairs_folder,
        langs=LANGS,
        system=lambda wildcards: "hkd",  # a function: --lint takes the string for a path prefix
        jsons=lambda wildcards, output: [f"{output}/{lang}.json" for lang in LANGS],
        hyps=lambda wildcards, output: [f"{output}/{lang}.hyp" for lang in LANGS],
        out_dir=lambda wildcards, output: ["--out-dir", output[0]],
        extra=hkd_generate_extra,
    shell:
        EVALUATE
