"""End to end on toy data: 2 tiny teacher-assistants (hkd_multilingual, 1 epoch; typeA/c1 over xa and
xb, typeB/c2 over xa only), their top-k stores with reference log-probs (hkd.topk_store dump on the
assistants' checkpoints), and a student trained from them with ``--criterion adaptive_kd`` through
hkd.train for 2 epochs; plus in-process checks that the stores line up with the task's batches, that
the weakest-assistant rule acts in the task and that a store without reference log-probs is refused.
About 25 s on 2 cores."""
import json
import math

import pytest
import torch

from hkd import topk_store as TS
from hkd import train as hkd_train
from toy_pairs import LANGS, TINY_MODEL, fairseq, finish, setup_task, write_toy_data

ASSISTANTS = {"typeA/c1": ["xa", "xb"], "typeB/c2": ["xa"]}
STORES = "stores/assistant/{type}/{cluster}/{lang}"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("adaptive")
    data = write_toy_data(root / "bin")
    running = []
    for seed, (name, langs) in enumerate(ASSISTANTS.items(), start=1):
        running.append(fairseq(
            "fairseq_cli.train", data, "--task", "hkd_multilingual", "--langs", ",".join(langs), "--criterion",
            "label_smoothed_cross_entropy", "--label-smoothing", "0.1", *TINY_MODEL, "--seed", seed,
            "--max-epoch", "1", "--save-dir", root / "assistants" / name, wait=False))
    for proc, cmd in running:  # the two assistants in parallel
        finish(proc, cmd)
    for name, langs in ASSISTANTS.items():
        for lang in langs:
            out = root / STORES.replace("{type}/{cluster}", name).replace("{lang}", lang)
            assert TS.main(["dump", "--data", str(data / lang), "--checkpoint",
                            str(root / "assistants" / name / "checkpoint_best.pt"), "--src-lang", lang,
                            "--tgt-lang", "en", "--k", "4", "--out", str(out), "--ref-lprobs", "--max-tokens", "200",
                            "--threads", "1", "--device", "cpu"]) == 0
    (root / "map.json").write_text(json.dumps({"xa": [["typeA", "c1"], ["typeB", "c2"]], "xb": ["typeA/c1"]}))
    return root


def test_assistant_stores_line_up_with_the_task_batches(toy):
    """The stores of an hkd_multilingual checkpoint hold what the assistant predicts on the task's
    batches (source with its language token), in slot order of the map."""
    task = setup_task(toy / "bin", "--assistant-stores", toy / STORES, "--assistant-map", toy / "map.json")
    assert task.effective.assistants == {"xa": ["typeA/c1", "typeB/c2"], "xb": ["typeA/c1"]}
    task.load_dataset("train")
    ds = task.datasets["train"]
    rows = [i for i in range(len(ds)) if ds.lang_ids[i] == 0][:6]
    rows += [i for i in range(len(ds)) if ds.lang_ids[i] == 1][:3]
    sample = ds.collater([ds[i] for i in rows])  # both languages, as with --mixed-language-batches
    assert sample["kd_assist_ids"].shape[2:] == (2, 4) and sample["kd_assist_ref"].shape[2] == 2
    xa = sample["lang_id"] == 0
    assert sample["kd_assist_mask"][xa].all() and sample["kd_assist_mask"][~xa].tolist() == [[True, False]] * 3
    not_pad = sample["target"].ne(task.tgt_dict.pad())
    for slot, name in enumerate(["typeA/c1", "typeB/c2"]):
        model, _ = TS.load_model(toy / "assistants" / name / "checkpoint_best.pt", task)
        with torch.no_grad():
            ids, probs, ref = TS.model_topk(model, sample["net_input"], sample["target"], 4, task.tgt_dict.pad())
        use = not_pad & sample["kd_assist_mask"][:, slot][:, None]  # [B, T]
        assert torch.allclose(sample["kd_assist_ref"][..., slot][use], ref[use], atol=1e-3)
        assert torch.allclose(sample["kd_assist_probs"][:, :, slot][use], probs[use], atol=2e-3)
        assert (sample["kd_assist_ids"][:, :, slot][use] == ids[use]).float().mean() > 0.98  # near-ties may swap
    assert (sample["kd_assist_ref"][~not_pad] == 0).all() and (sample["kd_assist_probs"][:, :, 1][~xa] == 0).all()


