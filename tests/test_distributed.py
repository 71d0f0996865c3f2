"""Data-parallel training on the CPU with fairseq 0.12.2: two processes, gloo.

    python -m pytest tests/test_distributed.py        # about 25 s on 2 cores

What works: torchrun (`python -m torch.distributed.run`) starts the processes, fairseq reads RANK,
WORLD_SIZE, MASTER_ADDR and MASTER_PORT (init method env://, no spawning of its own), with
`--cpu --distributed-backend gloo --ddp-backend legacy_ddp`. What does not, checked here as well so
that an upgrade that changes it is noticed: fairseq's own launcher (`--distributed-world-size 2`
alone) asserts that the world size is at most the number of CUDA devices; and the default
`--ddp-backend pytorch_ddp` passes device_ids to DistributedDataParallel, which refuses them for a
CPU module. docs/slurm.md has the error texts.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from toy_pairs import TINY_MODEL, write_toy_data

pytestmark = pytest.mark.slow
# more sentences than toy_pairs' default, so that an epoch has several batches to share
SIZES = {"train": {"xa": 400, "xb": 10}, "valid": {"xa": 20, "xb": 6}, "test": {"xa": 5, "xb": 5}}
GLOO = ["--cpu", "--distributed-backend", "gloo"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_toy_data(tmp_path_factory.mktemp("toy"), sizes=SIZES) / "xa"


def train(data: Path, save_dir: Path, *extra: str, nproc: int = 1) -> subprocess.CompletedProcess:
    """One epoch of fairseq-train on the toy pair, in `nproc` processes (torchrun when more than 1)."""
    if nproc > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                    "-m", "fairseq_cli.train"]
    else:
        launcher = [sys.executable, "-m", "fairseq_cli.train"]
    cmd = [*launcher, str(data), "--task", "translation", "--source-lang", "xa", "--target-lang", "en",
           *TINY_MODEL, "--max-tokens", "200", "--max-epoch", "1", "--save-dir", str(save_dir), *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def num_updates(checkpoint: Path) -> int:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return state["optimizer_history"][-1]["num_updates"]


def test_two_gloo_processes_train_one_epoch_on_the_cpu(data, tmp_path):
    single = train(data, tmp_path / "one")
    assert single.returncode == 0, single.stderr[-3000:]
    result = train(data, tmp_path / "two", *GLOO, "--ddp-backend", "legacy_ddp", nproc=2)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "distributed init (rank 0): env://" in log and "distributed init (rank 1): env://" in log

    last = tmp_path / "two" / "checkpoint_last.pt"
    state = torch.load(last, map_location="cpu", weights_only=False)
    assert state["cfg"]["distributed_training"]["distributed_world_size"] == 2
    itr = state["extra_state"]["train_iterator"]  # fairseq saves the epoch to run next: 1 is done
    assert (itr["epoch"], itr["iterations_in_epoch"]) == (2, 0)
    assert all(torch.isfinite(p).all() for p in state["model"].values() if p.is_floating_point())
    # each process took every second batch: half the updates of one process, each on twice the data
    assert num_updates(last) == math.ceil(num_updates(tmp_path / "one" / "checkpoint_last.pt") / 2)


def test_default_ddp_backend_refuses_a_cpu_model(data, tmp_path):
    result = train(data, tmp_path / "ddp", *GLOO, nproc=2)
    assert result.returncode != 0
    assert "DistributedDataParallel device_ids and output_device arguments only work with" in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="fairseq's own launcher works where there are GPUs")
def test_fairseq_launcher_needs_a_gpu_per_process(data, tmp_path):
    result = train(data, tmp_path / "spawn", *GLOO, "--ddp-backend", "legacy_ddp", "--distributed-world-size", "2")
    assert result.returncode != 0
    assert "world size is 2 but have 0 available devices" in result.stderr
