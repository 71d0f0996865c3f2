"""The shared BPE model and dictionary (hkd.bpe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hkd import bpe


def test_temperature_shares_interpolate_between_proportional_and_uniform():
    sizes = {"big": 9000, "small": 1000}
    assert bpe.temperature_shares(sizes, 1.0) == pytest.approx({"big": 0.9, "small": 0.1})
    flat = bpe.temperature_shares(sizes, 1000.0)
    assert flat["big"] == pytest.approx(0.5, abs=0.01)
    t5 = bpe.temperature_shares(sizes, 5.0)
    assert 0.1 < t5["small"] < 0.5 and sum(t5.values()) == pytest.approx(1.0)


def test_balanced_sample_upsamples_small_pools_and_is_deterministic():
    pools = {"big": [f"b{i}" for i in range(1000)], "small": ["s0", "s1"]}
    sample = bpe.balanced_sample(pools, budget=100, temperature=5.0, seed=3)
    assert sample == bpe.balanced_sample(pools, budget=100, temperature=5.0, seed=3)
    small = [s for s in sample if s.startswith("s")]
    assert len(small) > 2  # repeated: its share exceeds its size
    assert len(sample) == pytest.approx(100, abs=2)


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bpe")
    words = ["the", "dog", "sees", "a", "small", "house", "near", "river", "walks", "big"]
    en = [" ".join(words[(i + j) % len(words)] for j in range(5)) + " ." for i in range(200)]
    xx = [" ".join(w[::-1] for w in line.split()) for line in en]
    inputs = [write(tmp / "train.xx", xx), write(tmp / "train.en", en)]
    bpe.main(["train", "--inputs", *map(str, inputs), "--model-prefix", str(tmp / "spm"),
              "--vocab-size", "120", "--sample-sentences", "1000"])
    return tmp / "spm.model"


def test_dictionary_has_every_piece_and_every_language_token(model, tmp_path):
    enc = tmp_path / "enc.xx"
    bpe.encode(model, [model.parent / "train.xx"], [enc])
    entries = bpe.build_dictionary(model, [enc], ["xx", "yy", "en"])
    tokens = [t for t, _ in entries]
    assert tokens[-3:] == ["__xx__", "__yy__", "__en__"]
    assert len(tokens) == len(set(tokens))
    # the size depends on the BPE model and the languages only, not on which text was counted
    other = bpe.build_dictionary(model, [], ["xx", "yy", "en"])
    assert len(other) == len(entries)


def test_encode_keeps_lines_aligned(model, tmp_path):
    src = write(tmp_path / "in.en", ["the dog sees a house .", "river ."])
    out = tmp_path / "out.en"
    bpe.main(["encode", "--model", str(model), "--inputs", str(src), "--outputs", str(out)])
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and all(lines)


def test_text_encoded_with_another_model_is_refused(model, tmp_path):
    bad = write(tmp_path / "bad.xx", ["tokens_that_are_not_pieces_of_the_model"])
    with pytest.raises(ValueError, match="not pieces of"):
        bpe.build_dictionary(model, [bad], ["xx"])


def test_file_without_language_suffix_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="cannot tell the language"):
        bpe.pools_from_inputs([write(tmp_path / "train", ["x"])], "en")


def test_a_character_the_model_does_not_cover_is_written_as_unk(tmp_path, caplog):
    """character_coverage < 1 leaves the rarest characters without a piece (the rehearsal's 'q' and 'x'):
    they are encoded as <unk>, counted in the log, and the dictionary builds."""
    words = ["the", "dog", "sees", "a", "small", "house", "near", "river", "walks", "big"]
    en = [" ".join(words[(i + j) % len(words)] for j in range(5)) + " ." for i in range(400)]
    en[7] += " quiz"  # q and z: 2 of some 12,000 characters
    inputs = [write(tmp_path / "train.en", en)]
    bpe.main(["train", "--inputs", *map(str, inputs), "--model-prefix", str(tmp_path / "spm"),
              "--vocab-size", "60", "--sample-sentences", "400", "--character-coverage", "0.99"])
    model = tmp_path / "spm.model"
    out = tmp_path / "enc.en"
    with caplog.at_level("INFO", logger="hkd.bpe"):
        unknown = bpe.encode(model, [inputs[0]], [out])
    lines = out.read_text().splitlines()
    assert len(lines) == 400 and "<unk>" in lines[7].split() and "q" not in lines[7].split()
    assert unknown[inputs[0]] >= 1 and "written as <unk>" in caplog.text
    assert sum("<unk>" in line.split() for line in lines) == 1
    entries = bpe.build_dictionary(model, [out], ["en"])
    assert "<unk>" not in {t for t, _ in entries}  # fairseq's dictionary has its own <unk>
