"""The workflow on a real SLURM cluster: every job goes through sbatch, the results equal those of a
local run, and a training job stopped at its time limit is retried and resumes from its checkpoint.

    python -m pytest -m slurm tests/test_slurm.py -s     # as root; about 7 minutes on 2 cores
    HKD_SLURM_TEST_TARGETS=all python -m pytest ...      # the whole DAG instead of the teachers' part

The session fixture `cluster` starts a one-node cluster on 127.0.0.1 with tests/slurm/start-slurm.sh
(slurmctld, slurmd, slurmdbd with MariaDB, munge; apt-get installs them when missing) in a temporary
folder, and stops it by pid at the end, also after a failure. The cluster tests skip, saying why,
where they cannot run (not root; neither SLURM nor apt-get). The profile checks need no cluster.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from conftest import BIN, ROOT, tiny_config, write_config

SLURM_SCRIPTS = ROOT / "tests" / "slurm"
PROFILE = ROOT / "profiles" / "slurm-test"
LANGS = tiny_config()["languages"][:2]  # the languages whose teachers the SLURM runs train
# What the SLURM runs build: by default two teachers' part of the DAG (corpus, extraction, BPE,
# dictionary, binarization, teacher training, evaluation): every kind of job, a GPU rule among them,
# in a few minutes. The whole DAG runs locally in tests/test_workflow.py; on SLURM it grows with every
# stage, so it runs here only when asked (HKD_SLURM_TEST_TARGETS=all, or a space-separated list).
TARGETS = os.environ.get("HKD_SLURM_TEST_TARGETS", " ".join(f"results/eval/teacher/{lang}.json" for lang in LANGS)).split()
# seconds of training the retried teacher needs (test_timed_out...): over the 60-90 s after which
# SLURM stops a job with a 1-minute limit, well under the 15 minutes of its second attempt
RESUME_WORK_S = 150
# curve fields that measure time, not the model
TIMING_KEYS = {"wall", "train_wall", "train_train_wall", "wps", "ups", "train_wps", "train_ups", "valid_wps"}


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root: starts slurmctld, slurmd, slurmdbd, munged and MariaDB as root"
    have_slurm = all(Path(p).exists() for p in ("/usr/sbin/slurmctld", "/usr/sbin/slurmdbd", "/usr/bin/sbatch"))
    if not have_slurm and shutil.which("apt-get") is None:
        return "SLURM is not installed and apt-get is not available to install it"
    return None


def clean_env() -> dict[str, str]:
    """This process's environment with the venv first on PATH (sbatch --export=ALL hands it to the
    jobs, which run `python -m hkd...`) and no SLURM_* variables from an enclosing job or cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(cmd: list[str], log: Path, timeout: float, cwd: Path | None = None, env=None) -> tuple[int, str]:
    """Run cmd in its own process group, output to `log`; on timeout stop the group (Snakemake
    cancels its SLURM jobs on SIGTERM), then fail with the log's tail."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                env=env or clean_env(), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            pytest.fail(f"timed out after {timeout:.0f} s: {' '.join(map(str, cmd))}\n{log.read_text()[-4000:]}")
    return proc.returncode, log.read_text()


def snakemake(workdir: Path, *args: str, log_name: str, timeout: float = 600) -> tuple[int, str, float]:
    """Build TARGETS in workdir (first on the command line: --configfile takes several values)."""
    cmd = [str(BIN / "snakemake"), *TARGETS, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           *args]
    t0 = time.monotonic()
    rc, output = run(cmd, workdir / log_name, timeout)
    return rc, output, time.monotonic() - t0


def jobs_of(snakemake_output: str) -> tuple[Counter, Counter]:
    """The jobs a run printed, as the SLURM plugin names them in the sbatch comment:
    `rule_<rule>[_wildcards_<v1>_<v2>]`; (jobs submitted, jobs run on this host (`localrule`))."""
    remote, local = Counter(), Counter()
    name, is_local = None, False
    for line in snakemake_output.splitlines() + ["rule end:"]:
        if m := re.match(r"^(local)?rule (\w+):$", line):
            if name:
                (local if is_local else remote)[name] += 1
            name, is_local = f"rule_{m.group(2)}", bool(m.group(1))
        elif name and (m := re.match(r"^\s+wildcards: (.*)$", line)):
            name += "_wildcards_" + "_".join(kv.split("=", 1)[1] for kv in m.group(1).split(", "))
    return remote, local


def sacct(run_id: str, since: datetime) -> list[dict]:
    """The jobs of one Snakemake run (the plugin names every job after the run id), oldest first."""
    fields = ["JobID", "JobName", "State", "Elapsed", "Timelimit", "Comment"]
    out = subprocess.run(
        ["sacct", "-X", "-P", "-n", "--name", run_id, "-S", since.strftime("%Y-%m-%dT%H:%M:%S"),
         f"--format={','.join(fields)}"],
        capture_output=True, text=True, timeout=60, check=True, env=clean_env()).stdout
    return [dict(zip(fields, line.split("|"))) for line in out.splitlines() if line]


def run_id(snakemake_output: str) -> str:
    m = re.search(r"SLURM run ID: (\S+)", snakemake_output)
    assert m, "no 'SLURM run ID' in Snakemake's output: did it use the slurm executor?"
    return m.group(1)


def curve(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def without_timing(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]


def model_parameters(path: Path) -> dict:
    import torch

    state = torch.load(path, map_location="cpu", weights_only=False)["model"]
    # fairseq's sinusoidal position embeddings carry an uninitialised 1-element buffer
    # (`_float_tensor`, only used for its dtype and device): its bytes differ between any two runs
    return {k: v for k, v in state.items() if not k.endswith("_float_tensor")}


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A one-node SLURM cluster for the session: {state, startup_s, phases, since}."""
    if reason := skip_reason():
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm-state")
    env = {**clean_env(), "STATE_DIR": str(state)}
    since = datetime.now() - timedelta(minutes=5)
    t0 = time.monotonic()
    try:
        # up to 15 min of waiting for another session's test cluster on this machine (WAIT_OTHER)
        start = subprocess.run([str(SLURM_SCRIPTS / "start-slurm.sh")], env=env, capture_output=True,
                               text=True, timeout=1800)
        startup_s = time.monotonic() - t0
        if start.returncode != 0:  # in CI (root) this must run: a failure to start is a failure
            pytest.fail(f"start-slurm.sh failed ({start.returncode}):\n{start.stderr[-4000:]}")
        phases = dict(line.split("\t") for line in (state / "startup.tsv").read_text().splitlines()[1:])
        print(f"\nSLURM test cluster up in {startup_s:.1f} s: {phases}")
        yield {"state": state, "startup_s": startup_s, "phases": phases, "since": since}
    finally:
        subprocess.run([str(SLURM_SCRIPTS / "stop-slurm.sh")], env=env, capture_output=True, timeout=180)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    """The tiny config of tests/conftest.py with 6-epoch teachers (enough to time an epoch)."""
    config = tiny_config()
    config["teacher"]["default"]["max_epoch"] = 6
    return write_config(tmp_path_factory.mktemp("config") / "tiny.yaml", config)


