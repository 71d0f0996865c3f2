"""The loss maths of selective knowledge distillation (HKD paper, section 3, Eq. 1-2), as plain
functions on tensors; the fairseq criterion ``selective_kd`` (hkd_fairseq/selective_kd.py) is a thin
adapter over them.

Per target token t of a sample whose language has KD switched on:

    loss_t = (1 - lambda) * LS-NLL_t + lambda * KD_t,   KD_t = - sum_{j<k} q_j log P(v_j | y_<t, x)

where P is the student's (the teacher-assistant's) distribution, v_1..v_k the teacher's top-k token
ids at t and q the teacher's top-k probabilities renormalised over those k entries (Eq. 1 restricted
to the teacher's top k; with k = |V| it is Eq. 1 exactly). A sample whose language has KD switched off
(Algorithm 1: the assistant is ahead of that language's teacher) gets loss_t = LS-NLL_t. LS-NLL is
fairseq's label-smoothed negative log-likelihood. Padding positions contribute nothing.

    terms = selective_kd_loss(lprobs, target, pad_idx=1, teacher_ids=ids, teacher_probs=probs,
                              kd_on=torch.tensor([True, False]), lam=0.6, epsilon=0.1)
    terms.loss.backward()

There is no command line: ``python -m hkd.kd_loss`` runs a self-check on random tensors.
"""

from __future__ import annotations

import argparse
import sys
from typing import NamedTuple

import torch

from hkd.config import schema_default

# Paper, appendix A.2: "the distillation coefficient lambda is equal to 0.6" (selective KD phase).
DEFAULT_LAMBDA = schema_default("assistant", "kd_lambda")  # Eq. 2's lambda (config/schema.yaml)


class KDLossTerms(NamedTuple):
    """Sums over the batch's non-padding tokens."""

    loss: torch.Tensor  # scalar: the training objective (Eq. 2, per sample's KD switch)
    nll_loss: torch.Tensor  # scalar: plain NLL (no smoothing), for perplexity
    kd_loss: torch.Tensor  # scalar: the KD term summed over the tokens where KD is on
    kd_tokens: torch.Tensor  # scalar long: tokens where KD is on
    ntokens: torch.Tensor  # scalar long: non-padding tokens


def label_smoothed_nll(lprobs: torch.Tensor, target: torch.Tensor, epsilon: float,
                       pad_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """fairseq's label-smoothed NLL per token (as ``label_smoothed_nll_loss``, unreduced).

    lprobs [B, T, V] log-probabilities, target [B, T] token ids. Returns (loss, nll), both [B, T],
    zero at padding positions.
    """
    nll = -lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # [B, T]
    smooth = -lprobs.sum(-1)  # [B, T]
    eps_i = epsilon / (lprobs.size(-1) - 1)
    loss = (1.0 - epsilon - eps_i) * nll + eps_i * smooth  # [B, T]
    pad = target.eq(pad_idx)
    return loss.masked_fill(pad, 0.0), nll.masked_fill(pad, 0.0)


def teacher_distribution(probs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """The teacher's top-k probabilities renormalised over their k entries: q_j = p_j^(1/T) / sum p^(1/T).

    probs [..., k] (stored at temperature 1; padding entries are 0). With T != 1 this is exactly the
    softmax of the top-k logits divided by T (Tan et al.'s T = 0.6), since p_j is proportional to
    exp(z_j). A row of zeros (padding) stays zeros.
    """
    p = probs.float()  # the store keeps float16
    if temperature != 1.0:
        p = p.clamp_min(0.0).pow(1.0 / temperature)
    return p / p.sum(-1, keepdim=True).clamp_min(torch.finfo(p.dtype).tiny)


def topk_kd(lprobs: torch.Tensor, teacher_ids: torch.Tensor, teacher_probs: torch.Tensor,
            temperature: float = 1.0) -> torch.Tensor:
    """KD term per token: cross entropy of the student's log-probs against the teacher's renormalised
    top-k distribution. lprobs [B, T, V]; teacher_ids [B, T, k] (long); teacher_probs [B, T, k].
    Returns [B, T] (not masked; see selective_kd_loss)."""
    q = teacher_distribution(teacher_probs, temperature)  # [B, T, k]
    student = lprobs.gather(-1, teacher_ids)  # [B, T, k]
    return -(q * student).sum(-1)  # [B, T]


def selective_kd_loss(lprobs: torch.Tensor, target: torch.Tensor, pad_idx: int,
                      teacher_ids: torch.Tensor | None = None, teacher_probs: torch.Tensor | None = None,
                      kd_on: torch.Tensor | None = None, lam: float = DEFAULT_LAMBDA, epsilon: float = 0.1,
                      temperature: float = 1.0) -> KDLossTerms:
    """Eq. 2 with the per-sample switch of Algorithm 1, summed over non-padding tokens.

    lprobs [B, T, V] (the student's log-probabilities), target [B, T], teacher_ids / teacher_probs
    [B, T, k] (the teacher's top-k at each target position, padded), kd_on [B] bool (KD switched on
    for the sample's language *and* teacher predictions present). Without teacher predictions or with
    kd_on all False the loss is the label-smoothed NLL.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be in [0, 1], got {lam}")
    ls, nll = label_smoothed_nll(lprobs, target, epsilon, pad_idx)  # [B, T] each
    not_pad = target.ne(pad_idx)  # [B, T]
    zero = lprobs.new_zeros(())
    if teacher_ids is None or teacher_probs is None or kd_on is None or not bool(kd_on.any()):
        return KDLossTerms(ls.sum(), nll.sum(), zero, not_pad.new_zeros((), dtype=torch.long),
                           not_pad.sum())
    if teacher_ids.shape[:2] != target.shape or teacher_probs.shape != teacher_ids.shape:
        raise ValueError(f"teacher top-k of shape {tuple(teacher_ids.shape)} / {tuple(teacher_probs.shape)} "
                         f"does not match the target's {tuple(target.shape)} (expected [B, T, k])")
    if kd_on.shape != target.shape[:1]:
        raise ValueError(f"kd_on has shape {tuple(kd_on.shape)}, expected ({target.size(0)},)")
    on = kd_on.to(device=target.device, dtype=torch.bool)[:, None] & not_pad  # [B, T]
    kd = topk_kd(lprobs, teacher_ids, teacher_probs, temperature).masked_fill(~on, 0.0)  # [B, T]
    per_token = torch.where(on, (1.0 - lam) * ls + lam * kd, ls)  # [B, T]
    return KDLossTerms(per_token.sum(), nll.sum(), kd.sum(), on.sum(), not_pad.sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    lprobs = torch.randn(2, 3, 5).log_softmax(-1)  # [B, T, V]
    target = torch.tensor([[2, 3, 4], [2, 1, 1]])
    ids = lprobs.topk(5, -1).indices
    probs = torch.randn(2, 3, 5).softmax(-1)
    terms = selective_kd_loss(lprobs, target, 1, ids, probs, torch.tensor([True, False]))
    print({k: float(v) for k, v in terms._asdict().items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
