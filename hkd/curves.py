"""Reading a training curve (hkd.train's ``curve.jsonl``: one JSON record per epoch and tag): the
validation of the best checkpoint, and its dev BLEU per language. Used by hkd.student (the
assistants' dev BLEU) and the plugin's selective switch (the teachers' dev BLEU, ``--teacher-bleu``).
"""

from __future__ import annotations

import json
from pathlib import Path


def best_validation(curve: Path) -> dict:
    """The validation record of a training curve (hkd.train's curve.jsonl) with the best ``valid_bleu``:
    that of checkpoint_best.pt (fairseq's --eval-bleu, the measure of the selective switch too)."""
    best = None
    for number, line in enumerate(curve.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ValueError(f"{curve}:{number}: not a JSON record") from None
        if "valid_bleu" not in record:
            continue
        if isinstance(record["valid_bleu"], bool) or not isinstance(record["valid_bleu"], (int, float)):
            raise ValueError(f"{curve}:{number}: valid_bleu is not a number: {record['valid_bleu']!r}")
        if best is None or record["valid_bleu"] > best["valid_bleu"]:
            best = record
    if best is None:
        raise ValueError(f"{curve}: no valid_bleu record (was the model trained with --eval-bleu?)")
    return best


def best_epoch_bleu(curve: Path) -> dict[str, float]:
    """{lang: dev BLEU} of the validation with the best overall ``valid_bleu`` in a training curve."""
    best = best_validation(curve)
    return {key[len("valid_bleu_"):]: float(value) for key, value in best.items() if key.startswith("valid_bleu_")}
