"""The student's assistant weights, logged per epoch: per (epoch, language), the mean alpha and
perplexity of each assistant over the epoch's batches of that language (``--alpha-log``, JSON lines).
The adaptive_kd criterion logs per-batch sums under the keys below; the task adds up each update's
(all-reduced) logging outputs and writes the file (hkd_fairseq/hkd_multilingual.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from hkd.assistant_map import EffectiveAssistants
from hkd.fileio import write_atomic_text


def alpha_key(lang: str, name: str) -> str:
    """Logging-output key: sum over batches of language `lang` of the weight of assistant `name`."""
    return f"alpha_sum:{lang}:{name}"


def ppl_key(lang: str, name: str) -> str:
    return f"ppl_sum:{lang}:{name}"


def batches_key(lang: str) -> str:
    return f"alpha_batches:{lang}"


def empty_sums(plan: EffectiveAssistants) -> dict[str, float]:
    """The fixed set of per-(language, assistant) keys, all 0 (every worker logs the same keys)."""
    sums: dict[str, float] = {}
    for lang in plan.langs:
        sums[batches_key(lang)] = 0.0
        for name in plan.assistants[lang]:
            sums[alpha_key(lang, name)] = 0.0
            sums[ppl_key(lang, name)] = 0.0
    return sums


def summed(logging_outputs, keys) -> dict[str, float]:
    """Each key summed over the logging outputs, as floats, with one device-to-host copy (after
    fairseq's all-reduce of several workers the values are tensors on the device)."""
    values = [[out.get(key, 0.0) for key in keys] for out in logging_outputs]
    tensors = [v for row in values for v in row if torch.is_tensor(v)]
    if tensors:
        host = iter(torch.stack([t.detach().reshape(()).double() for t in tensors]).cpu().tolist())
        values = [[next(host) if torch.is_tensor(v) else v for v in row] for row in values]
    return {key: float(sum(row[i] for row in values)) for i, key in enumerate(keys)}


class AlphaLog:
    """Per (epoch, language): the mean alpha and perplexity of each assistant over the epoch's
    batches of that language, from the (all-reduced) logging outputs of each update. Written as JSON
    lines; a run resumed at epoch e keeps the file's records of epochs before e (a record of an epoch
    resumed mid-way covers the updates after the restart only)."""

    def __init__(self, plan: EffectiveAssistants, path: Path | None = None):
        self.plan, self.path = plan, Path(path) if path else None
        self.kept: list[dict] = []  # records of earlier epochs, read back from the file
        self.sums: dict[int, dict[str, float]] = {}  # epoch -> summed logging outputs
        self.epoch: int | None = None

    def begin_epoch(self, epoch: int) -> None:
        if self.epoch is None and self.path is not None and self.path.is_file():
            records = [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
            self.kept = [r for r in records if r["epoch"] < epoch]
        self.kept = [r for r in self.kept if r["epoch"] < epoch]
        self.sums = {e: s for e, s in self.sums.items() if e < epoch}
        self.epoch = int(epoch)

    def add(self, logging_outputs) -> None:
        """Add one update's logging outputs (a list of dicts with the keys of `empty_sums`)."""
        if self.epoch is None:
            return
        sums = self.sums.setdefault(self.epoch, {**empty_sums(self.plan), "lambda2_sum": 0.0, "kd_batches": 0.0})
        for key, value in summed(logging_outputs, list(sums)).items():
            sums[key] += value

    def records(self) -> list[dict]:
        records = list(self.kept)
        for epoch in sorted(self.sums):
            sums = self.sums[epoch]
            lam = sums["lambda2_sum"] / sums["kd_batches"] if sums["kd_batches"] else None
            for lang in self.plan.langs:
                n = sums[batches_key(lang)]
                if not n:
                    continue
                names = self.plan.assistants[lang]
                records.append({
                    "epoch": epoch, "lang": lang, "batches": int(n), "assistants": names,
                    "alpha": {a: round(sums[alpha_key(lang, a)] / n, 6) for a in names},
                    "perplexity": {a: round(sums[ppl_key(lang, a)] / n, 4) for a in names},
                    "excluded": self.plan.excluded.get(lang), "bleu_variance": self.plan.variance.get(lang),
                    "lambda2": None if lam is None else round(lam, 6)})
        return sorted(records, key=lambda r: (r["epoch"], self.plan.langs.index(r["lang"])
                                               if r["lang"] in self.plan.langs else len(self.plan.langs)))

    def write(self) -> None:
        if self.path is not None:
            write_atomic_text(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.records()))
