# One bilingual Transformer teacher per language, resumable from its last checkpoint, and its
# evaluation.


rule train_teacher:
    input:
        data=bin_pair_files("{lang}", ["train", "dev"]),
        depends=[],
        dict="results/data/dict.txt",
        code=code("train", PLUGIN_PLAIN),
    output:
        checkpoint="results/teachers/{lang}/checkpoint_best.pt",
        curve="results/teachers/{lang}/curve.jsonl",
    log:
        "logs/train_teacher/{lang}.log",
    benchmark:
        "benchmarks/train_teacher/{lang}.tsv"
    priority: 5
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=720,
        gpu=1,
    params:
        fairseq=get_teacher_args,
        data=pair_folder,
        work=work_folder,
        options=[],
    shell:
        TRAIN


rule evaluate_teacher:
    input:
        checkpoint="results/teachers/{lang}/checkpoint_best.pt",
        data=bin_pair_files("{lang}", ["test"]),
        references=f"results/data/raw/{{lang}}/test.{TARGET}",
        code=code("evaluate", PLUGIN_PLAIN),
    output:
        score="results/eval/teacher/{lang}.json",
        hyp="results/eval/teacher/{lang}.hyp",
    log:
        "logs/evaluate_teacher/{lang}.log",
    benchmark:
        "benchmarks/evaluate_teacher/{lang}.tsv"
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        **EVALUATION,
        data=pair_folder,
        langs=lambda wildcards: wildcards.lang,
        system="teacher",
        jsons=lambda wildcards, output: output.score,
        hyps=lambda wildcards, output: output.hyp,
        out_dir=[],
        extra="",
    shell:
        EVALUATE
