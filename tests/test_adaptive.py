"""The adaptive-KD maths (hkd.adaptive) on hand-made tensors."""
import math

import pytest
import torch

from hkd import adaptive as A
from hkd.kd_loss import label_smoothed_nll, selective_kd_loss, topk_kd

PAD = 1


def batch(seed=0, bsz=3, length=5, vocab=11, slots=2, k=4):
    """Student log-probs, a target with padding, and `slots` assistants' top-k / reference log-probs."""
    g = torch.Generator().manual_seed(seed)
    lprobs = torch.randn(bsz, length, vocab, generator=g).log_softmax(-1)  # [B, T, V]
    target = torch.randint(2, vocab, (bsz, length), generator=g)  # [B, T]
    target[1, 3:] = PAD
    target[2, 1:] = PAD
    ids = torch.stack([torch.randperm(vocab, generator=g)[:k] for _ in range(bsz * length * slots)])
    ids = ids.view(bsz, length, slots, k)  # [B, T, A, k]
    probs = torch.rand(bsz, length, slots, k, generator=g).sort(-1, descending=True).values / k  # [B, T, A, k]
    ref = -torch.rand(bsz, length, slots, generator=g) * 3  # [B, T, A]
    mask = torch.ones(bsz, slots, dtype=torch.bool)  # [B, A]
    return lprobs, target, ids, probs, ref, mask


# ----------------------------------------------------------------------------------------- alpha

def test_alpha_is_uniform_for_equal_perplexities_and_favours_the_lower():
    mask = torch.ones(1, 3, dtype=torch.bool)
    assert torch.allclose(A.adaptive_alpha(torch.tensor([[7.0, 7.0, 7.0]]), mask), torch.full((1, 3), 1 / 3))
    alpha = A.adaptive_alpha(torch.tensor([[5.0, 6.0, 9.0]]), mask)
    assert alpha[0, 0] > alpha[0, 1] > alpha[0, 2] and math.isclose(float(alpha.sum()), 1.0, rel_tol=1e-6)
    assert torch.allclose(alpha, torch.softmax(-torch.tensor([[5.0, 6.0, 9.0]]), -1))
    hot = A.adaptive_alpha(torch.tensor([[5.0, 6.0, 9.0]]), mask, temperature=100.0)
    assert hot.max() - hot.min() < alpha.max() - alpha.min()  # a higher temperature flattens alpha


