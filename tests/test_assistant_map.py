"""Which assistants teach each language (hkd.assistant_map): the map files, dev BLEU, the exclusion rule."""

import json

import pytest

from hkd import assistant_map as M


# ------------------------------------------------------------------------------ weakest assistant

def test_exclusion_drops_exactly_the_weakest_above_the_threshold():
    scores = {"a/c1": 18.05, "b/c2": 16.89, "c/c3": 9.03, "d/c4": 19.02}  # bs in the paper's Table 6
    kept, dropped, variance = M.exclude_weakest(scores, threshold=10.0)
    assert dropped == "c/c3" and kept == ["a/c1", "b/c2", "d/c4"]
    assert round(variance, 2) == 20.81  # the paper's figure: a sample variance
    assert M.exclude_weakest(scores, threshold=25.0)[1] is None  # variance under the threshold
    assert M.exclude_weakest(scores, threshold=None) == (list(scores), None, variance)  # off
    assert M.exclude_weakest({"a/c1": 3.0}, threshold=0.0) == (["a/c1"], None, None)  # nothing to compare
    tie = M.exclude_weakest({"a/c1": 5.0, "b/c2": 1.0, "c/c3": 1.0}, threshold=0.1)
    assert tie[1] == "b/c2" and tie[0] == ["a/c1", "c/c3"]  # one only: the first of the lowest


def test_map_files_bleu_and_effective_assistants(tmp_path):
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text("typo:\n  c1: [kk, be]\n  c2: [bs]\nlearned:\n  c1: [kk, bs]\n  c2: [be]\n")
    assert M.load_assistant_map(clusters, ["kk", "be", "bs"]) == {
        "kk": ["typo/c1", "learned/c1"], "be": ["typo/c1", "learned/c2"], "bs": ["typo/c2", "learned/c1"]}
    table = tmp_path / "map.json"
    table.write_text(json.dumps({"kk": [["typo", "c1"], "learned/c1"], "be": []}))
    assert M.load_assistant_map(table, ["kk", "be"]) == {"kk": ["typo/c1", "learned/c1"], "be": []}
    with pytest.raises(KeyError, match="bs"):
        M.load_assistant_map(table, ["kk", "bs"])
    table.write_text(json.dumps({"kk": ["typo:c1"]}))
    with pytest.raises(ValueError, match="type/cluster"):
        M.load_assistant_map(table, ["kk"])

    assistants = {"kk": ["typo/c1", "learned/c1", "wals/c3"], "be": ["typo/c1"]}
    for lang, scores in {"kk": {"typo/c1": 7.0, "learned/c1": 3.1, "wals/c3": 8.1}, "be": {"typo/c1": 12.0}}.items():
        for name, bleu in scores.items():
            path = tmp_path / "eval" / name / f"{lang}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"bleu": bleu}))
    bleu = M.read_assistant_bleu(str(tmp_path / "eval" / "{type}" / "{cluster}" / "{lang}.json"), assistants)
    assert bleu["kk"]["learned/c1"] == 3.1
    plan = M.effective_assistants(["kk", "be"], assistants, bleu, variance_threshold=5.0)
    assert plan.assistants == {"kk": ["typo/c1", "wals/c3"], "be": ["typo/c1"]}
    assert plan.excluded == {"kk": "learned/c1", "be": None}
    assert M.effective_assistants(["kk", "be"], assistants, bleu, variance_threshold=50.0).assistants == assistants
    assert M.effective_assistants(["kk", "be"], assistants).assistants == assistants  # off by default
    with pytest.raises(ValueError, match="dev BLEU"):
        M.effective_assistants(["kk"], assistants, None, variance_threshold=5.0)
    assert M.expand("s/{type}/{cluster}/{lang}", "typo/c1", "kk") == "s/typo/c1/kk"
    with pytest.raises(ValueError, match="lang"):
        M.check_pattern("s/{type}/{cluster}", "--assistant-stores")
    out = tmp_path / "effective.json"
    assert M.main(["--map", str(clusters), "--langs", "kk", "bs", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["assistants"]["bs"] == ["typo/c2", "learned/c1"]
