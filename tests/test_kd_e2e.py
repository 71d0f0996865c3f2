"""End to end on toy data: 2 bilingual teachers (1 epoch), their top-k stores, and a teacher-assistant
trained with ``--task hkd_multilingual --criterion selective_kd`` through fairseq-train, from the stores
and from online teachers; plus in-process checks that the stores, the online teachers and the task's
batches line up. About 30 s on 2 cores."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from hkd import topk_store as TS
from toy_pairs import LANGS, SIZES, TINY_MODEL, fairseq, finish, setup_task, write_toy_data

DECODE = ["--eval-bleu-args", '{"beam":1,"max_len_a":1.2,"max_len_b":5}']
pytestmark = pytest.mark.slow


def curve(path: Path) -> dict:
    """{(tag, epoch): {stat: value}} from an HKD_CURVE_FILE (fairseq names epoch stats "<tag>_<stat>")."""
    stats = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        prefix = rec["tag"] + "_"
        stats[(rec["tag"], rec["epoch"])] = {k[len(prefix):]: v for k, v in rec.items() if k.startswith(prefix)}
    return stats


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("kd")
    data = write_toy_data(root / "bin")
    running = [fairseq("fairseq_cli.train", data / lang, "--task", "translation", "--source-lang", lang,
                       "--target-lang", "en", *TINY_MODEL, "--max-epoch", "1", "--save-dir", root / "teachers" / lang,
                       wait=False) for lang in LANGS]  # the two teachers in parallel
    for proc, cmd in running:
        finish(proc, cmd)
    for lang in LANGS:
        checkpoint = root / "teachers" / lang / "checkpoint_best.pt"
        assert TS.main(["dump", "--data", str(data / lang), "--checkpoint", str(checkpoint),
                        "--src-lang", lang, "--tgt-lang", "en", "--k", "4", "--out", str(root / "stores" / lang),
                        "--ref-lprobs", "--max-tokens", "200", "--threads", "1", "--device", "cpu"]) == 0
    return root


def test_store_holds_the_teachers_predictions(toy):
    """A store row equals the teacher's top-k recomputed on its own for that sentence."""
    from fairseq.tasks.translation import TranslationConfig, TranslationTask, load_langpair_dataset

    lang = "xa"
    store = TS.TopkStore(toy / "stores" / lang)
    assert store.k == 4 and len(store) == SIZES["train"][lang] and store.has_ref_lprobs
    cfg = TranslationConfig(data=str(toy / "bin" / lang), source_lang=lang, target_lang="en")
    task = TranslationTask.setup_task(cfg)
    model, _ = TS.load_model(toy / "teachers" / lang / "checkpoint_best.pt", task)
    ds = load_langpair_dataset(str(toy / "bin" / lang), "train", lang, task.src_dict, "en", task.tgt_dict, False, None,
                               1, True, False, 1024, 1024, shuffle=False)
    for sentence in (0, 7, len(ds) - 1):
        sample = ds.collater([ds[sentence]])  # alone: no padding at all
        with torch.no_grad():
            ids, probs, ref = TS.model_topk(model, sample["net_input"], sample["target"], 4, task.tgt_dict.pad())
        s_ids, s_probs = store.lookup([sentence])
        assert torch.equal(s_ids, ids) or (s_probs - probs).abs().max() < 2e-3  # ties may swap
        assert torch.allclose(s_probs, probs, atol=2e-3)
        assert torch.allclose(store.lookup_ref_lprobs([sentence]), ref, atol=1e-4)
        assert np.allclose(s_probs.sum(-1).numpy() <= 1.001, True)


def test_assistant_from_stores_with_selective_switch(toy):
    """2 epochs: KD on in epoch 1, then off (tau = -100: the assistant counts as ahead of every teacher)."""
    run = toy / "assistant"
    out = fairseq("fairseq_cli.train", toy / "bin", "--task", "hkd_multilingual", "--langs", ",".join(LANGS),
                  "--kd-stores", toy / "stores", "--selective-interval", "1", "--selective-tau", "-100",
                  "--selective-state", run / "selective_state.json", "--selective-log", run / "selective.jsonl",
                  "--criterion", "selective_kd", "--kd-lambda", "0.6", "--label-smoothing", "0.1", *TINY_MODEL,
                  "--eval-bleu", *DECODE, "--eval-bleu-remove-bpe", "sentencepiece", "--max-epoch", "2",
                  "--save-dir", run,
                  "--log-format", "json", env_extra={"HKD_CURVE_FILE": str(run / "curve.jsonl")})
    stats = curve(run / "curve.jsonl")
    first, second = stats[("train", 1)], stats[("train", 2)]
    for rec in (first, second, stats[("valid", 2)]):
        assert math.isfinite(float(rec["loss"])) and math.isfinite(float(rec["nll_loss"]))
    assert float(first["kd_frac"]) == 1.0 and math.isfinite(float(first["kd_loss"])) and float(first["kd_loss"]) > 0
    assert float(second["kd_frac"]) == 0.0 and second.get("kd_loss") is None  # switched off after epoch 1
    log = [json.loads(line) for line in (run / "selective.jsonl").read_text().splitlines()]
    assert [(r["epoch"], r["lang"], r["kd"]) for r in log] == [(1, "xa", True), (1, "xb", True),
                                                                (2, "xa", False), (2, "xb", False)]
    assert all(r["teacher_bleu"] is not None for r in log) and all(r["assistant_bleu"] is not None for r in log[2:])
    # the check before epoch 2 reuses epoch 1's validation, which logged each pair's dev BLEU
    assert "assistant's valid BLEU after epoch 1 (from the validation)" in out
    assert {r["lang"]: r["assistant_bleu"] for r in log[2:]} == {
        lang: float(stats[("valid", 1)][f"bleu_{lang}"]) for lang in LANGS}
    assert "sentences per epoch (T=5): xa 90->90, xb 30->" in out  # the small pair is up-sampled

    # the trained assistant translates one language's test set with ids = line numbers (hkd.evaluate)
    gen = fairseq("fairseq_cli.generate", toy / "bin", "--task", "hkd_multilingual", "--langs", "xa",
                  "--path", run / "checkpoint_best.pt", "--gen-subset", "test", "--beam", "1", "--cpu",
                  "--max-len-b", "5", "--num-workers", "0")
    ids = sorted(int(line.split("\t")[0][2:]) for line in gen.splitlines() if line.startswith("D-"))
    assert ids == list(range(SIZES["test"]["xa"]))


