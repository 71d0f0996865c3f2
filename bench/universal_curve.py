"""Benchmark (prints figures; not a test): what the demo's universal model costs to converge, under
variants of its settings: epochs, updates and target tokens until early stopping, the best dev loss,
and the CPU seconds of the run. Tokens and updates do not depend on what else the machine runs; the
seconds do (run it alone to compare them).

    python bench/universal_curve.py --data RUN/results/data/bin/all [--work /tmp/hkd-universal-curve] \
        [--jobs 2] [--max-epoch 60] VARIANT [VARIANT ...]

RUN is a finished (or started) demo run: its binarized pairs (rule multilingual_data). A VARIANT is
``name:key=value,key=value`` over config/config.yaml's ``universal.settings`` (``base:`` for the
settings as they are; ``lr01:lr=0.01``, ``e48:embed_dim=48,ffn_dim=96``). Each variant trains with
hkd.train as the workflow does (one thread), ``--jobs`` at a time, in WORK/<name>/; ``--curve FILE``
instead reads a finished run's curve (e.g. RUN/results/universal/curve.jsonl) and trains nothing.
A variant already trained in WORK resumes (hkd.train): its seconds are then those of the last call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hkd import fairseq_args  # noqa: E402
from hkd.convergence import stop_reason, validations  # noqa: E402
from hkd.train import read_jsonl  # noqa: E402


def parse_variant(text: str) -> tuple[str, dict]:
    name, _, pairs = text.partition(":")
    if not name:
        raise SystemExit(f"variant {text!r}: expected name:key=value,...")
    settings = {}
    for pair in filter(None, pairs.split(",")):
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"variant {text!r}: {pair!r} is not key=value")
        settings[key] = yaml.safe_load(value)
    return name, settings


def summary(curve: Path, max_epoch: int, patience: int) -> dict:
    """Epochs, updates, target tokens, the best dev loss and why training stopped, of a training curve
    (hkd.train's; the best epoch and the reason as in results/tables/convergence.tsv)."""
    train = [r for r in read_jsonl(curve) if r.get("tag") == "train"]
    tokens, before = 0.0, 0
    for r in train:
        tokens += r["train_wpb"] * (r["train_num_updates"] - before)
        before = r["train_num_updates"]
    stop = stop_reason(validations(curve, "loss"), max_epoch, patience, "loss")
    return {"epochs": len(train), "updates": before, "tokens_M": round(tokens / 1e6, 2),
            "best_epoch": stop["best_epoch"], "best_loss": stop["best"], "reason": stop["reason"]}


def train(name: str, overrides: dict, config: dict, data: Path, work: Path, max_epoch: int) -> dict:
    universal = dict(config["universal"])
    universal["settings"] = {**universal["settings"], "max_epoch": max_epoch, **overrides}
    args = fairseq_args.universal_args(config["languages"], config["target"], universal)
    folder = work / name
    cmd = [sys.executable, "-m", "hkd.train", "--data", str(data), "--work-dir", str(folder / "work"),
           "--checkpoint", str(folder / "checkpoint_best.pt"), "--curve", str(folder / "curve.jsonl"),
           "--threads", "1", "--", *args]
    folder.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(work / f"{name}.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)
        # the job's own CPU seconds (hkd.train and its fairseq child), not the other variants'
        _, status, usage = os.wait4(proc.pid, 0)
    status = os.waitstatus_to_exitcode(status)
    if status != 0:
        raise SystemExit(f"{name}: hkd.train failed (exit {status}); see {work / f'{name}.log'}")
    patience = universal["settings"]["patience"]
    return {"variant": name, **summary(folder / "curve.jsonl", max_epoch, patience), "cpu_s": round(usage.ru_utime + usage.ru_stime),
            "wall_s": round(time.time() - start)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="a run's results/data/bin/all")
    ap.add_argument("--work", type=Path, default=Path("/tmp/hkd-universal-curve"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--max-epoch", type=int, default=60)
    ap.add_argument("--curve", type=Path, action="append", default=[], help="a finished run's curve.jsonl")
    ap.add_argument("variants", nargs="*")
    args = ap.parse_args()
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    patience = config["universal"]["settings"]["patience"]
    rows = [{"variant": str(curve), **summary(curve, args.max_epoch, patience)} for curve in args.curve]
    if args.variants:
        if args.data is None:
            ap.error("--data is needed to train variants")
        args.work.mkdir(parents=True, exist_ok=True)
        variants = [parse_variant(v) for v in args.variants]
        with ThreadPoolExecutor(args.jobs) as pool:
            rows += list(pool.map(lambda v: train(*v, config, args.data.resolve(), args.work, args.max_epoch), variants))
    columns = ["variant", "epochs", "best_epoch", "updates", "tokens_M", "best_loss", "reason", "cpu_s", "wall_s"]
    print("\t".join(columns))
    for row in rows:
        print("\t".join(str(row.get(c, "-")) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
