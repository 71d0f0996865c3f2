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
        langs=LANGS,
    shell:
        "python -m hkd.langvec --checkpoint {input.checkpoint:q} --dict {input.dict:q}"
        " --langs {params.langs:q} --out {output:q} > {log:q} 2>&1"


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
        langs=LANGS,
    shell:
        "python -m hkd.typology --langs {params.langs:q} --feature-set {wildcards.features:q}"
        " --out {output.langs:q} --out-all {output.uriel:q} > {log:q} 2>&1"


rule cluster_type:
    input:
        typology=get_typology_table,
        typology_fit=get_typology_fit_table,
        learned=get_learned_vectors,
        code=code("cluster_languages"),
    output:
        clusters="results/clustering/types/{ctype}.yaml",
        plot=report(
            "results/clustering/types/{ctype}.png",
            caption="../report/dendrogram.rst",
            category=CATEGORY["clustering"],
            subcategory="Clusters",
            labels={"result": "dendrogram and silhouette: {ctype}"},
        ),
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
        fit_subset=lambda wildcards: option(
            "--fit-subset", CLUSTERING["types"][wildcards.ctype]["fit_subset"]
        ),
        langs=LANGS,
        typology_variance=CLUSTERING["typology_variance"],
        learned_variance=CLUSTERING["learned_variance"],
        min_corr=CLUSTERING["min_corr"],
        svd=CLUSTERING["svd"],
        k=lambda wildcards: option("--k", CLUSTERING["types"][wildcards.ctype]["k"]),
    shell:
        "python -m hkd.cluster_languages cluster --type {wildcards.ctype:q} --method {params.method:q}"
        " --typology {input.typology:q} --typology-fit {input.typology_fit:q} --svd {params.svd:q}"
        " --learned {input.learned:q} {params.fit_subset:q} {params.k:q}"
        " --langs {params.langs:q} --typology-variance {params.typology_variance:q}"
        " --learned-variance {params.learned_variance:q} --min-corr {params.min_corr:q}"
        " --out-clusters {output.clusters:q} --out-plot {output.plot:q}"
        " --out-vectors {output.vectors:q} --out-silhouette {output.silhouette:q} > {log:q} 2>&1"


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
        langs=LANGS,
    shell:
        "python -m hkd.random_clusters --type {wildcards.ctype:q} --like {params.like:q}"
        " --clusters {input.clusters:q} --langs {params.langs:q} --seed {params.seed:q} {params.focus}"
        " --out-clusters {output.clusters:q} > {log:q} 2>&1"


checkpoint clusters:
    input:
        types=get_cluster_files,
        code=code("cluster_languages"),
    output:
        clusters="results/clustering/clusters.yaml",
        membership="results/clustering/membership.tsv",
    log:
        "logs/clusters.log",
    conda:
        "../envs/clustering.yaml"
    params:
        langs=LANGS,
        allow_missing=allow_missing_args(),
        partial=partial_types_args(),
    shell:
        "python -m hkd.cluster_languages combine --inputs {input.types:q} --langs {params.langs:q}"
        " {params.allow_missing} {params.partial} --out-clusters {output.clusters:q}"
        " --out-membership {output.membership:q} > {log:q} 2>&1"


rule cluster_ari:
    input:
        clusters="results/clustering/clusters.yaml",
        reference="results/corpus/synthetic/languages.tsv",
        code=code("cluster_languages"),
    output:
        "results/clustering/ari.tsv",
    log:
        "logs/cluster_ari.log",
    conda:
        "../envs/clustering.yaml"
    shell:
        "python -m hkd.cluster_languages ari --clusters {input.clusters:q} --reference {input.reference:q}"
        " --columns family typology_group --out {output:q} > {log:q} 2>&1"
