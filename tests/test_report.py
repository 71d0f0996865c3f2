"""The BLEU table (hkd.report)."""

from __future__ import annotations

import json

import pytest

from hkd import report


def score(tmp_path, system, lang, bleu):
    path = tmp_path / f"{system}-{lang}.json"
    path.write_text(json.dumps({"system": system, "lang": lang, "bleu": bleu}))
    return path


def test_table_rows_columns_and_average(tmp_path):
    paths = [score(tmp_path, "teacher", "a", 10.0), score(tmp_path, "teacher", "b", 20.0),
             score(tmp_path, "hkd", "a", 12.0), score(tmp_path, "universal", "b", 15.0)]
    rows = report.build_rows(report.load_scores(paths, ["a", "b"]), {"a": 100, "b": 200}, ["a", "b"])
    assert rows[0] == ["lang", "train_pairs", "teacher", "universal", "hkd"]
    assert rows[1] == ["a", "100", "10.00", "NA", "12.00"]
    assert rows[-1] == ["average", "300", "15.00", "15.00", "12.00"]


def test_duplicate_or_unknown_scores_are_errors(tmp_path):
    one = score(tmp_path, "teacher", "a", 10.0)
    with pytest.raises(ValueError, match="second score"):
        report.load_scores([one, one], ["a"])
    with pytest.raises(ValueError, match="not one of"):
        report.load_scores([one], ["b"])


def test_columns_from_model_folders(tmp_path):
    shared = tmp_path / "typology-c1"
    shared.mkdir()
    for lang, bleu in (("a", 7.0), ("b", 8.0)):
        (shared / f"{lang}.json").write_text(json.dumps({"system": "assistant", "lang": lang, "bleu": bleu}))
    table = report.assign_columns({"teacher": {"a": 1.0}}, [f"cluster_t1={shared}", f"cluster_t4={shared}"])
    assert table == {"teacher": {"a": 1.0}, "cluster_t1": {"a": 7.0, "b": 8.0}, "cluster_t4": {"a": 7.0, "b": 8.0}}
    with pytest.raises(ValueError, match="already has a score"):
        report.assign_columns({}, [f"cluster_t1={shared}", f"cluster_t1={shared}"])
