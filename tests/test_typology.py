"""Tests for hkd.typology: TED code mapping, URIEL features, the language vectors table format."""

from pathlib import Path

import numpy as np
import pytest

from hkd import typology, vectors
from hkd.typology import uriel_features
from hkd.vectors import VectorsError, read_vectors, write_vectors

# The 53 TED source languages, in the order of reference/ted53_languages.tsv.
TED53 = (
    "kk be bn eu ms bs az ur ta mn mr gl ku et ka nb hi sl hy my fi mk lt sq da sv sk id th cs uk "
    "hr el sr hu fa de ja vi bg pl ro tr nl zh es it ko ru he fr ar pt"
).split()
SHARED = Path("/work/shared/reference/ted53_languages.tsv")


def test_ted53_list_matches_reference_table():
    assert len(TED53) == len(set(TED53)) == 53
    if SHARED.is_file():
        rows = [r.split("\t") for r in SHARED.read_text().splitlines() if r and not r.startswith("#")]
        assert [r[0] for r in rows[1:]] == TED53


def test_every_ted_code_and_english_maps_to_a_uriel_language():
    mapping = typology.to_iso3(TED53 + ["en"])
    assert len(set(mapping.values())) == 54
    expected = {"az": "azj", "mn": "khk", "sq": "als", "zh": "cmn", "ms": "zlm", "fa": "pes", "ar": "arb", "en": "eng"}
    assert {c: mapping[c] for c in expected} == expected
    l2v = typology._lang2vec()
    assert all(iso3 in l2v.URIEL_LANGUAGES and iso3 in l2v.LANGUAGES for iso3 in mapping.values())


def test_syntax_knn_has_103_binary_features_for_all_53():
    names, matrix = uriel_features(TED53)
    assert len(names) == 103 and matrix.shape == (53, 103)
    assert names[:2] == ["S_SVO", "S_SOV"]
    assert set(np.unique(matrix)) <= {0.0, 1.0}
    assert matrix[TED53.index("ja"), names.index("S_SOV")] == 1.0


def test_unknown_code_is_an_error_naming_it():
    with pytest.raises(VectorsError, match=r"not in URIEL: xx\b"):
        uriel_features(["kk", "xx", "de"])
    with pytest.raises(VectorsError, match=r"ku \(-> qqq\)"):
        typology.to_iso3(["ku"], {"ku": "qqq"})


def test_override_of_one_code():
    assert typology.to_iso3(["ku", "et"], {"ku": "kmr"}) == {"ku": "kmr", "et": "est"}


def test_syntax_wals_missing_values_need_a_policy():
    with pytest.raises(VectorsError, match=r"missing values for: kk \(103/103\), gl \(103/103\)"):
        uriel_features(["kk", "gl", "de", "en"], "syntax_wals")
    names, matrix = uriel_features(["kk", "gl", "de", "en"], "syntax_wals", missing="impute-mean")
    assert np.isfinite(matrix).all() and matrix.shape == (4, len(names)) and len(names) < 103
    # kk and gl have no value of their own: both are the feature mean of de and en.
    np.testing.assert_allclose(matrix[0], matrix[2:].mean(axis=0))
    np.testing.assert_allclose(matrix[1], matrix[0])


