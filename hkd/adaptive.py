"""Adaptive knowledge distillation from all teacher-assistants to the ultimate student (HKD paper,
section 3, Eq. 3-4 and Algorithm 1; the weighting after Saleh et al. 2020): the loss maths as plain
functions on tensors.
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

Which assistants teach each language (and the exclusion of the weakest) is hkd.assistant_map; the
per-epoch log of the weights is hkd.alpha_log.

    python -m hkd.adaptive anneal [--k 0.0025 --x0 2500] --steps 0 1000 2500 5000
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import NamedTuple

import torch

from hkd.config import schema_default
from hkd.kd_loss import label_smoothed_nll, teacher_distribution

# Paper, appendix A.2: "lambda1 = 0.5 and lambda2 is started from 0.5 and increased to 3".
# (the defaults are config/schema.yaml's student settings)
DEFAULT_LAMBDA1 = schema_default("student", "lambda1")
DEFAULT_LAMBDA2_START = schema_default("student", "lambda2_start")
DEFAULT_LAMBDA2_END = schema_default("student", "lambda2_end")
# Bowman et al. 2016's logistic KL annealing: 1 / (1 + exp(-0.0025 (step - 2500))).
DEFAULT_ANNEAL_K = schema_default("student", "anneal_k")
DEFAULT_ANNEAL_X0 = float(schema_default("student", "anneal_x0"))
MAX_LOG_PPL = 80.0  # perplexities are capped at e^80 so that softmax(-ppl) stays finite in float32


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


# ----------------------------------------------------------------------------------------- command

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("anneal", help="print lambda2 at the given updates")
    a.add_argument("--start", type=float, default=DEFAULT_LAMBDA2_START)
    a.add_argument("--end", type=float, default=DEFAULT_LAMBDA2_END)
    a.add_argument("--k", type=float, default=DEFAULT_ANNEAL_K)
    a.add_argument("--x0", type=float, default=DEFAULT_ANNEAL_X0)
    a.add_argument("--steps", type=float, nargs="+", default=[0, 1000, 2500, 4000, 5000, 10000])
    args = parser.parse_args(argv)
    for step in args.steps:
        print(f"{step:g}\t{logistic_anneal(step, args.start, args.end, args.k, args.x0):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
