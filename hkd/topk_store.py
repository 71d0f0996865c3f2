"""Teacher top-k stores: a model's top-k next-token predictions at every target position of a
pair's binarized training data, computed once (teacher-forced) and memory-mapped during distillation.

    python -m hkd.topk_store dump --data results/data/bin/kk --checkpoint results/teachers/kk/checkpoint_best.pt \
        --src-lang kk --tgt-lang en --k 8 --out results/stores/teacher/kk [--ref-lprobs] \
        [--max-tokens 8000] [--threads 2] [--device auto]
    python -m hkd.topk_store check --store results/stores/teacher/kk --data results/data/bin/kk \
        --src-lang kk --tgt-lang en
    python -m hkd.topk_store info results/stores/teacher/kk

A store is a folder:

- ``ids.npy``     [N, k] token ids, uint16 when the dictionary has at most 65,536 entries, else int32
- ``probs.npy``   [N, k] float16, softmax of the model's logits (temperature 1), best first
- ``offsets.npy`` [S + 1] int64: sentence i's target positions are rows offsets[i]:offsets[i+1]
- ``ref_lprobs.npy`` [N] float32, optional (``--ref-lprobs``): log-probability of the reference token
  (so a model's perplexity on any batch can be computed without running it)
- ``header.json`` written last: what the store is aligned to (sentence count, tokens, sha256 of the
  target lengths and of the target token ids, the dictionary's sha256 and size), k, the checkpoint.

N is the number of target tokens (EOS included) and S the number of sentences, in the order of the
binarized data (fairseq's dataset index). A store is written to a temporary folder and renamed into
place, so a killed dump never leaves a store that looks finished. ``TopkStore(path)`` opens one
memory-mapped; ``check_matches`` refuses data other than the data it was computed on, and ``lookup``
returns a batch's top-k padded to the batch's target length.

A checkpoint of the multilingual task (``hkd_multilingual``: a teacher-assistant) reads its source with
the language token ``__src__`` in front; ``--source-prefix auto`` (the default) does that for such
checkpoints only. The student's adaptive KD (hkd.adaptive) reads one store per teacher-assistant and
language, with reference log-probabilities (its perplexity on a batch gives the assistant's weight):

    python -m hkd.topk_store dump --data 'results/data/bin/{lang}' \
        --checkpoint results/assistants/wals/c3/checkpoint_best.pt --src-lang kk uz tr --tgt-lang en --k 8 \
        --ref-lprobs --out 'results/stores/assistant/wals/c3/{lang}'

Stores named ``FOLDER/{lang}`` are one output, ``FOLDER`` (the workflow's ``assistant_store``): they
are all written in a folder beside it, renamed into place once the last is done
(``hkd.fileio.atomic_directory``), so a dump killed between two languages leaves no FOLDER at all.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hkd.fileio import atomic_directory, partial_folder, replace_folder

log = logging.getLogger("hkd.topk_store")

FORMAT = "hkd-topk-store"
VERSION = 1
FILES = {"ids": "ids.npy", "probs": "probs.npy", "offsets": "offsets.npy", "ref_lprobs": "ref_lprobs.npy"}
HEADER = "header.json"


class StoreMismatch(ValueError):
    """A store does not belong to the data (or dictionary) it is used with."""


def sha256_array(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def dictionary_sha256(dictionary) -> str:
    """Checksum of a fairseq Dictionary's symbols in index order (counts ignored)."""
    return hashlib.sha256("\n".join(dictionary.symbols).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DataSignature:
    """What a store is aligned to: one binarized target dataset, in index order."""

    where: str  # the dataset's path prefix, for messages
    sentences: int
    tokens: int
    sizes_sha256: str  # the target lengths as little-endian int64
    tokens_sha256: str  # the target token ids as little-endian int32, concatenated in index order

    def matches(self, other: "DataSignature") -> bool:
        return (self.sentences, self.tokens, self.sizes_sha256, self.tokens_sha256) == (
            other.sentences, other.tokens, other.sizes_sha256, other.tokens_sha256)

    def describe(self) -> str:
        return (f"{self.where} ({self.sentences} sentences, {self.tokens} target tokens, "
                f"lengths sha256 {self.sizes_sha256[:12]}, tokens sha256 {self.tokens_sha256[:12]})")


def _token_stream(dataset) -> np.ndarray | None:
    """All tokens of an mmap-indexed dataset in index order, without copying (None: not that kind)."""
    index = getattr(dataset, "_index", None)
    buffer = getattr(dataset, "_bin_buffer", None)
    if index is None or buffer is None or not hasattr(index, "_pointers"):
        return None
    sizes = np.asarray(index.sizes, dtype=np.int64)
    itemsize = np.dtype(index.dtype).itemsize
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) * itemsize
    if len(sizes) and not np.array_equal(np.asarray(index._pointers, dtype=np.int64), starts):
        return None  # not one contiguous stream in index order
    return np.frombuffer(buffer, dtype=index.dtype, count=int(sizes.sum()))