def test_main_writes_a_vectors_table(tmp_path):
    out = tmp_path / "typology.tsv"
    assert typology.main(["--langs", "kk", "be", "ja", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["lang", "S_SVO", "S_SOV"]
    assert [line.split("\t")[0] for line in lines[1:]] == ["kk", "be", "ja"]
    assert set(lines[1].split("\t")[1:]) <= {"0", "1"}
    vectors = read_vectors(out)
    assert list(vectors) == ["kk", "be", "ja"] and vectors["ja"].shape == (103,)


def test_vectors_table_round_trip_is_exact_and_deterministic(tmp_path):
    matrix = np.array([[0.1, -2.5, 1.0], [1 / 3, 0.0, 7.0]])
    write_vectors(tmp_path / "a.tsv", ["x", "y"], ["f1", "f2", "f3"], matrix)
    write_vectors(tmp_path / "b.tsv", ["x", "y"], ["f1", "f2", "f3"], matrix)
    assert (tmp_path / "a.tsv").read_bytes() == (tmp_path / "b.tsv").read_bytes()
    back = read_vectors(tmp_path / "a.tsv")
    np.testing.assert_array_equal(np.stack(list(back.values())), matrix)
    assert (tmp_path / "a.tsv").read_text().splitlines()[1] == "x\t0.1\t-2.5\t1"


def test_numpy_mappings_are_read(tmp_path):
    vectors = {"kk": np.arange(4.0), "be": np.ones(4)}
    np.save(tmp_path / "learned.npy", vectors, allow_pickle=True)
    np.savez(tmp_path / "learned.npz", **vectors)
    for name in ("learned.npy", "learned.npz"):
        back = read_vectors(tmp_path / name)
        assert list(back) == ["kk", "be"]
        np.testing.assert_array_equal(back["kk"], np.arange(4.0))


@pytest.mark.parametrize(
    "text, message",
    [
        ("lang\ta\tb\nkk\t1\t2\nbe\t1\n", r"t\.tsv:3: language 'be': 1 values, header has 2 features \(ragged\)"),
        ("lang\ta\tb\nkk\t1\tx\n", r"t\.tsv:2: language 'kk': non-numeric"),
        ("lang\ta\tb\nkk\t1\t2\nkk\t3\t4\n", r"t\.tsv:3: language 'kk': duplicate language"),
        ("lang\ta\tb\nkk\t1\tnan\n", r"t\.tsv:2: language 'kk': NaN or infinite value at position 1"),
        ("code\ta\nkk\t1\n", r"t\.tsv:1: header must start with 'lang'"),
        ("lang\ta\n", r"t\.tsv: no language vectors"),
    ],
)
def test_bad_tables_name_file_line_and_language(tmp_path, text, message):
    (tmp_path / "t.tsv").write_text(text)
    with pytest.raises(VectorsError, match=message):
        read_vectors(tmp_path / "t.tsv")


def test_bad_numpy_files_name_the_key(tmp_path):
    np.save(tmp_path / "ragged.npy", {"kk": np.ones(3), "be": np.ones(2)}, allow_pickle=True)
    with pytest.raises(VectorsError, match=r"key 'be': 2 values, expected 3 \(ragged\)"):
        read_vectors(tmp_path / "ragged.npy")
    np.save(tmp_path / "nan.npy", {"kk": np.array([1.0, np.nan])}, allow_pickle=True)
    with pytest.raises(VectorsError, match=r"key 'kk': NaN"):
        read_vectors(tmp_path / "nan.npy")
    np.save(tmp_path / "text.npy", {"kk": np.array(["a", "b"])}, allow_pickle=True)
    with pytest.raises(VectorsError, match=r"key 'kk': non-numeric"):
        read_vectors(tmp_path / "text.npy")
    np.save(tmp_path / "array.npy", np.ones((2, 3)))
    with pytest.raises(VectorsError, match=r"expected np.save of a \{code: vector\} dict, got ndarray"):
        read_vectors(tmp_path / "array.npy")


def test_select_names_every_missing_language():
    with pytest.raises(VectorsError, match=r"--learned: no vector for language\(s\) be sr"):
        vectors.select({"kk": np.ones(2)}, ["kk", "be", "sr"], "--learned")


def test_vectors_table_with_significant_digits(tmp_path):
    matrix = np.array([[0.1925157755613327, -2.0, 1 / 3], [1e-7, 123456.78, -0.0]])
    write_vectors(tmp_path / "a.tsv", ["x", "y"], ["f1", "f2", "f3"], matrix, digits=6)
    lines = (tmp_path / "a.tsv").read_text().splitlines()
    assert lines[1:] == ["x\t0.192516\t-2\t0.333333", "y\t1e-07\t123457\t-0"]
