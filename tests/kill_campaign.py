"""A kill campaign: the tiny workflow, its whole process group killed with SIGKILL at N seeded random
moments across every training stage, ``snakemake --unlock`` and a rerun after each, then run to
completion; it passes when the final tables are byte-identical to an uninterrupted run's, a dry run
has nothing to do and every checkpoint loads.

    .venv/bin/python tests/kill_campaign.py --kills 20 [--seed 1] [--workdir DIR]   (make kill-campaign)

As a preemptible cluster meets it: an uninterrupted run of the whole DAG (the reference; the test
uses the session's ``tiny_run``), copied, its training outputs (teachers on) removed, then the
campaign on the copy. Kill i aims at one stage (the stages in pipeline order, spread over the N kills:
teachers, universal, teacher stores, assistants, assistant stores, student; the four training ones
only when N is below six): once a job of that stage has started, the kill comes after a random
fraction (0.05 to 1.1) of that stage's job time in the reference run, or, when the job ends first,
a random 0 to 0.5 s after its end (the moment Snakemake records it). Each kill's moment and the
jobs it interrupted (started, not finished) are printed, for the record.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TRAINING = ["train_teacher", "train_universal", "train_assistant", "train_student"]
STAGES = ["train_teacher", "train_universal", "teacher_store", "train_assistant", "assistant_store",
          "train_student"]
AFTER_CHECKPOINT = {"train_assistant", "assistant_store", "train_student"}  # known once `clusters` ran
CHECKPOINT_RULE = "clusters"
# what the campaign removes from the reference's copy: every training output and all that follows
REMOVED = ["teachers", "universal", "stores", "clustering", "assistants", "student", "eval", "tables"]
JOB_START = re.compile(r"^(local)?(rule|checkpoint) (\w+):$")
JOB_END = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)")
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def kill_targets(kills: int) -> list[str]:
    """The stage each kill aims at, in pipeline order, spread evenly over the kills."""
    stages = STAGES if kills >= len(STAGES) else TRAINING
    return [stages[i * len(stages) // kills] for i in range(kills)]


@dataclass
class Job:
    jobid: int
    rule: str
    wildcards: str = ""
    started: float = 0.0
    finished: float | None = None

    def name(self) -> str:
        return f"{self.rule}[{self.wildcards}]" if self.wildcards else self.rule


@dataclass
class Watcher:
    """Snakemake's output, read as it comes: the jobs started and finished, with times (`clock`)."""

    clock: object = time.monotonic
    jobs: dict[int, Job] = field(default_factory=dict)
    pending: set[str] | None = None  # the rules of the job stats Snakemake prints before it starts
    lines: list[str] = field(default_factory=list)
    _block: Job | None = None
    _stats: list[str] | None = None

    def feed(self, line: str, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        line = line.rstrip("\n")
        self.lines.append(line)
        if self._stats is not None:  # "Job stats:", a header, a rule, then "rule  count" rows, a blank
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] != "total":
                    self._stats.append(parts[0])
            elif not parts and self._stats:
                self.pending, self._stats = set(self._stats), None
            return
        if line.strip() == "Job stats:" and self.pending is None:
            self._stats = []
            return
        start = JOB_START.match(line)
        if start:
            self._block = Job(-1, start.group(3), started=now)
            return
        end = JOB_END.match(line)
        if end and int(end.group(1)) in self.jobs:
            self.jobs[int(end.group(1))].finished = now
            return
        if self._block is not None and line.startswith("    jobid: "):
            self._block.jobid = int(line.split(":", 1)[1])
            self.jobs[self._block.jobid] = self._block
        elif self._block is not None and line.startswith("    wildcards: "):
            self._block.wildcards = line.split(":", 1)[1].strip()
        elif not line.startswith("    "):
            self._block = None

    def running(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.finished is None]

    def of_rule(self, rule: str) -> list[Job]:
        return [j for j in self.jobs.values() if j.rule == rule]

    def may_still_run(self, rule: str) -> bool:
        """Whether this run has (or, behind the clusters checkpoint, may have) a job of `rule` left."""
        if self.pending is None:
            return True
        return rule in self.pending or (rule in AFTER_CHECKPOINT and CHECKPOINT_RULE in self.pending)


