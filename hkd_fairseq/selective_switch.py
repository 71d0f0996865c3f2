"""The selective switch of the ``hkd_multilingual`` task (Algorithm 1, via hkd.selective): the KD flag of
each language, set at an epoch's start by comparing the assistant's dev BLEU with its teacher's. The
teachers' dev BLEU is decoded once (or read from ``--teacher-bleu``); the flags live in
``--selective-state`` (a restarted run resumes from it) and ``--selective-log``; the selective_kd
criterion reads them from the task (``kd_flag_tensor``).
"""

import json
import logging
from pathlib import Path

import torch

from hkd import selective
from hkd.curves import best_validation
from hkd_fairseq.dev_bleu import _unwrap

logger = logging.getLogger(__name__)


def _is_master() -> bool:
    return not (torch.distributed.is_available() and torch.distributed.is_initialized()
                and torch.distributed.get_rank() != 0)


class SelectiveSwitch:
    """Mixin of the task (uses its cfg, langs, dev_bleu, teacher): the KD flags."""

    def _initial_state(self) -> selective.SelectiveState:
        cfg = self.cfg
        path = Path(cfg.selective_state) if cfg.selective_state else None
        if path is not None and path.is_file():
            state = selective.load_state(path, self.langs, cfg.selective_tau, cfg.selective_interval)
            logger.info("selective KD: resuming from %s (%d records)", path, len(state.history))
        else:
            state = selective.new_state(self.langs, cfg.selective_tau, cfg.selective_interval)
        if cfg.teacher_bleu:
            state.teacher_bleu = self._read_teacher_bleu(cfg.teacher_bleu)
        return state

    def _read_teacher_bleu(self, spec: str) -> dict[str, float]:
        def number(value, where):
            value = value.get("bleu") if isinstance(value, dict) else value
            if not isinstance(value, (int, float)):
                raise ValueError(f"{where}: expected a BLEU score, got {value!r}")
            return float(value)

        if "{lang}" in spec:
            result = {}
            for lang in self.langs:
                path = Path(spec.replace("{lang}", lang))
                if path.suffix == ".jsonl":
                    result[lang] = float(best_validation(path)["valid_bleu"])
                else:
                    result[lang] = number(json.loads(path.read_text(encoding="utf-8")), path)
            return result
        table = json.loads(Path(spec).read_text(encoding="utf-8"))
        missing = [lang for lang in self.langs if lang not in table]
        if missing:
            raise KeyError(f"{spec}: no teacher BLEU for {missing}")
        return {lang: number(table[lang], f"{spec}[{lang}]") for lang in self.langs}

    def switch_kd(self, epoch, model):
        """At an epoch's start: the teachers' dev BLEU (once), the assistant's (every N_check epochs: reused
        from the validation that just ended when it can be), the flags of this epoch, saved."""
        state = self.selective
        device = next(_unwrap(model).parameters()).device
        source = self._teacher_source() if state.interval > 0 and not self.cfg.teacher_bleu else None
        if source is not None and (state.teacher_bleu is None or state.teacher_source != source):
            # once, at the start (a missing teacher shows up now), and again if a teacher file changed
            state.teacher_bleu = self.dev_bleu(lambda lang: self.teacher(lang, device, for_bleu=True), prefix=False)
            state.teacher_source = source
            logger.info("selective KD: teachers' %s BLEU %s", self.cfg.selective_subset, state.teacher_bleu)
            online = {self._teacher_path(lang, False) for lang in self.langs} if self.kd_mode == "online" else set()
            self._teachers = {p: m for p, m in self._teachers.items() if p in online}  # free the others
        assistant = None
        if selective.needs_check(state, epoch):
            reuse = (self._valid_epoch == epoch - 1 and self.cfg.selective_subset == self.cfg.valid_subset
                     and set(self.valid_bleu) == set(self.langs))
            if reuse:  # this model's dev BLEU from the validation that just ended
                assistant, how = dict(self.valid_bleu), "from the validation"
            else:  # e.g. a resumed run, whose first epoch starts without a validation
                assistant, how = self.dev_bleu(lambda lang: model, prefix=True), "decoded"
            logger.info("selective KD: assistant's %s BLEU after epoch %d (%s): %s", self.cfg.selective_subset,
                        epoch - 1, how, assistant)
        self.selective = selective.begin_epoch(state, epoch, assistant)
        flags = self.selective.flags_at(epoch)
        self.kd_flag_tensor = torch.tensor([flags[lang] for lang in self.langs], dtype=torch.bool)
        logger.info("selective KD: epoch %d, KD on for %s, off for %s", epoch,
                    [lang for lang in self.langs if flags[lang]], [lang for lang in self.langs if not flags[lang]])
        if _is_master():
            if self.cfg.selective_state:
                selective.save_state(self.selective, Path(self.cfg.selective_state))
            if self.cfg.selective_log:
                selective.write_log(self.selective, Path(self.cfg.selective_log))
