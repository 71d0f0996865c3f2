"""In-process tests of the hkd_multilingual task and its dataset on toy data (no training)."""
import json

import numpy as np
import pytest
import torch

from toy_pairs import LANGS, SIZES, TINY_MODEL, setup_task, write_toy_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_toy_data(tmp_path_factory.mktemp("toy") / "bin")


def test_train_epoch_is_upsampled_and_batched_per_language(data):
    task = setup_task(data, "--sampling-temperature", "5")
    task.load_dataset("train")
    ds = task.datasets["train"]
    n_xa, n_xb = SIZES["train"]["xa"], SIZES["train"]["xb"]
    assert ds.counts == [n_xa, round(n_xa * (n_xb / n_xa) ** 0.2)] and len(ds) == sum(ds.counts)
    assert np.array_equal(np.bincount(ds.pair_index[ds.lang_ids == 1], minlength=n_xb).clip(max=1), np.ones(n_xb))
    first = ds.pair_index.copy()
    ds.set_epoch(2)
    assert not np.array_equal(ds.pair_index, first)  # a fresh remainder each epoch
    ds.set_epoch(1)
    assert np.array_equal(ds.pair_index, first)  # deterministic per epoch
    batches = ds.batch_by_size(ds.ordered_indices(), max_tokens=100)
    assert all(len(set(ds.lang_ids[b])) == 1 for b in batches)  # one language per batch
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(ds)))
    batch = ds.collater([ds[int(i)] for i in batches[-1]])
    lang = LANGS[int(batch["lang_id"][0])]
    src = batch["net_input"]["src_tokens"]
    first_tokens = src.gather(1, (src.size(1) - batch["net_input"]["src_lengths"]).unsqueeze(1)).squeeze(1)
    assert (first_tokens == task.src_dict.index(f"__{lang}__")).all()  # the language token leads
    pair = ds.pairs[int(batch["lang_id"][0])]
    for row, index in enumerate(batch["pair_index"].tolist()):
        n = int(batch["target"][row].ne(task.tgt_dict.pad()).sum())
        assert torch.equal(batch["target"][row, :n], pair.tgt[index])  # pair_index is the data's index
    assert "kd_topk_ids" not in batch  # no stores given


def test_mixed_batches_and_valid_order(data):
    task = setup_task(data, "--mixed-language-batches")
    task.load_dataset("train")
    ds = task.datasets["train"]
    batches = ds.batch_by_size(ds.ordered_indices(), max_tokens=400)
    assert any(len(set(ds.lang_ids[b])) == 2 for b in batches)
    task.load_dataset("valid")
    valid = task.datasets["valid"]
    assert len(valid) == sum(SIZES["valid"].values()) and valid.can_reuse_epoch_itr_across_epochs
    assert valid.pair_index.tolist() == list(range(SIZES["valid"]["xa"])) + list(range(SIZES["valid"]["xb"]))


def test_single_language_from_source_lang(data):
    import hkd_fairseq  # noqa: F401
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf

    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [str(data), "--task", "hkd_multilingual", "--source-lang", "xb",
                                                "--target-lang", "en", *TINY_MODEL])
    task = tasks.setup_task(convert_namespace_to_omegaconf(args).task)
    assert task.langs == ["xb"]
    task.load_dataset("test")
    assert task.datasets["test"].pair_index.tolist() == list(range(SIZES["test"]["xb"]))


def test_setup_errors_name_the_problem(data, tmp_path):
    with pytest.raises(FileNotFoundError, match="dict.zz.txt"):
        setup_task(data, langs="xa,zz")
    with pytest.raises(ValueError, match="either --kd-stores or --online-teachers"):
        setup_task(data, "--kd-stores", tmp_path, "--online-teachers", "x/{lang}.pt")


