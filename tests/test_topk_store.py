"""Tests of hkd.topk_store without a model: the format, lookups, atomic writing and alignment refusal."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from hkd import topk_store as TS
from toy_pairs import SIZES, dictionary, write_toy_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_toy_data(tmp_path_factory.mktemp("toy") / "bin")


def target_sizes(data, lang="xa"):
    from fairseq.data import data_utils

    dataset = data_utils.load_indexed_dataset(str(data / lang / f"train.{lang}-en.en"), None)
    return np.array(dataset.sizes)  # a copy: the dataset's arrays die with its memory map


def random_store(out, signature, sizes, k=3, ref=True, seed=0):
    """A store of random top-k rows for the given target sizes; returns the rows written."""
    rng = np.random.default_rng(seed)
    vocab = len(dictionary())
    writer = TS.StoreWriter(out, sizes, k, vocab, ref_lprobs=ref)
    rows = {}
    order = rng.permutation(len(sizes))  # rows may come in any order (the dump goes by length)
    for s in order:
        n = int(sizes[s])
        ids = rng.integers(0, vocab, (n, k))
        probs = np.sort(rng.random((n, k)), axis=1)[:, ::-1] / k
        lp = -rng.random(n)
        writer.write(int(s), ids, probs, lp if ref else None)
        rows[int(s)] = (ids, probs, lp)
    writer.finish(signature, teacher_checkpoint="teachers/xa/checkpoint_best.pt",
                  dictionary_sha256=TS.dictionary_sha256(dictionary()))
    return rows


def test_signature_reads_the_binarized_target(data):
    sig = TS.target_signature(data / "xa", "xa", "en")
    assert sig.sentences == SIZES["train"]["xa"]
    from fairseq.data import data_utils

    ds = data_utils.load_indexed_dataset(str(data / "xa" / "train.xa-en.en"), None)
    assert sig.tokens == int(ds.sizes.sum())
    # the fast path (one mmap stream) and the generic path agree
    slow = TS.DataSignature("x", len(ds), int(ds.sizes.sum()), TS.sha256_array(ds.sizes.astype("<i8")),
                            TS.sha256_array(np.concatenate([ds[i].numpy() for i in range(len(ds))]).astype("<i4")))
    assert slow.matches(sig)


def test_round_trip_and_lookup(data, tmp_path):
    sig = TS.target_signature(data / "xa", "xa", "en")
    sizes = target_sizes(data)
    rows = random_store(tmp_path / "store", sig, sizes)
    store = TS.TopkStore(tmp_path / "store")
    assert len(store) == len(sizes) and store.k == 3 and store.vocab_size == len(dictionary())
    assert store.header["ids_dtype"] == "uint16" and store.header["teacher_checkpoint"].endswith(".pt")
    store.check_matches(sig, dictionary())
    batch = [5, 0, 17]
    T = int(sizes[batch].max()) + 2
    ids, probs = store.lookup(batch, length=T)  # [B, T, k]
    assert ids.shape == (3, T, 3) and ids.dtype == torch.long and probs.dtype == torch.float32
    for b, s in enumerate(batch):
        n = int(sizes[s])
        assert np.array_equal(ids[b, :n].numpy(), rows[s][0])
        assert np.allclose(probs[b, :n].numpy(), rows[s][1], atol=1e-3)  # float16
        assert (ids[b, n:] == 0).all() and (probs[b, n:] == 0).all()
    assert np.array_equal(store.lengths(batch), sizes[batch])
    ref = store.lookup_ref_lprobs(batch)
    assert ref.shape == (3, int(sizes[batch].max()))
    assert np.allclose(ref[0, : sizes[5]].numpy(), rows[5][2])
    with pytest.raises(ValueError, match="cut"):
        store.lookup(batch, length=1)
    with pytest.raises(IndexError):
        store.lookup([len(sizes)])
    again = pickle.loads(pickle.dumps(store))  # dataloader workers reopen it by path
    assert torch.equal(again.lookup(batch)[0], store.lookup(batch)[0])
    bytes_per_token = sum(f.stat().st_size for f in store.path.iterdir()) / sizes.sum()
    assert bytes_per_token < 3 * (2 + 2) + 4 + 60  # k * (uint16 + float16) + ref + headers of small files


def test_store_from_other_data_is_refused(data, tmp_path):
    sig = TS.target_signature(data / "xa", "xa", "en")
    sizes = target_sizes(data)
    random_store(tmp_path / "store", sig, sizes)
    store = TS.TopkStore(tmp_path / "store")
    other_pair = TS.target_signature(data / "xb", "xb", "en")
    with pytest.raises(TS.StoreMismatch) as err:
        store.check_matches(other_pair)
    assert "train.xa-en.en" in str(err.value) and "train.xb-en.en" in str(err.value)
    # same sizes, other tokens: another corpus of the same shape is refused too
    same_shape = write_toy_data(tmp_path / "other", seed=2)
    other = TS.target_signature(same_shape / "xa", "xa", "en")
    assert other.sentences == sig.sentences
    with pytest.raises(TS.StoreMismatch, match="tokens sha256"):
        store.check_matches(other)
    from fairseq.data import Dictionary

    small = Dictionary()
    with pytest.raises(TS.StoreMismatch, match="dictionary"):
        store.check_matches(sig, small)
    assert TS.main(["check", "--store", str(tmp_path / "store"), "--data", str(data / "xb"),
                    "--src-lang", "xb", "--tgt-lang", "en"]) == 1
    assert TS.main(["check", "--store", str(tmp_path / "store"), "--data", str(data / "xa"),
                    "--src-lang", "xa", "--tgt-lang", "en"]) == 0


def test_unfinished_store_is_not_a_store(data, tmp_path):
    sig = TS.target_signature(data / "xa", "xa", "en")
    writer = TS.StoreWriter(tmp_path / "store", [2, 3], k=2, vocab_size=10)
    writer.write(0, np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="written twice"):
        writer.write(0, np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        writer.write(1, np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="1 sentences have no top-k"):
        writer.finish(sig)
    assert not (tmp_path / "store").exists()  # only the temporary folder, never the store's name
    with pytest.raises(FileNotFoundError, match="header"):
        TS.TopkStore(writer.tmp)
    writer.abort()
    assert not writer.tmp.exists()


def test_finish_replaces_an_old_store_and_checks_shapes(data, tmp_path):
    sig = TS.DataSignature("toy", 2, 5, "a", "b")
    for seed in (0, 1):
        writer = TS.StoreWriter(tmp_path / "store", [2, 3], k=2, vocab_size=70000)
        writer.write(0, np.full((2, 2), 66000), np.full((2, 2), 0.5))
        writer.write(1, np.full((3, 2), seed), np.full((3, 2), 0.25))
        writer.finish(sig)
    store = TS.TopkStore(tmp_path / "store")
    assert store.header["ids_dtype"] == "int32"  # a dictionary above 65,536 entries
    ids, probs = store.lookup([1, 0])
    assert ids[0, 0, 0] == 1 and ids[1, 0, 0] == 66000 and probs[1, 1, 1] == 0.5
    header = json.loads((tmp_path / "store" / "header.json").read_text())
    header["tokens"] = 6
    (tmp_path / "store" / "header.json").write_text(json.dumps(header))
    with pytest.raises(ValueError, match="shape"):
        TS.TopkStore(tmp_path / "store")


KILLED_WRITER = """
import sys, time
import numpy as np
from hkd import topk_store as TS
writer = TS.StoreWriter(sys.argv[1], [2, 3], k=2, vocab_size=10)
writer.write(0, np.ones((2, 2)), np.ones((2, 2)))
print(writer.tmp, flush=True)
time.sleep(600)  # killed here, half-way through the store
"""


def test_a_store_killed_mid_write_is_redone_and_leaves_no_partial_folder(tmp_path):
    """kill -9 in the middle of writing a store (the old store of a previous run still in place): the
    old store stays whole, and the rerun replaces it and removes the killed writer's partial folder
    (a store is the size of its data's target tokens times 2k+ bytes: one per preemption fills a disk)."""
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "stores" / "xa"
    sig = TS.DataSignature("toy", 2, 5, "a", "b")
    old = TS.StoreWriter(out, [2, 3], k=2, vocab_size=10)
    old.write(0, np.zeros((2, 2)), np.zeros((2, 2)))
    old.write(1, np.zeros((3, 2)), np.zeros((3, 2)))
    old.finish(sig)
    root = Path(TS.__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    partial = Path(proc.stdout.readline().strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial.is_dir() and partial.parent == out.parent  # what the kill left
    assert TS.TopkStore(out).lookup([0])[0].max() == 0  # the old store, whole
    writer = TS.StoreWriter(out, [2, 3], k=2, vocab_size=10)  # the rerun
    writer.write(1, np.full((3, 2), 2), np.full((3, 2), 0.5))
    writer.write(0, np.full((2, 2), 2), np.full((2, 2), 0.5))
    writer.finish(sig)
    assert sorted(p.name for p in out.parent.iterdir()) == ["xa"]  # no partial folder left beside it
    assert all(TS.TopkStore(out).lookup([s])[0].min() == 2 for s in (0, 1))  # the new one


def test_a_store_honours_the_umask(data, tmp_path):
    import os
    import stat

    old = os.umask(0o002)
    try:
        sig = TS.target_signature(data / "xa", "xa", "en")
        random_store(tmp_path / "store", sig, target_sizes(data))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o775  # mkdtemp alone gives 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "store").iterdir()} == {0o664}
