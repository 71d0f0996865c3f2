"""Tests for hkd.clusters_file: the paper's clusters file and every validation error."""

import logging
from pathlib import Path

import pytest

from hkd import clusters_file as cl
from hkd.clusters_file import ClustersError, clusters_of, load_clusters, write_clusters

PAPER = Path(__file__).resolve().parent.parent / "config" / "paper_clusters.yaml"
TED53 = (
    "kk be bn eu ms bs az ur ta mn mr gl ku et ka nb hi sl hy my fi mk lt sq da sv sk id th cs uk "
    "hr el sr hu fa de ja vi bg pl ro tr nl zh es it ko ru he fr ar pt"
).split()
LANGS = ["kk", "be", "bn", "eu"]


def write(tmp_path, text):
    path = tmp_path / "clusters.yaml"
    path.write_text(text)
    return path


def test_paper_clusters_validate_only_with_the_sr_allowance(caplog):
    with pytest.raises(ClustersError, match=r"type 'svcca23': corpus language\(s\) in no cluster: sr$"):
        load_clusters(PAPER, TED53)
    with caplog.at_level(logging.WARNING, logger="hkd.clusters_file"):
        clusters = load_clusters(PAPER, TED53, allow_missing={"svcca23": ["sr"]})
    assert "type svcca23: sr is in no cluster (allowed by allow_missing)" in caplog.text
    assert list(clusters) == ["svcca53", "svcca23", "nmt_learned", "wals_kb"]
    assert [len(t) for t in clusters.values()] == [10, 10, 11, 3]
    assert sum(len(t) for t in clusters.values()) == 34  # M, the number of teacher assistants
    for type_name, type_clusters in clusters.items():
        members = [lang for m in type_clusters.values() for lang in m]
        assert sorted(members) == sorted(set(TED53) - ({"sr"} if type_name == "svcca23" else set()))
    assert clusters["wals_kb"]["c1"][-1] == "bs" and "hi" in clusters["wals_kb"]["c3"]


def test_clusters_of_a_language():
    clusters = load_clusters(PAPER, TED53, allow_missing={"svcca23": ["sr"]})
    assert clusters_of(clusters, "sr") == [("svcca53", "c8"), ("nmt_learned", "c8"), ("wals_kb", "c1")]
    assert clusters_of(clusters, "el") == [
        ("svcca53", "c5"),
        ("svcca23", "c10"),
        ("nmt_learned", "c11"),
        ("wals_kb", "c1"),
    ]
    assert clusters_of(clusters, "xx") == []


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "t1:\n  c1: [kk, be]\n  c2: [bn, eu, xx]\n",
            r"clusters.yaml:3: type 't1' cluster 'c2': unknown language 'xx' \(not a corpus language\)",
        ),
        (
            "t1:\n  c1: [kk, be]\n  c2: [bn, eu, be]\n",
            r"clusters.yaml:3: type 't1' cluster 'c2': language 'be' is in two clusters of type 't1': 'c1' and 'c2'",
        ),
        ("t1:\n  c1: [kk, be]\n  c2: [bn]\n", r"clusters.yaml: type 't1': corpus language\(s\) in no cluster: eu$"),
        ("t1:\n  c1: [kk, be, bn, eu]\n  c2: []\n", r"clusters.yaml:3: type 't1' cluster 'c2': empty cluster"),
        (
            "t1:\n  c1: kk\n",
            r"clusters.yaml:2: type 't1' cluster 'c1': expected a list of language codes, got the scalar 'kk'",
        ),
        ("t1:\n  c1: {kk: 1}\n", r"type 't1' cluster 'c1': expected a list of language codes, got a mapping"),
        ("t1: [kk, be]\n", r"clusters.yaml:1: expected a mapping, got a list"),
        ("- kk\n", r"clusters.yaml:1: expected a mapping, got a list"),
        ("t1:\n  c1: [kk, be, bn, eu]\nt1:\n  c1: [kk]\n", r"clusters.yaml:3: duplicate key 't1' \(first on line 1\)"),
        ("t1:\n  c1: [kk, be, bn, eu]\n  c1: [kk]\n", r"clusters.yaml:3: duplicate key 'c1' \(first on line 2\)"),
        ("t-1:\n  c1: [kk, be, bn, eu]\n", r"clusters.yaml:1: name 't-1' is not an identifier"),
        ("t1:\n  c1: [kk, be, bn, eu, no]\n", r"member 'no' is not a language code string \(quote codes"),
        ("t1:\n  c1: [kk, be, bn, [eu]]\n", r"member .* is not a language code string"),
        ("t1: {}\n", r"clusters.yaml:1: type 't1' has no clusters"),
        ("", r"clusters.yaml: empty clusters file"),
        ("t1:\n  c1: [kk\n", r"clusters.yaml: not valid YAML"),
    ],
)
def test_each_error_names_file_line_type_and_cluster(tmp_path, text, message):
    with pytest.raises(ClustersError, match=message):
        load_clusters(write(tmp_path, text), LANGS)


