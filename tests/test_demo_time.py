"""The demo's time breakdown (bench/demo_time.py) on a hand-made Snakemake log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import demo_time  # noqa: E402

LOG = """Building DAG of jobs...
[Tue Dec  1 23:24:58 2026]
localrule synthetic_corpus:
    output: results/corpus/synthetic/all_talks_train.tsv
    jobid: 6
[Tue Dec  1 23:25:00 2026]
Finished jobid: 6 (Rule: synthetic_corpus)
[Tue Dec  1 23:25:05 2026]
localrule train_teacher:
    jobid: 7
    wildcards: lang=na
[Tue Dec  1 23:25:05 2026]
rule train_teacher:
    jobid: 8
[Tue Dec  1 23:25:45 2026]
Finished jobid: 7 (Rule: train_teacher)
[Tue Dec  1 23:25:55 2026]
Finished jobid: 8 (Rule: train_teacher)
[Tue Dec  1 23:25:56 2026]
localcheckpoint clusters:
    jobid: 9
"""


def test_jobs_rules_and_idle_time(tmp_path):
    jobs = demo_time.parse_log(LOG)
    assert {i: (j.rule, j.seconds) for i, j in jobs.items()} == {
        6: ("synthetic_corpus", 2.0), 7: ("train_teacher", 40.0), 8: ("train_teacher", 50.0), 9: ("clusters", 0.0)}
    assert demo_time.breakdown(jobs, {}) == [("train_teacher", 2, 90.0, "log"), ("synthetic_corpus", 1, 2.0, "log")]
    done = [j for j in jobs.values() if j.end]
    assert demo_time.busy_seconds(done) == 2 + 50  # 23:24:58-23:25:00 and 23:25:05-23:25:55
    text = demo_time.report(jobs, {}, 2)
    assert "wall time 57 s" in text and "no job running for 5 s" in text
    assert "1 jobs started and never finished: clusters#9" in text
    bench = tmp_path / "benchmarks" / "train_teacher"
    bench.mkdir(parents=True)
    for lang, s in (("na", 39.5), ("nb", 48.25)):
        (bench / f"{lang}.tsv").write_text(f"s\th:m:s\tmax_rss\n{s}\t0:00:39\t100\n")
    benchmarks = demo_time.benchmark_seconds(tmp_path / "benchmarks")
    assert demo_time.breakdown(jobs, benchmarks)[0] == ("train_teacher", 2, 87.75, "benchmark")
    assert demo_time.benchmark_seconds(tmp_path / "benchmarks", "cpu_time") == {}  # no such column


def test_cpu_seconds_give_the_least_wall_time_on_idle_cores(tmp_path):
    """A run that shared its cores: wall seconds inflated, CPU seconds (cpu_time) still the work."""
    jobs = demo_time.parse_log(LOG)
    bench = tmp_path / "benchmarks" / "train_teacher"
    bench.mkdir(parents=True)
    for lang, s, cpu in (("na", 39.5, 30.0), ("nb", 48.25, 50.0)):
        (bench / f"{lang}.tsv").write_text(f"s\th:m:s\tcpu_time\n{s}\t0:00:39\t{cpu}\n")
    cpu = demo_time.benchmark_seconds(tmp_path / "benchmarks", "cpu_time")
    assert cpu == {"train_teacher": [30.0, 50.0]}
    text = demo_time.report(jobs, demo_time.benchmark_seconds(tmp_path / "benchmarks"), 2, cpu)
    assert "CPU seconds of the benchmarked rules (train_teacher): 80; on 2 idle cores at least 40 s" in text
    assert [line.split()[5] for line in text.splitlines() if line.startswith("train_teacher")] == ["80.0"]


def test_a_job_finished_but_never_started_is_an_error():
    with pytest.raises(ValueError, match="line 2: job 3 .x. finished but never started"):
        demo_time.parse_log("[Tue Dec  1 23:24:58 2026]\nFinished jobid: 3 (Rule: x)\n")


def test_the_default_log_is_the_newest_run_that_ran_jobs(tmp_path):
    """`make demo` runs the report last: its log has no job and must not hide the run's."""
    logs = tmp_path / ".snakemake" / "log"
    logs.mkdir(parents=True)
    (logs / "2026-12-02T195525.1.snakemake.log").write_text(LOG)
    (logs / "2026-12-02T203833.2.snakemake.log").write_text("Building DAG of jobs...\nNothing to be done.\n")
    assert demo_time.newest_log(tmp_path).name.startswith("2026-12-02T195525")
    (logs / "2026-12-02T203833.2.snakemake.log").unlink()
    (logs / "2026-12-02T100000.0.snakemake.log").write_text("Nothing to be done.\n")
    assert demo_time.newest_log(tmp_path).name.startswith("2026-12-02T195525")
