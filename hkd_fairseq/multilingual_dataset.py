"""Many-to-one training samples over several language pairs, with each sample's teacher top-k.

``MultilingualPairsDataset`` holds one fairseq ``LanguagePairDataset`` per source language (its source
already prefixed with the language token ``__xx__``). An epoch is a list of entries (language, index
within the pair):

- training: every pair temperature up-sampled (hkd.sampling: the largest pair once, smaller ones
  repeated, a fresh random remainder each epoch, deterministic given seed and epoch);
- valid / test: every pair once, in order, pairs concatenated in ``--langs`` order (so with one
  language a sample's id is its line number).

Batches hold one language each by default (Algorithm 1 trains on per-language mini-batches; the
student's adaptive KD needs them too), shuffled across languages by fairseq's batch iterator; with
``mixed=True`` batches are cut from all languages together by length.

A collated batch is fairseq's usual translation batch plus ``lang_id`` [B] (index into ``langs``) and
``pair_index`` [B] (the sentence's index in its pair's binarized data, the index of the teacher store).
With stores (hkd.topk_store, one per language, checked against the pair's data by the task) it also
carries ``kd_topk_ids`` [B, T, k], ``kd_topk_probs`` [B, T, k] and ``kd_available`` [B].
With assistant stores (the student's adaptive KD: per language, the stores of its effective
teacher-assistants in slot order, each with reference log-probabilities) it carries
``kd_assist_ids`` [B, T, A, k], ``kd_assist_probs`` [B, T, A, k], ``kd_assist_ref`` [B, T, A] and
``kd_assist_mask`` [B, A] (A: the most assistants of a language in the batch; absent slots are 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from fairseq.data import FairseqDataset, data_utils

from hkd.sampling import upsample_indices, upsampled_sizes


def pair_folder(root: Path, lang: str) -> Path:
    """A pair's binarized folder: DATA/<lang> (the workflow's layout), else DATA itself (all pairs in one)."""
    return root / lang if (root / lang).is_dir() else root


class MultilingualPairsDataset(FairseqDataset):
    def __init__(self, pairs: list, langs: list[str], temperature: float = 1.0, resample: bool = False,
                 seed: int = 1, mixed: bool = False, stores: list | None = None, shuffle: bool = True,
                 assistants: list | None = None):
        if len(pairs) != len(langs) or not pairs:
            raise ValueError(f"need one pair dataset per language, got {len(pairs)} for {langs}")
        self.pairs, self.langs = pairs, list(langs)
        self.temperature, self.resample, self.seed = temperature, resample, seed
        self.mixed, self.shuffle = mixed, shuffle
        self.stores = stores
        if assistants is not None and len(assistants) != len(langs):
            raise ValueError(f"need one list of assistant stores per language, got {len(assistants)} for {langs}")
        self.assistants = assistants  # [language][slot] -> TopkStore
        self.pad = pairs[0].src_dict.pad()
        sizes = [len(p) for p in pairs]
        self.counts = upsampled_sizes(sizes, temperature) if resample else sizes
        self.epoch = None
        self.set_epoch(1)

    # -- the epoch's entries
    def set_epoch(self, epoch):
        epoch = int(epoch) if epoch is not None else 1
        if epoch == self.epoch:
            return
        self.epoch = epoch
        rng = np.random.default_rng([self.seed, epoch])
        lang_ids, pair_index = [], []
        for lang_id, (pair, count) in enumerate(zip(self.pairs, self.counts)):
            idx = upsample_indices(len(pair), count, rng) if self.resample else np.arange(len(pair), dtype=np.int64)
            lang_ids.append(np.full(len(idx), lang_id, dtype=np.int64))
            pair_index.append(idx)
        self.lang_ids = np.concatenate(lang_ids)  # [N]
        self.pair_index = np.concatenate(pair_index)  # [N]
        self.src_sizes = np.concatenate([p.src_sizes[i] for p, i in zip(self.pairs, pair_index)]).astype(np.int64)
        self.tgt_sizes = np.concatenate([p.tgt_sizes[i] for p, i in zip(self.pairs, pair_index)]).astype(np.int64)

    @property
    def can_reuse_epoch_itr_across_epochs(self):
        return not self.resample  # a resampled epoch has other entries

    def __len__(self):
        return len(self.lang_ids)

    def __getitem__(self, index):
        item = self.pairs[self.lang_ids[index]][int(self.pair_index[index])]
        item["id"] = index
        return item

    @property
    def sizes(self):
        return np.vstack((self.src_sizes, self.tgt_sizes)).T

    def num_tokens(self, index):
        return max(self.src_sizes[index], self.tgt_sizes[index])

    def num_tokens_vec(self, indices):
        return np.maximum(self.src_sizes[indices], self.tgt_sizes[indices])

    def size(self, index):
        return (self.src_sizes[index], self.tgt_sizes[index])

    def ordered_indices(self):
        """By target then source length (as LanguagePairDataset), ties in random order when shuffling."""
        indices = np.random.permutation(len(self)) if self.shuffle else np.arange(len(self))
        indices = indices[np.argsort(self.tgt_sizes[indices], kind="mergesort")]
        return indices[np.argsort(self.src_sizes[indices], kind="mergesort")].astype(np.int64)

    def filter_indices_by_size(self, indices, max_sizes):
        return data_utils.filter_paired_dataset_indices_by_size(self.src_sizes, self.tgt_sizes, indices, max_sizes)

    def batch_by_size(self, indices, max_tokens=None, max_sentences=None, required_batch_size_multiple=1):
        """Batches by length; one language per batch unless mixed."""
        def cut(group):
            return data_utils.batch_by_size(
                group, num_tokens_fn=self.num_tokens, num_tokens_vec=self.num_tokens_vec(group),
                max_tokens=max_tokens, max_sentences=max_sentences,
                required_batch_size_multiple=required_batch_size_multiple)

        indices = np.asarray(indices, dtype=np.int64)
        if self.mixed:
            return cut(indices)
        batches = []
        for lang_id in range(len(self.langs)):
            group = indices[self.lang_ids[indices] == lang_id]  # keeps the length order
            if len(group):
                batches.extend(cut(group))
        return batches

    @property
    def supports_prefetch(self):
        return False

    # -- batches
    def collater(self, samples, pad_to_length=None):
        if not samples:
            return {}
        batch = self.pairs[0].collater(samples, pad_to_length=pad_to_length)
        ids = batch["id"].numpy()  # [B] entries, in the collated (source-length) order
        batch["lang_id"] = torch.from_numpy(self.lang_ids[ids])  # [B]
        batch["pair_index"] = torch.from_numpy(self.pair_index[ids])  # [B]
        if self.stores is not None:
            attach_topk(batch, self.pad, lambda lang_id, rows: self._store_topk(batch, lang_id, rows))
        if self.assistants is not None:
            attach_assistants(batch, self.pad, lambda lang_id, rows: self._assistant_topk(batch, lang_id, rows))
        return batch

    def _assistant_topk(self, batch, lang_id, rows):
        target = batch["target"][rows]  # [b, T]
        index = batch["pair_index"][rows].numpy()  # [b]
        lengths = target.ne(self.pad).sum(1)  # [b]
        slots = []
        for store in self.assistants[lang_id]:
            stored = torch.from_numpy(store.lengths(index))
            if not torch.equal(stored, lengths):
                raise RuntimeError(f"assistant store {store.path}: stored lengths {stored.tolist()} differ from the "
                                   f"batch's target lengths for language {self.langs[lang_id]}")
            ids, probs = store.lookup(index, length=target.size(1))  # [b, T, k] each
            slots.append((ids, probs, store.lookup_ref_lprobs(index, length=target.size(1))))  # ref [b, T]
        return slots

    def _store_topk(self, batch, lang_id, rows):
        store = self.stores[lang_id]
        if store is None:
            return None
        target = batch["target"][rows]  # [b, T]
        ids, probs = store.lookup(batch["pair_index"][rows].numpy(), length=target.size(1))  # [b, T, k]
        stored = torch.from_numpy(store.lengths(batch["pair_index"][rows].numpy()))
        if not torch.equal(stored, target.ne(self.pad).sum(1)):
            raise RuntimeError(f"top-k store {store.path}: stored lengths {stored.tolist()} differ from the "
                               f"batch's target lengths for language {self.langs[lang_id]}")
        return ids, probs


def attach_topk(batch: dict, pad: int, topk_fn) -> None:
    """Add kd_topk_ids / kd_topk_probs [B, T, k] and kd_available [B] to a batch, language by language.

    topk_fn(lang_id, rows) returns (ids [b, T, k'], probs [b, T, k']) for those rows, or None when that
    language has no teacher; k is the largest k' (smaller ones are padded with probability 0).
    """
    target = batch["target"]  # [B, T]
    parts = {}
    for lang_id in torch.unique(batch["lang_id"]).tolist():
        rows = (batch["lang_id"] == lang_id).nonzero().squeeze(1)  # [b]
        result = topk_fn(lang_id, rows)
        if result is not None:
            parts[lang_id] = (rows, *result)
    k = max((ids.size(-1) for _, ids, _ in parts.values()), default=1)
    bsz, length = target.shape
    all_ids = torch.zeros(bsz, length, k, dtype=torch.long, device=target.device)  # [B, T, k]
    all_probs = torch.zeros(bsz, length, k, dtype=torch.float32, device=target.device)  # [B, T, k]
    available = torch.zeros(bsz, dtype=torch.bool, device=target.device)  # [B]
    for rows, ids, probs in parts.values():
        all_ids[rows, :, : ids.size(-1)] = ids.to(all_ids)
        all_probs[rows, :, : probs.size(-1)] = probs.to(all_probs)
        available[rows] = True
    batch["kd_topk_ids"], batch["kd_topk_probs"], batch["kd_available"] = all_ids, all_probs, available


def attach_assistants(batch: dict, pad: int, slots_fn) -> None:
    """Add kd_assist_ids / kd_assist_probs [B, T, A, k], kd_assist_ref [B, T, A] and kd_assist_mask
    [B, A] to a batch, language by language.

    slots_fn(lang_id, rows) returns a list, one entry per effective assistant of that language in slot
    order, of (ids [b, T, k'], probs [b, T, k'], ref_lprobs [b, T]); an empty list when the language
    has none. A and k are the largest over the batch (smaller ones padded with 0, mask False).
    """
    target = batch["target"]  # [B, T]
    parts = []
    for lang_id in torch.unique(batch["lang_id"]).tolist():
        rows = (batch["lang_id"] == lang_id).nonzero().squeeze(1)  # [b]
        parts.append((rows, slots_fn(lang_id, rows)))
    slots = max((len(s) for _, s in parts), default=0)
    k = max((ids.size(-1) for _, s in parts for ids, _, _ in s), default=1)
    bsz, length = target.shape
    ids = torch.zeros(bsz, length, max(slots, 1), k, dtype=torch.long, device=target.device)  # [B, T, A, k]
    probs = torch.zeros(bsz, length, max(slots, 1), k, dtype=torch.float32, device=target.device)  # [B, T, A, k]
    ref = torch.zeros(bsz, length, max(slots, 1), dtype=torch.float32, device=target.device)  # [B, T, A]
    mask = torch.zeros(bsz, max(slots, 1), dtype=torch.bool, device=target.device)  # [B, A]
    for rows, entries in parts:
        for slot, (s_ids, s_probs, s_ref) in enumerate(entries):
            ids[rows, :, slot, : s_ids.size(-1)] = s_ids.to(ids)
            probs[rows, :, slot, : s_probs.size(-1)] = s_probs.to(probs)
            ref[rows, :, slot] = s_ref.to(ref)
            mask[rows, slot] = True
    batch["kd_assist_ids"], batch["kd_assist_probs"] = ids, probs
    batch["kd_assist_ref"], batch["kd_assist_mask"] = ref, mask
