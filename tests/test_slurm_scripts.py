"""tests/slurm/'s scripts before any cluster starts: which daemons of a test cluster live, and what
start-slurm.sh does when another test cluster's link is in place (CHECK_ONLY=1: the checks alone,
with ETC_CONF in a temporary folder, so no cluster starts and /etc is not touched).

A second test session on the same machine (a CI run beside a developer's) once found the first one's
cluster and failed at once; a cluster killed without stop-slurm.sh leaves pid files that mean nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPTS = ROOT / "tests" / "slurm"
MARK = "# written by tests/slurm/start-slurm.sh"


def fake_daemon(tmp_path: Path, program: str) -> subprocess.Popen:
    """A live process whose name is `program` (a copy of sleep)."""
    exe = tmp_path / "bin" / program
    exe.parent.mkdir(exist_ok=True)
    shutil.copy(shutil.which("sleep"), exe)
    return subprocess.Popen([str(exe), "600"])


def dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def cluster_dir(root: Path, pids: dict[str, int]) -> Path:
    """A test cluster's STATE_DIR as start-slurm.sh leaves it: its config (with the mark) and pid files."""
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "slurm.conf").write_text(f"{MARK}\nClusterName=other\n")
    (root / "run").mkdir()
    for program, pid in pids.items():
        (root / "run" / f"{program}.pid").write_text(f"{pid}\n")
    return root


def live_daemons(state: Path) -> str:
    out = subprocess.run(["bash", "-c", f'. "{SCRIPTS}/daemons.sh" && live_daemons "$1"', "_", str(state)],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def check_only(tmp_path: Path, other: Path, wait_other: int) -> subprocess.CompletedProcess:
    etc_conf = tmp_path / "etc-slurm.conf"
    if not etc_conf.is_symlink():
        etc_conf.symlink_to(other / "etc" / "slurm.conf")
    env = {**os.environ, "STATE_DIR": str(tmp_path / "mine"), "ETC_CONF": str(etc_conf),
           "CHECK_ONLY": "1", "WAIT_OTHER": str(wait_other)}
    return subprocess.run([str(SCRIPTS / "start-slurm.sh")], env=env, capture_output=True, text=True, timeout=120)


def test_a_pid_file_counts_only_for_a_live_process_of_its_own_program(tmp_path):
    munged, other = fake_daemon(tmp_path, "munged"), subprocess.Popen(["sleep", "600"])
    try:
        state = cluster_dir(tmp_path / "c", {"munged": munged.pid, "slurmctld": other.pid, "slurmd": dead_pid()})
        (state / "run" / "slurmdbd.pid").write_text("not a pid\n")
        assert live_daemons(state) == f"munged:{munged.pid}"
        munged.kill()
        munged.wait()
        assert live_daemons(state) == ""
    finally:
        for p in (munged, other):
            p.kill()
            p.wait()


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="start-slurm.sh runs as root only")


@needs_root
def test_a_killed_clusters_pid_files_do_not_stop_a_start(tmp_path):
    other = cluster_dir(tmp_path / "other", {"slurmctld": dead_pid(), "munged": dead_pid()})
    out = check_only(tmp_path, other, wait_other=0)
    assert out.returncode == 0, out.stderr
    assert "can start" in out.stderr


@needs_root
def test_a_running_cluster_is_waited_for_then_named(tmp_path):
    munged = fake_daemon(tmp_path, "munged")
    try:
        other = cluster_dir(tmp_path / "other", {"munged": munged.pid})
        out = check_only(tmp_path, other, wait_other=0)
        assert out.returncode == 1
        assert f"another test cluster runs in {other} (munged:{munged.pid}) after 0 s" in out.stderr

        # stopped (and reaped: a zombie keeps its name) 3 s into the wait
        stopper = threading.Timer(3, lambda: (munged.kill(), munged.wait()))
        start = time.monotonic()
        stopper.start()
        out = check_only(tmp_path, other, wait_other=60)
        stopper.join()
        assert out.returncode == 0, out.stderr
        assert "waiting up to 60 s" in out.stderr and f"the cluster in {other} stopped after" in out.stderr
        assert time.monotonic() - start < 30
    finally:
        munged.kill()
        munged.wait()