@pytest.fixture(scope="session")
def local_run(tmp_path_factory, tiny):
    workdir = tmp_path_factory.mktemp("local")
    rc, output, seconds = snakemake(workdir, "--configfile", str(tiny), "--cores", "2", log_name="snakemake.log")
    assert rc == 0, output[-4000:]
    print(f"\nsnakemake --cores 2 (local): {seconds:.0f} s")
    return {"dir": workdir, "output": output, "seconds": seconds}


@pytest.fixture(scope="session")
def slurm_run(tmp_path_factory, tiny, cluster):
    workdir = tmp_path_factory.mktemp("slurm")
    rc, output, seconds = snakemake(workdir, "--profile", str(PROFILE), "--configfile", str(tiny),
                                    log_name="snakemake.log", timeout=900)
    print(f"\nsnakemake --profile profiles/slurm-test: exit {rc} after {seconds:.0f} s")
    return {"dir": workdir, "rc": rc, "output": output, "seconds": seconds}


def require_success(slurm_run):
    if slurm_run["rc"] != 0:
        pytest.fail(f"the SLURM run failed ({slurm_run['rc']}):\n{slurm_run['output'][-6000:]}")


# ---------------------------------------------------------------------------- no cluster needed


def test_test_profile_differs_from_the_real_one_only_in_site_settings():
    real = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    test = yaml.safe_load((PROFILE / "config.yaml").read_text())
    site = {"jobs", "default-resources", "set-resources", "slurm-init-seconds-before-status-checks",
            "latency-wait"}
    assert real["executor"] == test["executor"] == "slurm"
    assert {k: v for k, v in real.items() if k not in site} == {k: v for k, v in test.items() if k not in site}
    assert real["retries"] >= 1 and real["rerun-incomplete"] is True


