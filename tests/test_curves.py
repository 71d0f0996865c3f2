"""Tests of hkd.curves: the validation of the best checkpoint, by the metric the run chose it with."""
import json

import pytest

from hkd import curves
from hkd.train import checkpoint_metric


def write_curve(path, start, valid):
    records = [start] + [{"tag": "valid", "epoch": e, **r} for e, r in enumerate(valid, start=1)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


VALID = [{"valid_loss": 5.0, "valid_bleu": 10.0, "valid_bleu_xa": 11.0},
         {"valid_loss": 4.0, "valid_bleu": 30.0, "valid_bleu_xa": 31.0},
         {"valid_loss": 3.5, "valid_bleu": 25.0, "valid_bleu_xa": 26.0},  # lowest loss, not highest BLEU
         {"valid_loss": 3.6, "valid_bleu": 28.0, "valid_bleu_xa": 29.0}]


def test_best_by_loss_when_the_run_chose_by_loss(tmp_path):
    start = {"tag": "start", "resumed_after_epoch": None, "best_checkpoint_metric": "loss", "maximize": False}
    curve = write_curve(tmp_path / "c.jsonl", start, VALID)
    assert curves.best_validation(curve)["epoch"] == 3
    assert curves.best_epoch_bleu(curve) == {"xa": 26.0}


def test_best_by_bleu_when_the_run_chose_by_bleu_or_does_not_say(tmp_path):
    for start in ({"tag": "start", "best_checkpoint_metric": "bleu", "maximize": True}, {"tag": "start"}):
        curve = write_curve(tmp_path / "c.jsonl", start, VALID)
        assert curves.best_validation(curve)["epoch"] == 2
        assert curves.best_epoch_bleu(curve) == {"xa": 31.0}


def test_ties_go_to_the_later_epoch_as_fairseq(tmp_path):
    valid = [{"valid_loss": 3.0, "valid_bleu": 20.0}, {"valid_loss": 3.0, "valid_bleu": 20.0}]
    for start in ({"tag": "start", "best_checkpoint_metric": "loss", "maximize": False}, {"tag": "start"}):
        assert curves.best_validation(write_curve(tmp_path / "c.jsonl", start, valid))["epoch"] == 2


def test_errors_name_the_line(tmp_path):
    start = {"tag": "start", "best_checkpoint_metric": "loss", "maximize": False}
    curve = write_curve(tmp_path / "c.jsonl", start, [{"valid_bleu": 3.0}])
    with pytest.raises(ValueError, match=r"c.jsonl:2: valid_loss is not a number"):
        curves.best_validation(curve)
    curve = write_curve(tmp_path / "c.jsonl", start, [{"valid_loss": 3.0}])
    with pytest.raises(ValueError, match="no valid_bleu record"):
        curves.best_validation(curve)


def test_checkpoint_metric_follows_fairseq_flags():
    assert checkpoint_metric(["--lr", "1"]) == ("loss", False)  # fairseq's default
    assert checkpoint_metric(["--best-checkpoint-metric", "bleu", "--maximize-best-checkpoint-metric"]) == ("bleu", True)
    assert checkpoint_metric(["--best-checkpoint-metric", "loss"]) == ("loss", False)
