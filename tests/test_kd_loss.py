"""Tests of hkd.kd_loss on tiny hand-made tensors: the maths of Eq. 2 with the selective switch."""
import math

import pytest
import torch

from hkd.kd_loss import label_smoothed_nll, selective_kd_loss, teacher_distribution, topk_kd

PAD = 1
V = 6


def make(seed=0, B=3, T=4, k=3):
    g = torch.Generator().manual_seed(seed)
    lprobs = torch.randn(B, T, V, generator=g).log_softmax(-1)  # [B, T, V]
    target = torch.randint(2, V, (B, T), generator=g)
    target[1, 2:] = PAD  # the second sentence is 2 tokens long
    target[2, 3:] = PAD
    teacher = torch.randn(B, T, V, generator=g).softmax(-1)  # [B, T, V]
    probs, ids = teacher.topk(k, dim=-1)  # [B, T, k]
    return lprobs, target, ids, probs, teacher


def test_label_smoothed_nll_is_fairseqs():
    from fairseq.criterions.label_smoothed_cross_entropy import label_smoothed_nll_loss

    lprobs, target, *_ = make()
    ours, ours_nll = label_smoothed_nll(lprobs, target, 0.1, PAD)
    theirs, theirs_nll = label_smoothed_nll_loss(lprobs.view(-1, V), target.view(-1), 0.1, ignore_index=PAD)
    assert torch.allclose(ours.sum(), theirs) and torch.allclose(ours_nll.sum(), theirs_nll)


def test_label_smoothed_nll_by_hand():
    lprobs = torch.log(torch.tensor([[[0.5, 0.25, 0.25]]]))  # [1, 1, 3]
    target = torch.tensor([[0]])
    loss, nll = label_smoothed_nll(lprobs, target, 0.2, pad_idx=2)
    eps_i = 0.2 / 2
    expected = (1 - 0.2 - eps_i) * math.log(2) + eps_i * (math.log(2) + 2 * math.log(4))
    assert nll.item() == pytest.approx(math.log(2))
    assert loss.item() == pytest.approx(expected)


def test_lambda_zero_is_plain_nll():
    lprobs, target, ids, probs, _ = make()
    kd_on = torch.ones(3, dtype=torch.bool)
    terms = selective_kd_loss(lprobs, target, PAD, ids, probs, kd_on, lam=0.0, epsilon=0.1)
    plain = selective_kd_loss(lprobs, target, PAD, epsilon=0.1)
    assert torch.allclose(terms.loss, plain.loss)
    assert torch.allclose(terms.loss, label_smoothed_nll(lprobs, target, 0.1, PAD)[0].sum())
    assert terms.kd_tokens.item() == target.ne(PAD).sum().item()  # KD computed, with weight 0


def test_lambda_one_is_pure_kd():
    lprobs, target, ids, probs, _ = make()
    terms = selective_kd_loss(lprobs, target, PAD, ids, probs, torch.ones(3, dtype=torch.bool), lam=1.0)
    assert torch.allclose(terms.loss, terms.kd_loss)


def test_mixture_is_eq2():
    lprobs, target, ids, probs, _ = make()
    on = torch.ones(3, dtype=torch.bool)
    terms = selective_kd_loss(lprobs, target, PAD, ids, probs, on, lam=0.6, epsilon=0.1)
    ls = label_smoothed_nll(lprobs, target, 0.1, PAD)[0].sum()
    assert torch.allclose(terms.loss, 0.4 * ls + 0.6 * terms.kd_loss)