def test_type_names_can_be_restricted(tmp_path):
    path = write(tmp_path, "t1:\n  c1: [kk, be, bn, eu]\nzz:\n  c1: [kk, be, bn, eu]\n")
    assert list(load_clusters(path, LANGS, allowed_types=["t1", "zz"])) == ["t1", "zz"]
    with pytest.raises(ClustersError, match=r"type 'zz' is not allowed \(allowed: t1, t2\)"):
        load_clusters(path, LANGS, allowed_types=["t1", "t2"])


def test_allow_missing_is_per_type_and_checked(tmp_path, caplog):
    path = write(tmp_path, "t1:\n  c1: [kk, be]\n  c2: [bn]\nt2:\n  c1: [kk, be, bn]\n")
    with caplog.at_level(logging.WARNING, logger="hkd.clusters_file"):
        load_clusters(path, LANGS, allow_missing={"t1": ["eu"], "t2": ["eu"]})
    assert "type t1: eu is in no cluster" in caplog.text and "type t2: eu is in no cluster" in caplog.text
    with pytest.raises(ClustersError, match=r"type 't2': corpus language\(s\) in no cluster: eu"):
        load_clusters(path, LANGS, allow_missing={"t1": ["eu"]})
    with pytest.raises(ClustersError, match=r"allow_missing names type 't3'"):
        load_clusters(path, LANGS, allow_missing={"t1": ["eu"], "t2": ["eu"], "t3": ["eu"]})
    with pytest.raises(ClustersError, match=r"allow_missing for 't1' names non-corpus language\(s\) xx"):
        load_clusters(path, LANGS, allow_missing={"t1": ["xx"]})


def test_write_is_deterministic_ordered_and_reads_back(tmp_path):
    clusters = {"t2": {"c1": ["eu", "kk"], "c2": ["bn", "be"]}, "t1": {"c1": ["be", "bn", "kk", "eu"]}}
    write_clusters(tmp_path / "a.yaml", clusters, LANGS, header="made by a test")
    write_clusters(tmp_path / "b.yaml", clusters, LANGS, header="made by a test")
    text = (tmp_path / "a.yaml").read_text()
    assert text == (tmp_path / "b.yaml").read_text()
    assert text == "# made by a test\nt2:\n  c1: [kk, eu]\n  c2: [be, bn]\nt1:\n  c1: [kk, be, bn, eu]\n"
    assert load_clusters(tmp_path / "a.yaml", LANGS) == {
        "t2": {"c1": ["kk", "eu"], "c2": ["be", "bn"]},
        "t1": {"c1": ["kk", "be", "bn", "eu"]},
    }


def test_codes_that_yaml_would_misread_are_quoted(tmp_path):
    langs = ["no", "on", "pt-br", "kk"]
    write_clusters(tmp_path / "q.yaml", {"t": {"c1": ["no", "on"], "c2": ["pt-br", "kk"]}}, langs)
    assert "c1: ['no', 'on']" in (tmp_path / "q.yaml").read_text()
    assert load_clusters(tmp_path / "q.yaml", langs)["t"] == {"c1": ["no", "on"], "c2": ["pt-br", "kk"]}


def test_canonical_numbering_follows_the_language_list():
    labels = {"eu": "7", "kk": "3", "be": "7", "bn": "1"}
    assert cl.canonical(labels, LANGS) == {"c1": ["kk"], "c2": ["be", "eu"], "c3": ["bn"]}


def test_cli_validate(tmp_path, caplog):
    args = ["validate", "--clusters", str(PAPER), "--langs", *TED53]
    with caplog.at_level(logging.INFO, logger="hkd.clusters_file"):
        assert cl.main(args + ["--allow-missing", "svcca23:sr"]) == 0
    assert "valid; 4 types, M = 34 clusters" in caplog.text
    with pytest.raises(ClustersError, match="in no cluster: sr"):
        cl.main(args)
    with pytest.raises(ClustersError, match="type 'wals_kb' is not allowed"):
        cl.main(args + ["--allow-missing", "svcca23:sr", "--types", "svcca53", "svcca23", "nmt_learned"])
    with pytest.raises(ClustersError, match=r"--allow-missing 'svcca23': expected TYPE:LANG"):
        cl.main(args + ["--allow-missing", "svcca23"])


def test_read_cached_parses_each_version_once_and_hands_out_copies(tmp_path, monkeypatch):
    path = tmp_path / "clusters.yaml"
    path.write_text("t1:\n  c1: [aa, bb]\n  c2: [cc]\n")
    first = cl.read_cached(path)
    assert first == {"t1": {"c1": ["aa", "bb"], "c2": ["cc"]}}
    first["t1"]["c1"].append("zz")  # a caller's copy: the cache is untouched
    calls = []
    monkeypatch.setattr(cl.yaml, "load", lambda *a, **k: calls.append(a) or {})
    assert cl.read_cached(path) == {"t1": {"c1": ["aa", "bb"], "c2": ["cc"]}} and calls == []
    monkeypatch.undo()
    path.write_text("t1:\n  c1: [aa, bb, cc]\n")  # a new version: read again
    assert cl.read_cached(path) == {"t1": {"c1": ["aa", "bb", "cc"]}}
