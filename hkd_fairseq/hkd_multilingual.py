"""fairseq task ``hkd_multilingual``: many-to-one translation over several pairs, with selective
knowledge distillation from per-language teachers (HKD phase 1; Algorithm 1).

    python -m fairseq_cli.train results/data/bin --user-dir hkd_fairseq --task hkd_multilingual \
        --langs kk,be,uk --target-lang en --sampling-temperature 5 \
        --kd-stores results/stores/teacher --selective-interval 1 --selective-tau 1 \
        --selective-state RUN/selective_state.json --selective-log RUN/selective.jsonl \
        --criterion selective_kd --kd-lambda 0.6 --label-smoothing 0.1 --arch transformer ...

- DATA is the folder holding one binarized folder per language (``DATA/kk/train.kk-en.{kk,en}``; or
  all pairs in DATA itself), binarized with one shared dictionary that holds the language tokens; the source gets its language
  token ``__kk__`` in front. Training pairs are temperature up-sampled (hkd.sampling); batches hold
  one language each unless ``--mixed-language-batches`` (see multilingual_dataset).
- Teachers, either way: ``--kd-stores DIR`` (``DIR/<lang>``, hkd.topk_store; each store is checked
  against its pair's training data when the data is loaded) or ``--online-teachers PATTERN``
  (``results/teachers/{lang}/checkpoint_best.pt``: each language's teacher runs on its rows of every
  batch, top ``--online-topk``; for comparison with the stores).
- Selective switch: at the start of every epoch after ``--selective-interval`` finished epochs the
  assistant's dev BLEU on each pair (the ``--selective-subset`` split, greedy or ``--eval-bleu-args``
  decoding, BPE removed with ``--eval-bleu-remove-bpe``) is compared with the teacher's, computed once
  the same way (teachers: ``--teachers PATTERN``, else the online teachers, else the checkpoints named
  in the stores) or read from ``--teacher-bleu`` (a JSON {lang: bleu}, a ``{lang}`` pattern of JSON
  files with a "bleu" key, or a ``{lang}`` pattern of the teachers' curve.jsonl: their best
  ``valid_bleu``). With ``--eval-bleu`` the validation keeps its BLEU per language (``valid_bleu_<lang>``
  in the curve), and the switch reuses the validation that just ended instead of decoding again. The flags (hkd.selective) live in ``--selective-state``, which a restarted
  run resumes from, and ``--selective-log`` (JSONL, one record per epoch and language); the criterion
  reads them from the task. ``--selective-interval 0``: KD always on.
- Student (HKD phase 2, adaptive KD; criterion ``adaptive_kd``): ``--assistant-stores PATTERN``, a store
  path with {type}, {cluster} and {lang} (``results/stores/assistant/{type}/{cluster}/{lang}``: one
  store per assistant and language, dumped from the assistant's checkpoint over that language's
  training data with ``hkd.topk_store dump --ref-lprobs``), and ``--assistant-map FILE``, which
  assistants teach each language (JSON ``{lang: ["type/cluster", ...]}`` or the clusters file; see
  hkd.adaptive). Each store is checked against its pair's training data when the data is loaded.
  ``--exclude-weakest-variance V`` (off by default) drops, per language, the assistant of lowest dev
  BLEU when the variance of its assistants' dev BLEU is above V (``--assistant-bleu``: JSON
  ``{lang: {"type/cluster": bleu}}`` or a {type}/{cluster}/{lang} pattern of JSON files with a "bleu"
  key). ``--alpha-log FILE``: the weights per epoch and language as JSON lines (rank 0; written at
  every validation and epoch start; a resumed run keeps the records of the epochs before it). Like the
  selective log, keep it in the run's folder (``{run}/alpha.jsonl``) and let hkd.train ``--publish`` it
  when the job ends: a declared output written while training is lost when a job killed after its
  last epoch is rerun.
- Evaluation of a trained assistant on one language: ``fairseq-generate DATA --task hkd_multilingual
  --langs kk --gen-subset test ...`` (ids are line numbers); ``--source-lang kk`` alone also works.
"""

import json
import logging
from argparse import Namespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from fairseq import metrics, utils
from fairseq.data import encoders
from fairseq.tasks import FairseqTask, register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask, load_langpair_dataset
from omegaconf import II

from hkd import adaptive, selective
from hkd.student import best_validation
from hkd.topk_store import TopkStore, load_model, model_topk, signature_of
from hkd_fairseq.multilingual_dataset import MultilingualPairsDataset, attach_topk

logger = logging.getLogger(__name__)


