"""Dev BLEU of the ``hkd_multilingual`` task's models, decoded as fairseq's ``--eval-bleu`` would:
sacreBLEU's sufficient statistics per batch (they add up over batches, languages and workers) and the
decoding of each pair's dev split (for the teachers, and for an assistant when no validation just
measured it).
"""

import json
from argparse import Namespace

import numpy as np
from fairseq import utils
from fairseq.data import encoders


def bleu_stats(hyps: list[str], refs: list[str], tokenize: str) -> np.ndarray:
    """sacreBLEU's sufficient statistics of a set of sentences: [sys_len, ref_len, counts(4), totals(4)]
    (they add up over batches and workers; BLEU.compute_bleu turns the sums into a score)."""
    import sacrebleu

    bleu = sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize)
    return np.array([bleu.sys_len, bleu.ref_len, *bleu.counts, *bleu.totals], dtype=np.int64)


def bleu_from_stats(stats) -> float:
    from sacrebleu.metrics import BLEU

    stats = [int(x) for x in stats]
    return BLEU.compute_bleu(correct=stats[2:6], total=stats[6:10], sys_len=stats[0], ref_len=stats[1],
                             smooth_method="exp").score


def _unwrap(model):
    while hasattr(model, "module"):  # fairseq's distributed wrappers
        model = model.module
    return model


class DevBleu:
    """Mixin of the task (uses its cfg, langs, tgt_dict, _pair): decoding and scoring."""

    def _bleu_tokenize(self) -> str:
        return "none" if self.cfg.eval_tokenized_bleu else "13a"  # as fairseq's --eval-bleu

    def _hyps_refs(self, generator, model, sample, detok) -> tuple[list[str], list[str]]:
        """Decode a batch; hypotheses and references as text (BPE removed, detokenized)."""
        def decode(tokens, unk):
            text = self.tgt_dict.string(tokens.int().cpu(), self.cfg.eval_bleu_remove_bpe, unk_string=unk)
            return detok.decode(text) if detok else text

        hyps, refs = [], []
        for i, hypos in enumerate(self.inference_step(generator, [model], sample)):
            hyps.append(decode(hypos[0]["tokens"], "UNKNOWNTOKENINHYP"))
            refs.append(decode(utils.strip_pad(sample["target"][i], self.tgt_dict.pad()), "UNKNOWNTOKENINREF"))
        return hyps, refs

    def dev_bleu(self, model_for_lang, prefix: bool) -> dict[str, float]:
        """Corpus BLEU on each pair's dev split, decoded as fairseq's --eval-bleu would."""
        gen_args = Namespace(**json.loads(self.cfg.eval_bleu_args or "{}"))
        detok = encoders.build_tokenizer(Namespace(tokenizer=self.cfg.eval_bleu_detok,
                                                   **json.loads(self.cfg.eval_bleu_detok_args or "{}")))
        scores = {}
        for lang in self.langs:
            key = (lang, prefix)
            if key not in self._dev:
                self._dev[key] = self._pair(lang, self.cfg.selective_subset, prefix=prefix, shuffle=False)
            dataset = self._dev[key]
            model = _unwrap(model_for_lang(lang))
            was_training = model.training
            model.eval()
            device = next(model.parameters()).device
            generator = self.build_generator([model], gen_args)
            stats = np.zeros(10, dtype=np.int64)
            batches = dataset.batch_by_size(dataset.ordered_indices(), max_tokens=self.cfg.selective_max_tokens)
            for batch in batches:
                sample = dataset.collater([dataset[int(i)] for i in batch])
                if device.type == "cuda":
                    sample = utils.move_to_cuda(sample, device=device)
                stats += bleu_stats(*self._hyps_refs(generator, model, sample, detok), self._bleu_tokenize())
            model.train(was_training)
            scores[lang] = round(bleu_from_stats(stats), 4)
        return scores