def job_seconds(logs: list[list[str]]) -> dict[str, float]:
    """{rule: median job time in s} from Snakemake logs (.snakemake/log/*.log, each a list of lines:
    a time stamp line before every job start and every job end; job ids are those of one log)."""
    seconds: dict[str, list[float]] = {}
    for lines in logs:
        watcher, stamp = Watcher(), 0.0
        for line in lines:
            m = STAMP.match(line.strip())
            if m:
                stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y").timestamp()
                continue
            watcher.feed(line, stamp)
        for job in watcher.jobs.values():
            if job.finished is not None:
                seconds.setdefault(job.rule, []).append(job.finished - job.started)
    return {rule: max(statistics.median(values), 1.0) for rule, values in seconds.items()}


def snakemake_cmd(workdir: Path, config: Path, *args: str) -> list[str]:
    return [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(config), *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PYTHONUNBUFFERED": "1"}


@dataclass
class Kill:
    number: int
    target: str
    campaign_s: float
    round_s: float
    interrupted: list[str]
    how: str


@dataclass
class Result:
    kills: list[Kill]
    rounds: int
    completed: bool
    table_diffs: list[str]
    nothing_to_do: bool
    checkpoints: int
    bad_checkpoints: list[str]
    seconds: float

    def ok(self) -> bool:
        return self.completed and not self.table_diffs and self.nothing_to_do and not self.bad_checkpoints

    def report(self) -> str:
        rows = ["kill  at_s    round_s  aimed_at          interrupted (started, not finished)  [moment]"]
        for k in self.kills:
            rows.append(f"{k.number:>4}  {k.campaign_s:>6.1f}  {k.round_s:>7.1f}  {k.target:<16}  "
                        f"{', '.join(k.interrupted) or '(none running)'}  [{k.how}]")
        rows.append(f"{len(self.kills)} kills, {self.rounds} runs, {self.seconds:.0f} s; final run completed: "
                    f"{self.completed}; tables identical to the uninterrupted run's: {not self.table_diffs}"
                    f"{' ' + str(self.table_diffs) if self.table_diffs else ''}; snakemake -n nothing to do: "
                    f"{self.nothing_to_do}; checkpoints loadable: {self.checkpoints - len(self.bad_checkpoints)}"
                    f"/{self.checkpoints}{' ' + str(self.bad_checkpoints) if self.bad_checkpoints else ''}")
        return "\n".join(rows)


def strip_training(reference: Path, workdir: Path) -> None:
    """A copy of the finished reference run without its training outputs and all that follows."""
    shutil.copytree(reference, workdir, symlinks=True, ignore=shutil.ignore_patterns("locks", "conda", "incomplete"))
    for name in REMOVED:
        shutil.rmtree(workdir / "results" / name, ignore_errors=True)


def kill_moment(watcher: Watcher, plan: tuple[str, float, float, float], seconds: dict[str, float],
                round_start: float) -> tuple[float | None, str]:
    """When to kill this run (a monotonic time, or None: not yet known), and how that moment was chosen."""
    target, fraction, after_end, fallback = plan
    jobs = watcher.of_rule(target)
    if jobs:
        first = min(jobs, key=lambda j: j.started)
        at, how = first.started + fraction * seconds.get(target, 10.0), f"{fraction:.2f} of a {target} job's time"
        if first.finished is not None and first.finished + after_end < at:
            at, how = first.finished + after_end, f"{after_end:.2f} s after a {target} job ended"
        return at, how
    if not watcher.may_still_run(target):
        return round_start + fallback, f"{fallback:.1f} s into the run ({target}: nothing left)"
    return None, ""


def group_gone(pgid: int, timeout: float = 10.0) -> bool:
    """Whether every process of the group has ended (zombies count as ended), within `timeout` s."""
    import psutil

    def alive() -> list:
        members = []
        for proc in psutil.process_iter(["status"]):
            try:
                if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    members.append(proc)
            except (ProcessLookupError, psutil.Error):
                continue
        return members

    deadline = time.monotonic() + timeout
    while alive():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def one_round(workdir: Path, config: Path, plan: tuple[str, float, float, float] | None,
              seconds: dict[str, float], started: float, out) -> tuple[int | None, Kill | None]:
    """Run the workflow once; with a plan (target, fraction, after-end delay, fallback delay), kill its
    whole process group as planned. Returns (exit code, or None when killed; the kill)."""
    proc = subprocess.Popen(snakemake_cmd(workdir, config, "--cores", "2", "--rerun-incomplete"),
                            env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its own process group: snakemake, shells, jobs
    watcher = Watcher()
    reader = threading.Thread(target=lambda: [watcher.feed(line) for line in proc.stdout], daemon=True)
    reader.start()
    round_start = time.monotonic()
    while plan is not None and proc.poll() is None:
        at, how = kill_moment(watcher, plan, seconds, round_start)
        now = time.monotonic()
        if at is not None and now >= at:
            interrupted = [j.name() for j in sorted(watcher.running(), key=lambda j: j.jobid)]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            reader.join(timeout=10)
            if not group_gone(proc.pid):
                how += "; some of its processes outlived the kill"
            return None, Kill(0, plan[0], now - started, now - round_start, interrupted, how)
        time.sleep(0.05)
    code = proc.wait()
    reader.join(timeout=30)
    if code:
        out.write("\n".join(watcher.lines[-60:]) + "\n")
    return code, None


def verify(workdir: Path, reference: Path, config: Path) -> tuple[list[str], bool, int, list[str]]:
    import torch

    diffs = []
    for ref in sorted((reference / "results" / "tables").iterdir()):
        mine = workdir / "results" / "tables" / ref.name
        if not mine.is_file() or mine.read_bytes() != ref.read_bytes():
            diffs.append(ref.name)
    dry = subprocess.run(snakemake_cmd(workdir, config, "-n"), env=environment(), capture_output=True, text=True)
    nothing = dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
    checkpoints, bad = sorted((workdir / "results").rglob("*.pt")), []
    for path in checkpoints:
        try:
            torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:  # noqa: BLE001 - any failure to load is the finding
            bad.append(f"{path.relative_to(workdir)}: {err}")
    return diffs, nothing, len(checkpoints), bad


def run_campaign(reference: Path, workdir: Path, kills: int, seed: int = 1, out=sys.stdout) -> Result:
    """The campaign on a stripped copy of the finished `reference` run (see the module docstring)."""
    config = workdir / "tiny.yaml"
    strip_training(reference, workdir)
    logs = sorted((reference / ".snakemake" / "log").glob("*.log"))
    seconds = job_seconds([log.read_text().splitlines() for log in logs])
    rng = random.Random(seed)
    plans = [(target, rng.uniform(0.05, 1.1), rng.uniform(0.0, 0.5), rng.uniform(1.0, 15.0))
             for target in kill_targets(kills)]
    started, done, rounds, completed = time.monotonic(), [], 0, False
    for plan in plans:
        code, kill = one_round(workdir, config, plan, seconds, started, out)
        rounds += 1
        if kill is None:  # it finished before the kill came
            completed = code == 0
            out.write(f"run {rounds} ended (exit {code}) before kill {len(done) + 1}\n")
            break
        kill.number = len(done) + 1
        done.append(kill)
        out.write(f"kill {kill.number}: {kill.campaign_s:.1f} s, aimed at {kill.target} ({kill.how}); "
                  f"interrupted {', '.join(kill.interrupted) or 'nothing running'}\n")
        out.flush()
        subprocess.run(snakemake_cmd(workdir, config, "--unlock"), env=environment(), capture_output=True,
                       check=True)
    else:
        code, _ = one_round(workdir, config, None, seconds, started, out)
        rounds += 1
        completed = code == 0
    diffs, nothing, count, bad = verify(workdir, reference, config)
    return Result(done, rounds, completed, diffs, nothing, count, bad, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a new temporary folder")
    parser.add_argument("--reference", type=Path, default=None,
                        help="a finished uninterrupted run of the tiny config (default: run one first)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import link_code, tiny_config, write_config

    import tempfile

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hkd-kill-campaign-"))
    print(f"kill campaign in {workdir}: {args.kills} kills, seed {args.seed}", flush=True)
    reference = args.reference
    if reference is None:
        reference = workdir / "reference"
        reference.mkdir(parents=True)
        link_code(reference)  # as the tests' tiny run: code inputs by paths that survive the copy
        config = write_config(reference / "tiny.yaml", tiny_config())
        print(f"uninterrupted reference run in {reference} ...", flush=True)
        subprocess.run(snakemake_cmd(reference, config, "--cores", "2"), env=environment(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = run_campaign(reference, workdir / "campaign", args.kills, args.seed)
    print(result.report())
    return 0 if result.ok() and len(result.kills) == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
