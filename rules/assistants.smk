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
        data=lambda wildcards, input: os.path.dirname(input.data[0]),
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
    priority: 5
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=2880,
        gpu=1,
    params:
        fairseq=get_assistant_args,
        data=lambda wildcards, input: os.path.dirname(os.path.dirname(input.data[0])),
        work=lambda wildcards, output: os.path.join(
            os.path.dirname(output.checkpoint), "work"
        ),
    shell:
        "python -m hkd.train --data {params.data:q} --work-dir {params.work:q}"
        " --checkpoint {output.checkpoint:q} --curve {output.curve:q} --threads {threads}"
        " --publish selective.jsonl={output.flags:q}"
        " --depends {input.data:q} {input.stores:q} {input.teachers:q} {input.teacher_curves:q}"
        " -- {params.fairseq} > {log:q} 2>&1"


rule evaluate_assistant:
    input:
        unpack(get_assistant_eval_inputs),
        code=code("evaluate", PLUGIN_ASSISTANT[0]),
    output:
        directory("results/eval/assistant/{ctype}/{cluster}"),
    log:
        "logs/evaluate_assistant/{ctype}/{cluster}.log",
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        data=lambda wildcards, input: os.path.dirname(os.path.dirname(input.data[0])),
        langs=lambda wildcards: members(wildcards),
        jsons=lambda wildcards, output: [
            f"{output}/{lang}.json" for lang in members(wildcards)
        ],
        hyps=lambda wildcards, output: [
            f"{output}/{lang}.hyp" for lang in members(wildcards)
        ],
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
        " --system assistant --beam {params.beam:q} --tokenize {params.tokenize:q}"
        " --batch-size {params.batch_size:q} {params.max_len} --threads {threads}"
        " --out-jsons {params.jsons:q} --out-hyps {params.hyps:q} -- {params.extra} > {log:q} 2>&1"
