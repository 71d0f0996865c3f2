"""SVCCA as Oncevay et al. publish it (aoncevay/multiview-langrep), a k per clustering type, views
that share no language, and language vectors keyed by ISO 639-3 codes.

The recipe is re-derived here from the published code's steps with scikit-learn directly
(src/utils.py svd_transform + trunc_svd_by_th, src/compose_matrix.py compose_feats_matrix,
src/LangSpaceMulti.py get_X_cca_any), independently of hkd.svcca, and hkd's result must equal it.
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import yaml
from sklearn.cross_decomposition import CCA
from sklearn.decomposition import TruncatedSVD

from hkd import svcca
from hkd.cluster_languages import adjusted_rand, cluster_vectors, main as clustering_main, representation
from hkd.typology import select_codes
from hkd.vectors import VectorsError, write_vectors

ROOT = Path(__file__).resolve().parent.parent


def views(seed=0, n_uriel=300, n_langs=24, n_features=20, n_learned=16):
    """Binary typology rows of many 'URIEL' languages (the clustered ones among them) and learned
    vectors of the clustered languages that share a 3-d latent with their typology."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_uriel, 3))
    typology_all = (latent @ rng.normal(size=(3, n_features)) + 0.7 * rng.normal(size=(n_uriel, n_features)) > 0)
    typology_all = typology_all.astype(float)
    codes = [f"u{i:03d}" for i in range(n_uriel)]
    langs = codes[:n_langs]
    learned = latent[:n_langs] @ rng.normal(size=(3, n_learned)) + 0.3 * rng.normal(size=(n_langs, n_learned))
    return dict(zip(codes, typology_all)), dict(zip(codes[:n_langs], typology_all[:n_langs])), dict(zip(langs, learned)), langs


def published(typology_all, learned, langs, fit, th=(0.65, 0.60)):
    """Oncevay et al.'s steps, written out with scikit-learn."""
    def svd_then_threshold(X, threshold):
        svd = TruncatedSVD(random_state=42, n_iter=15, n_components=X.shape[1] - 1)
        X_svd = svd.fit_transform(X)
        p, total = 0, 0.0
        for ratio in svd.explained_variance_ratio_:
            total += ratio
            p += 1
            if total >= threshold:
                break
        return X_svd[:, :p]

    uriel_codes = list(typology_all)
    U = svd_then_threshold(np.stack(list(typology_all.values())), th[0])
    L = svd_then_threshold(np.stack(list(learned.values())), th[1])
    X1 = np.stack([U[uriel_codes.index(lang)] for lang in fit])
    X2 = np.stack([L[list(learned).index(lang)] for lang in fit])
    constant = [i for i in range(X1.shape[1]) if len(set(X1[:, i])) < 2]
    X1 = np.delete(X1, constant, axis=1)
    cca = CCA(n_components=min(X1.shape[1], X2.shape[1])).fit(X1, X2)
    u, v = cca.transform(X1, X2)
    keep = [i for i in range(u.shape[1]) if scipy.stats.pearsonr(u[:, i], v[:, i])[0] >= 0.5]
    rows = np.delete(np.stack([U[uriel_codes.index(lang)] for lang in langs]), constant, axis=1)
    return cca.transform(rows)[:, keep]


def test_recipe_equals_the_published_steps_typology_svd_fitted_on_all_uriel_rows():
    typology_all, typology, learned, langs = views()
    X = representation("svcca", typology, learned, langs, typology_fit=typology_all)
    np.testing.assert_allclose(X, published(typology_all, learned, langs, langs), atol=1e-8)
    # fitted on the clustered languages alone (what hkd did), the space is another one
    alone = representation("svcca", typology, learned, langs)
    assert alone.shape != X.shape or not np.allclose(alone, X, atol=1e-3)


def test_recipe_projects_languages_outside_the_fitting_subset():
    typology_all, typology, learned, langs = views(seed=1)
    fit = langs[:18]
    X = representation("svcca", typology, learned, langs, fit_subset=fit, typology_fit=typology_all)
    np.testing.assert_allclose(X, published(typology_all, learned, langs, fit), atol=1e-8)


