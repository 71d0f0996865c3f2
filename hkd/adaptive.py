"""Adaptive knowledge distillation from all teacher-assistants to the ultimate student (HKD paper,
section 3, Eq. 3-4 and Algorithm 1; the weighting after Saleh et al. 2020): the loss maths as plain
functions on tensors, which assistants teach which language, and the per-epoch log of the weights.
The fairseq criterion ``adaptive_kd`` (hkd_fairseq/adaptive_kd.py) is a thin adapter over them.

For a batch of language l with effective assistants c = 1..C (those whose clusters hold l):

    ppl_c   = exp(- mean over the batch's non-pad target tokens of log P_c(y_t | y_<t, x))
    alpha   = softmax(-ppl / temperature)          (reward = negative perplexity; temperature 1)
    KD_t    = - sum_c alpha_c sum_{j<k} q_cj log P(v_cj | y_<t, x)                         (Eq. 3)
    loss_t  = lambda1 * LS-NLL_t + lambda2(step) * KD_t                                     (Eq. 4)

P is the student, v_c1..v_ck assistant c's top-k ids at t and q_c its top-k probabilities renormalised
over those k (hkd.kd_loss.teacher_distribution). ppl_c comes from the assistant's stored reference
log-probabilities (hkd.topk_store dump --ref-lprobs), so no assistant runs during training; alpha
carries no gradient. A sample whose language has no assistant gets loss_t = LS-NLL_t (as validation
batches, which carry no assistant predictions). Padding contributes nothing. With mixed-language
batches each language's rows of the batch get their own alpha.

lambda1 = 0.5 and lambda2 rising from 0.5 to 3 are the paper's (appendix A.2), the rise by logistic
annealing after Bowman et al. 2016:

    lambda2(step) = lo + (hi - lo) / (1 + exp(-k (step - x0)))      step = fairseq's update number

The defaults k = 0.0025, x0 = 2500 are Bowman et al.'s (as in the common reimplementations of their
KL annealing): lambda2(0) = 0.505, lambda2(x0) = 1.75, and lambda2 covers 10% -> 90% of its rise
between x0 -+ ln(9)/k (1621 .. 3379 updates), so it is at 3 after ~5,000 updates. For a run of U
updates in all, x0 sets where the rise happens (x0 = U/4 puts it in the first half) and k how sharp
it is (k >= 8/x0 keeps lambda2(0) within 0.1% of (hi - lo) above lo); ``python -m hkd.adaptive
anneal --k K --x0 X0 --steps 0 1000 ...`` prints the schedule.

Excluding the weakest assistant (the remedy the paper proposes for kk and bs, section 4.1.2; off by
default): for a language whose assistants' dev BLEU has a variance above a threshold, the assistant
of lowest dev BLEU is dropped (one only; on a tie the first of them in the map's order). The variance
is the sample variance (ddof 1): Table 6's bs scores of the four cluster types give the paper's 20.81.

Which assistants teach a language is a map ``{lang: ["type/cluster", ...]}`` (a JSON file; items may
also be [type, cluster] pairs) or the clusters file itself (hkd.clusters: every assistant whose
cluster holds the language, types in file order). Dev BLEU per (assistant, language) is a JSON
``{lang: {"type/cluster": bleu}}`` or a pattern with {type}, {cluster} and {lang} of JSON files with
a "bleu" key (hkd.evaluate's output on the dev split).

    python -m hkd.adaptive effective --map config/clusters.yaml --langs kk be az \
        [--bleu 'results/eval/assistant_dev/{type}/{cluster}/{lang}.json' --variance-threshold 6] \
        [--out results/student/assistants.json]
    python -m hkd.adaptive anneal [--k 0.0025 --x0 2500] --steps 0 1000 2500 5000
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, NamedTuple

import torch

from hkd.kd_loss import label_smoothed_nll, teacher_distribution
from hkd.fileio import write_atomic_text as write_atomic

log = logging.getLogger("hkd.adaptive")

# Paper, appendix A.2: "lambda1 = 0.5 and lambda2 is started from 0.5 and increased to 3".
DEFAULT_LAMBDA1 = 0.5
DEFAULT_LAMBDA2_START = 0.5
DEFAULT_LAMBDA2_END = 3.0
# Bowman et al. 2016's logistic KL annealing: 1 / (1 + exp(-0.0025 (step - 2500))).
DEFAULT_ANNEAL_K = 0.0025
DEFAULT_ANNEAL_X0 = 2500.0
MAX_LOG_PPL = 80.0  # perplexities are capped at e^80 so that softmax(-ppl) stays finite in float32
VARIANCE_DDOF = 1  # the paper's variances are sample variances (bs: 20.81 from Table 6)


# ------------------------------------------------------------------------------------- loss maths

def logistic_anneal(step: float, lo: float = DEFAULT_LAMBDA2_START, hi: float = DEFAULT_LAMBDA2_END,
                    k: float = DEFAULT_ANNEAL_K, x0: float = DEFAULT_ANNEAL_X0) -> float:
    """lambda2 at update `step`: lo + (hi - lo) / (1 + exp(-k (step - x0))) (k >= 0)."""
    if k < 0:
        raise ValueError(f"the annealing slope k must be >= 0, got {k}")
    z = -k * (float(step) - x0)
    return lo if z > 700 else lo + (hi - lo) / (1.0 + math.exp(z))


def group_perplexity(ref_lprobs: torch.Tensor, not_pad: torch.Tensor,
                     group: torch.Tensor | None = None) -> torch.Tensor:
    """Each assistant's perplexity on the target tokens of each row's group (language) in the batch.

    ref_lprobs [B, T, A]: assistant a's log-probability of the reference token at each position;
    not_pad [B, T] bool; group [B] (e.g. lang_id; None: the whole batch is one group). Returns
    [B, A]: exp(-mean of ref_lprobs over the non-pad tokens of the row's group), capped at e^80.
    """
    mask = not_pad.to(torch.float32)  # [B, T]
    per_row = (ref_lprobs.float() * mask[..., None]).sum(1)  # [B, A]
    tokens = mask.sum(1)  # [B]
    if group is None:
        inverse = torch.zeros(len(per_row), dtype=torch.long, device=per_row.device)  # [B]
    else:
        inverse = torch.unique(group, return_inverse=True)[1]  # [B] in 0..G-1
    groups = int(inverse.max()) + 1 if len(inverse) else 0
    sums = per_row.new_zeros(groups, per_row.size(1)).index_add_(0, inverse, per_row)  # [G, A]
    counts = tokens.new_zeros(groups).index_add_(0, inverse, tokens)  # [G]
    mean_nll = (-sums / counts.clamp_min(1.0)[:, None]).clamp(max=MAX_LOG_PPL)  # [G, A]
    return mean_nll.exp()[inverse]  # [B, A]


def adaptive_alpha(perplexity: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """alpha = softmax(-perplexity / temperature) over the assistants present (mask True).

    perplexity [..., A], mask [..., A] bool. Absent assistants get 0; a row with none gets all 0.
    """
    if temperature <= 0:
        raise ValueError(f"the alpha temperature must be > 0, got {temperature}")
    logits = (-perplexity.float() / temperature).masked_fill(~mask, float("-inf"))  # [..., A]
    any_present = mask.any(-1, keepdim=True)  # [..., 1]
    logits = torch.where(any_present, logits, torch.zeros_like(logits))
    return torch.softmax(logits, -1) * mask


def adaptive_kd_term(lprobs: torch.Tensor, assist_ids: torch.Tensor, assist_probs: torch.Tensor,
                     alpha: torch.Tensor, kd_temperature: float = 1.0) -> torch.Tensor:
    """Eq. 3 per token: sum_c alpha_c * CE(student, assistant c's renormalised top-k).

    lprobs [B, T, V]; assist_ids [B, T, A, k] long; assist_probs [B, T, A, k]; alpha [B, A].
    Returns [B, T] (not masked; see adaptive_kd_loss).
    """
    bsz, length, slots, k = assist_ids.shape
    q = teacher_distribution(assist_probs, kd_temperature)  # [B, T, A, k]
    student = lprobs.gather(-1, assist_ids.reshape(bsz, length, slots * k)).view(bsz, length, slots, k)
    ce = -(q * student).sum(-1)  # [B, T, A]
    return (ce * alpha.to(ce.dtype)[:, None, :]).sum(-1)  # [B, T]


class AdaptiveKDTerms(NamedTuple):
    """Sums over the batch's non-padding tokens, and the batch's weights."""

    loss: torch.Tensor  # scalar: the training objective (Eq. 4)
    nll_loss: torch.Tensor  # scalar: plain NLL (no smoothing), for perplexity
    kd_loss: torch.Tensor  # scalar: the KD term (Eq. 3) summed over the tokens with assistants
    kd_tokens: torch.Tensor  # scalar long: tokens with at least one assistant
    ntokens: torch.Tensor  # scalar long: non-padding tokens
    alpha: torch.Tensor | None  # [B, A]: each row's assistant weights (0 for absent slots)
    perplexity: torch.Tensor | None  # [B, A]: each assistant's perplexity on the row's group


def adaptive_kd_loss(lprobs: torch.Tensor, target: torch.Tensor, pad_idx: int,
                     assist_ids: torch.Tensor | None = None, assist_probs: torch.Tensor | None = None,
                     assist_ref: torch.Tensor | None = None, assist_mask: torch.Tensor | None = None,
                     group: torch.Tensor | None = None, lambda1: float = DEFAULT_LAMBDA1,
                     lambda2: float = DEFAULT_LAMBDA2_START, epsilon: float = 0.1,
                     alpha_temperature: float = 1.0, kd_temperature: float = 1.0) -> AdaptiveKDTerms:
    """Eq. 4 summed over non-padding tokens (see the module docstring).

    lprobs [B, T, V] (the student's log-probabilities), target [B, T]; the assistants' predictions,
    slot a of row b being the a-th effective assistant of the row's language: assist_ids /
    assist_probs [B, T, A, k] (top-k, padded), assist_ref [B, T, A] (log P of the reference token),
    assist_mask [B, A] bool (slot present); group [B] (the rows' language, for alpha). Without
    assistant predictions the loss is the label-smoothed NLL.
    """
    if lambda1 < 0 or lambda2 < 0:
        raise ValueError(f"lambda1 and lambda2 must be >= 0, got {lambda1}, {lambda2}")
    ls, nll = label_smoothed_nll(lprobs, target, epsilon, pad_idx)  # [B, T] each
    not_pad = target.ne(pad_idx)  # [B, T]
    parts = (assist_ids, assist_probs, assist_ref, assist_mask)
    if any(p is None for p in parts) or not bool(assist_mask.any()):
        zero = lprobs.new_zeros(())
        return AdaptiveKDTerms(ls.sum(), nll.sum(), zero, not_pad.new_zeros((), dtype=torch.long), not_pad.sum(),
                               None, None)
    bsz, length = target.shape
    if (assist_ids.dim() != 4 or assist_ids.shape[:2] != target.shape or assist_probs.shape != assist_ids.shape
            or assist_ref.shape != assist_ids.shape[:3] or assist_mask.shape != (bsz, assist_ids.size(2))):
        raise ValueError(f"assistant predictions of shapes ids {tuple(assist_ids.shape)}, probs "
                         f"{tuple(assist_probs.shape)}, ref {tuple(assist_ref.shape)}, mask {tuple(assist_mask.shape)} "
                         f"do not fit the target's {(bsz, length)} (expected [B, T, A, k], [B, T, A, k], "
                         f"[B, T, A], [B, A])")
    mask = assist_mask.to(device=target.device, dtype=torch.bool)  # [B, A]
    with torch.no_grad():
        perplexity = group_perplexity(assist_ref, not_pad, group)  # [B, A]
        alpha = adaptive_alpha(perplexity, mask, alpha_temperature)  # [B, A]
    on = mask.any(1)[:, None] & not_pad  # [B, T]
    kd = adaptive_kd_term(lprobs, assist_ids, assist_probs, alpha, kd_temperature).masked_fill(~on, 0.0)  # [B, T]
    per_token = torch.where(on, lambda1 * ls + lambda2 * kd, ls)  # [B, T]
    return AdaptiveKDTerms(per_token.sum(), nll.sum(), kd.sum(), on.sum(), not_pad.sum(), alpha, perplexity)


# ------------------------------------------------------------------------ which assistants teach

def exclude_weakest(bleu: Mapping[str, float], threshold: float | None,
                    ddof: int = VARIANCE_DDOF) -> tuple[list[str], str | None, float | None]:
    """(kept assistants in the given order, the excluded one or None, the variance or None).

    The weakest (lowest BLEU; the first of them on a tie) is dropped when the variance of the scores
    is above `threshold` (None: never). Fewer than 2 assistants: nothing to compare, none dropped.
    """
    names = list(bleu)
    if len(names) < 2:
        return names, None, None
    values = [float(bleu[n]) for n in names]
    variance = statistics.variance(values) if ddof == 1 else statistics.pvariance(values)
    if threshold is None or not variance > threshold:
        return names, None, variance
    weakest = min(names, key=lambda n: bleu[n])
    return [n for n in names if n != weakest], weakest, variance


def assistant_name(item) -> str:
    """'type/cluster' from either that string or a [type, cluster] pair."""
    if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item):
        name = f"{item[0]}/{item[1]}"
    elif isinstance(item, str):
        name = item
    else:
        raise ValueError(f"an assistant is 'type/cluster' or [type, cluster], got {item!r}")
    parts = name.split("/")
    if len(parts) != 2 or not all(parts) or ":" in name or any(c.isspace() for c in name):
        raise ValueError(f"assistant name {name!r} is not 'type/cluster' (one '/', no ':' or spaces)")
    return name


def assistants_from_clusters(clusters: Mapping[str, Mapping[str, list]]) -> dict[str, list[str]]:
    """{lang: ['type/cluster', ...]} from a clusters mapping {type: {cluster: [langs]}} (file order)."""
    result: dict[str, list[str]] = {}
    for ctype, groups in clusters.items():
        for cluster, members in groups.items():
            for lang in members:
                result.setdefault(str(lang), []).append(assistant_name([str(ctype), str(cluster)]))
    return result


def load_assistant_map(path: Path, langs: list[str]) -> dict[str, list[str]]:
    """Each language's assistants (see the module docstring), for every language of `langs`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no assistant map (JSON {{lang: ['type/cluster', ...]}} or a clusters file)")
    if path.suffix in (".yaml", ".yml"):
        from hkd.clusters import parse_clusters  # validated against the corpus elsewhere (hkd.clusters)

        table = assistants_from_clusters(parse_clusters(path.read_text(encoding="utf-8"), str(path))[0])
    else:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ValueError(f"{path}: not JSON ({e})") from None
        if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
            raise ValueError(f"{path}: expected {{lang: ['type/cluster', ...]}}")
        table = {lang: [assistant_name(item) for item in items] for lang, items in raw.items()}
    missing = [lang for lang in langs if lang not in table]
    if missing:
        raise KeyError(f"{path}: no assistants listed for {missing} (list [] for a language taught by none)")
    result = {}
    for lang in langs:
        names = table[lang]
        if len(set(names)) != len(names):
            raise ValueError(f"{path}: {lang} lists an assistant twice: {names}")
        result[lang] = list(names)
    return result


def expand(pattern: str, name: str, lang: str) -> str:
    """A {type}/{cluster}/{assistant}/{lang} pattern filled in for one assistant and language."""
    ctype, cluster = assistant_name(name).split("/")
    return pattern.replace("{type}", ctype).replace("{cluster}", cluster).replace("{assistant}", name) \
        .replace("{lang}", lang)


def check_pattern(pattern: str, what: str) -> None:
    if "{lang}" not in pattern or not ("{assistant}" in pattern or ("{type}" in pattern and "{cluster}" in pattern)):
        raise ValueError(f"{what} {pattern!r} must hold {{lang}} and either {{type}} and {{cluster}} or {{assistant}}")


def read_assistant_bleu(spec: str, assistants: Mapping[str, list[str]]) -> dict[str, dict[str, float]]:
    """Dev BLEU of every (language, assistant) of `assistants`, from a JSON table or a file pattern."""
    def number(value, where):
        value = value.get("bleu") if isinstance(value, dict) else value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a BLEU score, got {value!r}")
        return float(value)

    result: dict[str, dict[str, float]] = {}
    if "{" in spec:
        check_pattern(spec, "--assistant-bleu")
        for lang, names in assistants.items():
            result[lang] = {}
            for name in names:
                path = Path(expand(spec, name, lang))
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: dev BLEU of assistant {name} on {lang} not found")
                result[lang][name] = number(json.loads(path.read_text(encoding="utf-8")), path)
        return result
    table = json.loads(Path(spec).read_text(encoding="utf-8"))
    for lang, names in assistants.items():
        scores = table.get(lang, {})
        missing = [n for n in names if n not in scores]
        if missing:
            raise KeyError(f"{spec}: no dev BLEU of {missing} on {lang}")
        result[lang] = {n: number(scores[n], f"{spec}[{lang}][{n}]") for n in names}
    return result


@dataclass
class AssistantPlan:
    """The effective assistants of each language (slot order), and what the exclusion rule did."""

    langs: list[str]
    assistants: dict[str, list[str]]
    excluded: dict[str, str | None] = field(default_factory=dict)
    variance: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"assistants": self.assistants, "excluded": self.excluded, "variance": self.variance}


def make_plan(langs: list[str], assistants: Mapping[str, list[str]],
              bleu: Mapping[str, Mapping[str, float]] | None = None,
              variance_threshold: float | None = None) -> AssistantPlan:
    """Apply the exclusion rule (when `variance_threshold` is set; it needs `bleu`) to each language."""
    if variance_threshold is not None and bleu is None:
        raise ValueError("excluding the weakest assistant needs the assistants' dev BLEU (--assistant-bleu)")
    plan = AssistantPlan(list(langs), {})
    for lang in langs:
        names = list(assistants[lang])
        if bleu is not None and names:
            kept, dropped, variance = exclude_weakest({n: bleu[lang][n] for n in names}, variance_threshold)
        else:
            kept, dropped, variance = names, None, None
        plan.assistants[lang], plan.excluded[lang], plan.variance[lang] = kept, dropped, variance
        if dropped:
            log.info("%s: dev BLEU variance %.2f > %g: excluding the weakest assistant %s (BLEU %.2f); "
                     "keeping %s", lang, variance, variance_threshold, dropped, bleu[lang][dropped], kept)
    return plan


# ------------------------------------------------------------------- the weights, logged per epoch

def alpha_key(lang: str, name: str) -> str:
    """Logging-output key: sum over batches of language `lang` of the weight of assistant `name`."""
    return f"alpha_sum:{lang}:{name}"


def ppl_key(lang: str, name: str) -> str:
    return f"ppl_sum:{lang}:{name}"


def batches_key(lang: str) -> str:
    return f"alpha_batches:{lang}"


def empty_sums(plan: AssistantPlan) -> dict[str, float]:
    """The fixed set of per-(language, assistant) keys, all 0 (every worker logs the same keys)."""
    sums: dict[str, float] = {}
    for lang in plan.langs:
        sums[batches_key(lang)] = 0.0
        for name in plan.assistants[lang]:
            sums[alpha_key(lang, name)] = 0.0
            sums[ppl_key(lang, name)] = 0.0
    return sums


def summed(logging_outputs, keys) -> dict[str, float]:
    """Each key summed over the logging outputs, as floats, with one device-to-host copy (after
    fairseq's all-reduce of several workers the values are tensors on the device)."""
    values = [[out.get(key, 0.0) for key in keys] for out in logging_outputs]
    tensors = [v for row in values for v in row if torch.is_tensor(v)]
    if tensors:
        host = iter(torch.stack([t.detach().reshape(()).double() for t in tensors]).cpu().tolist())
        values = [[next(host) if torch.is_tensor(v) else v for v in row] for row in values]
    return {key: float(sum(row[i] for row in values)) for i, key in enumerate(keys)}


class AlphaLog:
    """Per (epoch, language): the mean alpha and perplexity of each assistant over the epoch's
    batches of that language, from the (all-reduced) logging outputs of each update. Written as JSON
    lines; a run resumed at epoch e keeps the file's records of epochs before e (a record of an epoch
    resumed mid-way covers the updates after the restart only)."""

    def __init__(self, plan: AssistantPlan, path: Path | None = None):
        self.plan, self.path = plan, Path(path) if path else None
        self.kept: list[dict] = []  # records of earlier epochs, read back from the file
        self.sums: dict[int, dict[str, float]] = {}  # epoch -> summed logging outputs
        self.epoch: int | None = None

    def begin_epoch(self, epoch: int) -> None:
        if self.epoch is None and self.path is not None and self.path.is_file():
            records = [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
            self.kept = [r for r in records if r["epoch"] < epoch]
        self.kept = [r for r in self.kept if r["epoch"] < epoch]
        self.sums = {e: s for e, s in self.sums.items() if e < epoch}
        self.epoch = int(epoch)

    def add(self, logging_outputs) -> None:
        """Add one update's logging outputs (a list of dicts with the keys of `empty_sums`)."""
        if self.epoch is None:
            return
        sums = self.sums.setdefault(self.epoch, {**empty_sums(self.plan), "lambda2_sum": 0.0, "kd_batches": 0.0})
        for key, value in summed(logging_outputs, list(sums)).items():
            sums[key] += value

    def records(self) -> list[dict]:
        records = list(self.kept)
        for epoch in sorted(self.sums):
            sums = self.sums[epoch]
            lam = sums["lambda2_sum"] / sums["kd_batches"] if sums["kd_batches"] else None
            for lang in self.plan.langs:
                n = sums[batches_key(lang)]
                if not n:
                    continue
                names = self.plan.assistants[lang]
                records.append({
                    "epoch": epoch, "lang": lang, "batches": int(n), "assistants": names,
                    "alpha": {a: round(sums[alpha_key(lang, a)] / n, 6) for a in names},
                    "perplexity": {a: round(sums[ppl_key(lang, a)] / n, 4) for a in names},
                    "excluded": self.plan.excluded.get(lang), "bleu_variance": self.plan.variance.get(lang),
                    "lambda2": None if lam is None else round(lam, 6)})
        return sorted(records, key=lambda r: (r["epoch"], self.plan.langs.index(r["lang"])
                                               if r["lang"] in self.plan.langs else len(self.plan.langs)))

    def write(self) -> None:
        if self.path is not None:
            write_atomic(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in self.records()))


# ----------------------------------------------------------------------------------------- command

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("effective", help="each language's effective assistants (after the exclusion rule)")
    e.add_argument("--map", type=Path, required=True, help="JSON {lang: [type/cluster ...]} or a clusters file")
    e.add_argument("--langs", nargs="+", required=True)
    e.add_argument("--bleu", help="dev BLEU: JSON {lang: {type/cluster: bleu}} or a {type}/{cluster}/{lang} pattern")
    e.add_argument("--variance-threshold", type=float, default=None, help="exclude the weakest above this variance")
    e.add_argument("--out", type=Path, help="write the JSON here (default: print it)")
    a = sub.add_parser("anneal", help="print lambda2 at the given updates")
    a.add_argument("--start", type=float, default=DEFAULT_LAMBDA2_START)
    a.add_argument("--end", type=float, default=DEFAULT_LAMBDA2_END)
    a.add_argument("--k", type=float, default=DEFAULT_ANNEAL_K)
    a.add_argument("--x0", type=float, default=DEFAULT_ANNEAL_X0)
    a.add_argument("--steps", type=float, nargs="+", default=[0, 1000, 2500, 4000, 5000, 10000])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if args.command == "anneal":
        for step in args.steps:
            print(f"{step:g}\t{logistic_anneal(step, args.start, args.end, args.k, args.x0):.4f}")
        return 0
    assistants = load_assistant_map(args.map, args.langs)
    bleu = read_assistant_bleu(args.bleu, assistants) if args.bleu else None
    plan = make_plan(args.langs, assistants, bleu, args.variance_threshold)
    text = json.dumps(plan.to_json(), indent=1, sort_keys=True) + "\n"
    if args.out:
        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
