"""Language clustering for one clustering type, merging types, and agreement with reference labels.

``cluster``: builds the representation of ``--langs`` with ``--method``
  - ``typology``: the typology vectors as they are (with ``--reduce``: centred-SVD-reduced to
    ``--typology-variance``). Raw URIEL ``syntax_knn`` vectors of the 53 TED languages give exactly
    the paper's type 4 (``wals_kb``, 3 clusters, ARI 1.0; tools/ted53_typology_clusters.py), while
    the 0.65 SVD reduction gives 15 clusters (ARI 0.16): so no reduction by default;
  - ``learned``: the learned vectors as they are (with ``--reduce``: reduced to ``--learned-variance``);
  - ``svcca``: SVCCA of both (hkd.svcca; SVD to 0.65 / 0.60, CCA, correlation >= 0.5). With
    ``--svd recipe`` (default), Oncevay et al.'s: the typology SVD (TruncatedSVD, not centred) is
    fitted on every row of ``--typology-fit`` (all URIEL languages: hkd.typology --out-all; default
    the rows of ``--typology``), the learned SVD on every learned vector; with ``--svd centred``,
    hkd's earlier one (both centred and fitted on the fitting languages). The CCA is fitted on
    ``--fit-subset`` (default: the languages of ``--langs`` with a vector in both views; Oncevay et
    al. take every language both views have, the same when the learned vectors are those of the
    clustered languages, as the universal model's are); the other languages are projected from
    their typology vector. Views that share no language are an error saying so;
then clusters it (average linkage on cosine distance, scipy) and writes the clusters of this one type
(YAML ``{TYPE: {c1: [...], ...}}``), a PNG (silhouette vs k beside the dendrogram), the
representation (language vectors table, columns d1..dm) and optionally the silhouette curve (TSV)::

    python -m hkd.cluster_languages cluster --type svcca53 --method svcca --typology typology.tsv \\
        --learned learned.npy [--fit-subset ar bg ...] [--langs kk be ...] \\
        [--typology-variance 0.65 --learned-variance 0.60 --min-corr 0.5] [--reduce] \\
        --out-clusters svcca53.yaml --out-plot svcca53.png --out-vectors svcca53.tsv \\
        [--out-silhouette svcca53.silhouette.tsv]

(``cluster`` may be left out when the first argument is a flag.)

Language codes: a language of ``--langs`` is found in either view under its own code or its ISO
639-3 codes, macrolanguages included (hkd.typology.codes_of: az, azj or aze), so published language
vectors keyed by ISO 639-3 can be used as they are (``clustering.learned_vectors``).

Choice of k: the cosine silhouette is computed for every k = 2..n-1 that the dendrogram can cut into
exactly k clusters (tied merge heights can make a k unreachable; its silhouette is NaN). k is the
reachable k in 3..n-1 with the highest silhouette, the smallest such k on a tie (silhouettes rounded to
1e-10). This is Oncevay et al.'s rule "k = 2 replaced by the next best": k = 2 is never taken while
any k >= 3 is reachable, even if k = 2 scores higher. k = 2 is used only when no k in 3..n-1 is
reachable (n = 3, or every larger k is tied away). ``--k`` fixes k instead (the paper's types have
10, 10, 11 and 3): the dendrogram is cut into exactly k clusters, an error if ties make that
impossible; the silhouette curve is still written. Fewer than 3 languages is an error. Clusters are
named c1..cN by their first member's position in ``--langs``, members in ``--langs`` order.

``combine``: merges per-type clusters files (types in the order given) into one clusters file,
validated with hkd.clusters_file, and a membership table (``lang`` then one column per type holding the
cluster name, empty where the language is in no cluster of that type)::

    python -m hkd.cluster_languages combine --inputs svcca53.yaml typology.yaml --langs kk be ... \\
        [--allow-missing svcca23:sr] [--partial-types random_t1] --out-clusters clusters.yaml \
        --out-membership membership.tsv

(``--partial-types``: types whose clusters need not hold every language, each language left out
logged: the random clusters of a few focus languages, hkd.random_clusters.)

``ari``: adjusted Rand index of every type against reference labellings (columns of a TSV with a
``code`` or ``lang`` column, e.g. the demo's languages.tsv ``code family typology_group``), over the
languages present in both; TSV ``type reference n_langs n_clusters n_groups ari``::

    python -m hkd.cluster_languages ari --clusters clusters.yaml --reference languages.tsv \\
        --columns family typology_group --out ari.tsv
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import dendrogram, fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.metrics import adjusted_rand_score, silhouette_score

from hkd import svcca
from hkd.clusters_file import (
    NAME,
    ClustersError,
    canonical,
    format_clusters,
    labels_of,
    parse_allow_missing,
    parse_clusters,
    validate,
    write_clusters,
)
from hkd.fileio import write_atomic_text as write_atomic
from hkd.typology import codes_of, key_of, select_codes
from hkd.vectors import VectorsError, format_value, read_vectors, write_vectors

log = logging.getLogger("hkd.cluster_languages")
METHODS = ("svcca", "learned", "typology")
SVD_RECIPES = ("recipe", "centred")


@dataclass
class Clustering:
    langs: list[str]
    labels: dict[str, str]  # lang -> c1..cN
    k: int
    silhouette: dict[int, float]  # k -> cosine silhouette (NaN where k is not reachable)
    linkage: np.ndarray  # scipy linkage matrix [n-1, 4]

    def clusters(self) -> dict[str, list[str]]:
        return canonical(self.labels, self.langs)


def choose_k(curve: dict[int, float]) -> int:
    """Best reachable k >= 3 (smallest on ties); 2 only when no k >= 3 is reachable."""
    scored = [(round(s, 10), k) for k, s in curve.items() if k >= 3 and not math.isnan(s)]
    if scored:
        best = max(s for s, _ in scored)
        return min(k for s, k in scored if s == best)
    if not math.isnan(curve.get(2, math.nan)):
        return 2
    raise ValueError("no number of clusters k in 2..n-1 can be cut from the dendrogram")


def cluster_vectors(X: np.ndarray, langs: list[str], k: int | None = None) -> Clustering:
    """Average-linkage clustering on cosine distance, k by cosine silhouette or given (module docstring)."""
    X = np.asarray(X, dtype=float)
    n = len(langs)
    twice = sorted({lang for lang in langs if langs.count(lang) > 1})
    if twice:
        raise ValueError(f"language(s) given more than once: {' '.join(twice)}")
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"{X.shape[0]} vectors for {n} languages")
    if n < 3:
        raise ValueError(f"clustering needs at least 3 languages, got {n}: {' '.join(langs)}")
    norms = np.linalg.norm(X, axis=1)
    zero = [lang for lang, norm in zip(langs, norms) if norm <= 1e-12 * max(norms.max(), 1e-300)]
    if zero:
        raise ValueError(f"zero vector (cosine distance undefined) for: {' '.join(zero)}")
    distances = np.clip(pdist(X, metric="cosine"), 0.0, 2.0)
    Z = linkage(distances, method="average")
    curve: dict[int, float] = {}
    assignments: dict[int, np.ndarray] = {}
    for cut in range(2, n):
        labels = fcluster(Z, t=cut, criterion="maxclust")
        if len(set(labels)) != cut:
            curve[cut] = math.nan
            continue
        curve[cut] = float(silhouette_score(X, labels, metric="cosine"))
        assignments[cut] = labels
    if k is None:
        k = choose_k(curve)
    elif not 2 <= k <= n - 1:
        raise ValueError(f"k = {k}: {n} languages can be cut into 2..{n - 1} clusters")
    elif k not in assignments:
        raise ValueError(f"k = {k}: tied merge heights make exactly {k} clusters impossible to cut")
    raw = {lang: str(label) for lang, label in zip(langs, assignments[k])}
    named = {lang: name for name, members in canonical(raw, langs).items() for lang in members}
    return Clustering(list(langs), named, k, curve, Z)


def plot_clustering(result: Clustering, path: Path, title: str) -> None:
    """One PNG: silhouette vs k (chosen k marked) beside the dendrogram cut at k (matplotlib Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(result.langs)
    fig = Figure(figsize=(4 + max(6.0, 0.22 * n), 4), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[1, max(1.5, 0.055 * n)])
    ks = [k for k, s in result.silhouette.items() if not math.isnan(s)]
    left.plot(ks, [result.silhouette[k] for k in ks], "o-", markersize=3)
    left.axvline(result.k, color="tab:red", linestyle="--", label=f"k = {result.k}")
    left.set(xlabel="number of clusters k", ylabel="cosine silhouette", title="silhouette")
    left.legend()
    Z = result.linkage
    cut = (Z[-result.k, 2] + Z[-(result.k - 1), 2]) / 2 if result.k > 1 else Z[-1, 2]
    dendrogram(Z, labels=result.langs, ax=right, color_threshold=cut, leaf_rotation=90, leaf_font_size=8)
    right.axhline(cut, color="grey", linestyle=":")
    right.set(title=f"{title}: average linkage, cosine distance", ylabel="distance")
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def representation(
    method: str,
    typology: dict | None,
    learned: dict | None,
    langs: list[str],
    fit_subset: list[str] | None = None,
    typology_variance: float = 0.65,
    learned_variance: float = 0.60,
    min_corr: float = 0.5,
    reduce: bool = False,
    typology_fit: dict | None = None,
    svd: str = "recipe",
) -> np.ndarray:
    """Vectors [len(langs), m] that the clustering of one type uses.

    typology_fit: the rows the typology SVD is fitted on under the recipe (default: typology's);
    svd: ``recipe`` (Oncevay et al.) or ``centred`` (module docstring)."""
    if svd not in SVD_RECIPES:
        raise ValueError(f"unknown SVD recipe {svd!r}; choose from {SVD_RECIPES}")
    if method in ("typology", "learned"):
        view, variance = (typology, typology_variance) if method == "typology" else (learned, learned_variance)
        if view is None:
            raise ValueError(f"method {method} needs --{method}")
        X = select_codes(view, langs, f"--{method}")
        if not reduce:
            return X
        if svd == "centred":
            return svcca.svd_reduce(X, variance).transform(X)
        fit_rows = typology_fit if method == "typology" and typology_fit is not None else view
        return svcca.truncated_svd(np.stack(list(fit_rows.values())), variance).transform(X)
    if method != "svcca":
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    if typology is None or learned is None:
        raise ValueError("method svcca needs both --typology and --learned")
    if fit_subset:
        fit = list(fit_subset)
    else:
        fit = [lang for lang in langs if key_of(typology, lang, "--typology") and key_of(learned, lang, "--learned")]
        if not fit:
            raise ValueError(
                "the two views share no language code: --typology has "
                f"{' '.join(list(typology)[:8])}{' ...' if len(typology) > 8 else ''}, --learned has "
                f"{' '.join(list(learned)[:8])}{' ...' if len(learned) > 8 else ''} (for --langs "
                f"{' '.join(langs[:8])}{' ...' if len(langs) > 8 else ''}; codes are matched through "
                "hkd.typology.codes_of, e.g. az = azj = aze)"
            )
    X_typology = select_codes(typology, fit, "--typology (fitting languages)")
    X_learned = select_codes(learned, fit, "--learned (fitting languages)")
    if svd == "centred":
        model = svcca.fit_svcca(X_typology, X_learned, typology_variance, learned_variance, min_corr)
        fitted = "the fitting languages"
    else:
        rows = typology_fit if typology_fit is not None else typology
        model = svcca.fit_svcca_recipe(
            X_typology,
            X_learned,
            np.stack(list(rows.values())),
            np.stack(list(learned.values())),
            typology_variance,
            learned_variance,
            min_corr,
        )
        fitted = f"{len(rows)} typology rows and {len(learned)} learned vectors"
    log.info(
        "svcca (%s): CCA fitted on %d languages; SVDs on %s; reduced dims typology %d, learned %d; "
        "canonical correlations %s; kept %d (>= %s)",
        svd,
        len(fit),
        fitted,
        model.typology.n_dims,
        model.learned.n_dims,
        " ".join(f"{c:.3f}" for c in model.correlations),
        model.kept,
        min_corr,
    )
    projected = [lang for lang in langs if lang not in fit]
    if projected:
        log.info("svcca: projected from typology only: %s", " ".join(projected))
    return model.transform(select_codes(typology, langs, "--typology"))


def adjusted_rand(labels: dict[str, str], reference: dict[str, str]) -> tuple[float, int]:
    """ARI over the languages labelled in both; returns (ari, number of such languages)."""
    common = [lang for lang in labels if lang in reference]
    if len(common) < 2:
        raise ValueError(f"ARI needs >= 2 common languages, got {len(common)}")
    return float(adjusted_rand_score([reference[x] for x in common], [labels[x] for x in common])), len(common)


def read_reference(path: Path, columns: list[str]) -> dict[str, dict[str, str]]:
    """{column: {lang: label}} from a TSV with a header holding ``code`` or ``lang``; '#' lines skipped."""
    rows = [
        line.split("\t")
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if not rows:
        raise VectorsError(f"{path}: empty reference table")
    header = rows[0]
    key = next((c for c in ("code", "lang") if c in header), None)
    missing = [c for c in columns if c not in header]
    if key is None or missing:
        raise VectorsError(f"{path}: header {header} lacks {'code/lang' if key is None else ' '.join(missing)}")
    out: dict[str, dict[str, str]] = {c: {} for c in columns}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise VectorsError(f"{path}: data row {number}: {len(row)} fields, header has {len(header)}")
        for c in columns:
            out[c][row[header.index(key)]] = row[header.index(c)]
    return out


def run_cluster(args) -> int:
    if not NAME.match(args.type):
        raise ClustersError(f"--type {args.type!r} is not an identifier ([A-Za-z][A-Za-z0-9_]*)")
    typology = read_vectors(args.typology) if args.typology else None
    learned = read_vectors(args.learned) if args.learned else None
    typology_fit = read_vectors(args.typology_fit) if args.typology_fit else None
    if typology_fit is not None and typology is not None:
        widths = {len(next(iter(typology.values()))), len(next(iter(typology_fit.values())))}
        if len(widths) > 1:
            raise VectorsError(f"--typology-fit {args.typology_fit}: its width differs from --typology's")
    if args.method in ("typology", "svcca") and typology is None:
        raise VectorsError(f"--method {args.method} needs --typology")
    if args.method == "learned" and learned is None:
        raise VectorsError("--method learned needs --learned")
    langs = args.langs or list((learned if args.method == "learned" else typology).keys())
    X = representation(
        args.method,
        typology,
        learned,
        langs,
        args.fit_subset,
        args.typology_variance,
        args.learned_variance,
        args.min_corr,
        args.reduce,
        typology_fit,
        args.svd,
    )
    result = cluster_vectors(X, langs, args.k)
    clusters = result.clusters()
    best = result.silhouette[result.k]
    log.info("%s: %d languages, %d dims, k = %d (silhouette %.4f)", args.type, len(langs), X.shape[1], result.k, best)
    for name, members in clusters.items():
        log.info("  %s: %s", name, " ".join(members))
    header = (
        f"clustering type {args.type}: method {args.method}, {len(langs)} languages, {X.shape[1]} dims, "
        f"k = {result.k} (cosine silhouette {best:.4f}); written by hkd.cluster_languages"
    )
    plot_clustering(result, args.out_plot, args.type)
    write_vectors(args.out_vectors, langs, [f"d{i + 1}" for i in range(X.shape[1])], X)
    if args.out_silhouette:
        lines = ["k\tsilhouette\tchosen"] + [
            f"{k}\t{'nan' if math.isnan(s) else format_value(s)}\t{int(k == result.k)}"
            for k, s in result.silhouette.items()
        ]
        write_atomic(args.out_silhouette, "\n".join(lines) + "\n")
    write_clusters(args.out_clusters, {args.type: clusters}, langs, header)  # last: the main output
    return 0


def run_combine(args) -> int:
    merged: dict[str, dict[str, list[str]]] = {}
    for path in args.inputs:
        clusters, _ = parse_clusters(Path(path).read_text(encoding="utf-8"), str(path))
        for type_name, type_clusters in clusters.items():
            if type_name in merged:
                raise ClustersError(f"{path}: type {type_name!r} also comes from an earlier input")
            merged[type_name] = type_clusters
    header = "language clusters of every type; written by hkd.cluster_languages combine"
    text = format_clusters(merged, args.langs, header)
    parsed, lines = parse_clusters(text, str(args.out_clusters))  # as the file will read back
    allow = parse_allow_missing(args.allow_missing)
    for type_name in args.partial_types:
        if type_name not in merged:
            raise ClustersError(f"--partial-types names type {type_name!r}, which no input has")
        allow.setdefault(type_name, []).extend(
            lang for lang in args.langs if lang not in labels_of(merged[type_name]))
    validate(parsed, args.langs, allow, where=str(args.out_clusters), lines=lines)
    rows = ["\t".join(["lang", *parsed])]
    for lang in args.langs:
        rows.append("\t".join([lang, *(labels_of(t).get(lang, "") for t in parsed.values())]))
    write_atomic(args.out_membership, "\n".join(rows) + "\n")
    # the checkpoint's file last: Snakemake builds the assistants' jobs from it once it exists
    write_clusters(args.out_clusters, merged, args.langs, header)
    log.info(
        "combined %d types, M = %d clusters, into %s", len(merged), sum(map(len, merged.values())), args.out_clusters
    )
    return 0


def run_ari(args) -> int:
    clusters, _ = parse_clusters(Path(args.clusters).read_text(encoding="utf-8"), str(args.clusters))
    reference = read_reference(args.reference, args.columns)
    rows = ["type\treference\tn_langs\tn_clusters\tn_groups\tari"]
    for type_name, type_clusters in clusters.items():
        labels = labels_of(type_clusters)
        for column, groups in reference.items():
            ari, n = adjusted_rand(labels, groups)
            n_groups = len({groups[x] for x in labels if x in groups})
            rows.append(f"{type_name}\t{column}\t{n}\t{len(type_clusters)}\t{n_groups}\t{ari:.4f}")
            log.info("ARI %s vs %s: %.4f over %d languages", type_name, column, ari, n)
    write_atomic(args.out, "\n".join(rows) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "cluster")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("cluster", help="cluster the languages of one clustering type")
    one.add_argument("--type", required=True, help="clustering type name (the YAML top-level key)")
    one.add_argument("--method", choices=METHODS, required=True)
    one.add_argument("--typology", type=Path, help="typology language vectors table (TSV)")
    one.add_argument("--learned", type=Path, help="learned language vectors (TSV, .npy or .npz)")
    one.add_argument("--fit-subset", nargs="+", help="svcca: languages to fit on (default: all in both views)")
    one.add_argument("--langs", nargs="+", help="languages to cluster, in output order (default: all in the table)")
    one.add_argument("--typology-variance", type=float, default=0.65, help="SVD explained variance (0.65)")
    one.add_argument("--learned-variance", type=float, default=0.60, help="SVD explained variance (0.60)")
    one.add_argument("--reduce", action="store_true", help="typology/learned: SVD-reduce the view first")
    one.add_argument("--min-corr", type=float, default=0.5, help="svcca: minimum canonical correlation (0.5)")
    one.add_argument("--typology-fit", type=Path, help="recipe: rows the typology SVD is fitted on (all URIEL)")
    one.add_argument("--svd", choices=SVD_RECIPES, default="recipe", help="recipe (Oncevay et al.) or centred")
    one.add_argument("--k", type=int, help="the number of clusters (default: by silhouette)")
    one.add_argument("--out-clusters", type=Path, required=True)
    one.add_argument("--out-plot", type=Path, required=True)
    one.add_argument("--out-vectors", type=Path, required=True)
    one.add_argument("--out-silhouette", type=Path, help="optional TSV: k, silhouette, chosen")
    comb = sub.add_parser("combine", help="merge per-type clusters files and write the membership table")
    comb.add_argument("--inputs", nargs="+", type=Path, required=True, help="per-type clusters files, in type order")
    comb.add_argument("--langs", nargs="+", required=True, help="the corpus languages")
    comb.add_argument("--allow-missing", action="append", default=[], metavar="TYPE:LANG[,LANG]")
    comb.add_argument("--partial-types", nargs="*", default=[], metavar="TYPE",
                      help="types that may leave any language out (random clusters of focus languages only)")
    comb.add_argument("--out-clusters", type=Path, required=True)
    comb.add_argument("--out-membership", type=Path, required=True)
    ari = sub.add_parser("ari", help="adjusted Rand index of every type against reference labellings")
    ari.add_argument("--clusters", type=Path, required=True)
    ari.add_argument("--reference", type=Path, required=True, help="TSV with code (or lang) and label columns")
    ari.add_argument("--columns", nargs="+", default=["family", "typology_group"])
    ari.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    return {"cluster": run_cluster, "combine": run_combine, "ari": run_ari}[args.command](args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as error:  # ClustersError, VectorsError, svcca.NoSharedDimensions are ValueErrors
        print(f"hkd.cluster_languages: error: {error}", file=sys.stderr)
        sys.exit(1)
