"""Why each model stopped training: its best epoch, its last epoch and the reason, from its curve.

    python -m hkd.convergence --models teacher/na=results/teachers/na/curve.jsonl:60:5:loss \
        universal=results/universal/curve.jsonl:60:5:loss ... --out results/tables/convergence.tsv

Each --models entry is NAME=CURVE:MAX_EPOCH:PATIENCE:METRIC, the model's training curve (hkd.train's
JSON lines) and the settings it trained with: the epoch cap, fairseq's ``--patience`` (validations
without a better dev METRIC before it stops; -1: never) and the early-stopping metric (``loss``, lower
is better, or ``bleu``, higher is better; the curve's ``valid_<metric>``).

The reason is one of:

- ``early stopping``: the last epoch is below the cap and the last PATIENCE validations were no
  better than the best one (fairseq stopped it);
- ``epoch cap``: the model reached MAX_EPOCH; ``epoch cap, still improving`` when its best epoch is
  among its last PATIENCE validations (or it has no early stopping): it had not converged;
- ``unexplained``: stopped below the cap without PATIENCE validations since its best (logged: fairseq
  stops for no other reason in these runs).

Writes a TSV: model, best_epoch, last_epoch, max_epoch, patience, metric, best (the best dev value),
last (the last epoch's), reason. Every curve needs validations with ``valid_<metric>``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from hkd.fileio import write_atomic_text

log = logging.getLogger("hkd.convergence")

COLUMNS = ["model", "best_epoch", "last_epoch", "max_epoch", "patience", "metric", "best", "last", "reason"]


def validations(curve: Path, metric: str) -> list[tuple[int, float]]:
    """(epoch, valid_<metric>) of the curve's end-of-epoch validations, in epoch order."""
    out = {}
    with open(curve, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{curve}:{number}: not JSON ({e})") from e
            if record.get("tag") != "valid":
                continue
            value = record.get(f"valid_{metric}")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{curve}:{number}: validation without a number valid_{metric}")
            out[int(record["epoch"])] = float(value)
    if not out:
        raise ValueError(f"{curve}: no validation records")
    return sorted(out.items())


def stop_reason(points: list[tuple[int, float]], max_epoch: int, patience: int, metric: str) -> dict:
    """best and last epoch, and why training stopped (see the module's docstring)."""
    maximize = metric == "bleu"
    best_epoch, best = points[0]
    for epoch, value in points[1:]:
        if (value > best) if maximize else (value < best):
            best_epoch, best = epoch, value
    last_epoch, last = points[-1]
    since = sum(1 for epoch, _ in points if epoch > best_epoch)
    if last_epoch >= max_epoch:
        still = patience < 0 or since < patience
        reason = "epoch cap, still improving" if still else "epoch cap"
    elif patience >= 0 and since >= patience:
        reason = "early stopping"
    else:
        reason = "unexplained"
    return {"best_epoch": best_epoch, "last_epoch": last_epoch, "best": best, "last": last, "reason": reason}


def parse_model(spec: str) -> tuple[str, Path, int, int, str]:
    name, sep, rest = spec.partition("=")
    parts = rest.rsplit(":", 3)
    if not sep or not name or len(parts) != 4 or parts[3] not in ("loss", "bleu"):
        raise ValueError(f"--models: expected NAME=CURVE:MAX_EPOCH:PATIENCE:loss|bleu, got {spec!r}")
    try:
        return name, Path(parts[0]), int(parts[1]), int(parts[2]), parts[3]
    except ValueError as e:
        raise ValueError(f"--models {spec!r}: MAX_EPOCH and PATIENCE must be integers") from e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", required=True, metavar="NAME=CURVE:MAX_EPOCH:PATIENCE:METRIC")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    rows = [COLUMNS]
    for spec in args.models:
        name, curve, max_epoch, patience, metric = parse_model(spec)
        r = stop_reason(validations(curve, metric), max_epoch, patience, metric)
        if r["reason"] == "unexplained":
            log.warning("%s: %s stopped at epoch %d below its cap %d, %d epochs after its best (patience %d)",
                        curve, name, r["last_epoch"], max_epoch, r["last_epoch"] - r["best_epoch"], patience)
        rows.append([name, str(r["best_epoch"]), str(r["last_epoch"]), str(max_epoch), str(patience), metric,
                     f"{r['best']:.4g}", f"{r['last']:.4g}", r["reason"]])
        log.info("%s: best epoch %d, last %d of %d: %s", name, r["best_epoch"], r["last_epoch"], max_epoch,
                 r["reason"])
    write_atomic_text(args.out, "".join("\t".join(r) + "\n" for r in rows))
    capped = [r[0] for r in rows[1:] if r[-1] == "epoch cap, still improving"]
    if capped:
        log.warning("%d models stopped by the epoch cap while still improving: %s", len(capped), " ".join(capped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