def signature_of(dataset, where: str) -> DataSignature:
    """The signature of a fairseq indexed target dataset (anything with .sizes and [i] -> ids)."""
    sizes = np.asarray(dataset.sizes, dtype=np.int64)
    digest = hashlib.sha256()
    stream = _token_stream(dataset)
    if stream is not None:
        for start in range(0, len(stream), 1 << 22):
            digest.update(stream[start:start + (1 << 22)].astype("<i4").tobytes())
    else:
        for i in range(len(dataset)):
            digest.update(np.asarray(dataset[i], dtype="<i4").tobytes())
    return DataSignature(where, len(sizes), int(sizes.sum()), sha256_array(sizes.astype("<i8")),
                         digest.hexdigest())


def _pair_prefix(data: Path, split: str, src: str, tgt: str) -> Path:
    """fairseq's file prefix of a pair's split (either direction of the pair name)."""
    for a, b in ((src, tgt), (tgt, src)):
        prefix = Path(data) / f"{split}.{a}-{b}."
        if (prefix.parent / (prefix.name + f"{tgt}.idx")).is_file():
            return prefix
    raise FileNotFoundError(f"{data}: no binarized {split} data for {src}-{tgt} "
                            f"(expected {split}.{src}-{tgt}.{tgt}.idx)")


def target_signature(data: Path, src: str, tgt: str, split: str = "train") -> DataSignature:
    """The signature of a pair's binarized target side, read from `data` (a fairseq data folder)."""
    from fairseq.data import data_utils

    prefix = str(_pair_prefix(data, split, src, tgt)) + tgt
    dataset = data_utils.load_indexed_dataset(prefix, None)
    if dataset is None:
        raise FileNotFoundError(f"{prefix}.bin/.idx: cannot read the binarized target data")
    return signature_of(dataset, prefix)


# ------------------------------------------------------------------------------------------- reading

