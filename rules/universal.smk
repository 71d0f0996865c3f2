# The universal many-to-one model: the "Universal Multi." baseline and the source of the
# NMT-learned language vectors.


rule multilingual_data:
    input:
        pairs=[f for lang in LANGS for f in bin_pair_files(lang)],
        code=code("multidata"),
    output:
        multi_bin_files(),
    log:
        "logs/multilingual_data.log",
    priority: 10
    conda:
        "../envs/data.yaml"
    params:
        pairs=[f"results/data/bin/{lang}" for lang in LANGS],
        out=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "python -m hkd.multidata --pairs {params.pairs:q} --out {params.out:q} > {log:q} 2>&1"


rule train_universal:
    input:
        data=multi_bin_files(),
        depends=[],
        dict="results/data/dict.txt",
        code=code("train", PLUGIN_PLAIN),
    output:
        checkpoint="results/universal/checkpoint_best.pt",
        curve="results/universal/curve.jsonl",
    log:
        "logs/train_universal.log",
    benchmark:
        "benchmarks/train_universal.tsv"
    priority: 10
    conda:
        "../envs/fairseq.yaml"
    # one thread, so that it starts as soon as a core is free (alongside the teachers), and first among
    # the jobs ready to run: the clustering, and all that follows, waits for this model
    threads: 1
    resources:
        mem_mb=16000,
        runtime=2880,
        gpu=1,
    params:
        fairseq=get_universal_args,
        data=pair_folder,
        work=work_folder,
        options=[],
    shell:
        TRAIN


rule evaluate_universal:
    input:
        checkpoint="results/universal/checkpoint_best.pt",
        data=multi_bin_files(),
        references=expand(
            "results/data/raw/{lang}/test.{target}", lang=LANGS, target=TARGET
        ),
        code=code("evaluate", PLUGIN_PLAIN),
    output:
        scores=expand("results/eval/universal/{lang}.json", lang=LANGS),
        hyps=expand("results/eval/universal/{lang}.hyp", lang=LANGS),
    log:
        "logs/evaluate_universal.log",
    benchmark:
        "benchmarks/evaluate_universal.tsv"
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        **EVALUATION,
        data=pair_folder,
        langs=LANGS,
        system="universal",
        jsons=lambda wildcards, output: output.scores,
        hyps=lambda wildcards, output: output.hyps,
        out_dir=[],
        extra=f"-- {universal_generate_args()}",
    shell:
        EVALUATE
