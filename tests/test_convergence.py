"""Why each model stopped (hkd.convergence), on hand-made curves."""

from __future__ import annotations

import json

import pytest

from hkd import convergence


def curve(tmp_path, name, losses):
    path = tmp_path / f"{name}.jsonl"
    records = [{"tag": "start", "resumed_after_epoch": None}]
    for epoch, loss in enumerate(losses, start=1):
        records += [{"tag": "train", "epoch": epoch, "train_loss": 9.0},
                    {"tag": "valid", "epoch": epoch, "valid_loss": loss, "valid_bleu": 10.0 * epoch}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_early_stopping_cap_and_still_improving(tmp_path):
    points = convergence.validations(curve(tmp_path, "a", [5, 4, 3, 3.5, 3.2, 3.1]), "loss")
    assert convergence.stop_reason(points, 10, 3, "loss") == {
        "best_epoch": 3, "last_epoch": 6, "best": 3.0, "last": 3.1, "reason": "early stopping"}
    assert convergence.stop_reason(points, 6, 3, "loss")["reason"] == "epoch cap"
    assert convergence.stop_reason(points, 6, 5, "loss")["reason"] == "epoch cap, still improving"
    assert convergence.stop_reason(points, 6, -1, "loss")["reason"] == "epoch cap, still improving"
    bleu = convergence.validations(curve(tmp_path, "a", [5, 4, 3, 3.5, 3.2, 3.1]), "bleu")
    assert convergence.stop_reason(bleu, 6, 3, "bleu")["best_epoch"] == 6  # higher is better
    assert convergence.stop_reason(points, 10, 5, "loss")["reason"] == "unexplained"


def test_main_writes_one_row_per_model(tmp_path):
    out = tmp_path / "convergence.tsv"
    argv = ["--models", f"teacher/na={curve(tmp_path, 'na', [5, 4, 4.5, 4.6])}:20:2:loss",
            f"universal={curve(tmp_path, 'u', [5, 4, 3])}:3:2:loss", "--out", str(out)]
    assert convergence.main(argv) == 0
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert rows == [convergence.COLUMNS,
                    ["teacher/na", "2", "4", "20", "2", "loss", "4", "4.6", "early stopping"],
                    ["universal", "3", "3", "3", "2", "loss", "3", "3", "epoch cap, still improving"]]


def test_bad_specs_and_curves_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="expected NAME=CURVE:MAX_EPOCH:PATIENCE:loss.bleu"):
        convergence.parse_model("x=c.jsonl:3:2:ppl")
    with pytest.raises(ValueError, match="must be integers"):
        convergence.parse_model("x=c.jsonl:three:2:loss")
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"tag": "start"}) + "\n")
    with pytest.raises(ValueError, match="no validation records"):
        convergence.validations(empty, "loss")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"tag": "valid", "epoch": 1}) + "\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: validation without a number valid_loss"):
        convergence.validations(bad, "loss")