def test_truncated_svd_is_not_centred_and_fitted_on_every_row():
    X_fit = np.array([[3.0, 3.0, 0.0], [3.0, 3.0, 0.1], [2.9, 3.0, 0.0], [3.1, 2.9, 0.05]]) + 10.0
    reduction = svcca.truncated_svd(X_fit, 0.5)
    sk = TruncatedSVD(n_components=2, n_iter=15, random_state=42).fit(X_fit)
    assert reduction.n_fitted == 4
    np.testing.assert_allclose(reduction.components.T, sk.components_[: reduction.n_dims])
    np.testing.assert_allclose(reduction.transform(X_fit), sk.transform(X_fit)[:, : reduction.n_dims])
    # no centring: the first component points along the data's mean (an offset survives it)
    first = reduction.components[:, 0]
    mean = X_fit.mean(axis=0)
    assert abs(first @ mean) / np.linalg.norm(mean) > 0.99
    # the smallest p whose summed explained_variance_ratio_ reaches the threshold
    ratios = sk.explained_variance_ratio_
    for threshold in (0.01, float(ratios[0]), float(ratios[0]) + 1e-9, 1.0):
        p = svcca.truncated_svd(X_fit, min(threshold, 1.0)).n_dims
        reached = np.cumsum(ratios) >= threshold
        assert p == (int(np.argmax(reached)) + 1 if reached.any() else ratios.size)


def test_centred_recipe_is_kept_as_an_option():
    typology_all, typology, learned, langs = views(seed=2)
    X = representation("svcca", typology, learned, langs, typology_fit=typology_all, svd="centred")
    model = svcca.fit_svcca(select_codes(typology, langs, "t"), select_codes(learned, langs, "l"))
    np.testing.assert_allclose(X, model.transform(select_codes(typology, langs, "t")))
    with pytest.raises(ValueError, match="unknown SVD recipe"):
        representation("svcca", typology, learned, langs, svd="pca")


def test_views_that_share_no_language_code_say_so():
    typology = {c: np.array([1.0, 0, 1, 0]) * (i + 1) + i for i, c in enumerate(["aa", "bb", "cc", "dd"])}
    learned = {c: np.array([0.5, 1.0, i]) for i, c in enumerate(["ww", "xx", "yy", "zz"])}
    with pytest.raises(ValueError, match="the two views share no language code"):
        representation("svcca", typology, learned, ["aa", "bb", "cc", "dd"])


def test_learned_vectors_keyed_by_iso3_codes_macrolanguages_included():
    rng = np.random.default_rng(3)
    ted = ["kk", "be", "az", "zh", "ar", "mn", "sq", "fa"]
    iso3 = ["kaz", "bel", "aze", "zho", "ara", "khk", "sqi", "pes"]  # macrolanguages and individuals mixed
    vectors = rng.normal(size=(len(ted), 6))
    by_ted = representation("learned", None, dict(zip(ted, vectors)), ted)
    by_iso3 = representation("learned", None, dict(zip(iso3, vectors)), ted)
    np.testing.assert_array_equal(by_ted, by_iso3)
    with pytest.raises(VectorsError, match=r"'az' is there under az and aze"):
        select_codes({"az": vectors[0], "aze": vectors[1]}, ["az"], "--learned")
    with pytest.raises(VectorsError, match=r"no vector for language\(s\) kk \(codes tried: kk: kk, kaz\)"):
        select_codes({"bel": vectors[0]}, ["kk"], "--learned")


def test_svcca_with_iso3_learned_vectors_equals_ted_keys():
    typology_all, typology, learned, langs = views(seed=4, n_langs=8)
    ted = ["kk", "be", "az", "zh", "ar", "mn", "sq", "fa"]
    iso3 = ["kaz", "bel", "aze", "zho", "ara", "khk", "sqi", "pes"]
    typ_ted = dict(zip(ted, typology.values()))
    a = representation("svcca", typ_ted, dict(zip(ted, learned.values())), ted, typology_fit=typology_all, min_corr=0.0)
    b = representation("svcca", typ_ted, dict(zip(iso3, learned.values())), ted, typology_fit=typology_all, min_corr=0.0)
    np.testing.assert_array_equal(a, b)


