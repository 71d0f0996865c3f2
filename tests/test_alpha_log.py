"""The student's per-epoch log of the assistant weights (hkd.alpha_log)."""

import json
import math

import pytest
import torch

from hkd import alpha_log as L
from hkd.assistant_map import EffectiveAssistants


# ------------------------------------------------------------------------------------- alpha log

def test_alpha_log_means_per_epoch_and_rewind(tmp_path):
    plan = EffectiveAssistants(["kk", "be"], {"kk": ["t/c1", "u/c2"], "be": ["t/c1"]}, {"kk": None, "be": None})
    path = tmp_path / "alpha.jsonl"
    alog = L.AlphaLog(plan, path)

    def update(kk_alpha, lam):
        out = {**L.empty_sums(plan), "lambda2_sum": lam, "kd_batches": 1}
        out[L.batches_key("kk")] = 1.0
        out[L.alpha_key("kk", "t/c1")], out[L.alpha_key("kk", "u/c2")] = kk_alpha, 1 - kk_alpha
        return [out]

    alog.begin_epoch(1)
    alog.add(update(0.2, 0.5))
    alog.add(update(0.4, 0.7))
    alog.begin_epoch(2)
    alog.add(update(0.9, 1.0))
    alog.write()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["epoch"], r["lang"]) for r in records] == [(1, "kk"), (2, "kk")]  # be: no batches
    assert math.isclose(records[0]["alpha"]["t/c1"], 0.3) and math.isclose(records[0]["lambda2"], 0.6)
    assert records[0]["batches"] == 2 and records[1]["alpha"]["u/c2"] == pytest.approx(0.1)
    resumed = L.AlphaLog(plan, path)  # a restart from the checkpoint at the end of epoch 1
    resumed.begin_epoch(2)
    resumed.add(update(0.5, 1.0))
    resumed.write()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["epoch"], r["alpha"]["t/c1"]) for r in records] == [(1, 0.3), (2, 0.5)]
    fresh = L.AlphaLog(plan, path)
    fresh.begin_epoch(1)  # a fresh start forgets the old records
    fresh.write()
    assert path.read_text() == ""


def test_summed_takes_floats_and_tensors():
    outs = [{"a": 1.0, "b": torch.tensor(2.0, dtype=torch.float64)}, {"a": torch.tensor(0.5), "c": 3}]
    assert L.summed(outs, ["a", "b", "c", "d"]) == {"a": 1.5, "b": 2.0, "c": 3.0, "d": 0.0}