@dataclass
class HKDMultilingualConfig(TranslationConfig):
    langs: str = field(default="", metadata={"help": "comma-separated source languages (default: --source-lang); "
                                             "DATA holds one binarized folder per language"})
    sampling_temperature: float = field(default=5.0, metadata={"help": "temperature up-sampling of small pairs"})
    mixed_language_batches: bool = field(default=False, metadata={"help": "cut batches from all languages "
                                                                  "together (default: one language per batch)"})
    kd_stores: Optional[str] = field(default=None, metadata={"help": "folder with one teacher top-k store per "
                                                             "language (DIR/<lang>, hkd.topk_store)"})
    online_teachers: Optional[str] = field(default=None, metadata={"help": "run the teachers during training "
                                                                   "instead: checkpoint pattern with {lang}"})
    online_topk: int = field(default=8, metadata={"help": "k of the online teachers' top-k"})
    teachers: Optional[str] = field(default=None, metadata={"help": "teacher checkpoints ({lang} pattern) for "
                                                            "their dev BLEU (default: online teachers / stores)"})
    teacher_bleu: Optional[str] = field(default=None, metadata={"help": "teachers' dev BLEU: JSON {lang: bleu}, or "
                                                                "a {lang} pattern of JSON files with a 'bleu' key"})
    selective_interval: int = field(default=1, metadata={"help": "N_check: re-evaluate the KD flags every N "
                                                         "epochs (0: KD always on)"})
    selective_tau: float = field(default=1.0, metadata={"help": "KD on while assistant BLEU < teacher BLEU + tau"})
    selective_state: Optional[str] = field(default=None, metadata={"help": "JSON state of the KD flags (resumed)"})
    selective_log: Optional[str] = field(default=None, metadata={"help": "JSONL: KD flag per epoch and language"})
    selective_subset: str = field(default="valid", metadata={"help": "split whose BLEU drives the KD flags"})
    selective_max_tokens: int = field(default=4096, metadata={"help": "tokens per batch of the dev decoding"})
    assistant_stores: Optional[str] = field(default=None, metadata={
        "help": "student: assistant top-k stores, a path with {type}, {cluster} and {lang}"})
    assistant_map: Optional[str] = field(default=None, metadata={
        "help": "student: each language's assistants, JSON {lang: ['type/cluster', ...]} or a clusters file"})
    assistant_bleu: Optional[str] = field(default=None, metadata={
        "help": "assistants' dev BLEU: JSON {lang: {'type/cluster': bleu}} or a {type}/{cluster}/{lang} pattern "
                "of JSON files with a 'bleu' key"})
    exclude_weakest_variance: Optional[float] = field(default=None, metadata={
        "help": "drop a language's weakest assistant when its assistants' dev BLEU variance (sample variance) "
                "is above this (default: never)"})
    alpha_log: Optional[str] = field(default=None, metadata={"help": "JSONL: assistant weights per epoch and language"})
    valid_subset: str = II("dataset.valid_subset")
    seed: int = II("common.seed")


def task_langs(cfg) -> list[str]:
    langs = [lang for lang in (cfg.langs or "").replace(" ", ",").split(",") if lang]
    if not langs and cfg.source_lang:
        langs = [cfg.source_lang]
    if not langs:
        raise ValueError("hkd_multilingual needs --langs (comma-separated source languages)")
    if len(set(langs)) != len(langs):
        raise ValueError(f"--langs lists a language twice: {langs}")
    return langs


def pair_folder(root: Path, lang: str) -> Path:
    """A pair's binarized folder: DATA/<lang> (the workflow's layout), else DATA itself (all pairs in one)."""
    return root / lang if (root / lang).is_dir() else root


def strip_first_token(src_tokens: torch.Tensor, src_lengths: torch.Tensor, pad: int, left_pad: bool):
    """Remove each row's first real token (the language token) from a padded source batch [B, S]."""
    if left_pad:
        out = src_tokens.clone()
        out[torch.arange(len(out), device=out.device), src_tokens.size(1) - src_lengths] = pad
    else:
        out = torch.cat([src_tokens[:, 1:], src_tokens.new_full((len(src_tokens), 1), pad)], dim=1)
    return out, src_lengths - 1


def _is_master() -> bool:
    return not (torch.distributed.is_available() and torch.distributed.is_initialized()
                and torch.distributed.get_rank() != 0)


def _unwrap(model):
    while hasattr(model, "module"):  # fairseq's distributed wrappers
        model = model.module
    return model


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