def declared_resources() -> dict[str, dict[str, int]]:
    """{rule: {resource: value}} of the integer resources each rule of rules/*.smk declares."""
    declared = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for block in re.split(r"^(?=(?:rule|checkpoint) \w+:)", smk.read_text(), flags=re.M)[1:]:
            name = re.match(r"(?:rule|checkpoint) (\w+):", block).group(1)
            section = re.search(r"^    resources:\n((?:        .*\n)+)", block, re.M)
            pairs = re.findall(r"^\s+(\w+)=(\d+),?$", section.group(1), re.M) if section else []
            declared[name] = {k: int(v) for k, v in pairs}
    assert "train_teacher" in declared and declared["train_teacher"].get("gpu") == 1
    return declared


def test_every_gpu_rule_is_routed_by_both_profiles():
    """The real profile sends every rule that declares a GPU to the site's GPU partition; the test
    profile runs it without one (sbatch --gpus=1 fails on the CPU-only test node), and caps memory at
    what a small CI machine has. A rule added later with gpu=1 must be added to both."""
    real = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())["set-resources"]
    test = yaml.safe_load((PROFILE / "config.yaml").read_text())["set-resources"]
    declared = declared_resources()
    gpu_rules = sorted(rule for rule, res in declared.items() if res.get("gpu", 0) > 0)
    assert sorted(set(gpu_rules) - set(real)) == [], "add them to set-resources in profiles/slurm/config.yaml"
    assert [r for r in gpu_rules if (test.get(r) or {}).get("gpu") != 0] == [], f"set gpu: 0 in {PROFILE}"
    big = [r for r, res in declared.items() if res.get("mem_mb", 0) > 4000 and (test.get(r) or {}).get("mem_mb", 1e9) > 4000]
    assert big == [], f"set mem_mb: 2000 for them in {PROFILE}"


# ------------------------------------------------------------------------------- on the cluster


@pytest.mark.slurm
@pytest.mark.slow
def test_every_job_goes_through_sbatch(slurm_run, local_run, cluster):
    require_success(slurm_run)
    jobs = sacct(run_id(slurm_run["output"]), cluster["since"])
    listing = "\n".join("|".join(j.values()) for j in jobs)
    print(f"\nsacct of the SLURM run:\n{listing}")
    assert all(j["State"] == "COMPLETED" for j in jobs), listing
    submitted, on_host = jobs_of(slurm_run["output"])
    local_jobs = sum(jobs_of(local_run["output"]), Counter())  # a local run prints `localrule` for all
    assert sum(local_jobs.values()) >= 10
    # the same jobs as the local run; only the target rule `all` (no command), when it is a target,
    # ran on the submitting host
    assert submitted + on_host == local_jobs
    assert set(on_host) <= {"rule_all"}
    assert len(jobs) >= sum(submitted.values())
    assert Counter(j["Comment"] for j in jobs) == submitted, listing


@pytest.mark.slurm
@pytest.mark.slow
def test_slurm_results_equal_local_results(slurm_run, local_run):
    require_success(slurm_run)
    here, there = slurm_run["dir"], local_run["dir"]

    def files(root: Path, sub: str) -> set[str]:
        return {str(p.relative_to(root)) for p in (root / sub).rglob("*") if p.is_file()}

    def runs_named_alike(paths: set[str]) -> set[str]:  # a run folder's name hashes input times
        return {re.sub(r"/run-[0-9a-f]+/", "/run-*/", p) for p in paths}

    assert runs_named_alike(files(here, "results")) == runs_named_alike(files(there, "results"))
    # data, BPE model, dictionary, binarized data, hypotheses, scores, tables: the same bytes
    for rel in sorted(files(here, "results")):
        if rel.startswith(("results/corpus/", "results/data/", "results/eval/", "results/tables/")):
            assert (here / rel).read_bytes() == (there / rel).read_bytes(), rel
    # training on the CPU with one thread and a fixed seed is deterministic across processes and
    # machines' schedulers: the same parameters and the same curve, timings aside
    import torch

    for lang in LANGS:
        mine = model_parameters(here / f"results/teachers/{lang}/checkpoint_best.pt")
        theirs = model_parameters(there / f"results/teachers/{lang}/checkpoint_best.pt")
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[k], theirs[k]) for k in mine), lang
        assert (without_timing(curve(here / f"results/teachers/{lang}/curve.jsonl"))
                == without_timing(curve(there / f"results/teachers/{lang}/curve.jsonl")))


