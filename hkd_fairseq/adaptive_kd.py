"""fairseq criterion ``adaptive_kd``: the ultimate student's loss (HKD paper, Eq. 3-4, Algorithm 1),
a thin adapter over hkd.adaptive (where the maths, the defaults and their tests are).

    --task hkd_multilingual --assistant-stores 'results/stores/assistant/{type}/{cluster}/{lang}' \
        --assistant-map results/student/assistants.json --alpha-log RUN/alpha.jsonl \
        --criterion adaptive_kd --label-smoothing 0.1 --kd-lambda1 0.5 --kd-lambda2-start 0.5 \
        --kd-lambda2-end 3 --kd-anneal-k 0.0025 --kd-anneal-x0 2500 [--alpha-temperature 1]

Each training batch carries its language's effective assistants' top-k and reference log-probs
(``kd_assist_*``, added by the hkd_multilingual task from the assistant stores); alpha is computed per
language in the batch from the assistants' perplexities on it, and the loss is lambda1 * label-smoothed
NLL + lambda2(update) * the alpha-weighted KD term. Validation batches carry no assistant predictions,
so the validation loss is the label-smoothed NLL.

Logged: ``loss``, ``nll_loss`` (``ppl``), ``kd_loss`` (the KD term per distilled token, base 2),
``kd_frac``, ``lambda2``, and ``alpha/<lang>/<type>/<cluster>`` (the mean weight of that assistant over
the batches of that language). The task also writes the weights per epoch and language as JSON lines
(``--alpha-log``, hkd.alpha_log.AlphaLog). The update number for lambda2 comes from the task's
train_step (``set_num_updates``), so a resumed run continues the schedule.
"""

from dataclasses import dataclass, field

import torch
from fairseq import metrics
from fairseq.criterions import FairseqCriterion, register_criterion
from fairseq.dataclass import FairseqDataclass
from omegaconf import II

from hkd import adaptive as A, alpha_log
from hkd.config import schema_default
from hkd_fairseq.selective_kd import SelectiveKDCriterion


@dataclass
class AdaptiveKDConfig(FairseqDataclass):
    label_smoothing: float = field(default=0.1, metadata={"help": "epsilon of the label-smoothed NLL"})
    kd_lambda1: float = field(default=A.DEFAULT_LAMBDA1, metadata={"help": "weight of the NLL (Eq. 4)"})
    kd_lambda2_start: float = field(default=A.DEFAULT_LAMBDA2_START, metadata={"help": "KD weight at update 0"})
    kd_lambda2_end: float = field(default=A.DEFAULT_LAMBDA2_END, metadata={"help": "KD weight it is annealed to"})
    kd_anneal_k: float = field(default=A.DEFAULT_ANNEAL_K, metadata={"help": "slope of the logistic annealing"})
    kd_anneal_x0: float = field(default=A.DEFAULT_ANNEAL_X0, metadata={"help": "update of the annealing midpoint"})
    alpha_temperature: float = field(default=schema_default("student", "alpha_temperature"),
                                     metadata={"help": "alpha = softmax(-perplexity / this)"})
    kd_temperature: float = field(default=1.0, metadata={"help": "temperature applied to the assistants' top-k"})
    sentence_avg: bool = II("optimization.sentence_avg")


