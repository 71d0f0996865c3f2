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
        langs=lambda wildcards: " ".join(members(wildcards)),
        target=TARGET,
        k=ASSISTANT.get("topk", 8),
    shell:
        "python -m hkd.topk_store dump --data 'results/data/bin/{{lang}}'"
        " --checkpoint {input.checkpoint} --src-lang {params.langs} --tgt-lang {params.target}"
        " --k {params.k} --ref-lprobs --threads {threads} --out '{output}/{{lang}}' > {log} 2>&1"


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
        langs=" ".join(LANGS),
        serves=get_student_serves,
        skip=" ".join(RANDOM_TYPES),
    shell:
        "python -m hkd.student prepare --clusters {input.clusters} --langs {params.langs}"
        " --serves {params.serves} --skip-types {params.skip}"
        " --stores results/stores/assistant --curves results/assistants"
        " --out-dir {output} > {log} 2>&1"


rule train_student:
    input:
        data=[f for lang in LANGS for f in bin_pair_files(lang, ["train", "dev"])],
        assistants="results/student/assistants",
        stores=lambda wildcards: get_student_prepare_inputs(wildcards)["stores"],
        dict="results/data/dict.txt",
        code=code("train"),
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
            "--mixed-precision" if STUDENT.get("mixed_precision", True) else ""
        ),
    shell:
        "python -m hkd.train --data {params.data} --work-dir {params.work}"
        " --checkpoint {output.checkpoint} --curve {output.curve} --threads {threads} {params.mixed}"
        " --publish alpha.jsonl={output.alpha}"
        " --depends {input.data} {input.stores} {input.assistants}/map.json"
        " {input.assistants}/dev_bleu.json"
        " -- {params.fairseq} > {log} 2>&1"


rule evaluate_student:
    input:
        checkpoint="results/student/checkpoint_best.pt",
        data=[f for lang in LANGS for f in bin_pair_files(lang, ["test"])],
        references=expand(
            "results/data/raw/{lang}/test.{target}", lang=LANGS, target=TARGET
        ),
        code=code("evaluate"),
    output:
        directory("results/eval/student"),
    log:
        "logs/evaluate_student.log",
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        data=lambda wildcards, input: os.path.dirname(os.path.dirname(input.data[0])),
        langs=" ".join(LANGS),
        jsons=" ".join(f"results/eval/student/{lang}.json" for lang in LANGS),
        hyps=" ".join(f"results/eval/student/{lang}.hyp" for lang in LANGS),
        # a function: the `{lang}` placeholder is for hkd.evaluate, not a wildcard
        extra=lambda wildcards: fairseq_args.quote(
            fairseq_args.assistant_generate_args()
        ),
        target=TARGET,
        beam=config["evaluation"].get("beam", 5),
        tokenize=config["evaluation"].get("tokenize", "none"),
        batch_size=config["evaluation"].get("batch_size", 64),
        max_len=evaluation_limits(),
    shell:
        "python -m hkd.evaluate --data {params.data} --checkpoint {input.checkpoint}"
        " --src-langs {params.langs} --tgt-lang {params.target} --references {input.references}"
        " --system hkd --beam {params.beam} --tokenize {params.tokenize}"
        " --batch-size {params.batch_size} {params.max_len} --threads {threads}"
        " --out-jsons {params.jsons} --out-hyps {params.hyps} -- {params.extra} > {log} 2>&1"
