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
    shell:
        "python -m hkd.topk_store dump --data 'results/data/bin/{{lang}}'"
        " --checkpoint {input.checkpoint:q} --src-lang {params.langs:q} --tgt-lang {params.target:q}"
        " --k {params.k:q} --ref-lprobs --threads {threads} --out {output:q}/'{{lang}}' > {log:q} 2>&1"


rule student_assistants:
    input:
        unpack(get_student_prepare_inputs),
        clusters="results/clustering/clusters.yaml",
        code=code("student"),
    output:
        directory("results/student/assistants"),
    log:
        "logs/student_assistants.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=LANGS,
        skip=RANDOM_TYPES,
    shell:
        "python -m hkd.student prepare --clusters {input.clusters:q} --langs {params.langs:q}"
        " --skip-types {params.skip:q}"
        " --stores results/stores/assistant --curves results/assistants"
        " --out-dir {output:q} > {log:q} 2>&1"


rule train_student:
    input:
        data=[f for lang in LANGS for f in bin_pair_files(lang, ["train", "dev"])],
        assistants="results/student/assistants",
        stores=lambda wildcards: get_student_prepare_inputs(wildcards)["stores"],
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
        data=lambda wildcards, input: os.path.dirname(os.path.dirname(input.data[0])),
        work=lambda wildcards, output: os.path.join(
            os.path.dirname(output.checkpoint), "work"
        ),
        mixed=lambda wildcards: (
            "--mixed-precision" if STUDENT["mixed_precision"] else ""
        ),
    shell:
        "python -m hkd.train --data {params.data:q} --work-dir {params.work:q}"
        " --checkpoint {output.checkpoint:q} --curve {output.curve:q} --threads {threads} {params.mixed:q}"
        " --publish alpha.jsonl={output.alpha:q}"
        " --depends {input.data:q} {input.stores:q} {input.assistants:q}/map.json"
        " {input.assistants:q}/dev_bleu.json"
        " -- {params.fairseq} > {log:q} 2>&1"


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
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        data=lambda wildcards, input: os.path.dirname(os.path.dirname(input.data[0])),
        langs=LANGS,
        jsons=[f"results/eval/student/{lang}.json" for lang in LANGS],
        hyps=[f"results/eval/student/{lang}.hyp" for lang in LANGS],
        # a function: the `{lang}` placeholder is for hkd.evaluate, not a wildcard
        extra=lambda wildcards: fairseq_args.quote(
            fairseq_args.assistant_generate_args()
        ),
        target=TARGET,
        beam=config["evaluation"]["beam"],
        tokenize=config["evaluation"]["tokenize"],
        batch_size=config["evaluation"]["batch_size"],
        max_len=evaluation_limits(),
    shell:
        "python -m hkd.evaluate --data {params.data:q} --checkpoint {input.checkpoint:q}"
        " --src-langs {params.langs:q} --tgt-lang {params.target:q} --references {input.references:q}"
        " --system hkd --beam {params.beam:q} --tokenize {params.tokenize:q}"
        " --batch-size {params.batch_size:q} {params.max_len} --threads {threads}"
        " --out-jsons {params.jsons:q} --out-hyps {params.hyps:q} -- {params.extra} > {log:q} 2>&1"