def test_alpha_ignores_absent_assistants():
    alpha = A.adaptive_alpha(torch.tensor([[5.0, 1.0, 5.0], [3.0, 3.0, 3.0]]),
                             torch.tensor([[True, False, True], [False, False, False]]))
    assert torch.allclose(alpha, torch.tensor([[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="temperature"):
        A.adaptive_alpha(torch.ones(1, 2), torch.ones(1, 2, dtype=torch.bool), temperature=0)


def test_perplexity_is_the_masked_mean_per_group():
    ref = torch.tensor([[[-1.0], [-3.0], [-50.0]], [[-2.0], [-9.0], [-9.0]]])  # [B=2, T=3, A=1]
    not_pad = torch.tensor([[True, True, False], [True, False, False]])
    alone = A.group_perplexity(ref, not_pad, torch.tensor([0, 1]))  # each row its own language
    assert torch.allclose(alone, torch.tensor([[math.exp(2.0)], [math.exp(2.0)]]))
    together = A.group_perplexity(ref, not_pad)  # one language: (1 + 3 + 2) / 3 tokens
    assert torch.allclose(together, torch.full((2, 1), math.exp(2.0)))
    huge = A.group_perplexity(torch.full((1, 2, 1), -1e4), torch.ones(1, 2, dtype=torch.bool))
    assert torch.isfinite(huge).all()  # capped, so that softmax(-ppl) stays defined


# ------------------------------------------------------------------------------------------ loss

def test_one_assistant_reduces_to_the_lambda_weighted_selective_loss():
    lprobs, target, ids, probs, ref, mask = batch(slots=1)
    terms = A.adaptive_kd_loss(lprobs, target, PAD, ids, probs, ref, mask, lambda1=0.5, lambda2=2.0, epsilon=0.1)
    ls, _ = label_smoothed_nll(lprobs, target, 0.1, PAD)
    kd = topk_kd(lprobs, ids[:, :, 0], probs[:, :, 0]).masked_fill(target.eq(PAD), 0.0)
    assert torch.allclose(terms.loss, (0.5 * ls + 2.0 * kd).sum())
    assert torch.allclose(terms.kd_loss, kd.sum()) and torch.equal(terms.alpha, torch.ones(3, 1))
    # lambda1 = lambda2 = 0.5 is selective KD's (1 - lambda) NLL + lambda KD with lambda = 0.5
    half = A.adaptive_kd_loss(lprobs, target, PAD, ids, probs, ref, mask, lambda1=0.5, lambda2=0.5)
    sel = selective_kd_loss(lprobs, target, PAD, ids[:, :, 0], probs[:, :, 0], torch.ones(3, dtype=torch.bool), lam=0.5)
    assert torch.allclose(half.loss, sel.loss) and torch.allclose(half.nll_loss, sel.nll_loss)
    assert int(half.kd_tokens) == int(sel.kd_tokens) == int(target.ne(PAD).sum())


def test_kd_term_is_the_alpha_weighted_sum_of_cross_entropies():
    lprobs, target, ids, probs, ref, mask = batch(slots=2)
    terms = A.adaptive_kd_loss(lprobs, target, PAD, ids, probs, ref, mask, lambda1=0.0, lambda2=1.0)
    ppl = torch.exp(-(ref * target.ne(PAD)[..., None]).sum((0, 1)) / target.ne(PAD).sum())  # [A]: one group
    alpha = torch.softmax(-ppl, -1)
    assert torch.allclose(terms.alpha, alpha.expand(3, 2)) and torch.allclose(terms.perplexity[0], ppl)
    ce = torch.stack([topk_kd(lprobs, ids[:, :, a], probs[:, :, a]) for a in range(2)], -1)  # [B, T, A]
    expected = ((ce * alpha).sum(-1)).masked_fill(target.eq(PAD), 0.0).sum()
    assert torch.allclose(terms.loss, expected) and torch.allclose(terms.kd_loss, expected)


def test_padding_and_absent_slots_contribute_nothing():
    lprobs, target, ids, probs, ref, mask = batch(slots=1)
    base = A.adaptive_kd_loss(lprobs, target, PAD, ids, probs, ref, mask, lambda2=1.3)
    # garbage at padding positions (top-k, probabilities, reference log-probs, student log-probs)
    pad = target.eq(PAD)
    noisy = [t.clone() for t in (lprobs, ids, probs, ref)]
    noisy[0][pad] = torch.randn(int(pad.sum()), lprobs.size(-1)).log_softmax(-1)
    noisy[1][pad] = 7
    noisy[2][pad] = 0.9
    noisy[3][pad] = -100.0
    again = A.adaptive_kd_loss(noisy[0], target, PAD, noisy[1], noisy[2], noisy[3], mask, lambda2=1.3)
    assert torch.allclose(base.loss, again.loss) and torch.allclose(base.alpha, again.alpha)
    # a second slot that is absent (mask False), filled with garbage
    ids2 = torch.cat([ids, torch.full_like(ids, 5)], 2)
    probs2 = torch.cat([probs, torch.full_like(probs, 0.5)], 2)
    ref2 = torch.cat([ref, torch.full_like(ref, -0.01)], 2)
    mask2 = torch.cat([mask, torch.zeros_like(mask)], 1)
    slot = A.adaptive_kd_loss(lprobs, target, PAD, ids2, probs2, ref2, mask2, lambda2=1.3)
    assert torch.allclose(base.loss, slot.loss) and torch.equal(slot.alpha[:, 1], torch.zeros(3))


def test_rows_without_assistants_get_the_plain_nll_and_alpha_per_language():
    lprobs, target, ids, probs, ref, mask = batch(slots=2)
    mask[2] = False  # row 2's language has no assistant
    ref[0] = -0.1  # row 0 (language 0): assistant 0 and 1 equally good
    ref[1, :, 0], ref[1, :, 1] = -0.1, -2.0  # row 1 (language 1): assistant 0 much better
    terms = A.adaptive_kd_loss(lprobs, target, PAD, ids, probs, ref, mask, group=torch.tensor([0, 1, 2]),
                               lambda1=0.5, lambda2=3.0)
    ls, nll = label_smoothed_nll(lprobs, target, 0.1, PAD)
    assert torch.allclose(terms.alpha[0], torch.tensor([0.5, 0.5]))
    assert terms.alpha[1, 0] > 0.9 and torch.equal(terms.alpha[2], torch.zeros(2))
    rest = A.adaptive_kd_loss(lprobs[:2], target[:2], PAD, ids[:2], probs[:2], ref[:2], mask[:2],
                              group=torch.tensor([0, 1]), lambda1=0.5, lambda2=3.0)
    assert torch.allclose(terms.loss, rest.loss + ls[2].sum())
    assert int(terms.kd_tokens) == int(target[:2].ne(PAD).sum())
    plain = A.adaptive_kd_loss(lprobs, target, PAD)  # validation: no assistant predictions
    assert torch.allclose(plain.loss, ls.sum()) and torch.allclose(plain.nll_loss, nll.sum()) and plain.alpha is None


def test_gradient_reaches_the_student_only():
    lprobs, target, ids, probs, ref, mask = batch(slots=2)
    logits = torch.randn(*lprobs.shape, requires_grad=True)
    ref.requires_grad_(True)
    terms = A.adaptive_kd_loss(logits.log_softmax(-1), target, PAD, ids, probs, ref, mask, lambda2=2.0)
    terms.loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all() and ref.grad is None
    assert torch.equal(logits.grad[target.eq(PAD)], torch.zeros_like(logits.grad[target.eq(PAD)]))


def test_shapes_are_checked():
    lprobs, target, ids, probs, ref, mask = batch(slots=2)
    with pytest.raises(ValueError, match="expected"):
        A.adaptive_kd_loss(lprobs, target, PAD, ids, probs, ref[:, :, :1], mask)


# ------------------------------------------------------------------------------------- annealing

def test_annealing_starts_at_half_and_ends_at_three():
    assert abs(A.logistic_anneal(0) - 0.5) < 0.01
    assert math.isclose(A.logistic_anneal(A.DEFAULT_ANNEAL_X0), 1.75)
    assert abs(A.logistic_anneal(20000) - 3.0) < 1e-6 and A.logistic_anneal(1e9) == 3.0
    steps = [0, 500, 1000, 2000, 2500, 3000, 4000, 6000]
    values = [A.logistic_anneal(s) for s in steps]
    assert values == sorted(values)  # monotone
    assert math.isclose(A.logistic_anneal(3, lo=0.5, hi=3.0, k=0.0, x0=0), 1.75)  # k = 0: constant midpoint
    assert A.logistic_anneal(-1e9) == 0.5
    with pytest.raises(ValueError, match="slope"):
        A.logistic_anneal(0, k=-1)
