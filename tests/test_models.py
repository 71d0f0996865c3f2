"""hkd.models: the models a run trains, with their curves and how each stops, on a hand-made config."""

from pathlib import Path

import pytest

from hkd.convergence import parse_model
from hkd.models import STAGES, trained_models

CONFIG = {
    "teacher": {"default": {"max_epoch": 10, "patience": -1}, "overrides": {"bb": {"max_epoch": 50, "stop_metric": "loss"}}},
    "universal": {"settings": {"max_epoch": 5, "patience": 3}},  # stops on dev loss whatever its settings say
    "assistant": {"settings": {"max_epoch": 3}},
    "student": {"settings": {"max_epoch": 4, "patience": 2, "stop_metric": "loss"}},
}
CURVES = {
    "teachers": "t/{name}/curve.jsonl",
    "universal": "u/curve.jsonl",
    "assistants": "a/{name}/curve.jsonl",
    "student": "s/curve.jsonl",
}
UNITS = [("t1", "c1"), ("all", "all")]


def test_every_model_in_stage_order_with_its_stop():
    models = trained_models(["aa", "bb"], CONFIG, CURVES, units=UNITS)
    # the schema's patience (20) and stop_metric (bleu) where the config gives none
    assert [m.spec for m in models] == [
        "teacher/aa=t/aa/curve.jsonl:10:-1:bleu",
        "teacher/bb=t/bb/curve.jsonl:50:-1:loss",
        "universal=u/curve.jsonl:5:3:loss",
        "assistant/t1/c1=a/t1/c1/curve.jsonl:3:20:bleu",
        "assistant/all/all=a/all/all/curve.jsonl:3:20:bleu",
        "student=s/curve.jsonl:4:2:loss",
    ]
    assert [m.name for m in models] == ["aa", "bb", "universal", "t1/c1", "all/all", "student"]
    assert [m.stage for m in models] == ["teachers"] * 2 + ["universal"] + ["assistants"] * 2 + ["student"]
    # each spec is what hkd.convergence reads back
    for m in models:
        assert parse_model(m.spec) == (m.label, Path(m.curve), m.max_epoch, m.patience, m.metric)


def test_stages_apart_and_the_assistants_only_with_the_plan():
    students = trained_models(["aa"], CONFIG, CURVES, stages=["student", "teachers"])
    assert [m.label for m in students] == ["teacher/aa", "student"]  # STAGES order
    assert [m.stage for m in trained_models(["aa"], CONFIG, CURVES, units=[])] == ["teachers", "universal", "student"]
    assert len(trained_models(["aa"], CONFIG, CURVES, stages=STAGES, units=UNITS)) == 5
    with pytest.raises(ValueError, match="assistants stage needs the assistant plan's units"):
        trained_models(["aa"], CONFIG, CURVES, stages=["assistants"])
    with pytest.raises(ValueError, match=r"unknown stage\(s\) \['teacher'\]"):
        trained_models(["aa"], CONFIG, CURVES, stages=["teacher"])
    with pytest.raises(KeyError, match="unknown model setting"):
        trained_models(["aa"], {**CONFIG, "student": {"settings": {"max_epochs": 4}}}, CURVES, stages=["student"])