def test_teacher_bleu_from_files(data, tmp_path):
    table = tmp_path / "teacher_bleu.json"
    table.write_text(json.dumps({"xa": 12.5, "xb": {"bleu": 3.0}}))
    task = setup_task(data, "--kd-stores", tmp_path, "--teacher-bleu", table)
    assert task.selective.teacher_bleu == {"xa": 12.5, "xb": 3.0}
    for lang, score in (("xa", 1.0), ("xb", 2.0)):
        (tmp_path / f"{lang}.json").write_text(json.dumps({"bleu": score, "lang": lang}))
    task = setup_task(data, "--kd-stores", tmp_path, "--teacher-bleu", tmp_path / "{lang}.json")
    assert task.selective.teacher_bleu == {"xa": 1.0, "xb": 2.0}
    table.write_text(json.dumps({"xa": 1.0}))
    with pytest.raises(KeyError, match="xb"):
        setup_task(data, "--kd-stores", tmp_path, "--teacher-bleu", table)


def test_teacher_bleu_from_training_curves(data, tmp_path):
    """A {lang} pattern of curve.jsonl files: each teacher's best valid_bleu (its checkpoint_best)."""
    for lang, scores in (("xa", [1.5, 7.25, 6.0]), ("xb", [0.5])):
        records = [{"tag": "start"}] + [{"tag": "valid", "epoch": e + 1, "valid_bleu": b}
                                        for e, b in enumerate(scores)]
        (tmp_path / f"{lang}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    task = setup_task(data, "--kd-stores", tmp_path, "--teacher-bleu", tmp_path / "{lang}.jsonl")
    assert task.selective.teacher_bleu == {"xa": 7.25, "xb": 0.5}
    (tmp_path / "xb.jsonl").write_text('{"tag": "start"}\n{"tag": "valid", "valid_bleu": "x"}\n')
    with pytest.raises(ValueError, match=r"xb.jsonl:2: valid_bleu"):
        setup_task(data, "--kd-stores", tmp_path, "--teacher-bleu", tmp_path / "{lang}.jsonl")
    (tmp_path / "xb.jsonl").write_text('{"tag": "start"}\n')
    with pytest.raises(ValueError, match="xb.jsonl: no valid_bleu"):
        setup_task(data, "--kd-stores", tmp_path, "--teacher-bleu", tmp_path / "{lang}.jsonl")


def test_bleu_statistics_add_up_to_corpus_bleu():
    """Per-batch sufficient statistics, summed, give the BLEU of the whole set (validation per language)."""
    import sacrebleu
    from hkd_fairseq.dev_bleu import bleu_from_stats, bleu_stats

    hyps = ["the cat sat on the mat", "a dog ran", "hello world again", "the mat is red today"]
    refs = ["the cat sat on a mat", "the dog ran away", "hello world", "the mat is red"]
    summed = bleu_stats(hyps[:2], refs[:2], "13a") + bleu_stats(hyps[2:], refs[2:], "13a")
    assert bleu_from_stats(summed) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)


def test_strip_first_token():
    from hkd_fairseq.online_teachers import strip_first_token

    pad = 1
    left = torch.tensor([[1, 1, 9, 5, 2], [9, 5, 6, 7, 2]])  # left-padded, language token 9
    out, lengths = strip_first_token(left, torch.tensor([3, 5]), pad, left_pad=True)
    assert out.tolist() == [[1, 1, 1, 5, 2], [1, 5, 6, 7, 2]] and lengths.tolist() == [2, 4]
    right = torch.tensor([[9, 5, 2, 1], [9, 5, 6, 2]])
    out, lengths = strip_first_token(right, torch.tensor([3, 4]), pad, left_pad=False)
    assert out.tolist() == [[5, 2, 1, 1], [5, 6, 2, 1]] and lengths.tolist() == [2, 3]


def test_all_pairs_in_one_folder(data, tmp_path):
    flat = tmp_path / "all"
    flat.mkdir()
    for lang in LANGS:
        for f in (data / lang).iterdir():
            if not (flat / f.name).exists():
                (flat / f.name).write_bytes(f.read_bytes())
    task = setup_task(flat)
    task.load_dataset("valid")
    assert len(task.datasets["valid"]) == sum(SIZES["valid"].values())
