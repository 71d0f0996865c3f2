# Corpus -> per-pair text -> one shared BPE model and dictionary -> binarized data per pair.


rule synthetic_corpus:
    input:
        unpack(synthetic_plan),
        code=code("synthetic"),
    output:
        **{s: f"results/corpus/synthetic/all_talks_{s}.tsv" for s in SPLITS},
        typology="results/corpus/synthetic/typology.tsv",
        languages="results/corpus/synthetic/languages.tsv",
    log:
        "logs/synthetic_corpus.log",
    conda:
        "../envs/data.yaml"
    params:
        seed=config["corpus"]["synthetic"]["seed"],
        scale=config["corpus"]["synthetic"]["scale"],
        lexicon=config["corpus"]["synthetic"]["lexicon"],
        eval_rows=config["corpus"]["synthetic"]["eval_rows"],
        plan=lambda wildcards, input: (
            ["--languages", input.plan] if "plan" in input.keys() else []
        ),
    shell:
        'python -m hkd.synthetic --out-dir "$(dirname {output.train:q})" --seed {params.seed:q}'
        " --scale {params.scale:q} --lexicon {params.lexicon:q} --eval-rows {params.eval_rows:q}"
        " {params.plan:q} > {log:q} 2>&1"


rule fetch_archive:
    input:
        code=code("corpus"),
    output:
        archive="resources/ted_talks.tar.gz",
    log:
        "logs/fetch_archive.log",
    conda:
        "../envs/data.yaml"
    params:
        url=config["corpus"]["url"],
        sha256=(
            ["--sha256", config["corpus"]["sha256"]]
            if config["corpus"]["sha256"]
            else []
        ),
    shell:
        "python -m hkd.corpus fetch --url {params.url:q} --out {output.archive:q} {params.sha256:q}"
        " > {log:q} 2>&1"


rule unpack_archive:
    input:
        archive="resources/ted_talks.tar.gz",
        code=code("corpus"),
    output:
        **{s: f"results/corpus/url/all_talks_{s}.tsv" for s in SPLITS},
    log:
        "logs/unpack_archive.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=corpus_columns(),
    shell:
        "python -m hkd.corpus unpack --archive {input.archive:q} --langs {params.langs:q}"
        ' --out-dir "$(dirname {output.train:q})" > {log:q} 2>&1'


rule fetch_mirror:
    input:
        code=code("corpus"),
    output:
        **{s: f"results/corpus/mirror/all_talks_{s}.tsv" for s in SPLITS},
    log:
        "logs/fetch_mirror.log",
    conda:
        "../envs/data.yaml"
    params:
        url=config["corpus"]["mirror_url"],
        langs=corpus_columns(),
    shell:
        "python -m hkd.corpus fetch-mirror --base-url {params.url:q} --langs {params.langs:q}"
        ' --out-dir "$(dirname {output.train:q})" > {log:q} 2>&1'


rule local_corpus:
    input:
        corpus=local_corpus_files,
        code=code("corpus"),
    output:
        **{s: f"results/corpus/local/all_talks_{s}.tsv" for s in SPLITS},
    log:
        "logs/local_corpus.log",
    conda:
        "../envs/data.yaml"
    params:
        path=local_corpus_path(),
        langs=corpus_columns(),
        fingerprint=local_corpus_fingerprint,
    shell:
        "python -m hkd.corpus local --path {params.path:q} --langs {params.langs:q}"
        ' --out-dir "$(dirname {output.train:q})" > {log:q} 2>&1'


rule extract_pairs:
    input:
        unpack(corpus_files),
        code=code("extract"),
    output:
        pairs=[f for lang in LANGS for f in raw_pair_files(lang)],
        counts="results/data/raw/counts.tsv",
    log:
        "logs/extract_pairs.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=LANGS,
        merges=[
            arg for s, d in config["merge"].items() for arg in ("--merge", f"{s}:{d}")
        ],
        target=TARGET,
        max_tokens=config["corpus"]["max_tokens"],
        max_ratio=config["corpus"]["max_ratio"],
        outdir=lambda wildcards, output: os.path.dirname(
            os.path.dirname(output.pairs[0])
        ),
    shell:
        'python -m hkd.extract --corpus-dir "$(dirname {input.train:q})" --langs {params.langs:q}'
        " --target {params.target:q} {params.merges:q} --max-tokens {params.max_tokens:q}"
        " --max-ratio {params.max_ratio:q} --out-dir {params.outdir:q} --counts {output.counts:q}"
        " > {log:q} 2>&1"


rule train_bpe:
    input:
        train=[f for lang in LANGS for f in raw_pair_files(lang, ["train"])],
        code=code("bpe"),
    output:
        model="results/data/spm/spm.model",
        vocab="results/data/spm/spm.vocab",
    log:
        "logs/train_bpe.log",
    benchmark:
        "benchmarks/train_bpe.tsv"
    conda:
        "../envs/data.yaml"
    params:
        vocab_size=config["bpe"]["vocab_size"],
        temperature=config["bpe"]["temperature"],
        sample=config["bpe"]["sample_sentences"],
        coverage=config["bpe"]["character_coverage"],
        seed=config["bpe"]["seed"],
        target=TARGET,
        prefix=lambda wildcards, output: os.path.splitext(output.model)[0],
    shell:
        "python -m hkd.bpe train --inputs {input.train:q} --model-prefix {params.prefix:q}"
        " --vocab-size {params.vocab_size:q} --temperature {params.temperature:q}"
        " --sample-sentences {params.sample:q} --character-coverage {params.coverage:q}"
        " --seed {params.seed:q} --target {params.target:q} > {log:q} 2>&1"


rule encode_pair:
    input:
        text=raw_pair_files("{lang}"),
        model="results/data/spm/spm.model",
        code=code("bpe"),
    output:
        spm_pair_files("{lang}"),
    log:
        "logs/encode_pair/{lang}.log",
    conda:
        "../envs/data.yaml"
    shell:
        "python -m hkd.bpe encode --model {input.model:q} --inputs {input.text:q} --outputs {output:q}"
        " > {log:q} 2>&1"


rule build_dictionary:
    input:
        train=[f for lang in LANGS for f in spm_pair_files(lang, ["train"])],
        model="results/data/spm/spm.model",
        code=code("bpe"),
    output:
        "results/data/dict.txt",
    log:
        "logs/build_dictionary.log",
    conda:
        "../envs/data.yaml"
    params:
        langs=LANGS + [TARGET],
    shell:
        "python -m hkd.bpe dict --model {input.model:q} --inputs {input.train:q} --langs {params.langs:q}"
        " --output {output:q} > {log:q} 2>&1"


rule binarize_pair:
    input:
        text=spm_pair_files("{lang}"),
        dict="results/data/dict.txt",
    output:
        bin_pair_files("{lang}"),
    log:
        "logs/binarize_pair/{lang}.log",
    # before the teachers that are ready: the universal model needs every pair binarized
    priority: 10
    conda:
        "../envs/fairseq.yaml"
    params:
        target=TARGET,
        prefix=lambda wildcards, input: os.path.dirname(input.text[0]),
        destdir=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "fairseq-preprocess --source-lang {wildcards.lang:q} --target-lang {params.target:q}"
        " --trainpref {params.prefix:q}/train --validpref {params.prefix:q}/dev"
        " --testpref {params.prefix:q}/test --destdir {params.destdir:q}"
        " --srcdict {input.dict:q} --tgtdict {input.dict:q} --workers 1 > {log:q} 2>&1"
