"""Benchmark (prints figures; not a test): where a finished workflow run's time went, per rule.

    python bench/demo_time.py [--directory .] [--log .snakemake/log/<run>.snakemake.log] [--cores 2]

Reads Snakemake's own log of the run (default: the newest under DIRECTORY/.snakemake/log that ran a
job, not the report's run after it): each job's
start ("[time]" then "rule NAME:" or "localrule NAME:" with its "jobid: N") and end ("[time]" then
"Finished jobid: N (Rule: NAME)"), to the second. Where a rule has Snakemake benchmark files
(DIRECTORY/benchmarks/<rule>/..., column ``s``), their seconds replace the log's, which round to
whole seconds and include Snakemake's start-up of the job.

Prints one row per rule: jobs, job-seconds, share of all job-seconds, mean seconds a job, and the CPU
seconds its benchmark files measured (``cpu_time``; "-" without them); then the
run's wall time (first start to last finish), the job-seconds over wall time (how many cores were
busy on average, at most --cores), and the seconds during which no job ran (Snakemake's own work:
DAG building, the checkpoint's re-evaluation). Jobs that started and never finished (a killed run)
are counted apart and named. Last, the CPU seconds of the benchmarked rules over --cores: the least
wall time those jobs need on that many idle cores, whatever ran beside them (a run that shared its
cores has meaningless wall seconds, but its jobs' CPU seconds still measure their work).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


@dataclass
class Job:
    rule: str
    start: datetime
    end: datetime | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds() if self.end else 0.0


def parse_log(text: str) -> dict[int, Job]:
    """{jobid: Job} from a Snakemake log (9.x format)."""
    jobs: dict[int, Job] = {}
    stamp = pending = None
    for number, line in enumerate(text.splitlines(), start=1):
        if m := STAMP.match(line):
            stamp = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif m := START.match(line):
            if stamp is None:
                raise ValueError(f"line {number}: a job starts before any time stamp")
            pending = (m.group(1), stamp)
        elif (m := JOBID.match(line)) and pending:
            jobs[int(m.group(1))] = Job(pending[0], pending[1])
            pending = None
        elif m := FINISHED.match(line):
            job = jobs.get(int(m.group(1)))
            if job is None or job.rule != m.group(2):
                raise ValueError(f"line {number}: job {m.group(1)} ({m.group(2)}) finished but never started")
            job.end = stamp
    return jobs


def benchmark_seconds(folder: Path, column: str = "s") -> dict[str, list[float]]:
    """{rule: [`column` of each job]} from Snakemake's benchmark files (benchmarks/<rule>[/...].tsv):
    ``s`` wall seconds, ``cpu_time`` CPU seconds."""
    out: dict[str, list[float]] = defaultdict(list)
    for path in sorted(folder.rglob("*.tsv")) if folder.is_dir() else []:
        rule = path.relative_to(folder).parts[0].removesuffix(".tsv")
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                if row.get(column) not in (None, ""):  # older files: no cpu_time
                    out[rule].append(float(row[column]))
    return dict(out)


def busy_seconds(jobs: list[Job]) -> float:
    """Seconds during which at least one job ran (the union of the jobs' intervals)."""
    total, end = 0.0, None
    for job in sorted(jobs, key=lambda j: j.start):
        if end is None or job.start > end:
            total += (job.end - job.start).total_seconds()
            end = job.end
        elif job.end > end:
            total += (job.end - end).total_seconds()
            end = job.end
    return total


def breakdown(jobs: dict[int, Job], benchmarks: dict[str, list[float]]) -> list[tuple[str, int, float, str]]:
    """(rule, jobs, seconds, source) per rule, the most seconds first; source 'benchmark' or 'log'."""
    by_rule: dict[str, list[Job]] = defaultdict(list)
    for job in jobs.values():
        if job.end is not None:
            by_rule[job.rule].append(job)
    rows = []
    for rule, done in by_rule.items():
        bench = benchmarks.get(rule)
        if bench and len(bench) == len(done):
            rows.append((rule, len(done), sum(bench), "benchmark"))
        else:
            rows.append((rule, len(done), sum(j.seconds for j in done), "log"))
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def report(jobs: dict[int, Job], benchmarks: dict[str, list[float]], cores: int,
           cpu: dict[str, list[float]] | None = None) -> str:
    rows = breakdown(jobs, benchmarks)
    total = sum(r[2] for r in rows) or 1.0
    cpu = cpu or {}
    lines = [f"{'rule':<22}{'jobs':>6}{'seconds':>10}{'share':>8}{'s/job':>8}{'cpu_s':>9}  source"]
    for rule, n, seconds, source in rows:
        cpu_s = f"{sum(cpu[rule]):.1f}" if rule in cpu else "-"
        lines.append(f"{rule:<22}{n:>6}{seconds:>10.1f}{100 * seconds / total:>7.1f}%{seconds / n:>8.1f}"
                     f"{cpu_s:>9}  {source}")
    done = [j for j in jobs.values() if j.end is not None]
    lines.append(f"{'total':<22}{len(done):>6}{total:>10.1f}{100.0:>7.1f}%")
    if done:
        wall = (max(j.end for j in done) - min(j.start for j in done)).total_seconds()
        busy = busy_seconds(done)
        lines.append(f"wall time {wall:.0f} s ({wall / 60:.1f} min); job-seconds / wall {total / max(wall, 1):.2f} "
                     f"of {cores} cores; no job running for {wall - busy:.0f} s")
    if cpu:
        cpu_total = sum(sum(v) for v in cpu.values())
        lines.append(f"CPU seconds of the benchmarked rules ({', '.join(sorted(cpu))}): {cpu_total:.0f}; on {cores} "
                     f"idle cores at least {cpu_total / cores:.0f} s ({cpu_total / cores / 60:.1f} min)")
    unfinished = sorted(f"{j.rule}#{i}" for i, j in jobs.items() if j.end is None)
    if unfinished:
        lines.append(f"{len(unfinished)} jobs started and never finished: {', '.join(unfinished)}")
    return "\n".join(lines) + "\n"


def newest_log(directory: Path) -> Path:
    """The newest log of a run that ran jobs: `make demo` ends with the report's run, which runs none."""
    logs = sorted((directory / ".snakemake" / "log").glob("*.snakemake.log"))  # named by their start time
    if not logs:
        raise FileNotFoundError(f"{directory / '.snakemake' / 'log'}: no Snakemake log; run the workflow first")
    return next((log for log in reversed(logs) if parse_log(log.read_text(encoding="utf-8"))), logs[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, default=Path("."), help="the run's working directory")
    parser.add_argument("--log", type=Path, help="Snakemake's log of the run (default: the newest that ran a job)")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args(argv)
    log = args.log or newest_log(args.directory)
    jobs = parse_log(log.read_text(encoding="utf-8"))
    print(f"{log}: {len(jobs)} jobs")
    folder = args.directory / "benchmarks"
    print(report(jobs, benchmark_seconds(folder), args.cores, benchmark_seconds(folder, "cpu_time")), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