def test_a_types_k_is_honoured(tmp_path):
    rng = np.random.default_rng(5)
    X = np.vstack([d + 0.02 * rng.normal(size=(6, 4)) for d in np.eye(4)])
    langs = [f"l{i:02d}" for i in range(24)]
    assert cluster_vectors(X, langs).k == 4
    for k in (2, 3, 7):
        result = cluster_vectors(X, langs, k)
        assert result.k == k and len(result.clusters()) == k
    with pytest.raises(ValueError, match="24 languages can be cut into 2..23 clusters"):
        cluster_vectors(X, langs, 24)
    write_vectors(tmp_path / "typ.tsv", langs, list("abcd"), X)
    out = tmp_path / "t"
    assert clustering_main(["--type", "t", "--method", "typology", "--typology", str(tmp_path / "typ.tsv"),
                            "--k", "3", "--out-clusters", f"{out}.yaml", "--out-plot", f"{out}.png",
                            "--out-vectors", f"{out}.tsv"]) == 0
    assert len(yaml.safe_load(Path(f"{out}.yaml").read_text())["t"]) == 3


def test_config_k_reaches_the_rule_and_is_checked():
    from hkd import config as hkd_config

    ted53 = yaml.safe_load((ROOT / "config" / "ted53.yaml").read_text())
    vector_types = [t for t in ted53["clustering"]["types"].values() if t["method"] != "random"]
    assert [t.get("k") for t in vector_types] == [10, 10, 11, 3]
    assert ted53["clustering"]["svd"] == "recipe"
    ted53["clustering"]["types"]["wals_kb"]["k"] = 53
    with pytest.raises(hkd_config.ConfigError, match="clustering.types.wals_kb.k: 53 clusters of 53 languages"):
        hkd_config.check(ted53)
    # that the rule passes k and the typology-fit table: test_ted53_computed_clusters_wire_the_recipe


def test_type4_from_uriel_alone_is_the_papers_with_and_without_k():
    from hkd.clusters_file import labels_of, parse_clusters
    from hkd.typology import uriel_features

    langs = yaml.safe_load((ROOT / "config" / "ted53.yaml").read_text())["languages"]
    paper, _ = parse_clusters((ROOT / "config" / "paper_clusters.yaml").read_text(), "paper_clusters.yaml")
    _, matrix = uriel_features(langs)
    X = representation("typology", dict(zip(langs, matrix)), None, langs)
    for k in (None, 3):
        result = cluster_vectors(X, langs, k)
        assert adjusted_rand(result.labels, labels_of(paper["wals_kb"])) == (1.0, 53)


def test_typology_out_all_writes_every_uriel_language(tmp_path):
    from hkd import typology
    from hkd.vectors import read_vectors

    assert typology.main(["--langs", "kk", "az", "--out", str(tmp_path / "t.tsv"), "--out-all", str(tmp_path / "all.tsv")]) == 0
    every = read_vectors(tmp_path / "all.tsv")
    chosen = read_vectors(tmp_path / "t.tsv")
    assert len(every) == 3718 and len(next(iter(every.values()))) == 103
    np.testing.assert_array_equal(every["azj"], chosen["az"])
    np.testing.assert_array_equal(every["kaz"], chosen["kk"])


def test_ted53_computed_clusters_wire_the_recipe(tmp_path):
    """A dry run of the paper's config with computed clusters: the typology SVD's rows (all URIEL)
    and each type's k reach hkd.cluster_languages."""
    import subprocess

    from conftest import BIN, job_counts

    config = yaml.safe_load((ROOT / "config" / "ted53.yaml").read_text())
    config["clustering"]["clusters"] = "computed"
    (tmp_path / "computed.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / "config").symlink_to(ROOT / "config")  # the config's relative paths
    result = subprocess.run(
        [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--configfile", "computed.yaml",
         "-n", "-p", "--until", "cluster_type"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    assert counts["typology_vectors"] == 1 and counts["cluster_type"] == 4
    shells = [line for line in result.stdout.splitlines() if "python -m hkd.cluster_languages cluster" in line]
    assert len(shells) == 4
    assert all("--typology-fit results/clustering/uriel_syntax_knn.tsv --svd recipe" in s for s in shells)
    ks = sorted(s.split("--k ")[1].split()[0] for s in shells)
    assert ks == ["10", "10", "11", "3"]