def seconds_per_epoch(curve_file: Path) -> float:
    """Seconds per epoch of a teacher, from its curve (fairseq's cumulative `train_wall`, in whole
    seconds, between the first and the last epoch)."""
    walls = [r["train_wall"] for r in curve(curve_file) if r["tag"] == "train"]
    return max(0.2, (walls[-1] - walls[0]) / max(1, len(walls) - 1))


@pytest.mark.slurm
@pytest.mark.slow
def test_timed_out_training_job_is_retried_and_resumes(slurm_run, cluster, tiny, tmp_path):
    """A teacher with a 1-minute time limit on its first attempt and about RESUME_WORK_S seconds of
    training (its epochs timed in the first run): SLURM stops it (TIMEOUT) after 60-90 s, Snakemake
    submits it again (`retries`) with 15 minutes, and hkd.train resumes from checkpoint_last.pt.
    Runs in the first SLURM run's folder, where only that teacher has to be trained again. Should the
    machine be so much faster now that the first attempt trained every epoch within its minute, it
    tries once more with three times the epochs."""
    require_success(slurm_run)
    workdir = slurm_run["dir"]
    lang = LANGS[0]
    target = [f"results/teachers/{lang}/checkpoint_best.pt"]
    comment = f"rule_train_teacher_wildcards_{lang}"
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    profile["set-resources"]["train_teacher"]["runtime"] = "1 if attempt == 1 else 15"  # minutes
    (tmp_path / "profile").mkdir()
    (tmp_path / "profile" / "config.yaml").write_text(yaml.safe_dump(profile))
    epochs = math.ceil(RESUME_WORK_S / seconds_per_epoch(workdir / f"results/teachers/{lang}/curve.jsonl"))
    for run_number in (1, 2):
        config = yaml.safe_load(tiny.read_text())
        config["teacher"]["overrides"] = {lang: {"max_epoch": epochs}}  # new settings: trained afresh
        config_file = write_config(tmp_path / f"timeout-{epochs}.yaml", config)
        cmd = [str(BIN / "snakemake"), *target, "--snakefile", str(ROOT / "Snakefile"), "--directory",
               str(workdir), "--profile", str(tmp_path / "profile"), "--configfile", str(config_file)]
        t0 = time.monotonic()
        rc, output = run(cmd, tmp_path / f"snakemake-{epochs}.log", timeout=900)
        jobs = sacct(run_id(output), cluster["since"])
        listing = "\n".join("|".join(j.values()) for j in jobs)
        print(f"\ntimeout test: {epochs} epochs, exit {rc} after {time.monotonic() - t0:.0f} s; sacct:\n{listing}")
        assert rc == 0, output[-6000:]
        records = curve(workdir / f"results/teachers/{lang}/curve.jsonl")
        starts = [r["resumed_after_epoch"] for r in records if r["tag"] == "start"]
        # trained all its epochs within the first minute (stopped then while finishing, or not at
        # all): the machine is faster than the first run said; more work, once
        if run_number == 2 or ([j["State"] for j in jobs] != ["COMPLETED"] and (starts[-1] or 0) < epochs):
            break
        epochs *= 3
    assert [j["Comment"] for j in jobs] == [comment, comment], listing  # nothing else was redone
    assert [j["State"] for j in jobs] == ["TIMEOUT", "COMPLETED"], listing
    assert [j["Timelimit"] for j in jobs] == ["00:01:00", "00:15:00"], listing
    assert 60 <= elapsed_seconds(jobs[0]["Elapsed"]) <= 150, listing
    assert len(starts) == 2 and starts[0] is None and 1 <= starts[1] < epochs, starts
    assert [r["epoch"] for r in records if r["tag"] == "train"] == list(range(1, epochs + 1))


def elapsed_seconds(elapsed: str) -> int:
    """sacct's [D-]HH:MM:SS as seconds."""
    days, _, hms = elapsed.rpartition("-")
    h, m, sec = (int(x) for x in hms.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + sec
