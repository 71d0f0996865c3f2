# Corpus -> per-pair text -> one shared BPE model and dictionary -> binarized data per pair.


rule synthetic_corpus:
    output:
        **{s: f"results/corpus/synthetic/all_talks_{s}.tsv" for s in SPLITS},
        typology="results/corpus/synthetic/typology.tsv",
        languages="results/corpus/synthetic/languages.tsv",
    input:
        code=code("synthetic"),
    params:
        seed=config["corpus"].get("synthetic", {}).get("seed", 1),
        scale=config["corpus"].get("synthetic", {}).get("scale", 1.0),
    log:
        "logs/synthetic_corpus.log",
    shell:
        "python -m hkd.synthetic --out-dir $(dirname {output.train}) --seed {params.seed}"
        " --scale {params.scale} > {log} 2>&1"


rule fetch_archive:
    output:
        archive="resources/ted_talks.tar.gz",
    input:
        code=code("corpus"),
    params:
        url=config["corpus"].get("url", ""),
        sha256=(
            f"--sha256 {config['corpus']['sha256']}" if config["corpus"].get("sha256") else ""
        ),
    log:
        "logs/fetch_archive.log",
    shell:
        "python -m hkd.corpus fetch --url '{params.url}' --out {output.archive} {params.sha256}"
        " > {log} 2>&1"


rule unpack_archive:
    output:
        **{s: f"results/corpus/url/all_talks_{s}.tsv" for s in SPLITS},
    input:
        archive="resources/ted_talks.tar.gz",
        code=code("corpus"),
    log:
        "logs/unpack_archive.log",
    shell:
        "python -m hkd.corpus unpack --archive {input.archive} --out-dir $(dirname {output.train})"
        " > {log} 2>&1"


rule fetch_mirror:
    output:
        **{s: f"results/corpus/mirror/all_talks_{s}.tsv" for s in SPLITS},
    input:
        code=code("corpus"),
    params:
        url=config["corpus"].get("mirror_url", ""),
    log:
        "logs/fetch_mirror.log",
    shell:
        "python -m hkd.corpus fetch-mirror --base-url '{params.url}'"
        " --out-dir $(dirname {output.train}) > {log} 2>&1"


rule local_corpus:
    output:
        **{s: f"results/corpus/local/all_talks_{s}.tsv" for s in SPLITS},
    input:
        code=code("corpus"),
    params:
        path=config["corpus"].get("local_path") or "",
    log:
        "logs/local_corpus.log",
    shell:
        "python -m hkd.corpus local --path '{params.path}' --out-dir $(dirname {output.train})"
        " > {log} 2>&1"


rule extract_pairs:
    output:
        pairs=[f for lang in LANGS for f in raw_pair_files(lang)],
        counts="results/data/raw/counts.tsv",
    input:
        unpack(corpus_files),
        code=code("extract"),
    params:
        langs=" ".join(LANGS),
        merges=" ".join(f"--merge {s}:{d}" for s, d in (config.get("merge") or {}).items()),
    log:
        "logs/extract_pairs.log",
    shell:
        "python -m hkd.extract --corpus-dir $(dirname {input.train}) --langs {params.langs}"
        " --target {TARGET} {params.merges} --out-dir results/data/raw --counts {output.counts}"
        " > {log} 2>&1"


rule train_bpe:
    output:
        model="results/data/spm/spm.model",
        vocab="results/data/spm/spm.vocab",
    input:
        train=[f for lang in LANGS for f in raw_pair_files(lang, ["train"])],
        code=code("bpe"),
    params:
        vocab_size=config["bpe"]["vocab_size"],
        temperature=config["bpe"].get("temperature", 5),
        sample=config["bpe"].get("sample_sentences", 2000000),
        coverage=config["bpe"].get("character_coverage", 1.0),
        seed=config["bpe"].get("seed", 1),
    log:
        "logs/train_bpe.log",
    benchmark:
        "benchmarks/train_bpe.tsv"
    shell:
        "python -m hkd.bpe train --inputs {input.train} --model-prefix results/data/spm/spm"
        " --vocab-size {params.vocab_size} --temperature {params.temperature}"
        " --sample-sentences {params.sample} --character-coverage {params.coverage}"
        " --seed {params.seed} --target {TARGET} > {log} 2>&1"


rule encode_pair:
    output:
        spm_pair_files("{lang}"),
    input:
        text=raw_pair_files("{lang}"),
        model="results/data/spm/spm.model",
        code=code("bpe"),
    log:
        "logs/encode_pair/{lang}.log",
    shell:
        "python -m hkd.bpe encode --model {input.model} --inputs {input.text} --outputs {output}"
        " > {log} 2>&1"


rule build_dictionary:
    output:
        "results/data/dict.txt",
    input:
        train=[f for lang in LANGS for f in spm_pair_files(lang, ["train"])],
        model="results/data/spm/spm.model",
        code=code("bpe"),
    params:
        langs=" ".join(LANGS + [TARGET]),
    log:
        "logs/build_dictionary.log",
    shell:
        "python -m hkd.bpe dict --model {input.model} --inputs {input.train} --langs {params.langs}"
        " --output {output} > {log} 2>&1"


rule binarize_pair:
    output:
        bin_pair_files("{lang}"),
    input:
        text=spm_pair_files("{lang}"),
        dict="results/data/dict.txt",
    params:
        prefix="results/data/spm/{lang}",
        destdir="results/data/bin/{lang}",
    log:
        "logs/binarize_pair/{lang}.log",
    shell:
        "fairseq-preprocess --source-lang {wildcards.lang} --target-lang {TARGET}"
        " --trainpref {params.prefix}/train --validpref {params.prefix}/dev"
        " --testpref {params.prefix}/test --destdir {params.destdir}"
        " --srcdict {input.dict} --tgtdict {input.dict} --workers 1 > {log} 2>&1"
