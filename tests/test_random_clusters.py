"""Random clusters with another type's sizes (hkd.random_clusters; the paper's Table 9)."""

from __future__ import annotations

import pytest
import yaml

from hkd import cluster_languages as clustering, random_clusters
from hkd.clusters_file import ClustersError

LANGS = [f"l{i:02d}" for i in range(20)]
LIKE = {"c1": LANGS[:3], "c2": LANGS[3:10], "c3": LANGS[10:12], "c4": LANGS[12:]}  # sizes 3 7 2 8


def sizes(clusters):
    return sorted(len(m) for m in clusters.values())


def test_every_language_drawn_keeps_the_sizes_and_is_seeded():
    drawn = random_clusters.random_clusters(LIKE, LANGS, seed=1)
    assert sizes(drawn) == sizes(LIKE)
    assert sorted(lang for m in drawn.values() for lang in m) == LANGS  # a partition
    assert drawn == random_clusters.random_clusters(LIKE, LANGS, seed=1)  # deterministic
    assert drawn != LIKE and drawn != random_clusters.random_clusters(LIKE, LANGS, seed=2)
    assert [m == sorted(m, key=LANGS.index) for m in drawn.values()] == [True] * len(drawn)


def test_focus_languages_keep_the_size_of_their_own_cluster():
    focus = ["l00", "l05", "l06"]  # c1 (3) and c2 (7): l05 and l06 share their random cluster
    for seed in range(20):
        drawn = random_clusters.random_clusters(LIKE, LANGS, seed=seed, focus=focus)
        home = {lang: members for members in drawn.values() for lang in members}
        assert len(home["l00"]) == 3 and len(home["l05"]) == 7 and home["l05"] is home["l06"]
        assert "l00" not in home["l05"] and len(drawn) == 2
        others = [lang for m in drawn.values() for lang in m if lang not in focus]
        assert len(others) == len(set(others)) == 3 + 7 - 3  # drawn without replacement
    with pytest.raises(ClustersError, match=r"--focus: \['zz'\] in no cluster"):
        random_clusters.random_clusters(LIKE, LANGS + ["zz"], seed=1, focus=["zz"])


def test_main_writes_a_byte_identical_file_that_combine_accepts(tmp_path):
    like = tmp_path / "like.yaml"
    like.write_text(yaml.safe_dump({"t1": LIKE}))
    argv = ["--type", "random", "--like", "t1", "--clusters", str(like), "--langs", *LANGS, "--seed", "3"]
    assert random_clusters.main(argv + ["--out-clusters", str(tmp_path / "a.yaml")]) == 0
    assert random_clusters.main(argv + ["--out-clusters", str(tmp_path / "b.yaml")]) == 0
    assert (tmp_path / "a.yaml").read_bytes() == (tmp_path / "b.yaml").read_bytes()
    assert "sizes of t1" in (tmp_path / "a.yaml").read_text()
    focus = argv + ["--focus", "l01", "--out-clusters", str(tmp_path / "f.yaml")]
    assert random_clusters.main(focus) == 0
    out = tmp_path / "clusters.yaml"
    combine = ["combine", "--inputs", str(like), str(tmp_path / "f.yaml"), "--langs", *LANGS,
               "--out-clusters", str(out), "--out-membership", str(tmp_path / "m.tsv")]
    with pytest.raises(ClustersError, match="corpus language.s. in no cluster"):
        clustering.main(combine)
    assert clustering.main(combine + ["--partial-types", "random"]) == 0
    merged = yaml.safe_load(out.read_text())
    assert list(merged) == ["t1", "random"] and sizes(merged["random"]) == [3]
    with pytest.raises(ClustersError, match="no type 't9'"):
        random_clusters.main(["--type", "r", "--like", "t9", *argv[4:], "--out-clusters", str(tmp_path / "x")])
