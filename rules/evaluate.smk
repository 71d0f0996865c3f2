# sacreBLEU of every system on every language's test set, and the tables.


rule evaluate:
    input:
        unpack(get_eval_inputs),
        reference=f"results/data/raw/{{lang}}/test.{TARGET}",
        code=code("evaluate"),
    output:
        score="results/eval/{system}/{lang}.json",
        hyp="results/eval/{system}/{lang}.hyp",
    log:
        "logs/evaluate/{system}/{lang}.log",
    conda:
        "../envs/fairseq.yaml"
    threads: 1
    params:
        data=lambda wildcards, input: os.path.dirname(input.data[0]),
        target=TARGET,
        beam=config["evaluation"].get("beam", 5),
        tokenize=config["evaluation"].get("tokenize", "none"),
        batch_size=config["evaluation"].get("batch_size", 64),
        extra=get_eval_extra_args,
    shell:
        "python -m hkd.evaluate --data {params.data} --checkpoint {input.checkpoint}"
        " --src-lang {wildcards.lang} --tgt-lang {params.target} --reference {input.reference}"
        " --system {wildcards.system} --beam {params.beam} --tokenize {params.tokenize}"
        " --batch-size {params.batch_size} --threads {threads}"
        " --out-json {output.score} --out-hyp {output.hyp} {params.extra} > {log} 2>&1"


rule bleu_table:
    input:
        scores=expand("results/eval/{system}/{lang}.json", system=SYSTEMS, lang=LANGS),
        counts="results/data/raw/counts.tsv",
        code=code("report"),
    output:
        table="results/tables/bleu.tsv",
        markdown="results/tables/bleu.md",
    log:
        "logs/bleu_table.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=" ".join(LANGS),
    shell:
        "python -m hkd.report --scores {input.scores} --counts {input.counts}"
        " --langs {params.langs} --out-tsv {output.table} --out-md {output.markdown} > {log} 2>&1"