@register_task("hkd_multilingual", dataclass=HKDMultilingualConfig)
class HKDMultilingualTask(TranslationTask):
    cfg: HKDMultilingualConfig

    @classmethod
    def setup_task(cls, cfg: HKDMultilingualConfig, **kwargs):
        langs = task_langs(cfg)
        cfg.target_lang = cfg.target_lang or "en"
        root = Path(utils.split_paths(cfg.data)[0])
        first = None
        for lang in langs:
            for side in (lang, cfg.target_lang):
                path = pair_folder(root, lang) / f"dict.{side}.txt"
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: missing; DATA ({root}) must hold one binarized folder per "
                                            f"language (or all pairs), made with the shared dictionary")
                if first is None:
                    first = (path, path.read_bytes())
                elif path.read_bytes() != first[1]:
                    raise ValueError(f"{path} differs from {first[0]}: every pair must use the one shared dictionary")
        dictionary = cls.load_dictionary(str(first[0]))
        missing = [lang for lang in langs if dictionary.index(f"__{lang}__") == dictionary.unk()]
        if missing:
            raise KeyError(f"{first[0]} has no language token for {missing} (expected __xx__ entries)")
        logger.info("hkd_multilingual: %d languages -> %s, dictionary of %d types", len(langs), cfg.target_lang,
                    len(dictionary))
        return cls(cfg, dictionary, dictionary)

    def __init__(self, cfg: HKDMultilingualConfig, src_dict, tgt_dict):
        super().__init__(cfg, src_dict, tgt_dict)
        self.langs = task_langs(cfg)
        self.root = Path(utils.split_paths(cfg.data)[0])
        self.lang_token = {lang: src_dict.index(f"__{lang}__") for lang in self.langs}
        if cfg.kd_stores and cfg.online_teachers:
            raise ValueError("use either --kd-stores or --online-teachers, not both")
        self.kd_mode = "stores" if cfg.kd_stores else "online" if cfg.online_teachers else None
        self.kd_flag_tensor = torch.ones(len(self.langs), dtype=torch.bool)  # [L], read by selective_kd
        self._teachers: dict[str, torch.nn.Module] = {}
        self._store_teachers: dict[str, str] = {}
        self._dev: dict[tuple[str, bool], object] = {}
        self.selective = None
        self.valid_bleu: dict[str, float] = {}  # dev BLEU per language of the last validation
        self._valid_epoch = None
        if self.kd_mode:
            self.selective = self._initial_state()
        self.assistant_plan, self.alpha_log = None, None
        if cfg.assistant_stores or cfg.assistant_map:
            self.assistant_plan = self._assistant_plan()
            self.alpha_log = adaptive.AlphaLog(self.assistant_plan, cfg.alpha_log)

    # ------------------------------------------------------------------------------------------ data
    def _pair(self, lang: str, split: str, prefix: bool, shuffle: bool = True):
        return load_langpair_dataset(
            str(pair_folder(self.root, lang)), split, lang, self.src_dict, self.cfg.target_lang, self.tgt_dict,
            combine=False, dataset_impl=self.cfg.dataset_impl, upsample_primary=self.cfg.upsample_primary,
            left_pad_source=self.cfg.left_pad_source, left_pad_target=self.cfg.left_pad_target,
            max_source_positions=self.cfg.max_source_positions, max_target_positions=self.cfg.max_target_positions,
            truncate_source=self.cfg.truncate_source, shuffle=shuffle,
            pad_to_multiple=self.cfg.required_seq_len_multiple,
            prepend_bos_src=self.lang_token[lang] if prefix else None)

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        train = split == self.cfg.train_subset
        pairs = [self._pair(lang, split, prefix=True, shuffle=split != "test") for lang in self.langs]
        stores = self._open_stores(pairs, split) if train and self.kd_mode == "stores" else None
        assistants = self._open_assistant_stores(pairs, split) if train and self.assistant_plan else None
        self.datasets[split] = MultilingualPairsDataset(
            pairs, self.langs, temperature=self.cfg.sampling_temperature, resample=train, seed=self.cfg.seed,
            mixed=self.cfg.mixed_language_batches, stores=stores, shuffle=split != "test", assistants=assistants)
        if train:
            counts = ", ".join(f"{lang} {len(p)}->{n}" for lang, p, n in zip(self.langs, pairs,
                                                                               self.datasets[split].counts))
            logger.info("hkd_multilingual %s: sentences per epoch (T=%g): %s", split, self.cfg.sampling_temperature,
                        counts)

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

    # ------------------------------------------------------------------------------ assistants
    def _assistant_plan(self) -> adaptive.AssistantPlan:
        cfg = self.cfg
        if not (cfg.assistant_stores and cfg.assistant_map):
            raise ValueError("the student's adaptive KD needs both --assistant-stores and --assistant-map")
        adaptive.check_pattern(cfg.assistant_stores, "--assistant-stores")
        assistants = adaptive.load_assistant_map(Path(cfg.assistant_map), self.langs)
        if cfg.exclude_weakest_variance is not None and not cfg.assistant_bleu:
            raise ValueError("--exclude-weakest-variance needs the assistants' dev BLEU (--assistant-bleu)")
        bleu = adaptive.read_assistant_bleu(cfg.assistant_bleu, assistants) if cfg.exclude_weakest_variance \
            is not None else None
        plan = adaptive.make_plan(self.langs, assistants, bleu, cfg.exclude_weakest_variance)
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
            for name in self.assistant_plan.assistants[lang]:
                path = Path(adaptive.expand(self.cfg.assistant_stores, name, lang))
                store = TopkStore(path)
                store.check_matches(signature, self.tgt_dict)
                if not store.has_ref_lprobs:
                    raise ValueError(f"assistant store {path} has no reference log-probabilities (alpha needs "
                                     f"them): dump it again with --ref-lprobs")
                stores.append(store)
                logger.info("assistant %s on %s: store %s, k=%d, %d sentences", name, lang, path, store.k, len(store))
            result.append(stores)
        return result

    # ------------------------------------------------------------------------------------- teachers
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

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        if self.kd_mode == "online" and sample and "kd_topk_ids" not in sample:
            self.attach_online_topk(sample)
        if hasattr(criterion, "set_num_updates"):
            criterion.set_num_updates(update_num)  # adaptive_kd's annealing follows the update number
        return super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)

    # ------------------------------------------------------------------------- selective switch
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

    # -------------------------------------------------------- validation: BLEU per language too
    def begin_valid_epoch(self, epoch, model):
        super().begin_valid_epoch(epoch, model)
        self._valid_epoch = epoch
        self.valid_bleu = {}
        if self.alpha_log is not None and _is_master():
            self.alpha_log.write()

    def valid_step(self, sample, model, criterion):
        """fairseq's validation step, its --eval-bleu decoding kept per language as well: the dev BLEU of
        every pair (``valid_bleu_<lang>`` in the curve) comes from the one decoding, and the selective
        switch at the next epoch's start reuses it instead of decoding the dev sets again."""
        loss, sample_size, logging_output = FairseqTask.valid_step(self, sample, model, criterion)
        if not self.cfg.eval_bleu:
            return loss, sample_size, logging_output
        hyps, refs = self._hyps_refs(self.sequence_generator, model, sample, self.tokenizer)
        tokenize = self._bleu_tokenize()
        total = bleu_stats(hyps, refs, tokenize)
        logging_output["_bleu_sys_len"], logging_output["_bleu_ref_len"] = int(total[0]), int(total[1])
        for i in range(4):  # the keys of fairseq's translation task: its reduce_metrics makes "bleu"
            logging_output[f"_bleu_counts_{i}"] = int(total[2 + i])
            logging_output[f"_bleu_totals_{i}"] = int(total[6 + i])
        lang_ids = sample["lang_id"].tolist()
        for lang_id in sorted(set(lang_ids)):
            rows = [i for i, x in enumerate(lang_ids) if x == lang_id]
            stats = bleu_stats([hyps[i] for i in rows], [refs[i] for i in rows], tokenize)
            for j, value in enumerate(stats):
                logging_output[f"_lang_bleu_{self.langs[lang_id]}_{j}"] = int(value)
        return loss, sample_size, logging_output

    def reduce_metrics(self, logging_outputs, criterion):
        super().reduce_metrics(logging_outputs, criterion)
        if self.alpha_log is not None:
            self.alpha_log.add(logging_outputs)  # the all-reduced outputs: the same on every worker
        for lang in self.langs:
            keys = [f"_lang_bleu_{lang}_{j}" for j in range(10)]
            if not any(keys[0] in log for log in logging_outputs):
                continue
            stats = np.array([sum(int(log.get(k, 0)) for log in logging_outputs) for k in keys], dtype=np.int64)
            metrics.log_scalar(f"_lang_bleu_{lang}", stats)  # summed over the validation's batches

            def derive(meters, lang=lang):
                score = round(bleu_from_stats(meters[f"_lang_bleu_{lang}"].sum), 2)
                self.valid_bleu[lang] = score  # read by the selective switch at the next epoch's start
                return score

            metrics.log_derived(f"bleu_{lang}", derive)

    def begin_epoch(self, epoch, model):
        super().begin_epoch(epoch, model)
        if self.alpha_log is not None:
            self.alpha_log.begin_epoch(epoch)
            if _is_master():
                self.alpha_log.write()
        if self.selective is None:
            return
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