class TopkStore:
    """A store opened memory-mapped (see the module docstring). Safe to pickle (reopens by path)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        header = self.path / HEADER
        if not header.is_file():
            raise FileNotFoundError(f"{header}: no top-k store here (missing header; an unfinished dump?)")
        try:
            self.header = json.loads(header.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ValueError(f"{header}: not JSON ({e})") from None
        if self.header.get("format") != FORMAT or self.header.get("version") != VERSION:
            raise ValueError(f"{header}: not a version-{VERSION} top-k store "
                             f"(format {self.header.get('format')!r}, version {self.header.get('version')!r})")
        self._arrays: dict[str, np.ndarray] | None = None
        self._open()

    def _open(self) -> None:
        h = self.header
        arrays = {}
        names = ["ids", "probs", "offsets"] + (["ref_lprobs"] if h.get("ref_lprobs") else [])
        for name in names:
            path = self.path / FILES[name]
            if not path.is_file():
                raise FileNotFoundError(f"{path}: missing from the store {self.path}")
            arrays[name] = np.load(path, mmap_mode="r")
        n, k, s = h["tokens"], h["k"], h["sentences"]
        expected = {"ids": (n, k), "probs": (n, k), "offsets": (s + 1,), "ref_lprobs": (n,)}
        for name, arr in arrays.items():
            if arr.shape != expected[name]:
                raise ValueError(f"{self.path / FILES[name]}: shape {arr.shape}, header says {expected[name]}")
        if arrays["offsets"][-1] != n:
            raise ValueError(f"{self.path / FILES['offsets']}: last offset {arrays['offsets'][-1]} != {n} tokens")
        self._arrays = arrays

    def __getstate__(self):
        return {"path": self.path, "header": self.header}

    def __setstate__(self, state):
        self.path, self.header, self._arrays = state["path"], state["header"], None
        self._open()

    def __len__(self) -> int:
        return int(self.header["sentences"])

    @property
    def k(self) -> int:
        return int(self.header["k"])

    @property
    def vocab_size(self) -> int:
        return int(self.header["vocab_size"])

    @property
    def has_ref_lprobs(self) -> bool:
        return bool(self.header.get("ref_lprobs"))

    @property
    def signature(self) -> DataSignature:
        h = self.header
        return DataSignature(h["data"], h["sentences"], h["tokens"], h["target_sizes_sha256"],
                             h["target_tokens_sha256"])

    def check_matches(self, signature: DataSignature, dictionary=None) -> None:
        """Refuse data (and a dictionary) other than the store was computed on."""
        if not self.signature.matches(signature):
            raise StoreMismatch(f"top-k store {self.path} is aligned to {self.signature.describe()}, "
                                f"but it is used with {signature.describe()}: dump the store again for this data")
        if dictionary is not None:
            size, sha = len(dictionary), dictionary_sha256(dictionary)
            want = self.header.get("dictionary_sha256")
            if size != self.vocab_size or (want is not None and sha != want):
                raise StoreMismatch(f"top-k store {self.path} was computed with a dictionary of {self.vocab_size} "
                                    f"entries (sha256 {str(want)[:12]}), it is used with one of "
                                    f"{size} (sha256 {sha[:12]})")

    def lengths(self, sentence_ids) -> np.ndarray:
        offsets = self._arrays["offsets"]
        ids = np.asarray(sentence_ids, dtype=np.int64)
        return offsets[ids + 1] - offsets[ids]

    def _rows(self, sentence_ids, length: int | None) -> tuple[np.ndarray, np.ndarray, int]:
        ids = np.asarray(sentence_ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"sentence ids must be one-dimensional, got shape {ids.shape}")
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError(f"{self.path}: sentence ids must be in [0, {len(self)}), got {ids.min()}..{ids.max()}")
        starts = self._arrays["offsets"][ids]  # [B]
        lens = self._arrays["offsets"][ids + 1] - starts  # [B]
        longest = int(lens.max()) if len(lens) else 0
        width = longest if length is None else int(length)
        if width < longest:
            raise ValueError(f"{self.path}: a sentence has {longest} target positions, padding to {width} would cut it")
        positions = np.arange(width, dtype=np.int64)  # [T]
        valid = positions[None, :] < lens[:, None]  # [B, T]
        rows = np.where(valid, starts[:, None] + positions[None, :], 0)  # [B, T]
        return rows, valid, width

    def lookup(self, sentence_ids, length: int | None = None):
        """Top-k of the given sentences: (ids [B, T, k] long, probs [B, T, k] float32), T = `length` or
        the longest; padding positions hold id 0 with probability 0."""
        import torch

        rows, valid, _ = self._rows(sentence_ids, length)
        ids = np.asarray(self._arrays["ids"][rows.reshape(-1)]).reshape(*rows.shape, self.k)  # [B, T, k]
        probs = np.asarray(self._arrays["probs"][rows.reshape(-1)]).reshape(*rows.shape, self.k)  # [B, T, k]
        ids = np.where(valid[..., None], ids, 0).astype(np.int64)
        probs = np.where(valid[..., None], probs.astype(np.float32), 0.0).astype(np.float32)
        return torch.from_numpy(ids), torch.from_numpy(probs)

    def lookup_ref_lprobs(self, sentence_ids, length: int | None = None):
        """Log-probability of the reference token at each position: [B, T] float32, 0 at padding."""
        import torch

        if not self.has_ref_lprobs:
            raise ValueError(f"{self.path}: dumped without --ref-lprobs")
        rows, valid, _ = self._rows(sentence_ids, length)
        values = np.asarray(self._arrays["ref_lprobs"][rows.reshape(-1)]).reshape(rows.shape)
        return torch.from_numpy(np.where(valid, values, 0.0).astype(np.float32))


def open_checked(path: Path, signature: DataSignature, dictionary=None) -> TopkStore:
    store = TopkStore(path)
    store.check_matches(signature, dictionary)
    return store


# ------------------------------------------------------------------------------------------- writing

def ids_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 65536 else np.dtype(np.int32)


class StoreWriter:
    """Fills a store in a temporary folder next to `out`; `finish` writes the header and renames it
    into place (replacing an older store). Rows may be written in any order, each sentence once.
    The partial folders of earlier, killed writers of `out` are removed first."""

    def __init__(self, out: Path, sizes: np.ndarray, k: int, vocab_size: int, ref_lprobs: bool = False):
        from numpy.lib.format import open_memmap

        self.out = Path(out)
        self.tmp = partial_folder(self.out)
        sizes = np.asarray(sizes, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n = int(self.offsets[-1])
        self.k, self.vocab_size = int(k), int(vocab_size)
        self.ids = open_memmap(self.tmp / FILES["ids"], mode="w+", dtype=ids_dtype(vocab_size), shape=(n, k))
        self.probs = open_memmap(self.tmp / FILES["probs"], mode="w+", dtype=np.float16, shape=(n, k))
        self.ref = (open_memmap(self.tmp / FILES["ref_lprobs"], mode="w+", dtype=np.float32, shape=(n,))
                    if ref_lprobs else None)
        self.done = np.zeros(len(sizes), dtype=bool)

    def write(self, sentence: int, ids: np.ndarray, probs: np.ndarray, ref_lprobs: np.ndarray | None = None):
        """One sentence: ids / probs [len, k], ref_lprobs [len]."""
        start, end = self.offsets[sentence], self.offsets[sentence + 1]
        if ids.shape != (end - start, self.k) or probs.shape != ids.shape:
            raise ValueError(f"sentence {sentence}: expected top-k of shape {(end - start, self.k)}, "
                             f"got {ids.shape} / {probs.shape}")
        if self.done[sentence]:
            raise ValueError(f"sentence {sentence} written twice")
        self.ids[start:end] = ids
        self.probs[start:end] = probs
        if self.ref is not None:
            if ref_lprobs is None:
                raise ValueError("this store keeps reference log-probabilities: pass ref_lprobs")
            self.ref[start:end] = ref_lprobs
        self.done[sentence] = True

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def finish(self, signature: DataSignature, **header) -> Path:
        missing = np.flatnonzero(~self.done)
        if len(missing):
            raise RuntimeError(f"{self.out}: {len(missing)} sentences have no top-k (first: {missing[:5].tolist()})")
        for arr in (self.ids, self.probs, self.ref):
            if arr is not None:
                arr.flush()
        np.save(self.tmp / FILES["offsets"], self.offsets)
        full = {"format": FORMAT, "version": VERSION, "k": self.k, "vocab_size": self.vocab_size,
                "ids_dtype": str(self.ids.dtype), "probs_dtype": "float16", "ref_lprobs": self.ref is not None,
                "temperature": 1.0, "data": signature.where, "sentences": signature.sentences,
                "tokens": signature.tokens, "target_sizes_sha256": signature.sizes_sha256,
                "target_tokens_sha256": signature.tokens_sha256, **header}
        del self.ids, self.probs, self.ref
        with open(self.tmp / HEADER, "w", encoding="utf-8") as f:
            f.write(json.dumps(full, indent=1, sort_keys=True) + "\n")
        replace_folder(self.tmp, self.out)
        return self.out


# --------------------------------------------------------------------------------- model predictions

def load_model(checkpoint: Path, task):
    """A model from a fairseq checkpoint, built for `task`'s dictionaries (which must be the ones the
    model was trained with), in eval mode on the CPU."""
    from fairseq import checkpoint_utils

    state = checkpoint_utils.load_checkpoint_to_cpu(str(checkpoint))
    cfg = state["cfg"]
    from fairseq import models

    model = models.build_model(cfg.model, task, from_checkpoint=True)
    try:
        model.load_state_dict(state["model"], strict=True, model_cfg=cfg.model)
    except RuntimeError as e:
        raise RuntimeError(f"{checkpoint}: does not fit the dictionary of {len(task.target_dictionary)} entries "
                           f"it is used with ({str(e).splitlines()[0]})") from None
    model.eval()
    return model, cfg


def model_topk(model, net_input: dict, target, k: int, pad_idx: int):
    """A model's top-k at each target position (teacher-forced): (ids [B, T, k], probs [B, T, k],
    ref_lprobs [B, T]), probabilities of the softmax at temperature 1; call under torch.no_grad()."""
    net_output = model(**net_input)
    lprobs = model.get_normalized_probs(net_output, log_probs=True)  # [B, T, V] float32
    top_lprobs, top_ids = lprobs.topk(k, dim=-1)  # [B, T, k]
    ref = lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1).masked_fill(target.eq(pad_idx), 0.0)  # [B, T]
    return top_ids, top_lprobs.exp(), ref


def _device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def dump(data: Path, checkpoint: Path, src: str, tgt: str, k: int, out: Path, split: str = "train",
         ref_lprobs: bool = False, max_tokens: int = 8000, max_sentences: int | None = None,
         device: str = "auto", source_prefix: str = "auto") -> Path:
    """One teacher-forced pass over a pair's split; writes the store `out` (see the module docstring)."""
    import torch
    from fairseq.tasks.translation import TranslationConfig, TranslationTask, load_langpair_dataset

    task = TranslationTask.setup_task(TranslationConfig(data=str(data), source_lang=src, target_lang=tgt))
    dictionary = task.target_dictionary
    if k < 1 or k > len(dictionary):
        raise ValueError(f"--k must be in [1, {len(dictionary)}] (the dictionary size), got {k}")
    model, cfg = load_model(checkpoint, task)
    multilingual = getattr(cfg.task, "_name", None) == "hkd_multilingual"
    prefix = multilingual if source_prefix == "auto" else source_prefix == "lang-token"
    prefix_id = None
    if prefix:
        prefix_id = task.source_dictionary.index(f"__{src}__")
        if prefix_id == task.source_dictionary.unk():
            raise KeyError(f"{data}/dict.{src}.txt has no language token __{src}__")
    left_pad = getattr(cfg.task, "left_pad_source", True)
    dataset = load_langpair_dataset(
        str(data), split, src, task.source_dictionary, tgt, dictionary, combine=False, dataset_impl=None,
        upsample_primary=1, left_pad_source=left_pad, left_pad_target=False,
        max_source_positions=10**9, max_target_positions=10**9, shuffle=False, prepend_bos_src=prefix_id)
    signature = signature_of(dataset.tgt, str(_pair_prefix(data, split, src, tgt)) + tgt)
    max_src, max_tgt = model.max_positions()
    too_long = np.flatnonzero((dataset.src_sizes > max_src) | (dataset.tgt_sizes > max_tgt))
    if len(too_long):
        raise ValueError(f"{signature.where}: {len(too_long)} sentences are longer than the model's "
                         f"{(max_src, max_tgt)} positions (first: {too_long[:5].tolist()}); a store must cover all")

    dev = _device(device)
    model.to(dev)
    indices = dataset.ordered_indices()
    batches = dataset.batch_by_size(indices, max_tokens=max_tokens, max_sentences=max_sentences)
    writer = StoreWriter(out, dataset.tgt_sizes, k, len(dictionary), ref_lprobs)
    pad = dictionary.pad()
    log.info("%s: %d sentences, %d target tokens, %d batches, k=%d, on %s", signature.where,
             signature.sentences, signature.tokens, len(batches), k, dev)
    started, tokens_done = time.time(), 0
    try:
        with torch.inference_mode():
            for number, batch in enumerate(batches, start=1):
                sample = dataset.collater([dataset[int(i)] for i in batch])
                net_input = {key: v.to(dev) for key, v in sample["net_input"].items()}
                target = sample["target"].to(dev)  # [B, T]
                top_ids, top_probs, ref = model_topk(model, net_input, target, k, pad)
                top_ids, top_probs, ref = top_ids.cpu().numpy(), top_probs.float().cpu().numpy(), ref.cpu().numpy()
                lens = target.ne(pad).sum(1).cpu().numpy()
                for row, sentence in enumerate(sample["id"].tolist()):
                    n = int(lens[row])
                    writer.write(sentence, top_ids[row, :n], top_probs[row, :n], ref[row, :n] if ref_lprobs else None)
                tokens_done += int(lens.sum())
                if number % 100 == 0 or number == len(batches):
                    rate = tokens_done / max(time.time() - started, 1e-9)
                    log.info("batch %d/%d, %d/%d tokens (%.0f tokens/s)", number, len(batches), tokens_done,
                             signature.tokens, rate)
        path = writer.finish(signature, teacher_checkpoint=str(checkpoint), src_lang=src, tgt_lang=tgt,
                             split=split, source_prefix=bool(prefix), dictionary_sha256=dictionary_sha256(dictionary),
                             seconds=round(time.time() - started, 2))
    except BaseException:
        writer.abort()
        raise
    log.info("wrote %s", path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="compute a store from a checkpoint and a pair's binarized data")
    d.add_argument("--data", type=Path, required=True, help="the pair's fairseq data folder (may hold {lang})")
    d.add_argument("--checkpoint", type=Path, required=True)
    d.add_argument("--src-lang", required=True, nargs="+",
                   help="the source language; several: one store each (--data and --out hold {lang})")
    d.add_argument("--tgt-lang", required=True)
    d.add_argument("--k", type=int, default=8)
    d.add_argument("--out", type=Path, required=True, help="the store folder (replaced when it exists; may hold "
                   "{lang})")
    d.add_argument("--split", default="train")
    d.add_argument("--ref-lprobs", action="store_true", help="also keep log P(reference token) per position")
    d.add_argument("--max-tokens", type=int, default=8000, help="tokens per batch")
    d.add_argument("--max-sentences", type=int, default=None)
    d.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    d.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, cuda:1 ...")
    d.add_argument("--source-prefix", choices=["auto", "none", "lang-token"], default="auto",
                   help="put __src__ before the source (auto: for hkd_multilingual checkpoints)")
    c = sub.add_parser("check", help="exit 1 when a store does not match a pair's binarized data")
    c.add_argument("--store", type=Path, required=True)
    c.add_argument("--data", type=Path, required=True)
    c.add_argument("--src-lang", required=True)
    c.add_argument("--tgt-lang", required=True)
    c.add_argument("--split", default="train")
    i = sub.add_parser("info", help="print a store's header and its size per target token")
    i.add_argument("store", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if args.command == "dump":
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        langs = args.src_lang
        if len(langs) > 1 and not ("{lang}" in str(args.data) and "{lang}" in str(args.out)):
            parser.error("several --src-lang need {lang} in both --data and --out")
        # one process for all of a model's languages: the start-up is paid once. Stores named
        # FOLDER/{lang} are one output, FOLDER: written whole beside it, then renamed into place
        folder = args.out.parent if args.out.name == "{lang}" else None
        with atomic_directory(folder) if folder else contextlib.nullcontext() as tmp:
            out = tmp / "{lang}" if folder else args.out
            for lang in langs:
                dump(Path(str(args.data).replace("{lang}", lang)), args.checkpoint, lang, args.tgt_lang, args.k,
                     Path(str(out).replace("{lang}", lang)), args.split, args.ref_lprobs, args.max_tokens,
                     args.max_sentences, args.device, args.source_prefix)
    elif args.command == "check":
        store = TopkStore(args.store)
        try:
            store.check_matches(target_signature(args.data, args.src_lang, args.tgt_lang, args.split))
        except StoreMismatch as e:
            log.error("%s", e)
            return 1
        log.info("%s matches %s", args.store, args.data)
    else:
        store = TopkStore(args.store)
        size = sum(f.stat().st_size for f in store.path.iterdir() if f.is_file())
        print(json.dumps({**store.header, "bytes": size,
                          "bytes_per_target_token": round(size / max(store.header["tokens"], 1), 2)},
                         indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
