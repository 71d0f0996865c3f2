"""Tests of hkd.selective (Algorithm 1's KD switch, on constructed dev scores) and hkd.sampling."""
import json

import numpy as np
import pytest

from hkd import sampling, selective as S

TEACHER = {"kk": 10.0, "be": 20.0, "uk": 30.0}


def test_flags_follow_algorithm_1():
    # on while assistant < teacher + tau; off when ahead by tau or more
    flags = S.kd_flags({"kk": 10.9, "be": 21.0, "uk": 35.0}, TEACHER, tau=1.0)
    assert flags == {"kk": True, "be": False, "uk": False}
    assert S.kd_flags({"kk": 9.0, "be": 19.0, "uk": 30.9}, TEACHER, tau=1.0) == dict.fromkeys(TEACHER, True)
    # tau 0: off as soon as the assistant matches the teacher; negative tau: off before it does
    assert S.kd_flags({"kk": 10.0, "be": 19.9, "uk": 29.0}, TEACHER, tau=0.0) == {"kk": False, "be": True, "uk": True}
    assert S.kd_flags({"kk": 9.5, "be": 18.0, "uk": 29.0}, TEACHER, tau=-1.0) == {"kk": False, "be": True, "uk": False}


def test_flags_switch_back_on_when_the_assistant_falls_behind():
    ahead = S.kd_flags({"kk": 12.0, "be": 25.0, "uk": 40.0}, TEACHER, 1.0)
    assert not any(ahead.values())
    behind = S.kd_flags({"kk": 10.5, "be": 25.0, "uk": 20.0}, TEACHER, 1.0, previous=ahead)
    assert behind == {"kk": True, "be": False, "uk": True}


def test_language_without_score_keeps_its_flag():
    previous = {"kk": False, "be": True, "uk": False}
    assert S.kd_flags({"be": 50.0}, TEACHER, 1.0, previous) == {"kk": False, "be": False, "uk": False}
    with pytest.raises(KeyError, match="no teacher dev BLEU"):
        S.kd_flags({"xx": 1.0}, TEACHER, 1.0, {"xx": True})


@pytest.mark.parametrize("finished,interval,expected", [
    (0, 1, False), (1, 1, True), (2, 1, True), (1, 3, False), (3, 3, True), (6, 3, True), (7, 3, False),
    (5, 0, False)])
def test_check_boundaries(finished, interval, expected):
    assert S.is_check_boundary(finished, interval) is expected


def run_schedule(bleu_after_epoch, interval=1, tau=1.0, epochs=5, state=None):
    """Drive the state machine as the task does; bleu_after_epoch[e] = assistant BLEU after epoch e."""
    state = state or S.new_state(list(TEACHER), tau, interval)
    state.teacher_bleu = dict(TEACHER)
    for epoch in range(1, epochs + 1):
        scores = bleu_after_epoch[epoch - 1] if S.needs_check(state, epoch) else None
        state = S.begin_epoch(state, epoch, scores)
    return state


def test_schedule_over_epochs():
    bleu = {1: {"kk": 5, "be": 25, "uk": 1}, 2: {"kk": 12, "be": 19, "uk": 2},
            3: {"kk": 12, "be": 19, "uk": 2}, 4: {"kk": 8, "be": 21.5, "uk": 3}}
    state = run_schedule(bleu, epochs=5)
    kk = [r["kd"] for r in state.history if r["lang"] == "kk"]
    be = [r["kd"] for r in state.history if r["lang"] == "be"]
    assert kk == [True, True, False, False, True]  # all on in epoch 1; off after epoch 2; on after 4
    assert be == [True, False, True, True, False]
    assert all(r["kd"] for r in state.history if r["lang"] == "uk")
    first = state.records(1)
    assert all(not r["checked"] and r["assistant_bleu"] is None for r in first)
    assert [r["assistant_bleu"] for r in state.records(3)] == [12, 19, 2]


def test_interval_keeps_flags_between_checks():
    bleu = {e: {"kk": 50, "be": 50, "uk": 50} for e in range(1, 7)}
    state = run_schedule(bleu, interval=3, epochs=6)
    kk = [r["kd"] for r in state.history if r["lang"] == "kk"]
    assert kk == [True, True, True, False, False, False]  # the first check is after epoch 3
    assert [r["epoch"] for r in state.history if r["checked"]] == [4, 4, 4]


