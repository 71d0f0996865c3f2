# One bilingual Transformer teacher per language, resumable from its last checkpoint.


rule train_teacher:
    input:
        data=bin_pair_files("{lang}", ["train", "dev"]),
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
        data=lambda wildcards, input: os.path.dirname(input.data[0]),
        work=lambda wildcards, output: os.path.join(
            os.path.dirname(output.checkpoint), "work"
        ),
    shell:
        "python -m hkd.train --data {params.data:q} --work-dir {params.work:q}"
        " --checkpoint {output.checkpoint:q} --curve {output.curve:q} --threads {threads}"
        " --depends {input.data:q}"
        " -- {params.fairseq} > {log:q} 2>&1"
