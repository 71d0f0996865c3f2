# Teacher top-k stores, then one teacher-assistant per cluster (and one over all languages), each
# trained by selective knowledge distillation from its cluster's bilingual teachers.


rule teacher_store:
    input:
        checkpoint="results/teachers/{lang}/checkpoint_best.pt",
        data=bin_pair_files("{lang}", ["train"]),
        code=code("topk_store"),
    output:
        directory("results/stores/teacher/{lang}"),
    log:
        "logs/teacher_store/{lang}.log",
    # on the way to the assistants (and the student): before the evaluations, which nothing waits for
    priority: 5
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=1,
    params:
        data=pair_folder,
        target=TARGET,
        k=ASSISTANT["topk"],
    shell:
        "python -m hkd.topk_store dump --data {params.data:q} --checkpoint {input.checkpoint:q}"
        " --src-lang {wildcards.lang:q} --tgt-lang {params.target:q} --k {params.k:q}"
        " --threads {threads} --out {output:q} > {log:q} 2>&1"


rule train_assistant:
    input:
        unpack(get_assistant_inputs),
        dict="results/data/dict.txt",
        code=code("train", *PLUGIN_ASSISTANT),
    output:
        checkpoint="results/assistants/{ctype}/{cluster}/checkpoint_best.pt",
        curve="results/assistants/{ctype}/{cluster}/curve.jsonl",
        flags="results/assistants/{ctype}/{cluster}/selective.jsonl",
    log:
        "logs/train_assistant/{ctype}/{cluster}.log",
    benchmark:
        "benchmarks/train_assistant/{ctype}/{cluster}.tsv"
    priority: assistant_priority
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=2880,
        gpu=1,
    params:
        fairseq=get_assistant_args,
        data=pairs_folder,
        work=work_folder,
        options=lambda wildcards, output: [
            "--publish",
            f"selective.jsonl={output.flags}",
        ],
    shell:
        TRAIN


rule evaluate_assistant:
    input:
        unpack(get_assistant_eval_inputs),
        code=code("evaluate", PLUGIN_ASSISTANT[0]),
    output:
        directory("results/eval/assistant/{ctype}/{cluster}"),
    log:
        "logs/evaluate_assistant/{ctype}/{cluster}.log",
    benchmark:
        "benchmarks/evaluate_assistant/{ctype}/{cluster}.tsv"
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        **EVALUATION,
        data=pairs_folder,
        langs=lambda wildcards: members(wildcards),
        system="assistant",
        jsons=lambda wildcards, output: [
            f"{output}/{lang}.json" for lang in members(wildcards)
        ],
        hyps=lambda wildcards, output: [
            f"{output}/{lang}.hyp" for lang in members(wildcards)
        ],
        out_dir=lambda wildcards, output: ["--out-dir", output[0]],
        extra=hkd_generate_extra,
    shell:
        EVALUATE
