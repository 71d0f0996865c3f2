"""Run one fairseq training job so that it can be killed and started again at any time.

Every model of the workflow (bilingual teachers, the universal model, teacher-assistants, the
student) is trained through this wrapper:

    python -m hkd.train --data results/data/bin/kk --work-dir results/teachers/kk/work \
        --checkpoint results/teachers/kk/checkpoint_best.pt --curve results/teachers/kk/curve.jsonl \
        --threads 1 -- --task translation --source-lang kk --target-lang en --arch transformer ...

- The fairseq arguments after ``--``, with the fingerprint (names, sizes, times) of the ``--depends``
  files, define the run. Their hash names the run's folder under ``--work-dir``, so a job that is killed (SLURM time limit, preemption, kill -9) and started again
  with the same arguments resumes from that folder's ``checkpoint_last.pt`` (fairseq restores it), and
  a job whose settings changed starts afresh instead of resuming a model trained with other ones
  (folders of earlier settings are removed, and said so in the log). ``{run}`` in an argument stands
  for that folder: state a run keeps beside its checkpoints (the selective KD flags) resumes with
  them and is never seen by a run started afresh.
- The declared outputs appear only when training has finished, and all of them are made from the
  run's folder then, whatever point the job resumed from: the best checkpoint (by the run's
  ``--best-checkpoint-metric``), the training curve as JSON lines (one record per epoch and tag,
  train or valid, plus one ``start`` record per (re)start that trained, saying which epoch it resumed
  after and which validation metric chooses the best checkpoint), and every ``--publish NAME=PATH``: a file the plugin keeps in the run's folder
  (``{run}/NAME`` in its arguments: the selective KD flags, the student's weights), copied to PATH.
  Nothing declared is written while training, so a job killed after its last epoch and before
  Snakemake saw it end (which then removes its outputs) gets all of them back on the rerun.
- A run with nothing left to train (its last checkpoint is at ``--max-epoch``, or its early-stopping
  count has reached ``--patience``) does not start fairseq again: it only publishes. (fairseq would
  train one more epoch of a run that stopped early: it checks the count only after an epoch.)
- fairseq runs in a child process with the hkd plugin (``--user-dir hkd_fairseq``), on the CPU when no
  GPU is visible, else on every visible GPU (fairseq's distributed data parallel when there are
  several).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hkd.fairseq_args import PLUGIN_DIR, device_args
from hkd.fileio import copy_atomic, remove_stale_temporaries, write_atomic_text

log = logging.getLogger("hkd.train")


def fingerprint(paths: list[Path]) -> list[list]:
    """Name, size and modification time of every file under `paths`: what a run was trained on.

    A job rerun after a kill sees the same files and resumes; a job rerun because its inputs were
    rebuilt (new data, a retrained teacher, a new top-k store) sees new ones and starts afresh.
    """
    entries = []
    for root in paths:
        files = sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).is_dir() else [Path(root)]
        for f in files:
            st = f.stat()
            entries.append([str(f), st.st_size, st.st_mtime_ns])
    return entries


def run_key(fairseq_args: list[str], data: Path, depends: list[list] | None = None) -> str:
    """A short, stable name for a run: the hash of its fairseq arguments, its data folder and the
    fingerprint of the files it depends on."""
    blob = json.dumps({"data": str(data), "args": fairseq_args, "depends": depends or []}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def checkpoint_epoch(path: Path) -> int | None:
    """The last finished epoch saved in a fairseq checkpoint, or None when there is none."""
    if not path.is_file():
        return None
    import torch

    state = torch.load(path, map_location="cpu", weights_only=False)
    itr = (state.get("extra_state") or {}).get("train_iterator") or {}
    epoch = itr.get("epoch")
    # fairseq 0.12.2 (EpochBatchIterator.state_dict) saves the epoch to run next: after epoch N
    # it says N + 1 (iterations_in_epoch 0); in the middle of epoch N it says N.
    if epoch is None:
        return None
    return epoch - 1


def _number(value):
    """fairseq logs its statistics as strings ("3.162"); the curve keeps them as numbers."""
    if isinstance(value, str):
        try:
            return int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return value


def merge_curve(records: list[dict]) -> list[dict]:
    """Keep one record per (tag, epoch), the latest: an epoch redone after a restart replaces the
    one that was cut off. Start records are all kept, in order."""
    latest: dict[tuple[str, int], dict] = {}
    starts = []
    for rec in records:
        if rec.get("tag") == "start":
            starts.append(rec)
        elif "epoch" in rec:
            latest[(rec["tag"], int(rec["epoch"]))] = {k: _number(v) for k, v in rec.items()}
    ordered = sorted(latest.values(), key=lambda r: (int(r["epoch"]), r["tag"] != "train"))
    return starts + ordered


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                # a killed job can leave one half-written last line; anything else is an error
                if f.readline():
                    raise ValueError(f"{path}:{number}: not a JSON record: {line[:80]!r}")
                log.warning("%s:%d: ignoring a half-written last record (the job was killed)", path, number)
    return records


# in a fairseq argument, the run's folder: state kept beside the checkpoints (the selective KD flags)
# resumes with them, and a run started afresh (other settings, other data) does not see it
RUN_PLACEHOLDER = "{run}"


PATIENCE_ENV = "HKD_PATIENCE_STATE"


def patience_state(records: list[dict], fairseq_args: list[str], resumed_after: int | None) -> dict | None:
    """fairseq's early-stopping count (``--patience``) as it stood after epoch `resumed_after`, from the
    run's curve: the best value of the ``--best-checkpoint-metric`` and the number of validations
    since it. fairseq keeps this count in memory only, so a resumed run would otherwise start it from
    zero and could train on where the uninterrupted run stopped. Counted over end-of-epoch validations
    (mid-epoch ones, with --save-interval-updates, are not in the curve)."""
    if resumed_after is None:
        return None
    metric, maximize = checkpoint_metric(fairseq_args)
    best, runs = None, 0
    for record in merge_curve(records):
        value = record.get(f"valid_{metric}")
        if record.get("tag") != "valid" or record["epoch"] > resumed_after or not isinstance(value, (int, float)):
            continue
        if best is None or (value > best if maximize else value < best):
            best, runs = value, 0
        else:
            runs += 1
    return None if best is None else {"metric": metric, "best": best, "num_runs": runs}


def checkpoint_metric(fairseq_args: list[str]) -> tuple[str, bool]:
    """What fairseq chooses checkpoint_best.pt (and counts --patience) by: the validation metric
    (``--best-checkpoint-metric``, fairseq's default loss) and whether higher is better."""
    return option(fairseq_args, "--best-checkpoint-metric", "loss"), "--maximize-best-checkpoint-metric" in fairseq_args


def option(fairseq_args: list[str], name: str, default: str | None = None) -> str | None:
    """The value of a fairseq option (its last occurrence, as argparse takes it), else `default`."""
    for i in range(len(fairseq_args) - 1, -1, -1):
        if fairseq_args[i] == name and i + 1 < len(fairseq_args):
            return fairseq_args[i + 1]
        if fairseq_args[i].startswith(name + "="):
            return fairseq_args[i].split("=", 1)[1]
    return default


def nothing_left(fairseq_args: list[str], resumed_after: int | None, patience: dict | None) -> str | None:
    """Why a run resumed after epoch `resumed_after` has nothing left to train, or None when it has:
    fairseq's two ends of training, --max-epoch (0: none) and --patience (its early-stopping count,
    `patience_state`, has reached it). fairseq-train itself would train one more epoch of a run that
    stopped early (it looks at the count only after validating an epoch)."""
    if resumed_after is None:
        return None
    max_epoch = int(option(fairseq_args, "--max-epoch", "0"))
    if max_epoch > 0 and resumed_after >= max_epoch:
        return f"epoch {resumed_after} of --max-epoch {max_epoch} is done"
    limit = int(option(fairseq_args, "--patience", "-1"))
    if limit > 0 and patience is not None and patience["num_runs"] >= limit:
        return (f"it stopped early: {patience['num_runs']} validations without a better {patience['metric']} "
                f"(--patience {limit})")
    return None


def parse_publish(specs: list[str]) -> list[tuple[str, Path]]:
    """``NAME=PATH`` -> (NAME, PATH): a file of the run's folder (``{run}/NAME`` in the fairseq
    arguments) and the declared output it becomes."""
    pairs = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path or Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"--publish {spec!r}: expected NAME=PATH, NAME a file in the run's folder "
                             f"(e.g. selective.jsonl=results/assistants/all/all/selective.jsonl)")
        pairs.append((name, Path(path)))
    return pairs


