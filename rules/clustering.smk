# Language vectors (typology, NMT-learned), SVCCA, hierarchical clustering: which languages
# teach each other. The result is one clusters file with every clustering type.


rule language_vectors:
    input:
        checkpoint="results/universal/checkpoint_best.pt",
        dict="results/data/dict.txt",
        code=code("langvec"),
    output:
        "results/clustering/learned.tsv",
    log:
        "logs/language_vectors.log",
    conda:
        "../envs/fairseq.yaml"
    params:
        langs=" ".join(LANGS),
    shell:
        "python -m hkd.langvec --checkpoint {input.checkpoint} --dict {input.dict}"
        " --langs {params.langs} --out {output} > {log} 2>&1"


rule typology_vectors:
    input:
        code=code("typology"),
    output:
        langs="results/clustering/typology_{features}.tsv",
        uriel="results/clustering/uriel_{features}.tsv",
    log:
        "logs/typology_vectors/{features}.log",
    wildcard_constraints:
        features="syntax_knn|syntax_wals",
    conda:
        "../envs/clustering.yaml"
    params:
        langs=" ".join(LANGS),
    shell:
        "python -m hkd.typology --langs {params.langs} --feature-set {wildcards.features}"
        " --out {output.langs} --out-all {output.uriel} > {log} 2>&1"


rule cluster_type:
    input:
        typology=get_typology_table,
        typology_fit=get_typology_fit_table,
        learned=get_learned_vectors,
        code=code("clustering"),
    output:
        clusters="results/clustering/types/{ctype}.yaml",
        plot="results/clustering/types/{ctype}.png",
        vectors="results/clustering/types/{ctype}.vectors.tsv",
        silhouette="results/clustering/types/{ctype}.silhouette.tsv",
    log:
        "logs/cluster_type/{ctype}.log",
    wildcard_constraints:
        ctype="|".join(VECTOR_TYPES),
    conda:
        "../envs/clustering.yaml"
    params:
        method=lambda wildcards: CLUSTERING["types"][wildcards.ctype]["method"],
        fit_subset=lambda wildcards: (
            "--fit-subset "
            + " ".join(CLUSTERING["types"][wildcards.ctype].get("fit_subset") or [])
            if CLUSTERING["types"][wildcards.ctype].get("fit_subset")
            else ""
        ),
        langs=" ".join(LANGS),
        typology_variance=CLUSTERING.get("typology_variance", 0.65),
        learned_variance=CLUSTERING.get("learned_variance", 0.60),
        min_corr=CLUSTERING.get("min_corr", 0.5),
        svd=CLUSTERING.get("svd", "recipe"),
        k=lambda wildcards: (
            f"--k {CLUSTERING['types'][wildcards.ctype]['k']}"
            if "k" in CLUSTERING["types"][wildcards.ctype]
            else ""
        ),
    shell:
        "python -m hkd.clustering cluster --type {wildcards.ctype} --method {params.method}"
        " --typology {input.typology} --typology-fit {input.typology_fit} --svd {params.svd}"
        " --learned {input.learned} {params.fit_subset} {params.k}"
        " --langs {params.langs} --typology-variance {params.typology_variance}"
        " --learned-variance {params.learned_variance} --min-corr {params.min_corr}"
        " --out-clusters {output.clusters} --out-plot {output.plot}"
        " --out-vectors {output.vectors} --out-silhouette {output.silhouette} > {log} 2>&1"


rule random_clusters:
    input:
        clusters=get_like_clusters,
        code=code("random_clusters"),
    output:
        clusters="results/clustering/types/{ctype}.yaml",
    log:
        "logs/random_clusters/{ctype}.log",
    wildcard_constraints:
        ctype="|".join(RANDOM_TYPES) or "(?!)",
    conda:
        "../envs/clustering.yaml"
    params:
        like=lambda wildcards: CLUSTERING["types"][wildcards.ctype]["like"],
        seed=lambda wildcards: CLUSTERING["types"][wildcards.ctype]["seed"],
        focus=random_focus_args,
        langs=" ".join(LANGS),
    shell:
        "python -m hkd.random_clusters --type {wildcards.ctype} --like {params.like}"
        " --clusters {input.clusters} --langs {params.langs} --seed {params.seed} {params.focus}"
        " --out-clusters {output.clusters} > {log} 2>&1"


checkpoint clusters:
    input:
        types=get_cluster_files,
        code=code("clustering"),
    output:
        clusters="results/clustering/clusters.yaml",
        membership="results/clustering/membership.tsv",
    log:
        "logs/clusters.log",
    conda:
        "../envs/clustering.yaml"
    params:
        langs=" ".join(LANGS),
        allow_missing=allow_missing_args(),
        partial=partial_types_args(),
    shell:
        "python -m hkd.clustering combine --inputs {input.types} --langs {params.langs}"
        " {params.allow_missing} {params.partial} --out-clusters {output.clusters}"
        " --out-membership {output.membership} > {log} 2>&1"


rule cluster_ari:
    input:
        clusters="results/clustering/clusters.yaml",
        reference="results/corpus/synthetic/languages.tsv",
        code=code("clustering"),
    output:
        "results/clustering/ari.tsv",
    log:
        "logs/cluster_ari.log",
    conda:
        "../envs/clustering.yaml"
    shell:
        "python -m hkd.clustering ari --clusters {input.clusters} --reference {input.reference}"
        " --columns family typology_group --out {output} > {log} 2>&1"
