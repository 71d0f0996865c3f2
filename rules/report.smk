# The report's inputs: HTML pages of the tables, the data counts and the config, and the pictures
# (hkd.pages, hkd.plots, hkd.paper). They are part of the workflow's target (rule all), so a rerun of
# a stage redraws what shows it; `snakemake --report results/report.html` (make report) then puts
# every file marked report() below into one self-contained HTML file.


rule plot_curves:
    input:
        curves=lambda wildcards: [c for c, _ in get_stage_curves(wildcards).values()],
        code=code("plots"),
    output:
        report(
            "results/report/curves/{stage}.png",
            caption="../report/curves.rst",
            category=lambda wildcards: CATEGORY[wildcards.stage],
            subcategory="Training curves",
            labels={"picture": "dev BLEU and loss per epoch ({stage})"},
        ),
    log:
        "logs/plot_curves/{stage}.log",
    conda:
        "../envs/clustering.yaml"
    params:
        names=lambda wildcards: " ".join(get_stage_curves(wildcards)),
        metrics=lambda wildcards: " ".join(
            m for _, m in get_stage_curves(wildcards).values()
        ),
    shell:
        "python -m hkd.plots curves --title {wildcards.stage} --curves {input.curves}"
        " --names {params.names} --metrics {params.metrics} --out {output} > {log} 2>&1"


rule plot_alpha:
    input:
        alpha="results/student/alpha.jsonl",
        code=code("plots"),
    output:
        report(
            "results/report/student/alpha.png",
            caption="../report/alpha.rst",
            category=CATEGORY["student"],
            subcategory="Adaptive KD",
            labels={"picture": "alpha per language and assistant"},
        ),
    log:
        "logs/plot_alpha.log",
    conda:
        "../envs/clustering.yaml"
    shell:
        "python -m hkd.plots alpha --alpha {input.alpha} --out {output} > {log} 2>&1"


rule plot_selective:
    input:
        flags="results/assistants/{ctype}/{cluster}/selective.jsonl",
        code=code("plots"),
    output:
        report(
            "results/report/assistants/selective/{ctype}/{cluster}.png",
            caption="../report/selective.rst",
            category=CATEGORY["assistants"],
            subcategory="Selective KD",
            labels=assistant_label,
        ),
    log:
        "logs/plot_selective/{ctype}/{cluster}.log",
    conda:
        "../envs/clustering.yaml"
    shell:
        "python -m hkd.plots selective --flags {input.flags} --title {wildcards.ctype}/{wildcards.cluster}"
        " --out {output} > {log} 2>&1"


rule plot_bleu_by_size:
    input:
        table="results/tables/bleu.tsv",
        code=code("plots"),
    output:
        report(
            "results/report/results/bleu_by_size.png",
            caption="../report/bleu_by_size.rst",
            category=CATEGORY["results"],
            subcategory="Pictures",
            labels={"picture": "BLEU per language by training size"},
        ),
    log:
        "logs/plot_bleu_by_size.log",
    conda:
        "../envs/clustering.yaml"
    shell:
        "python -m hkd.plots bleu-by-size --table {input.table} --out {output} > {log} 2>&1"


rule plot_membership:
    input:
        membership="results/clustering/membership.tsv",
        code=code("plots"),
    output:
        report(
            "results/report/clustering/membership.png",
            caption="../report/membership.rst",
            category=CATEGORY["clustering"],
            subcategory="Clusters",
            labels={"result": "membership: language by type"},
        ),
    log:
        "logs/plot_membership.log",
    conda:
        "../envs/clustering.yaml"
    shell:
        "python -m hkd.plots membership --membership {input.membership} --out {output} > {log} 2>&1"


rule report_tables:
    input:
        markdown=get_table_markdown,
        code=code("pages"),
    output:
        report(
            directory("results/report/tables"),
            patterns=["{name}.html"],
            caption="../report/tables.rst",
            category=CATEGORY["results"],
            subcategory="Tables",
            labels={"table": "{name}"},
        ),
    log:
        "logs/report_tables.log",
    conda:
        "../envs/data.yaml"
    shell:
        "python -m hkd.pages markdown --inputs {input.markdown} --out-dir {output} > {log} 2>&1"


rule report_counts:
    input:
        table="results/data/raw/counts.tsv",
        code=code("pages"),
    output:
        report(
            "results/report/data/counts.html",
            caption="../report/counts.rst",
            category=CATEGORY["data"],
            subcategory="Counts",
            labels={"page": "pairs per language and split, every filter counted"},
        ),
    log:
        "logs/report_counts.log",
    conda:
        "../envs/data.yaml"
    params:
        title="Data counts: pairs per language and split, and what each filter dropped",
    shell:
        "python -m hkd.pages tsv --input {input.table} --title {params.title:q} --out {output}"
        " > {log} 2>&1"


rule report_ari:
    input:
        table="results/clustering/ari.tsv",
        code=code("pages"),
    output:
        report(
            "results/report/clustering/ari.html",
            caption="../report/ari.rst",
            category=CATEGORY["clustering"],
            subcategory="Clusters",
            labels={"result": "ARI against the generator's groups"},
        ),
    log:
        "logs/report_ari.log",
    conda:
        "../envs/data.yaml"
    params:
        title="Clusters against the demo generator's families and typological groups (ARI)",
    shell:
        "python -m hkd.pages tsv --input {input.table} --title {params.title:q} --out {output}"
        " > {log} 2>&1"


rule report_config:
    input:
        code=code("pages"),
    output:
        report(
            "results/report/data/config.html",
            caption="../report/config.rst",
            category=CATEGORY["data"],
            subcategory="Config",
            labels={"page": "the config of this run"},
        ),
    log:
        "logs/report_config.log",
    conda:
        "../envs/data.yaml"
    params:
        # the config as the workflow holds it: a change of any setting rewrites the page
        config=config_json(),
    shell:
        "python -m hkd.pages config --config-json {params.config} --out {output} > {log} 2>&1"


rule report_convergence:
    input:
        table="results/tables/convergence.tsv",
        code=code("pages"),
    output:
        report(
            "results/report/results/convergence.html",
            caption="../report/convergence.rst",
            category=CATEGORY["results"],
            subcategory="Convergence",
            labels={"page": "why each model stopped training"},
        ),
    log:
        "logs/report_convergence.log",
    conda:
        "../envs/data.yaml"
    params:
        title="Convergence: each model's best and last epoch, and why it stopped",
    shell:
        "python -m hkd.pages tsv --input {input.table} --title {params.title:q} --out {output}"
        " > {log} 2>&1"
