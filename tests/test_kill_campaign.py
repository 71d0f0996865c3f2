"""The kill campaign (tests/kill_campaign.py): its parsing of Snakemake's output on hand-made lines, and
the campaign itself on the tiny workflow (N = 5 here; HKD_KILLS=20, or `make kill-campaign`, for more).
"""

from __future__ import annotations

import os

import pytest

import kill_campaign as KC

LOG = """Building DAG of jobs...
Job stats:
job              count
-------------  -------
all                  1
clusters             1
train_teacher        2
total                4

Select jobs to execute...
[Tue Dec  1 23:59:00 2026]
localrule train_teacher:
    input: results/data/bin/na/train.na-en.na
    output: results/teachers/na/checkpoint_best.pt, results/teachers/na/curve.jsonl
    jobid: 7
    wildcards: lang=na
    resources: tmpdir=/tmp

[Tue Dec  1 23:59:02 2026]
rule train_teacher:
    output: results/teachers/nb/checkpoint_best.pt
    jobid: 8
    wildcards: lang=nb

[Tue Dec  1 23:59:30 2026]
Finished jobid: 7 (Rule: train_teacher)
1 of 4 steps (25%) done
"""


def test_the_watcher_reads_job_starts_ends_and_stats():
    watcher = KC.Watcher()
    for t, line in enumerate(LOG.splitlines()):
        watcher.feed(line, float(t))
    assert watcher.pending == {"all", "clusters", "train_teacher"}
    assert [j.name() for j in watcher.running()] == ["train_teacher[lang=nb]"]
    assert watcher.jobs[7].finished is not None and watcher.jobs[7].wildcards == "lang=na"
    assert watcher.may_still_run("train_student")  # behind the clusters checkpoint
    assert not watcher.may_still_run("train_universal")
    assert KC.job_seconds([LOG.splitlines()]) == {"train_teacher": 30.0}  # from the time stamps


def test_kills_aim_at_every_training_stage_in_pipeline_order():
    assert KC.kill_targets(5) == ["train_teacher", "train_teacher", "train_universal", "train_assistant",
                                  "train_student"]
    targets = KC.kill_targets(20)
    assert set(targets) == set(KC.STAGES) and sorted(targets, key=KC.STAGES.index) == targets


def test_kill_moment_follows_the_target_job():
    watcher = KC.Watcher()
    for t, line in enumerate(LOG.splitlines()):
        watcher.feed(line, float(t))
    started = watcher.jobs[7].started
    at, how = KC.kill_moment(watcher, ("train_teacher", 0.5, 0.2, 3.0), {"train_teacher": 1000.0}, 0.0)
    assert at == watcher.jobs[7].finished + 0.2 and "ended" in how  # the job ended before half its time
    at, _ = KC.kill_moment(watcher, ("train_teacher", 0.5, 0.2, 3.0), {"train_teacher": 2.0}, 0.0)
    assert at == started + 1.0
    assert KC.kill_moment(watcher, ("train_universal", 0.5, 0.2, 3.0), {}, 100.0)[0] == 103.0  # none left
    assert KC.kill_moment(watcher, ("train_student", 0.5, 0.2, 3.0), {}, 0.0) == (None, "")  # not yet


@pytest.mark.slow
def test_kill_campaign_every_run_completes_with_the_uninterrupted_tables(tiny_run, tmp_path):
    kills = int(os.environ.get("HKD_KILLS", "5"))
    result = KC.run_campaign(tiny_run, tmp_path / "campaign", kills, seed=int(os.environ.get("HKD_KILL_SEED", "1")))
    print(result.report())
    assert len(result.kills) == kills, result.report()
    assert result.ok(), result.report()
