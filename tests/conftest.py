"""Shared fixtures: the repository root, tiny workflow configs, and a helper to run Snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tiny_config(**changes) -> dict:
    """The demo config made tiny: 4 languages of 3 families, a third of the data, 2-epoch models."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["name"] = "tiny"
    config["languages"] = ["na", "nb", "sa", "ea"]
    config["corpus"]["synthetic"] = {"seed": 1, "scale": 0.3}
    config["bpe"]["vocab_size"] = 400
    config["bpe"]["sample_sentences"] = 5000
    config["teacher"]["default"].update(max_epoch=2, embed_dim=32, ffn_dim=64, patience=-1)
    config["universal"]["settings"].update(max_epoch=1, embed_dim=32, ffn_dim=64)
    config["clustering"]["types"]["svcca_subset"]["fit_subset"] = ["na", "sa", "ea"]
    config["assistant"]["settings"].update(max_epoch=2, embed_dim=32, ffn_dim=64)
    config["student"]["settings"].update(max_epoch=2, embed_dim=32, ffn_dim=64)
    config["evaluation"]["beam"] = 2
    for key, value in changes.items():
        config[key] = value
    return config


def link_code(workdir: Path) -> None:
    """Link the repository's code into a run folder, so that the rules' code inputs are the same
    relative paths as in the repository (``hkd/train.py``) and the run can be moved (hkd.codefiles)."""
    for package in ("hkd", "hkd_fairseq"):
        (workdir / package).symlink_to(ROOT / package, target_is_directory=True)


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, timeout: int = 900, check: bool = True, env: dict | None = None
              ) -> subprocess.CompletedProcess:
    """Run the workflow of this repository in `workdir` (its results land there); `env` adds variables."""
    cmd = [str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def job_counts(dry_run_output: str) -> dict[str, int]:
    """{rule: count} from the 'Job stats' table Snakemake prints for a (dry) run."""
    counts: dict[str, int] = {}
    lines = dry_run_output.splitlines()
    if "Job stats:" not in lines:
        return counts
    start = lines.index("Job stats:") + 3
    for line in lines[start:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One real run of the whole DAG on the tiny config; tests read (and may extend) its results."""
    workdir = tmp_path_factory.mktemp("tiny_run")
    link_code(workdir)
    write_config(workdir / "tiny.yaml", tiny_config())
    snakemake(workdir, "--configfile", str(workdir / "tiny.yaml"), "--cores", "2")
    return workdir


@pytest.fixture
def copy_of(tmp_path):
    """Copy a finished run so that a test can change it without touching the shared one."""
    def _copy(src: Path) -> Path:
        dst = tmp_path / "run"
        shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("locks", "conda"))
        return dst
    return _copy