def test_padding_contributes_nothing():
    lprobs, target, ids, probs, _ = make()
    on = torch.ones(3, dtype=torch.bool)
    base = selective_kd_loss(lprobs, target, PAD, ids, probs, on)
    # change everything at padding positions: student, teacher ids and teacher probabilities
    pad = target.eq(PAD)  # [B, T]
    lprobs2 = torch.where(pad[..., None], torch.randn_like(lprobs).log_softmax(-1), lprobs)
    ids2 = torch.where(pad[..., None], torch.zeros_like(ids), ids)
    probs2 = torch.where(pad[..., None], torch.rand_like(probs), probs)
    other = selective_kd_loss(lprobs2, target, PAD, ids2, probs2, on)
    for a, b in zip(base, other):
        assert torch.allclose(torch.as_tensor(a).float(), torch.as_tensor(b).float())
    # and a padded copy of a batch gives the loss of the unpadded one
    wide = torch.full((3, 6), PAD)
    wide[:, :4] = target
    lp_wide = torch.cat([lprobs, torch.randn(3, 2, V).log_softmax(-1)], 1)
    ids_wide = torch.cat([ids, torch.zeros(3, 2, ids.size(-1), dtype=torch.long)], 1)
    pr_wide = torch.cat([probs, torch.zeros(3, 2, probs.size(-1))], 1)
    wide_terms = selective_kd_loss(lp_wide, wide, PAD, ids_wide, pr_wide, on)
    assert torch.allclose(wide_terms.loss, base.loss) and wide_terms.ntokens == base.ntokens


def test_no_gradient_through_padding():
    lprobs, target, ids, probs, _ = make()
    lprobs = lprobs.clone().requires_grad_(True)
    selective_kd_loss(lprobs, target, PAD, ids, probs, torch.ones(3, dtype=torch.bool)).loss.backward()
    assert lprobs.grad[target.eq(PAD)].abs().sum() == 0


def test_full_vocabulary_k_is_cross_entropy_against_teacher():
    lprobs, target, _, _, teacher = make()
    probs, ids = teacher.topk(V, dim=-1)  # k = |V|
    kd = topk_kd(lprobs, ids, probs)  # [B, T]
    expected = -(teacher * lprobs).sum(-1)  # Eq. 1 summed over the whole vocabulary
    assert torch.allclose(kd, expected, atol=1e-6)


def test_teacher_distribution_renormalises_and_tempers():
    p = torch.tensor([[0.4, 0.2, 0.1, 0.0]])
    q = teacher_distribution(p)
    assert torch.allclose(q, torch.tensor([[4 / 7, 2 / 7, 1 / 7, 0.0]]))
    logits = torch.tensor([2.0, 1.0, -0.5])
    full = logits.softmax(-1)
    assert torch.allclose(teacher_distribution(full[None], 0.6)[0], (logits / 0.6).softmax(-1), atol=1e-6)
    assert torch.equal(teacher_distribution(torch.zeros(1, 3)), torch.zeros(1, 3))  # padding rows stay 0
    assert torch.allclose(teacher_distribution(p.half()), q, atol=1e-3)  # float16 stores


def test_kd_off_for_a_sample_gives_its_nll():
    lprobs, target, ids, probs, _ = make()
    kd_on = torch.tensor([True, False, True])
    terms = selective_kd_loss(lprobs, target, PAD, ids, probs, kd_on, lam=0.6, epsilon=0.1)
    ls = label_smoothed_nll(lprobs, target, 0.1, PAD)[0]  # [B, T]
    kd = topk_kd(lprobs, ids, probs).masked_fill(target.eq(PAD), 0.0)  # [B, T]
    expected = (0.4 * ls[[0, 2]] + 0.6 * kd[[0, 2]]).sum() + ls[1].sum()
    assert torch.allclose(terms.loss, expected)
    assert terms.kd_tokens.item() == target[[0, 2]].ne(PAD).sum().item()
    off = selective_kd_loss(lprobs, target, PAD, ids, probs, torch.zeros(3, dtype=torch.bool))
    assert torch.allclose(off.loss, ls.sum()) and off.kd_tokens.item() == 0


def test_shape_errors_name_the_shapes():
    lprobs, target, ids, probs, _ = make()
    with pytest.raises(ValueError, match="does not match"):
        selective_kd_loss(lprobs, target, PAD, ids[:, :2], probs[:, :2], torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="lambda"):
        selective_kd_loss(lprobs, target, PAD, ids, probs, torch.ones(3, dtype=torch.bool), lam=1.5)
