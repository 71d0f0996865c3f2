"""Tests for hkd.cluster_languages: k selection, recovery of known groups, determinism, CLI, combine, ARI."""

import math

import numpy as np
import pytest
import yaml

from hkd import cluster_languages as clustering
from hkd.cluster_languages import adjusted_rand, choose_k, cluster_vectors
from hkd.vectors import read_vectors, write_vectors


def blobs(directions, per_blob=6, spread=0.02, seed=0, scale=(0.5, 5.0)):
    """Points around unit directions, each scaled by a random positive factor (cosine ignores it)."""
    rng = np.random.default_rng(seed)
    points, truth = [], []
    for g, d in enumerate(directions):
        d = np.asarray(d, dtype=float) / np.linalg.norm(d)
        for _ in range(per_blob):
            points.append(rng.uniform(*scale) * (d + spread * rng.normal(size=d.size)))
            truth.append(g)
    order = rng.permutation(len(points))  # interleave the groups
    langs = [f"l{i:02d}" for i in range(len(points))]
    return np.array(points)[order], langs, {lang: str(truth[j]) for lang, j in zip(langs, order)}


THREE = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]]


def test_three_cosine_blobs_are_recovered_exactly():
    X, langs, truth = blobs(THREE)
    result = cluster_vectors(X, langs)
    assert result.k == 3
    assert adjusted_rand(result.labels, truth) == (1.0, len(langs))
    assert result.silhouette[3] == max(s for s in result.silhouette.values() if not math.isnan(s))
    assert set(result.silhouette) == set(range(2, len(langs)))


def test_clusters_are_named_by_first_member_in_language_order():
    X, langs, _ = blobs(THREE)
    result = cluster_vectors(X, langs)
    clusters = result.clusters()
    assert list(clusters) == ["c1", "c2", "c3"]
    firsts = [members[0] for members in clusters.values()]
    assert firsts == sorted(firsts, key=langs.index) and firsts[0] == langs[0]
    assert all(members == sorted(members, key=langs.index) for members in clusters.values())


def test_choose_k_rule():
    assert choose_k({2: 0.9, 3: 0.5, 4: 0.5, 5: 0.4}) == 3  # k = 2 replaced by the next best; tie -> smaller
    assert choose_k({2: 0.9, 3: 0.4, 4: 0.6}) == 4
    assert choose_k({2: 0.9, 3: math.nan, 4: 0.3}) == 4  # unreachable k skipped
    assert choose_k({2: 0.1, 3: math.nan}) == 2  # nothing >= 3 reachable
    assert choose_k({2: 0.5}) == 2  # n = 3
    assert choose_k({2: 0.3, 3: 0.3 + 1e-13, 4: 0.3}) == 3  # rounding to 1e-10: a tie, smallest k
    with pytest.raises(ValueError, match="no number of clusters"):
        choose_k({2: math.nan})


def test_two_groups_one_with_two_subgroups_gives_three_not_two():
    # Groups A and B far apart (k = 2 has the best silhouette); B is two close sub-groups.
    X, langs, truth = blobs([[1, 0, 0], [0, 1, 0.1], [0, 1, -0.1]], per_blob=5, spread=0.03)
    result = cluster_vectors(X, langs)
    assert result.silhouette[2] > result.silhouette[3]
    assert result.k == 3
    assert adjusted_rand(result.labels, truth)[0] == 1.0


def test_small_and_degenerate_inputs():
    result = cluster_vectors(np.array([[1.0, 0], [0.9, 0.1], [0, 1]]), ["a", "b", "c"])
    assert result.k == 2 and result.clusters() == {"c1": ["a", "b"], "c2": ["c"]}
    with pytest.raises(ValueError, match="language\\(s\\) given more than once: a"):
        cluster_vectors(np.eye(3), ["a", "b", "a"])
    with pytest.raises(ValueError, match="at least 3 languages, got 2: a b"):
        cluster_vectors(np.eye(2), ["a", "b"])
    with pytest.raises(ValueError, match="zero vector .* for: b"):
        cluster_vectors(np.array([[1.0, 0], [0, 0], [0, 1], [1, 1]]), ["a", "b", "c", "d"])


