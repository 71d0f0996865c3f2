"""fairseq criterion ``selective_kd``: Eq. 2 of the HKD paper with Algorithm 1's per-language switch,
a thin adapter over hkd.kd_loss (where the maths and its tests are).

    --criterion selective_kd --kd-lambda 0.6 --label-smoothing 0.1 [--kd-temperature 1]

A sample gets (1 - lambda) * label-smoothed NLL + lambda * KD when its batch carries teacher top-k
(``kd_topk_ids`` / ``kd_topk_probs`` / ``kd_available``, added by the hkd_multilingual task from the
stores or the online teachers) and the task's flag for its language (``task.kd_flag_tensor``, kept by
the selective switch) is on; otherwise the label-smoothed NLL. Validation batches carry no teacher
predictions, so the validation loss is the label-smoothed NLL.

Logged: ``loss`` (the objective, base 2, per token), ``nll_loss`` (base 2, per token; ``ppl``),
``kd_loss`` (the KD term per distilled token, base 2) and ``kd_frac`` (share of target tokens
distilled).
"""

import math
from dataclasses import dataclass, field

import torch
from fairseq import metrics, utils
from fairseq.criterions import FairseqCriterion, register_criterion
from fairseq.dataclass import FairseqDataclass
from omegaconf import II

from hkd.kd_loss import DEFAULT_LAMBDA, selective_kd_loss


@dataclass
class SelectiveKDConfig(FairseqDataclass):
    label_smoothing: float = field(default=0.1, metadata={"help": "epsilon of the label-smoothed NLL"})
    kd_lambda: float = field(default=DEFAULT_LAMBDA, metadata={"help": "weight of the KD term (Eq. 2)"})
    kd_temperature: float = field(default=1.0, metadata={"help": "temperature applied to the teacher's top-k"})
    sentence_avg: bool = II("optimization.sentence_avg")


@register_criterion("selective_kd", dataclass=SelectiveKDConfig)
class SelectiveKDCriterion(FairseqCriterion):
    def __init__(self, task, label_smoothing, kd_lambda, kd_temperature, sentence_avg):
        super().__init__(task)
        self.eps, self.lam, self.temperature = label_smoothing, kd_lambda, kd_temperature
        self.sentence_avg = sentence_avg

    def kd_switch(self, sample) -> torch.Tensor | None:
        """[B] bool: teacher predictions present and KD on for the sample's language."""
        available = sample.get("kd_available")
        if available is None:
            return None
        flags = getattr(self.task, "kd_flag_tensor", None)
        if flags is None or "lang_id" not in sample:
            return available
        return available & flags.to(available.device)[sample["lang_id"]]

    def forward(self, model, sample, reduce=True):
        net_output = model(**sample["net_input"])
        lprobs = model.get_normalized_probs(net_output, log_probs=True)  # [B, T, V]
        target = model.get_targets(sample, net_output)  # [B, T]
        terms = selective_kd_loss(lprobs, target, self.padding_idx, sample.get("kd_topk_ids"),
                                  sample.get("kd_topk_probs"), self.kd_switch(sample), self.lam, self.eps,
                                  self.temperature)
        sample_size = target.size(0) if self.sentence_avg else sample["ntokens"]
        logging_output = {
            "loss": terms.loss.data, "nll_loss": terms.nll_loss.data, "kd_loss": terms.kd_loss.data,
            "kd_tokens": terms.kd_tokens.item(), "ntokens": sample["ntokens"], "nsentences": target.size(0),
            "sample_size": sample_size,
        }
        return terms.loss, sample_size, logging_output

    @classmethod
    def reduce_metrics(cls, logging_outputs) -> None:
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        loss, nll, kd = total("loss"), total("nll_loss"), total("kd_loss")
        ntokens, sample_size, kd_tokens = total("ntokens"), total("sample_size"), total("kd_tokens")
        metrics.log_scalar("loss", loss / max(sample_size, 1) / math.log(2), sample_size, round=3)
        metrics.log_scalar("nll_loss", nll / max(ntokens, 1) / math.log(2), ntokens, round=3)
        metrics.log_derived("ppl", lambda meters: utils.get_perplexity(meters["nll_loss"].avg))
        metrics.log_scalar("kd_frac", kd_tokens / max(ntokens, 1), ntokens, round=3)
        if kd_tokens > 0:
            metrics.log_scalar("kd_loss", kd / kd_tokens / math.log(2), kd_tokens, round=3)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
