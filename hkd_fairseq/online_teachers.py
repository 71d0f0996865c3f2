"""The online teachers of the ``hkd_multilingual`` task: each language's bilingual teacher loaded
once and run on its rows of every batch (``--online-teachers PATTERN``, top ``--online-topk``), in
place of the cached top-k stores; and the teachers' checkpoints whose dev BLEU the selective switch
needs. Used by the benchmark (bench/kd_step.py) and the tests that compare the two; the workflow
trains from the stores.
"""

import logging
from pathlib import Path

import torch

from hkd.topk_store import load_model, model_topk
from hkd_fairseq.multilingual_dataset import attach_topk

logger = logging.getLogger(__name__)


def strip_first_token(src_tokens: torch.Tensor, src_lengths: torch.Tensor, pad: int, left_pad: bool):
    """Remove each row's first real token (the language token) from a padded source batch [B, S]."""
    if left_pad:
        out = src_tokens.clone()
        out[torch.arange(len(out), device=out.device), src_tokens.size(1) - src_lengths] = pad
    else:
        out = torch.cat([src_tokens[:, 1:], src_tokens.new_full((len(src_tokens), 1), pad)], dim=1)
    return out, src_lengths - 1


class OnlineTeachers:
    """Mixin of the task (uses its cfg, langs, lang_token, src_dict): the teacher models."""

    def _teacher_path(self, lang: str, for_bleu: bool) -> str:
        pattern = (self.cfg.teachers if for_bleu else None) or self.cfg.online_teachers
        if pattern:
            return pattern.replace("{lang}", lang)
        path = self._store_teachers.get(lang)
        if not path:
            raise ValueError(f"no teacher checkpoint known for {lang}: give --teachers PATTERN or --teacher-bleu")
        return path

    def _teacher_source(self) -> dict[str, str]:
        """Which teacher files the dev BLEU comes from (path, size, modification time)."""
        source = {}
        for lang in self.langs:
            path = Path(self._teacher_path(lang, True))
            if not path.is_file():
                raise FileNotFoundError(f"{path}: teacher checkpoint of {lang} not found (needed for its dev BLEU; "
                                        f"or give --teacher-bleu)")
            st = path.stat()
            source[lang] = f"{path}:{st.st_size}:{st.st_mtime_ns}"
        return source

    def teacher(self, lang: str, device, for_bleu: bool = False):
        """Language `lang`'s teacher (loaded once, frozen, eval mode) on `device`."""
        path = self._teacher_path(lang, for_bleu)
        if path not in self._teachers:
            if not Path(path).is_file():
                raise FileNotFoundError(f"{path}: teacher checkpoint of {lang} not found")
            model, _ = load_model(Path(path), self)
            for p in model.parameters():
                p.requires_grad_(False)
            self._teachers[path] = model
            logger.info("loaded teacher %s for %s", path, lang)
        return self._teachers[path].to(device)

    def attach_online_topk(self, sample: dict) -> None:
        """Run each language's teacher on its rows of the batch (source without the language token)."""
        net_input = sample["net_input"]
        pad = self.src_dict.pad()
        src, lengths = net_input["src_tokens"], net_input["src_lengths"]  # [B, S], [B]
        if self.cfg.left_pad_source:
            first = src.gather(1, (src.size(1) - lengths).unsqueeze(1)).squeeze(1)  # [B]
        else:
            first = src[:, 0]
        expected = torch.tensor([self.lang_token[lang] for lang in self.langs], device=src.device)[sample["lang_id"]]
        if not torch.equal(first, expected):
            raise RuntimeError("online teachers: a source sentence does not start with its language token")
        teacher_src, teacher_len = strip_first_token(src, lengths, pad, self.cfg.left_pad_source)

        def topk(lang_id, rows):
            width = int(teacher_len[rows].max())
            rows_src = teacher_src[rows]
            rows_src = rows_src[:, -width:] if self.cfg.left_pad_source else rows_src[:, :width]  # [b, S']
            teacher = self.teacher(self.langs[lang_id], src.device)
            with torch.no_grad():
                ids, probs, _ = model_topk(teacher, {"src_tokens": rows_src, "src_lengths": teacher_len[rows],
                                                     "prev_output_tokens": net_input["prev_output_tokens"][rows]},
                                           sample["target"][rows], self.cfg.online_topk, pad)
            return ids, probs

        attach_topk(sample, pad, topk)
