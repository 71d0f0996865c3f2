"""Selective distillation (Algorithm 1 of the HKD paper, after Tan et al. 2019b): which language
pairs of a cluster are distilled from their bilingual teacher in each epoch (pure functions + state).

All flags start on. Every N_check finished epochs the teacher-assistant's dev BLEU on each pair is
compared with that pair's teacher's dev BLEU:

    KD on for pair l  <=>  BLEU(assistant, l) < BLEU(teacher, l) + tau

so KD is switched off while the assistant is ahead of the teacher by tau or more, and on again when it
falls behind (tau = 1 BLEU is Tan et al.'s threshold). Between checks the flags stay as they are.

The state is the history of (epoch, language) records: the flag in effect during the epoch and, at a
check, the two BLEU scores it came from. It is saved as JSON after every epoch boundary; a run that is
restarted from an earlier checkpoint rewinds the history to that epoch (records of later epochs are
dropped; a check at the same boundary is reused, since the model is the same). The JSONL metrics file
is written from the history, so it never holds duplicates.

    python -m hkd.selective --state run/selective.json [--log selective.jsonl]   # print / rewrite the log
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping
from hkd.fileio import write_atomic_text as _write_atomic

log = logging.getLogger("hkd.selective")

FORMAT = "hkd-selective-state"


def kd_flags(assistant_bleu: Mapping[str, float], teacher_bleu: Mapping[str, float], tau: float,
             previous: Mapping[str, bool] | None = None) -> dict[str, bool]:
    """Algorithm 1's switch for every language of `teacher_bleu` (or `previous`): on while the
    assistant's dev BLEU is below the teacher's + tau. A language without an assistant score keeps its
    previous flag (on when there is none)."""
    langs = list(teacher_bleu) if previous is None else list(previous)
    flags = {}
    for lang in langs:
        if lang in assistant_bleu:
            if lang not in teacher_bleu:
                raise KeyError(f"no teacher dev BLEU for language {lang!r} (have {sorted(teacher_bleu)})")
            flags[lang] = bool(assistant_bleu[lang] < teacher_bleu[lang] + tau)
        else:
            flags[lang] = True if previous is None else bool(previous[lang])
    return flags


def is_check_boundary(finished_epochs: int, interval: int) -> bool:
    """Whether the flags are re-evaluated after `finished_epochs` epochs (every `interval`; 0 = never)."""
    return interval > 0 and finished_epochs > 0 and finished_epochs % interval == 0


@dataclass
class SelectiveState:
    langs: list[str]
    tau: float
    interval: int
    teacher_bleu: dict[str, float] | None = None
    history: list[dict] = field(default_factory=list)
    teacher_source: dict[str, str] | None = None  # what teacher_bleu was computed from (files, dates)

    def records(self, epoch: int) -> list[dict]:
        return [r for r in self.history if r["epoch"] == epoch]

    def flags_at(self, epoch: int) -> dict[str, bool]:
        """The flags in effect during `epoch` as far as the history says (all on before any record)."""
        flags = {lang: True for lang in self.langs}
        for rec in self.history:
            if rec["epoch"] <= epoch:
                flags[rec["lang"]] = bool(rec["kd"])
        return flags


def new_state(langs: list[str], tau: float, interval: int) -> SelectiveState:
    return SelectiveState(langs=list(langs), tau=float(tau), interval=int(interval))


def needs_check(state: SelectiveState, epoch: int) -> bool:
    """At the start of `epoch` (1-based): is a dev-BLEU check due and not already in the history?"""
    return is_check_boundary(epoch - 1, state.interval) and not state.records(epoch)


def begin_epoch(state: SelectiveState, epoch: int, assistant_bleu: Mapping[str, float] | None = None
                ) -> SelectiveState:
    """The state at the start of `epoch` (1-based), given the assistant's dev BLEU if a check was run.

    Records of later epochs are dropped (a restart from an earlier checkpoint; epoch 1 is a fresh start
    and drops them all). Records already there for `epoch` are kept as they are (a restart at the same
    boundary); otherwise one record per language is added, with the flags of Algorithm 1 when
    `assistant_bleu` is given, else the flags of the previous epoch.
    """
    history = [r for r in state.history if r["epoch"] <= epoch and epoch > 1]
    state = SelectiveState(state.langs, state.tau, state.interval, state.teacher_bleu, history, state.teacher_source)
    if state.records(epoch):
        return state
    previous = state.flags_at(epoch - 1)
    if assistant_bleu is not None:
        if state.teacher_bleu is None:
            raise ValueError("a dev-BLEU check needs the teachers' dev BLEU (state.teacher_bleu is unset)")
        missing = set(state.langs) - set(assistant_bleu)
        if missing:
            raise KeyError(f"no assistant dev BLEU for {sorted(missing)} at the start of epoch {epoch}")
        flags = kd_flags(assistant_bleu, state.teacher_bleu, state.tau, previous)
    else:
        flags = previous
    for lang in state.langs:
        rec = {"epoch": epoch, "lang": lang, "kd": flags[lang], "checked": assistant_bleu is not None,
               "assistant_bleu": None if assistant_bleu is None else round(float(assistant_bleu[lang]), 4),
               "teacher_bleu": None if state.teacher_bleu is None else state.teacher_bleu.get(lang),
               "tau": state.tau}
        state.history.append(rec)
    return state


# ---------------------------------------------------------------------------------------------- files

def save_state(state: SelectiveState, path: Path) -> None:
    _write_atomic(Path(path), json.dumps({"format": FORMAT, **asdict(state)}, indent=1, sort_keys=True) + "\n")


def load_state(path: Path, langs: list[str] | None = None, tau: float | None = None,
               interval: int | None = None) -> SelectiveState:
    """Read a state file; with langs/tau/interval given, refuse one written for other settings."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ValueError(f"{path}: not a JSON selective-KD state file ({e})") from None
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a selective-KD state file (format {data.get('format')!r})")
    state = SelectiveState(data["langs"], data["tau"], data["interval"], data.get("teacher_bleu"),
                           data.get("history", []), data.get("teacher_source"))
    for key, want in (("langs", langs), ("tau", tau), ("interval", interval)):
        have = getattr(state, key)
        if want is not None and (list(have) != list(want) if key == "langs" else not math.isclose(have, want)):
            raise ValueError(f"{path}: state written for {key}={have!r}, this run has {key}={want!r}; "
                             f"remove the file to start the selective schedule afresh")
    return state


def log_text(state: SelectiveState) -> str:
    """The JSONL metrics: one record per (epoch, language), in order."""
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in sorted(
        state.history, key=lambda r: (r["epoch"], state.langs.index(r["lang"]) if r["lang"] in state.langs else 0)))


def write_log(state: SelectiveState, path: Path) -> None:
    _write_atomic(Path(path), log_text(state))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state", type=Path, required=True, help="a selective-KD state file")
    parser.add_argument("--log", type=Path, help="write the JSONL metrics here (default: print them)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    state = load_state(args.state)
    if args.log:
        write_log(state, args.log)
        log.info("%s: %d records", args.log, len(state.history))
    else:
        sys.stdout.write(log_text(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