def test_task_applies_the_weakest_assistant_rule_and_refuses_stores_without_ref(toy, tmp_path):
    bleu = tmp_path / "bleu.json"
    bleu.write_text(json.dumps({"xa": {"typeA/c1": 2.0, "typeB/c2": 9.0}, "xb": {"typeA/c1": 4.0}}))
    common = ["--assistant-stores", toy / STORES, "--assistant-map", toy / "map.json", "--assistant-bleu", bleu]
    task = setup_task(toy / "bin", *common, "--exclude-weakest-variance", "20")  # variance 24.5 > 20
    assert task.effective.assistants == {"xa": ["typeB/c2"], "xb": ["typeA/c1"]}
    assert task.effective.excluded == {"xa": "typeA/c1", "xb": None}
    task = setup_task(toy / "bin", *common, "--exclude-weakest-variance", "30")
    assert task.effective.assistants["xa"] == ["typeA/c1", "typeB/c2"]
    with pytest.raises(ValueError, match="assistant-bleu"):
        setup_task(toy / "bin", "--assistant-stores", toy / STORES, "--assistant-map", toy / "map.json",
                   "--exclude-weakest-variance", "1")

    no_ref = tmp_path / "noref"
    for name, langs in ASSISTANTS.items():
        for lang in langs:
            assert TS.main(["dump", "--data", str(toy / "bin" / lang), "--checkpoint",
                            str(toy / "assistants" / name / "checkpoint_best.pt"), "--src-lang", lang, "--tgt-lang",
                            "en", "--k", "2", "--out", str(no_ref / name / lang), "--threads", "1",
                            "--device", "cpu"]) == 0
    task = setup_task(toy / "bin", "--assistant-stores", no_ref / "{type}" / "{cluster}" / "{lang}",
                      "--assistant-map", toy / "map.json")
    with pytest.raises(ValueError, match="--ref-lprobs"):
        task.load_dataset("train")


def test_student_trains_from_two_assistants(toy):
    """2 epochs through hkd.train; lambda2 annealed fast (k = 1, x0 = 4 updates) to see it move."""
    run = toy / "student"
    args = ["--task", "hkd_multilingual", "--langs", ",".join(LANGS), "--target-lang", "en",
            "--assistant-stores", str(toy / STORES), "--assistant-map", str(toy / "map.json"),
            "--alpha-log", str(run / "work" / "alpha.jsonl"),
            "--criterion", "adaptive_kd", "--label-smoothing", "0.1", "--kd-lambda1", "0.5",
            "--kd-lambda2-start", "0.5", "--kd-lambda2-end", "3", "--kd-anneal-k", "1", "--kd-anneal-x0", "4",
            *[a for a in TINY_MODEL if a not in ("--cpu", "--num-workers", "0", "--no-epoch-checkpoints")],
            "--eval-bleu", "--eval-bleu-args", '{"beam":1,"max_len_a":1.2,"max_len_b":5}',
            "--best-checkpoint-metric", "bleu", "--maximize-best-checkpoint-metric", "--patience", "5",
            "--max-epoch", "2"]
    assert hkd_train.main(["--data", str(toy / "bin"), "--work-dir", str(run / "work"), "--checkpoint",
                           str(run / "checkpoint_best.pt"), "--curve", str(run / "curve.jsonl"), "--threads", "1",
                           "--", *args]) == 0
    assert (run / "checkpoint_best.pt").is_file()
    curve = {(r["tag"], r["epoch"]): r for r in map(json.loads, (run / "curve.jsonl").read_text().splitlines())
             if r["tag"] != "start"}
    first, second = curve[("train", 1)], curve[("train", 2)]
    for rec in (first, second):
        assert math.isfinite(rec["train_loss"]) and math.isfinite(rec["train_kd_loss"]) and rec["train_kd_frac"] == 1.0
        assert rec["train_alpha/xa/typeA/c1"] + rec["train_alpha/xa/typeB/c2"] == pytest.approx(1.0, abs=2e-3)
        assert rec["train_alpha/xb/typeA/c1"] == 1.0
    assert 0.5 <= first["train_lambda2"] < second["train_lambda2"] <= 3.0
    assert "valid_bleu" in curve[("valid", 2)] and math.isfinite(curve[("valid", 2)]["valid_loss"])
    records = [json.loads(line) for line in (run / "work" / "alpha.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["lang"]) for r in records] == [(1, "xa"), (1, "xb"), (2, "xa"), (2, "xb")]
    for r in records:
        assert r["assistants"] == (["typeA/c1", "typeB/c2"] if r["lang"] == "xa" else ["typeA/c1"])
        assert sum(r["alpha"].values()) == pytest.approx(1.0, abs=1e-5) and r["batches"] > 0
        assert all(p > 1 for p in r["perplexity"].values())
    assert records[0]["alpha"]["typeA/c1"] == pytest.approx(first["train_alpha/xa/typeA/c1"], abs=1e-3)
