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
  hkd.assistant_map). Each store is checked against its pair's training data when the data is loaded.
  ``--exclude-weakest-variance V`` (off by default) drops, per language, the assistant of lowest dev
  BLEU when the variance of its assistants' dev BLEU is above V (``--assistant-bleu``: JSON
  ``{lang: {"type/cluster": bleu}}`` or a {type}/{cluster}/{lang} pattern of JSON files with a "bleu"
  key). ``--alpha-log FILE``: the weights per epoch and language as JSON lines (rank 0; written at
  every validation and epoch start; a resumed run keeps the records of the epochs before it). Like the
  selective log, keep it in the run's folder (``{run}/alpha.jsonl``) and let hkd.train ``--publish`` it
  when the job ends: a declared output written while training is lost when a job killed after its
  last epoch is rerun.
- The task's parts, one file each: kd_stores.py (opening the stores), online_teachers.py,
  selective_switch.py, dev_bleu.py (decoding and scoring); this file holds the configuration, the data
  loading and the validation.
- Evaluation of a trained assistant on one language: ``fairseq-generate DATA --task hkd_multilingual
  --langs kk --gen-subset test ...`` (ids are line numbers); ``--source-lang kk`` alone also works.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from fairseq import metrics, utils
from fairseq.tasks import FairseqTask, register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask, load_langpair_dataset
from omegaconf import II

from hkd.alpha_log import AlphaLog
from hkd.config import schema_default
from hkd_fairseq.dev_bleu import DevBleu, bleu_from_stats, bleu_stats
from hkd_fairseq.kd_stores import KDStores
from hkd_fairseq.multilingual_dataset import MultilingualPairsDataset, pair_folder
from hkd_fairseq.online_teachers import OnlineTeachers
from hkd_fairseq.selective_switch import SelectiveSwitch, _is_master

logger = logging.getLogger(__name__)


@dataclass
class HKDMultilingualConfig(TranslationConfig):
    langs: str = field(default="", metadata={"help": "comma-separated source languages (default: --source-lang); "
                                             "DATA holds one binarized folder per language"})
    sampling_temperature: float = field(default=schema_default("assistant", "sampling_temperature"),
                                        metadata={"help": "temperature up-sampling of small pairs"})
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
    selective_interval: int = field(default=schema_default("assistant", "selective_interval"), metadata={
        "help": "N_check: re-evaluate the KD flags every N epochs (0: KD always on)"})
    selective_tau: float = field(default=schema_default("assistant", "selective_tau"), metadata={
        "help": "KD on while assistant BLEU < teacher BLEU + tau"})
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


@register_task("hkd_multilingual", dataclass=HKDMultilingualConfig)
class HKDMultilingualTask(KDStores, OnlineTeachers, SelectiveSwitch, DevBleu, TranslationTask):
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
        self.effective, self.alpha_log = None, None
        if cfg.assistant_stores or cfg.assistant_map:
            self.effective = self._effective_assistants()
            self.alpha_log = AlphaLog(self.effective, cfg.alpha_log)

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
        assistants = self._open_assistant_stores(pairs, split) if train and self.effective else None
        self.datasets[split] = MultilingualPairsDataset(
            pairs, self.langs, temperature=self.cfg.sampling_temperature, resample=train, seed=self.cfg.seed,
            mixed=self.cfg.mixed_language_batches, stores=stores, shuffle=split != "test", assistants=assistants)
        if train:
            counts = ", ".join(f"{lang} {len(p)}->{n}" for lang, p, n in zip(self.langs, pairs,
                                                                               self.datasets[split].counts))
            logger.info("hkd_multilingual %s: sentences per epoch (T=%g): %s", split, self.cfg.sampling_temperature,
                        counts)

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        if self.kd_mode == "online" and sample and "kd_topk_ids" not in sample:
            self.attach_online_topk(sample)
        if hasattr(criterion, "set_num_updates"):
            criterion.set_num_updates(update_num)  # adaptive_kd's annealing follows the update number
        return super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)

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
        if self.selective is not None:
            self.switch_kd(epoch, model)
