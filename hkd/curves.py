"""Reading a training curve (hkd.train's ``curve.jsonl``: one JSON record per epoch and tag): the
validation of the best checkpoint, and its dev BLEU per language. Used by hkd.student (the
assistants' dev BLEU) and the plugin's selective switch (the teachers' dev BLEU, ``--teacher-bleu``).
"""

from __future__ import annotations

import json
from pathlib import Path


def best_validation(curve: Path) -> dict:
    """The validation record of checkpoint_best.pt in a training curve (hkd.train's curve.jsonl), among
    those with a ``valid_bleu`` (fairseq's --eval-bleu, the measure of the selective switch too): the
    best ``valid_<metric>`` by the metric and direction the run chose its best checkpoint with (its
    start record's ``best_checkpoint_metric`` and ``maximize``; a curve without them: the highest
    ``valid_bleu``). Ties go to the later epoch, as fairseq's checkpoint_best.pt does."""
    metric, maximize = "bleu", True
    best = None
    for number, line in enumerate(curve.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ValueError(f"{curve}:{number}: not a JSON record") from None
        if record.get("tag") == "start" and "best_checkpoint_metric" in record:
            metric, maximize = record["best_checkpoint_metric"], bool(record.get("maximize"))
        if "valid_bleu" not in record:
            continue
        for key in {"valid_bleu", f"valid_{metric}"}:
            if isinstance(record.get(key), bool) or not isinstance(record.get(key), (int, float)):
                raise ValueError(f"{curve}:{number}: {key} is not a number: {record.get(key)!r}")
        value = record[f"valid_{metric}"]
        if best is None or (value >= best[f"valid_{metric}"] if maximize else value <= best[f"valid_{metric}"]):
            best = record
    if best is None:
        raise ValueError(f"{curve}: no valid_bleu record (was the model trained with --eval-bleu?)")
    return best


def best_epoch_bleu(curve: Path) -> dict[str, float]:
    """{lang: dev BLEU} of the validation of checkpoint_best.pt in a training curve (best_validation)."""
    best = best_validation(curve)
    return {key[len("valid_bleu_"):]: float(value) for key, value in best.items() if key.startswith("valid_bleu_")}
