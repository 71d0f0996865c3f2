"""hkd.student: the student's assistant map (one assistant per type, as in the paper, even where two
types share one model), the links to the serving models' stores and the assistants' dev BLEU."""
import json
import os
import shutil

import pytest

from hkd import student
from hkd.assistant_map import load_assistant_map

CLUSTERS = """\
t1:
  c1: [aa, bb]
  c2: [cc]
t2:
  c1: [aa, bb]
  c2: [cc, dd]
"""
LANGS = ["aa", "bb", "cc", "dd"]


def curve(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in [{"tag": "start"}, *records]))


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "clusters.yaml").write_text(CLUSTERS)
    for unit, langs in (("t1/c1", ["aa", "bb"]), ("t1/c2", ["cc"]), ("t2/c2", ["cc", "dd"])):
        for lang in langs:
            (tmp_path / "stores" / unit / lang).mkdir(parents=True)
            (tmp_path / "stores" / unit / lang / "header.json").write_text(json.dumps({"unit": unit}))
    # t1/c1: the best epoch (by valid_bleu) is 2, whose per-language scores count, not epoch 3's
    curve(tmp_path / "models/t1/c1/curve.jsonl", [
        {"tag": "valid", "epoch": 1, "valid_bleu": 3.0, "valid_bleu_aa": 1.0, "valid_bleu_bb": 5.0},
        {"tag": "valid", "epoch": 2, "valid_bleu": 9.0, "valid_bleu_aa": 8.0, "valid_bleu_bb": 10.0},
        {"tag": "valid", "epoch": 3, "valid_bleu": 7.0, "valid_bleu_aa": 20.0, "valid_bleu_bb": 1.0}])
    curve(tmp_path / "models/t1/c2/curve.jsonl", [{"tag": "valid", "epoch": 1, "valid_bleu": 2.0,
                                                   "valid_bleu_cc": 2.0}])
    curve(tmp_path / "models/t2/c2/curve.jsonl", [{"tag": "valid", "epoch": 1, "valid_bleu": 4.0,
                                                   "valid_bleu_cc": 3.5, "valid_bleu_dd": 4.5}])
    return tmp_path


def test_one_assistant_per_type_even_when_two_types_share_a_model(tree):
    out = tree / "assistants"
    table = student.prepare(tree / "clusters.yaml", LANGS, tree / "stores", tree / "models", out)
    assert table == {"aa": ["t1/c1", "t2/c1"], "bb": ["t1/c1", "t2/c1"], "cc": ["t1/c2", "t2/c2"], "dd": ["t2/c2"]}
    assert load_assistant_map(out / "map.json", LANGS) == table  # what the plugin reads
    # t2/c1 is a link to the model that serves it; links are relative (the tree can move)
    assert json.loads((out / "stores/t2/c1/aa/header.json").read_text()) == {"unit": "t1/c1"}
    assert not os.path.isabs(os.readlink(out / "stores/t2/c1"))
    bleu = json.loads((out / "dev_bleu.json").read_text())
    assert bleu["aa"] == {"t1/c1": 8.0, "t2/c1": 8.0} and bleu["bb"]["t1/c1"] == 10.0  # the best epoch
    assert bleu["cc"] == {"t1/c2": 2.0, "t2/c2": 3.5} and bleu["dd"] == {"t2/c2": 4.5}


def test_a_language_in_no_cluster_gets_no_assistant(tree):
    table = student.prepare(tree / "clusters.yaml", [*LANGS, "ee"], tree / "stores", tree / "models",
                            tree / "out")
    assert table["ee"] == []


def test_errors_name_what_is_missing(tree):
    with pytest.raises(ValueError, match=r"not trained: \['dd'\]"):
        student.prepare(tree / "clusters.yaml", LANGS[:3], tree / "stores", tree / "models", tree / "out")
    curve(tree / "models/t2/c2/curve.jsonl", [{"tag": "valid", "epoch": 1, "valid_bleu": 4.0, "valid_bleu_cc": 1.0}])
    with pytest.raises(KeyError, match=r"t2/c2/curve.jsonl: no valid_bleu_dd"):
        student.prepare(tree / "clusters.yaml", LANGS, tree / "stores", tree / "models", tree / "out")
    shutil.rmtree(tree / "stores/t2/c2")
    with pytest.raises(FileNotFoundError, match=r"stores of t2/c2 \(serving t2/c2\)"):
        student.prepare(tree / "clusters.yaml", LANGS, tree / "stores", tree / "models", tree / "out")