def test_assistant_with_online_teachers(toy):
    run = toy / "online"
    fairseq("fairseq_cli.train", toy / "bin", "--task", "hkd_multilingual", "--langs", ",".join(LANGS),
            "--online-teachers", toy / "teachers" / "{lang}" / "checkpoint_best.pt", "--online-topk", "4",
            "--mixed-language-batches", "--selective-interval", "0", "--criterion", "selective_kd", *TINY_MODEL,
            "--max-epoch", "1", "--save-dir", run, "--log-format", "json",
            env_extra={"HKD_CURVE_FILE": str(run / "curve.jsonl")})
    first = curve(run / "curve.jsonl")[("train", 1)]
    assert float(first["kd_frac"]) == 1.0 and math.isfinite(float(first["kd_loss"]))


def test_online_teachers_give_the_stored_topk(toy):
    """The task's batches: language tokens in front, store rows aligned, online top-k equal to stored."""
    task = setup_task(toy / "bin", "--kd-stores", toy / "stores", "--selective-interval", "0",
                      "--online-topk", "4", "--mixed-language-batches")
    task.load_dataset("train")
    dataset = task.datasets["train"]
    assert dataset.counts[0] == SIZES["train"]["xa"] and dataset.counts[1] > SIZES["train"]["xb"]
    batch = dataset.collater([dataset[i] for i in range(0, len(dataset), 7)])  # both languages
    assert set(batch["lang_id"].tolist()) == {0, 1} and batch["kd_available"].all()
    src = batch["net_input"]["src_tokens"]
    first = src.gather(1, (src.size(1) - batch["net_input"]["src_lengths"]).unsqueeze(1)).squeeze(1)
    assert first.tolist() == [task.lang_token[LANGS[i]] for i in batch["lang_id"].tolist()]
    stored_ids, stored_probs = batch.pop("kd_topk_ids"), batch.pop("kd_topk_probs")
    task.cfg.online_teachers = str(toy / "teachers" / "{lang}" / "checkpoint_best.pt")
    task.attach_online_topk(batch)
    mask = batch["target"].ne(task.tgt_dict.pad())
    assert torch.allclose(batch["kd_topk_probs"][mask], stored_probs[mask], atol=2e-3)
    same = (batch["kd_topk_ids"][mask] == stored_ids[mask]).float().mean()
    assert same > 0.98  # near-ties may swap under other padding


def test_task_refuses_stores_of_other_data(toy, tmp_path):
    other = write_toy_data(tmp_path / "bin", seed=3)
    task = setup_task(other, "--kd-stores", toy / "stores", "--selective-interval", "0")
    with pytest.raises(TS.StoreMismatch, match=str(toy / "bin" / "xa")):
        task.load_dataset("train")
    with pytest.raises(FileNotFoundError, match="header"):
        setup_task(toy / "bin", "--kd-stores", tmp_path / "nowhere", "--selective-interval", "0").load_dataset("train")


def test_resumed_run_keeps_its_early_stopping_count(toy, tmp_path):
    """fairseq keeps --patience's count in memory only; hkd.train hands it to the plugin on a restart
    (HKD_PATIENCE_STATE). With a best dev BLEU of 100 already seen and patience 1, the first
    validation is not better, so training stops after epoch 1 of 3; without the state it runs all 3."""
    def epochs(env_extra):
        run = tmp_path / str(len(env_extra))
        run.mkdir()
        fairseq("fairseq_cli.train", toy / "bin" / "xa", "--task", "translation", "--source-lang", "xa",
                "--target-lang", "en", *TINY_MODEL, "--eval-bleu", *DECODE, "--eval-bleu-remove-bpe", "sentencepiece",
                "--best-checkpoint-metric", "bleu", "--maximize-best-checkpoint-metric", "--patience", "1",
                "--max-epoch", "3", "--save-dir", run, "--log-format", "json",
                env_extra={"HKD_CURVE_FILE": str(run / "curve.jsonl"), **env_extra})
        return sorted(epoch for tag, epoch in curve(run / "curve.jsonl") if tag == "train")

    assert epochs({"HKD_PATIENCE_STATE": json.dumps({"metric": "bleu", "best": 100.0, "num_runs": 0})}) == [1]
    assert len(epochs({})) >= 2  # fairseq's own count: the first validation is the best so far