def publish(run_dir: Path, checkpoint: Path, curve: Path, records: list[dict],
            outputs: list[tuple[str, Path]]) -> None:
    """Every declared output, from the run's folder, each written atomically; the best checkpoint last."""
    best = run_dir / "checkpoint_best.pt"
    missing = [str(p) for p in [best, *(run_dir / name for name, _ in outputs)] if not p.is_file()]
    if missing:
        raise RuntimeError(f"fairseq-train finished without writing {', '.join(missing)}")
    for name, path in outputs:
        remove_stale_temporaries(path)
        copy_atomic(run_dir / name, path)
    remove_stale_temporaries(curve)
    write_atomic_text(curve, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    remove_stale_temporaries(checkpoint)
    copy_atomic(best, checkpoint)


def train(data: Path, work_dir: Path, checkpoint: Path, curve: Path, fairseq_args: list[str],
          threads: int = 1, depends: list[Path] | None = None, extra_env: dict[str, str] | None = None,
          mixed_precision: bool = False, outputs: list[tuple[str, Path]] | None = None) -> None:
    key = run_key(fairseq_args, data, fingerprint(depends or []))
    run_dir = work_dir / f"run-{key}"
    if work_dir.is_dir():
        for stale in sorted(work_dir.glob("run-*")):
            if stale != run_dir:
                log.info("removing %s: it was trained with other settings", stale)
                shutil.rmtree(stale)
    run_dir.mkdir(parents=True, exist_ok=True)
    partial = run_dir / "curve.partial.jsonl"
    last = run_dir / "checkpoint_last.pt"
    try:
        resumed_after = checkpoint_epoch(last)
    except Exception as err:  # noqa: BLE001 - any unreadable file: a kill cut it short
        # fairseq copies checkpoint_best.pt to checkpoint_last.pt with a plain copy: a kill during
        # that copy leaves a truncated file that every later attempt would fail to load.
        log.warning("%s is unreadable (%s): the job was killed while writing it", last, err)
        last.unlink()
        best = run_dir / "checkpoint_best.pt"
        if best.is_file():
            copy_atomic(best, last)
            log.warning("resuming from a copy of %s instead", best)
        resumed_after = checkpoint_epoch(last)
    if resumed_after is None:
        log.info("starting %s from scratch", run_dir)
    else:
        log.info("resuming %s from %s (epoch %d finished)", run_dir, last, resumed_after)
    patience = patience_state(read_jsonl(partial), fairseq_args, resumed_after)
    done = nothing_left(fairseq_args, resumed_after, patience)
    if done:
        log.info("nothing left to train (%s): publishing the outputs", done)
    else:
        run_fairseq(data, run_dir, partial, fairseq_args, resumed_after, patience, threads, extra_env,
                    mixed_precision)
    records = merge_curve(read_jsonl(partial))
    publish(run_dir, checkpoint, curve, records, outputs or [])
    epochs = [r["epoch"] for r in records if r.get("tag") == "train"]
    log.info("done: %s (%d epochs), curve %s%s", checkpoint, len(epochs), curve,
             "".join(f", {path}" for _, path in outputs or []))


def run_fairseq(data: Path, run_dir: Path, partial: Path, fairseq_args: list[str], resumed_after: int | None,
                patience: dict | None, threads: int, extra_env: dict[str, str] | None,
                mixed_precision: bool) -> None:
    metric, maximize = checkpoint_metric(fairseq_args)
    start = {"tag": "start", "resumed_after_epoch": resumed_after, "best_checkpoint_metric": metric,
             "maximize": maximize}  # the curve says how its best checkpoint was chosen (hkd.curves)
    with open(partial, "a", encoding="utf-8") as f:
        f.write(json.dumps(start) + "\n")
    cmd = [
        sys.executable, "-m", "fairseq_cli.train", str(data),
        "--user-dir", str(PLUGIN_DIR), "--save-dir", str(run_dir),
        "--log-format", "json", "--no-epoch-checkpoints", "--num-workers", "0",
        *device_args(mixed_precision), *(a.replace(RUN_PLACEHOLDER, str(run_dir)) for a in fairseq_args),
    ]
    env = {**os.environ, "HKD_CURVE_FILE": str(partial), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), **(extra_env or {})}
    if patience is not None:  # hkd_fairseq restores it: fairseq's early-stopping count is not in checkpoints
        log.info("early stopping resumes with best %s = %g, %d validations without improvement",
                 patience["metric"], patience["best"], patience["num_runs"])
        env[PATIENCE_ENV] = json.dumps(patience)
    log.info("running: %s", " ".join(cmd))
    result = subprocess.run(cmd, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"fairseq-train failed with exit code {result.returncode}; "
                           f"rerun the job to resume from {run_dir / 'checkpoint_last.pt'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="fairseq data folder")
    parser.add_argument("--work-dir", type=Path, required=True, help="where runs keep their checkpoints")
    parser.add_argument("--checkpoint", type=Path, required=True, help="output: the best checkpoint")
    parser.add_argument("--curve", type=Path, required=True, help="output: the training curve (JSON lines)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    parser.add_argument("--depends", type=Path, nargs="*", default=[],
                        help="files or folders the run is trained on (data, stores, teachers): when they "
                             "change, the run starts afresh instead of resuming")
    parser.add_argument("--mixed-precision", action="store_true", help="fp16 when training on a GPU")
    parser.add_argument("--publish", action="append", default=[], metavar="NAME=PATH",
                        help="a file the run writes in its folder ({run}/NAME in the fairseq arguments), "
                             "copied to the declared output PATH at the end (repeatable)")
    parser.add_argument("fairseq_args", nargs=argparse.REMAINDER, help="-- then the fairseq-train arguments")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    fairseq_args = args.fairseq_args[1:] if args.fairseq_args[:1] == ["--"] else args.fairseq_args
    train(args.data, args.work_dir, args.checkpoint, args.curve, fairseq_args, args.threads, args.depends,
          mixed_precision=args.mixed_precision, outputs=parse_publish(args.publish))
    return 0


if __name__ == "__main__":
    sys.exit(main())