def test_restart_reuses_a_check_and_rewinds(tmp_path):
    bleu = {1: {"kk": 50, "be": 0, "uk": 0}, 2: {"kk": 0, "be": 50, "uk": 0}, 3: {"kk": 0, "be": 0, "uk": 50}}
    state = run_schedule(bleu, epochs=4)
    path = tmp_path / "state.json"
    S.save_state(state, path)
    loaded = S.load_state(path, list(TEACHER), 1.0, 1)
    assert loaded == state
    # a restart at the start of epoch 4 (same boundary): no new check, same flags
    assert not S.needs_check(loaded, 4)
    assert S.begin_epoch(loaded, 4, None).history == state.history
    # a restart from the checkpoint of epoch 2 (later epochs lost): history rewinds, the check is redone
    rewound = S.begin_epoch(loaded, 3, None)
    assert max(r["epoch"] for r in rewound.history) == 3
    rewound = S.begin_epoch(S.SelectiveState(loaded.langs, 1.0, 1, dict(TEACHER),
                                             [r for r in loaded.history if r["epoch"] <= 2]), 3, bleu[2])
    assert rewound.flags_at(3) == {"kk": True, "be": False, "uk": True}


def test_state_file_refuses_other_settings(tmp_path):
    path = tmp_path / "state.json"
    S.save_state(S.new_state(["kk", "be"], 1.0, 1), path)
    with pytest.raises(ValueError, match="langs"):
        S.load_state(path, ["kk", "uk"], 1.0, 1)
    with pytest.raises(ValueError, match="tau"):
        S.load_state(path, ["kk", "be"], 2.0, 1)
    path.write_text("{}")
    with pytest.raises(ValueError, match="not a selective-KD state"):
        S.load_state(path)


def test_log_is_one_record_per_epoch_and_language(tmp_path):
    state = run_schedule({e: {"kk": 50, "be": 0, "uk": 0} for e in range(1, 4)}, epochs=3)
    out = tmp_path / "log.jsonl"
    S.write_log(state, out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["epoch"], r["lang"]) for r in records] == [(e, lang) for e in (1, 2, 3) for lang in TEACHER]
    S.save_state(state, tmp_path / "s.json")
    assert S.main(["--state", str(tmp_path / "s.json"), "--log", str(tmp_path / "again.jsonl")]) == 0
    assert (tmp_path / "again.jsonl").read_text() == out.read_text()


def test_check_needs_teacher_scores_and_every_language():
    state = S.new_state(["kk", "be"], 1.0, 1)
    with pytest.raises(ValueError, match="teachers' dev BLEU"):
        S.begin_epoch(state, 2, {"kk": 1.0, "be": 1.0})
    state.teacher_bleu = {"kk": 1.0, "be": 1.0}
    with pytest.raises(KeyError, match="be"):
        S.begin_epoch(state, 2, {"kk": 1.0})


# ------------------------------------------------------------------------------------ sampling

def test_upsampled_sizes():
    assert sampling.upsampled_sizes([1000, 10], 1.0) == [1000, 10]  # T = 1: proportional
    sizes = sampling.upsampled_sizes([1000, 100, 10], 5.0)
    assert sizes[0] == 1000 and sizes[1] == round(1000 * 0.1 ** 0.2) and sizes[2] == round(1000 * 0.01 ** 0.2)
    assert all(m >= n for m, n in zip(sizes, [1000, 100, 10]))
    big_t = sampling.upsampled_sizes([1000, 10], 1e9)
    assert big_t[1] == pytest.approx(1000, rel=1e-6)  # T -> inf: uniform
    assert sampling.upsampled_sizes([5, 0], 5.0) == [5, 0]
    with pytest.raises(ValueError):
        sampling.upsampled_sizes([5], 0.5)


def test_upsample_indices_cover_every_sentence():
    rng = np.random.default_rng(0)
    idx = sampling.upsample_indices(10, 25, rng)
    counts = np.bincount(idx, minlength=10)
    assert len(idx) == 25 and counts.min() == 2 and counts.max() == 3 and (counts == 3).sum() == 5
    assert np.array_equal(sampling.upsample_indices(4, 4, rng), np.arange(4))
    assert sampling.main(["--sizes", "kk=10", "tr=1000", "--temperature", "5"]) == 0