@register_criterion("adaptive_kd", dataclass=AdaptiveKDConfig)
class AdaptiveKDCriterion(FairseqCriterion):
    def __init__(self, task, label_smoothing, kd_lambda1, kd_lambda2_start, kd_lambda2_end, kd_anneal_k,
                 kd_anneal_x0, alpha_temperature, kd_temperature, sentence_avg):
        super().__init__(task)
        plan = getattr(task, "effective", None)
        if plan is None:
            raise ValueError("--criterion adaptive_kd needs the hkd_multilingual task with --assistant-stores "
                             "and --assistant-map")
        self.plan = plan
        self.langs = list(getattr(task, "langs", plan.langs))
        self.eps, self.lambda1 = label_smoothing, kd_lambda1
        self.anneal = dict(lo=kd_lambda2_start, hi=kd_lambda2_end, k=kd_anneal_k, x0=kd_anneal_x0)
        A.logistic_anneal(0, **self.anneal)  # refuses a negative slope now rather than at the first step
        self.alpha_temperature, self.kd_temperature = alpha_temperature, kd_temperature
        self.sentence_avg = sentence_avg
        self.num_updates = 0

    def set_num_updates(self, num_updates):
        self.num_updates = int(num_updates)

    @property
    def lambda2(self) -> float:
        return A.logistic_anneal(self.num_updates, **self.anneal)

    def forward(self, model, sample, reduce=True):
        net_output = model(**sample["net_input"])
        lprobs = model.get_normalized_probs(net_output, log_probs=True)  # [B, T, V]
        target = model.get_targets(sample, net_output)  # [B, T]
        lambda2 = self.lambda2
        terms = A.adaptive_kd_loss(
            lprobs, target, self.padding_idx, sample.get("kd_assist_ids"), sample.get("kd_assist_probs"),
            sample.get("kd_assist_ref"), sample.get("kd_assist_mask"), sample.get("lang_id"), self.lambda1, lambda2,
            self.eps, self.alpha_temperature, self.kd_temperature)
        sample_size = target.size(0) if self.sentence_avg else sample["ntokens"]
        logging_output = {
            "loss": terms.loss.data, "nll_loss": terms.nll_loss.data, "kd_loss": terms.kd_loss.data,
            "kd_tokens": terms.kd_tokens.item(), "ntokens": sample["ntokens"], "nsentences": target.size(0),
            "sample_size": sample_size, "lambda2_sum": 0.0, "kd_batches": 0,
            **self.weights(sample, terms),
        }
        if terms.alpha is not None:
            logging_output["lambda2_sum"], logging_output["kd_batches"] = lambda2, 1
        return terms.loss, sample_size, logging_output

    def weights(self, sample, terms) -> dict:
        """Per language in the batch: its assistants' alpha and perplexity (summed by fairseq over
        batches and workers; every worker logs the same keys, zeros for absent languages)."""
        sums = alpha_log.empty_sums(self.plan)
        if terms.alpha is None:
            return sums
        lang_ids = sample["lang_id"].tolist()
        alpha, perplexity = terms.alpha.cpu().tolist(), terms.perplexity.cpu().tolist()  # [B, A]
        mask = sample["kd_assist_mask"].any(1).tolist()  # [B]
        first_row = {}
        for row, lang_id in enumerate(lang_ids):
            if mask[row]:
                first_row.setdefault(lang_id, row)  # all rows of a language share its weights
        for lang_id, row in first_row.items():
            lang = self.langs[lang_id]
            sums[alpha_log.batches_key(lang)] += 1.0
            for slot, name in enumerate(self.plan.assistants[lang]):
                sums[alpha_log.alpha_key(lang, name)] += alpha[row][slot]
                sums[alpha_log.ppl_key(lang, name)] += perplexity[row][slot]
        return sums

    @classmethod
    def reduce_metrics(cls, logging_outputs) -> None:
        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        SelectiveKDCriterion.reduce_metrics(logging_outputs)  # loss, nll_loss, ppl, kd_frac, kd_loss
        kd_batches = total("kd_batches")
        if kd_batches > 0:
            metrics.log_scalar("lambda2", total("lambda2_sum") / kd_batches, kd_batches, round=4)
        first = logging_outputs[0] if logging_outputs else {}
        keys = [k for k in first if k.startswith(("alpha_sum:", "alpha_batches:"))]
        sums = alpha_log.summed(logging_outputs, keys)  # one device-to-host copy for all languages
        for key in keys:
            if key.startswith("alpha_sum:"):
                _, lang, name = key.split(":", 2)
                batches = sums[alpha_log.batches_key(lang)]
                if batches > 0:
                    metrics.log_scalar(f"alpha/{lang}/{name}", sums[key] / batches, batches, round=4)

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True
