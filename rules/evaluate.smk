# sacreBLEU of every system on every language's test set, and the tables.


rule evaluate_teacher:
    output:
        score="results/eval/teacher/{lang}.json",
        hyp="results/eval/teacher/{lang}.hyp",
    input:
        checkpoint="results/teachers/{lang}/checkpoint_best.pt",
        data=bin_pair_files("{lang}", ["test"]),
        reference="results/data/raw/{lang}/test." + TARGET,
        code=code("evaluate"),
    params:
        data="results/data/bin/{lang}",
        beam=config["evaluation"].get("beam", 5),
        tokenize=config["evaluation"].get("tokenize", "none"),
        batch_size=config["evaluation"].get("batch_size", 64),
    threads: 1
    log:
        "logs/evaluate_teacher/{lang}.log",
    shell:
        "python -m hkd.evaluate --data {params.data} --checkpoint {input.checkpoint}"
        " --src-lang {wildcards.lang} --tgt-lang {TARGET} --reference {input.reference}"
        " --system teacher --beam {params.beam} --tokenize {params.tokenize}"
        " --batch-size {params.batch_size} --threads {threads}"
        " --out-json {output.score} --out-hyp {output.hyp} > {log} 2>&1"


rule bleu_table:
    output:
        table="results/tables/bleu.tsv",
        markdown="results/tables/bleu.md",
    input:
        scores=expand("results/eval/teacher/{lang}.json", lang=LANGS),
        counts="results/data/raw/counts.tsv",
        code=code("report"),
    params:
        langs=" ".join(LANGS),
    log:
        "logs/bleu_table.log",
    shell:
        "python -m hkd.report --scores {input.scores} --counts {input.counts}"
        " --langs {params.langs} --out-tsv {output.table} --out-md {output.markdown} > {log} 2>&1"