def test_adjusted_rand_on_hand_made_labellings():
    a = {"w": "x", "x": "x", "y": "y", "z": "y"}
    assert adjusted_rand(a, {"w": 1, "x": 1, "y": 2, "z": 2}) == (1.0, 4)  # renamed labels
    # contingency [[2,0,0],[0,1,1]]: index 1, expected 1/3, max 3/2 -> (1 - 1/3) / (3/2 - 1/3) = 4/7
    ari, n = adjusted_rand(a, {"w": "p", "x": "p", "y": "q", "z": "r"})
    assert n == 4 and ari == pytest.approx(4 / 7)
    assert adjusted_rand(a, {"w": 1, "x": 1, "y": 2, "q": 3}) == (1.0, 3)  # common languages only


def cli_cluster(tmp_path, name, *extra):
    out = tmp_path / name
    args = [
        "--type",
        name,
        *extra,
        "--out-clusters",
        f"{out}.yaml",
        "--out-plot",
        f"{out}.png",
        "--out-vectors",
        f"{out}.tsv",
        "--out-silhouette",
        f"{out}.sil.tsv",
    ]
    assert clustering.main(args) == 0
    return out


def test_cli_typology_method_is_deterministic(tmp_path):
    X, langs, truth = blobs(THREE)
    write_vectors(tmp_path / "typ.tsv", langs, ["a", "b", "c", "d"], X)
    first = cli_cluster(tmp_path, "typology", "--method", "typology", "--typology", str(tmp_path / "typ.tsv"))
    again = tmp_path / "again"
    again.mkdir()
    second = cli_cluster(again, "typology", "--method", "typology", "--typology", str(tmp_path / "typ.tsv"))
    for suffix in (".yaml", ".tsv", ".sil.tsv"):
        assert first.with_name(first.name + suffix).read_bytes() == second.with_name(second.name + suffix).read_bytes()
    text = first.with_name("typology.yaml").read_text()
    assert text.startswith("# clustering type typology: method typology, 18 languages, 4 dims, k = 3")
    clusters = yaml.safe_load(text)["typology"]
    labels = {lang: c for c, members in clusters.items() for lang in members}
    assert list(clusters) == ["c1", "c2", "c3"] and adjusted_rand(labels, truth)[0] == 1.0
    assert first.with_name("typology.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(np.stack(list(read_vectors(first.with_name("typology.tsv")).values())), X)
    sil = first.with_name("typology.sil.tsv").read_text().splitlines()
    assert sil[0] == "k\tsilhouette\tchosen" and len(sil) == 1 + 16 and sil[2].endswith("\t1")


def test_cli_learned_method_reads_npy_and_subset_of_langs(tmp_path):
    X, langs, truth = blobs(THREE)
    np.save(tmp_path / "learned.npy", dict(zip(langs, X)), allow_pickle=True)
    subset = langs[:12]
    out = cli_cluster(
        tmp_path, "nmt_learned", "--method", "learned", "--learned", str(tmp_path / "learned.npy"), "--langs", *subset
    )
    clusters = yaml.safe_load(out.with_name("nmt_learned.yaml").read_text())["nmt_learned"]
    assert sorted(lang for m in clusters.values() for lang in m) == sorted(subset)


def test_cli_svcca_fits_on_subset_and_projects_typology_only_languages(tmp_path):
    # 3 groups in a shared 3-d latent (blobs around the unit vectors: after centring they point in 3
    # directions); each view adds 2 private dims; 4 languages lack a learned vector.
    rng = np.random.default_rng(5)
    Z, langs, truth = blobs(np.eye(3), per_blob=10, spread=0.05, scale=(1.0, 1.0))
    typ = np.hstack([Z, 0.05 * rng.normal(size=(30, 2))]) @ rng.normal(size=(5, 8))
    lea = np.hstack([Z, 0.05 * rng.normal(size=(30, 2))]) @ rng.normal(size=(5, 6))
    write_vectors(tmp_path / "typ.tsv", langs, [f"f{i}" for i in range(8)], typ)
    np.save(tmp_path / "lea.npy", dict(zip(langs[:26], lea[:26])), allow_pickle=True)
    common = [
        "--method",
        "svcca",
        "--typology",
        str(tmp_path / "typ.tsv"),
        "--learned",
        str(tmp_path / "lea.npy"),
        "--typology-variance",
        "0.99",
        "--learned-variance",
        "0.99",
    ]
    out = cli_cluster(tmp_path, "svcca53", *common)
    clusters = yaml.safe_load(out.with_name("svcca53.yaml").read_text())["svcca53"]
    labels = {lang: c for c, members in clusters.items() for lang in members}
    assert len(labels) == 30 and adjusted_rand(labels, truth)[0] == 1.0
    # fit on a subset: the subset's vectors are those of clustering the subset alone
    fit = langs[:20]
    sub = cli_cluster(tmp_path, "svcca20", *common, "--fit-subset", *fit)
    alone = cli_cluster(tmp_path, "alone", *common, "--fit-subset", *fit, "--langs", *fit)
    full, part = read_vectors(sub.with_name("svcca20.tsv")), read_vectors(alone.with_name("alone.tsv"))
    for lang in fit:
        np.testing.assert_array_equal(full[lang], part[lang])
    with pytest.raises(ValueError, match=r"--learned \(fitting languages\): no vector for language\(s\) l26 l27"):
        cli_cluster(tmp_path, "bad", *common, "--fit-subset", *langs[20:28])


def test_combine_and_ari(tmp_path):
    langs = ["kk", "be", "bn", "eu", "sr"]
    (tmp_path / "a.yaml").write_text("ta:\n  c1: [kk, be]\n  c2: [bn, eu, sr]\n")
    (tmp_path / "b.yaml").write_text("tb:\n  c1: [bn, kk]\n  c2: [eu, be]\n")
    args = [
        "combine",
        "--inputs",
        str(tmp_path / "a.yaml"),
        str(tmp_path / "b.yaml"),
        "--langs",
        *langs,
        "--out-clusters",
        str(tmp_path / "all.yaml"),
        "--out-membership",
        str(tmp_path / "members.tsv"),
    ]
    with pytest.raises(Exception, match=r"type 'tb': corpus language\(s\) in no cluster: sr"):
        clustering.main(args)
    assert clustering.main(args + ["--allow-missing", "tb:sr"]) == 0
    assert (tmp_path / "all.yaml").read_text().splitlines()[1:] == [
        "ta:",
        "  c1: [kk, be]",
        "  c2: [bn, eu, sr]",
        "tb:",
        "  c1: [kk, bn]",
        "  c2: [be, eu]",
    ]
    assert (tmp_path / "members.tsv").read_text() == (
        "lang\tta\ttb\nkk\tc1\tc1\nbe\tc1\tc2\nbn\tc2\tc1\neu\tc2\tc2\nsr\tc2\t\n"
    )
    with pytest.raises(Exception, match=r"type 'ta' also comes from an earlier input"):
        clustering.main(
            [
                "combine",
                "--inputs",
                str(tmp_path / "a.yaml"),
                str(tmp_path / "a.yaml"),
                "--langs",
                *langs,
                "--out-clusters",
                str(tmp_path / "x.yaml"),
                "--out-membership",
                str(tmp_path / "x.tsv"),
            ]
        )

    (tmp_path / "languages.tsv").write_text(
        "# demo\ncode\tfamily\ttypology_group\nkk\tTurkic\tA\nbe\tSlavic\tA\nbn\tIndic\tB\neu\tIsolate\tB\nsr\tSlavic\tB\n"
    )
    assert (
        clustering.main(
            [
                "ari",
                "--clusters",
                str(tmp_path / "all.yaml"),
                "--reference",
                str(tmp_path / "languages.tsv"),
                "--out",
                str(tmp_path / "ari.tsv"),
            ]
        )
        == 0
    )
    rows = [r.split("\t") for r in (tmp_path / "ari.tsv").read_text().splitlines()]
    assert rows[0] == ["type", "reference", "n_langs", "n_clusters", "n_groups", "ari"]
    assert rows[2][:5] == ["ta", "typology_group", "5", "2", "2"]
    assert float(rows[2][5]) == pytest.approx(
        adjusted_rand(
            {"kk": 1, "be": 1, "bn": 2, "eu": 2, "sr": 2}, {"kk": "A", "be": "A", "bn": "B", "eu": "B", "sr": "B"}
        )[0]
    )
    assert rows[2][5] == "1.0000"
    assert rows[3][:3] == ["tb", "family", "4"]  # sr is in no cluster of tb
