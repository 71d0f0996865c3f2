"""The cached predictions the ``hkd_multilingual`` task trains from: the teachers' top-k stores
(``--kd-stores DIR``: ``DIR/<lang>``) and the student's assistant stores (``--assistant-stores
PATTERN`` with {type}, {cluster} and {lang}, for the assistants ``--assistant-map`` names, after the
exclusion rule of hkd.assistant_map). Each store is checked against its pair's training data.
"""

import logging
from pathlib import Path

from hkd.assistant_map import (EffectiveAssistants, check_pattern, effective_assistants, expand,
                              load_assistant_map, read_assistant_bleu)
from hkd.topk_store import TopkStore, signature_of
from hkd_fairseq.multilingual_dataset import pair_folder

logger = logging.getLogger(__name__)


class KDStores:
    """Mixin of the task (uses its cfg, langs, root, tgt_dict): opening the stores of a loaded split."""

    def _target_file(self, lang: str, split: str) -> str:
        """The prefix of a pair's binarized target side: what its stores say they are aligned to."""
        tgt = self.cfg.target_lang
        return str(pair_folder(self.root, lang) / f"{split}.{lang}-{tgt}.{tgt}")

    def _open_stores(self, pairs, split):
        stores = []
        for lang, pair in zip(self.langs, pairs):
            path = Path(self.cfg.kd_stores) / lang
            store = TopkStore(path)
            where = self._target_file(lang, split)
            store.check_matches(signature_of(pair.tgt, where), self.tgt_dict)
            self._store_teachers[lang] = store.header.get("teacher_checkpoint")
            stores.append(store)
            logger.info("teacher top-k store %s: k=%d, %d sentences", path, store.k, len(store))
        return stores

    def _effective_assistants(self) -> EffectiveAssistants:
        cfg = self.cfg
        if not (cfg.assistant_stores and cfg.assistant_map):
            raise ValueError("the student's adaptive KD needs both --assistant-stores and --assistant-map")
        check_pattern(cfg.assistant_stores, "--assistant-stores")
        assistants = load_assistant_map(Path(cfg.assistant_map), self.langs)
        if cfg.exclude_weakest_variance is not None and not cfg.assistant_bleu:
            raise ValueError("--exclude-weakest-variance needs the assistants' dev BLEU (--assistant-bleu)")
        bleu = read_assistant_bleu(cfg.assistant_bleu, assistants) if cfg.exclude_weakest_variance \
            is not None else None
        plan = effective_assistants(self.langs, assistants, bleu, cfg.exclude_weakest_variance)
        for lang in self.langs:
            if not plan.assistants[lang]:
                logger.warning("adaptive KD: %s has no assistant; its batches are trained on the NLL alone", lang)
        logger.info("adaptive KD: assistants per language %s; excluded %s", plan.assistants,
                    {lang: name for lang, name in plan.excluded.items() if name})
        return plan

    def _open_assistant_stores(self, pairs, split):
        result = []
        for lang, pair in zip(self.langs, pairs):
            where = self._target_file(lang, split)
            signature = signature_of(pair.tgt, where)
            stores = []
            for name in self.effective.assistants[lang]:
                path = Path(expand(self.cfg.assistant_stores, name, lang))
                store = TopkStore(path)
                store.check_matches(signature, self.tgt_dict)
                if not store.has_ref_lprobs:
                    raise ValueError(f"assistant store {path} has no reference log-probabilities (alpha needs "
                                     f"them): dump it again with --ref-lprobs")
                stores.append(store)
                logger.info("assistant %s on %s: store %s, k=%d, %d sentences", name, lang, path, store.k, len(store))
            result.append(stores)
        return result
