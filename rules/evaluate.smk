# The paired bootstrap tests and the tables of every system's sacreBLEU (BLEU, chrF; each stage
# evaluates its own models: EVALUATE in common.smk).


rule significance:
    input:
        scores=get_score_files,
        references=expand(
            "results/data/raw/{lang}/test.{target}", lang=LANGS, target=TARGET
        ),
        code=code("significance"),
    output:
        tests="results/tables/significance.tsv",
    log:
        "logs/significance.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=LANGS,
        columns=get_table_columns,
        baselines=significance_baselines(),
        samples=config["evaluation"]["significance"]["samples"],
        alpha=config["evaluation"]["significance"]["alpha"],
        tokenize=config["evaluation"]["tokenize"],
        pairs=get_random_pairs,
    shell:
        "python -m hkd.significance --scores {input.scores:q} --columns {params.columns}"
        " --langs {params.langs:q} --references {input.references:q} --baselines {params.baselines}"
        " --pairs {params.pairs}"
        " --tokenize {params.tokenize:q} --samples {params.samples:q} --alpha {params.alpha:q}"
        " --out {output.tests:q} > {log:q} 2>&1"


rule bleu_table:
    input:
        scores=get_score_files,
        counts="results/data/raw/counts.tsv",
        significance="results/tables/significance.tsv",
        code=code("report"),
    output:
        table="results/tables/bleu.tsv",
        chrf="results/tables/chrf.tsv",
        random="results/tables/random.tsv",
        markdown="results/tables/bleu.md",
        places="results/tables/places.tsv",
    log:
        "logs/bleu_table.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=LANGS,
        columns=get_table_columns,
        bands=config["evaluation"]["bands"],
    shell:
        "python -m hkd.report --scores {input.scores:q} --columns {params.columns}"
        " --counts {input.counts:q} --bands {params.bands:q} --langs {params.langs:q}"
        " --significance {input.significance:q} --out-chrf-tsv {output.chrf:q}"
        " --out-random-tsv {output.random:q}"
        " --out-tsv {output.table:q} --out-md {output.markdown:q} --out-places {output.places:q}"
        " > {log:q} 2>&1"


rule convergence_table:
    input:
        curves=get_convergence_curves,
        code=code("convergence"),
    output:
        "results/tables/convergence.tsv",
    log:
        "logs/convergence_table.log",
    conda:
        "../envs/data.yaml"
    params:
        models=get_convergence_models,
    shell:
        "python -m hkd.convergence --models {params.models} --out {output:q} > {log:q} 2>&1"


# the run's table beside the paper's Table 6, where the config names it (evaluation.paper_table)
if PAPER_TABLE:

    rule paper_table:
        input:
            table="results/tables/bleu.tsv",
            paper=PAPER_TABLE,
            code=code("paper_table"),
        output:
            tsv="results/tables/vs_paper.tsv",
            markdown="results/tables/vs_paper.md",
        log:
            "logs/paper_table.log",
        conda:
            "../envs/data.yaml"
        shell:
            "python -m hkd.paper_table --table {input.table:q} --paper {input.paper:q}"
            " --out-tsv {output.tsv:q} --out-md {output.markdown:q} > {log:q} 2>&1"
