"""The models a run trains: each one's stage, name, training curve and how it stops (pure functions).

The teachers (one per language), the universal model, the teacher-assistants (one per unit of the
assistant plan, hkd.plan) and the student. Each stops at its epoch cap or by early stopping on its
dev metric (its settings' ``stop_metric``; the universal model always on dev loss: fairseq's
multilingual task has no dev BLEU). Used by rules/common.smk: the convergence table's models
(hkd.convergence's ``--models`` entries) and the report's training curves per stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from hkd import fairseq_args

STAGES = ("teachers", "universal", "assistants", "student")
# the prefix of a model's name in the convergence table, by stage
PREFIX = {"teachers": "teacher/", "universal": "", "assistants": "assistant/", "student": ""}


@dataclass(frozen=True)
class Model:
    """One trained model. name: the language (teachers), 'type/cluster' (assistants), or the stage's
    own name (universal, student)."""

    stage: str
    name: str
    curve: str
    max_epoch: int
    patience: int
    metric: str  # the early-stopping metric: loss or bleu

    @property
    def label(self) -> str:
        """Its name in the convergence table: teacher/<lang>, universal, assistant/<type>/<cluster>, student."""
        return PREFIX[self.stage] + self.name if self.stage in ("teachers", "assistants") else self.stage

    @property
    def spec(self) -> str:
        """hkd.convergence's --models entry: LABEL=CURVE:MAX_EPOCH:PATIENCE:METRIC."""
        return f"{self.label}={self.curve}:{self.max_epoch}:{self.patience}:{self.metric}"


def _model(stage: str, name: str, curve: str, settings: dict, metric: str | None = None) -> Model:
    s = fairseq_args.merged_settings(settings)
    return Model(stage, name, curve, s["max_epoch"], s["patience"], metric or s["stop_metric"])


def trained_models(
    langs: list[str],
    config: Mapping,
    curves: Mapping[str, str],
    stages: Iterable[str] = STAGES,
    units: Iterable[tuple[str, str]] | None = None,
) -> list[Model]:
    """The models of `stages` (in STAGES order), from the workflow's config (its ``teacher``,
    ``universal``, ``assistant`` and ``student`` sections). `curves`: each stage's curve path, with
    ``{name}`` for the language or 'type/cluster'; `units`: the assistant plan's units (hkd.plan),
    needed only for the assistants stage (they follow from the clusters file)."""
    stages = list(stages)
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}: the stages are {', '.join(STAGES)}")
    if "assistants" in stages and units is None:
        raise ValueError("the assistants stage needs the assistant plan's units")
    models = []
    for stage in (s for s in STAGES if s in stages):
        path = curves[stage]
        if stage == "teachers":
            models += [
                _model(stage, lang, path.format(name=lang), fairseq_args.teacher_settings(lang, config["teacher"]))
                for lang in langs
            ]
        elif stage == "universal":
            models.append(_model(stage, stage, path, config["universal"]["settings"], "loss"))
        elif stage == "assistants":
            for ctype, cluster in units:
                name = f"{ctype}/{cluster}"
                models.append(_model(stage, name, path.format(name=name), config["assistant"]["settings"]))
        else:
            models.append(_model(stage, stage, path, config["student"]["settings"]))
    return models
