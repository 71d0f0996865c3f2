"""The adaptive-KD maths and bookkeeping (hkd.adaptive) on hand-made tensors and tables."""
import json
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


# ------------------------------------------------------------------------------ weakest assistant

def test_exclusion_drops_exactly_the_weakest_above_the_threshold():
    scores = {"a/c1": 18.05, "b/c2": 16.89, "c/c3": 9.03, "d/c4": 19.02}  # bs in the paper's Table 6
    kept, dropped, variance = A.exclude_weakest(scores, threshold=10.0)
    assert dropped == "c/c3" and kept == ["a/c1", "b/c2", "d/c4"]
    assert round(variance, 2) == 20.81  # the paper's figure: a sample variance
    assert A.exclude_weakest(scores, threshold=25.0)[1] is None  # variance under the threshold
    assert A.exclude_weakest(scores, threshold=None) == (list(scores), None, variance)  # off
    assert A.exclude_weakest({"a/c1": 3.0}, threshold=0.0) == (["a/c1"], None, None)  # nothing to compare
    tie = A.exclude_weakest({"a/c1": 5.0, "b/c2": 1.0, "c/c3": 1.0}, threshold=0.1)
    assert tie[1] == "b/c2" and tie[0] == ["a/c1", "c/c3"]  # one only: the first of the lowest


def test_plan_and_map_files(tmp_path):
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text("typo:\n  c1: [kk, be]\n  c2: [bs]\nlearned:\n  c1: [kk, bs]\n  c2: [be]\n")
    assert A.load_assistant_map(clusters, ["kk", "be", "bs"]) == {
        "kk": ["typo/c1", "learned/c1"], "be": ["typo/c1", "learned/c2"], "bs": ["typo/c2", "learned/c1"]}
    table = tmp_path / "map.json"
    table.write_text(json.dumps({"kk": [["typo", "c1"], "learned/c1"], "be": []}))
    assert A.load_assistant_map(table, ["kk", "be"]) == {"kk": ["typo/c1", "learned/c1"], "be": []}
    with pytest.raises(KeyError, match="bs"):
        A.load_assistant_map(table, ["kk", "bs"])
    table.write_text(json.dumps({"kk": ["typo:c1"]}))
    with pytest.raises(ValueError, match="type/cluster"):
        A.load_assistant_map(table, ["kk"])

    assistants = {"kk": ["typo/c1", "learned/c1", "wals/c3"], "be": ["typo/c1"]}
    for lang, scores in {"kk": {"typo/c1": 7.0, "learned/c1": 3.1, "wals/c3": 8.1}, "be": {"typo/c1": 12.0}}.items():
        for name, bleu in scores.items():
            path = tmp_path / "eval" / name / f"{lang}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"bleu": bleu}))
    bleu = A.read_assistant_bleu(str(tmp_path / "eval" / "{type}" / "{cluster}" / "{lang}.json"), assistants)
    assert bleu["kk"]["learned/c1"] == 3.1
    plan = A.make_plan(["kk", "be"], assistants, bleu, variance_threshold=5.0)
    assert plan.assistants == {"kk": ["typo/c1", "wals/c3"], "be": ["typo/c1"]}
    assert plan.excluded == {"kk": "learned/c1", "be": None}
    assert A.make_plan(["kk", "be"], assistants, bleu, variance_threshold=50.0).assistants == assistants
    assert A.make_plan(["kk", "be"], assistants).assistants == assistants  # off by default
    with pytest.raises(ValueError, match="dev BLEU"):
        A.make_plan(["kk"], assistants, None, variance_threshold=5.0)
    assert A.expand("s/{type}/{cluster}/{lang}", "typo/c1", "kk") == "s/typo/c1/kk"
    with pytest.raises(ValueError, match="lang"):
        A.check_pattern("s/{type}/{cluster}", "--assistant-stores")
    out = tmp_path / "effective.json"
    assert A.main(["effective", "--map", str(clusters), "--langs", "kk", "bs", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["assistants"]["bs"] == ["typo/c2", "learned/c1"]


# ------------------------------------------------------------------------------------- alpha log

def test_alpha_log_means_per_epoch_and_rewind(tmp_path):
    plan = A.AssistantPlan(["kk", "be"], {"kk": ["t/c1", "u/c2"], "be": ["t/c1"]}, {"kk": None, "be": None})
    path = tmp_path / "alpha.jsonl"
    alog = A.AlphaLog(plan, path)

    def update(kk_alpha, lam):
        out = {**A.empty_sums(plan), "lambda2_sum": lam, "kd_batches": 1}
        out[A.batches_key("kk")] = 1.0
        out[A.alpha_key("kk", "t/c1")], out[A.alpha_key("kk", "u/c2")] = kk_alpha, 1 - kk_alpha
        return [out]

    alog.begin_epoch(1)
    alog.add(update(0.2, 0.5))
    alog.add(update(0.4, 0.7))
    alog.begin_epoch(2)
    alog.add(update(0.9, 1.0))
    alog.write()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["epoch"], r["lang"]) for r in records] == [(1, "kk"), (2, "kk")]  # be: no batches
    assert math.isclose(records[0]["alpha"]["t/c1"], 0.3) and math.isclose(records[0]["lambda2"], 0.6)
    assert records[0]["batches"] == 2 and records[1]["alpha"]["u/c2"] == pytest.approx(0.1)
    resumed = A.AlphaLog(plan, path)  # a restart from the checkpoint at the end of epoch 1
    resumed.begin_epoch(2)
    resumed.add(update(0.5, 1.0))
    resumed.write()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["epoch"], r["alpha"]["t/c1"]) for r in records] == [(1, 0.3), (2, 0.5)]
    fresh = A.AlphaLog(plan, path)
    fresh.begin_epoch(1)  # a fresh start forgets the old records
    fresh.write()
    assert path.read_text() == ""


def test_summed_takes_floats_and_tensors():
    outs = [{"a": 1.0, "b": torch.tensor(2.0, dtype=torch.float64)}, {"a": torch.tensor(0.5), "c": 3}]
    assert A.summed(outs, ["a", "b", "c", "d"]) == {"a": 1.5, "b": 2.0, "c": 3.0, "d": 0.0}
