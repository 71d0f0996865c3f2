"""hkd.langvec: the language-token rows of a checkpoint's embeddings, as a vectors table."""

import numpy as np
import torch

from hkd import langvec
from hkd.vectors import read_vectors


def test_main_writes_the_token_rows_with_six_significant_digits(tmp_path):
    # fairseq's Dictionary puts 4 special symbols first: __na__ is index 5, __nb__ index 4.
    (tmp_path / "dict.txt").write_text("__nb__ 1\n__na__ 1\nword 7\n")
    rows = torch.tensor(
        [[0.0] * 3] * 4 + [[0.1925157755613327, -3.0, 1e-7], [2.0, -0.031395812, 123456.78], [9.0, 9.0, 9.0]],
        dtype=torch.float32,
    )
    torch.save({"model": {langvec.EMBEDDING: rows}}, tmp_path / "model.pt")
    out = tmp_path / "learned.tsv"
    argv = ["--checkpoint", str(tmp_path / "model.pt"), "--dict", str(tmp_path / "dict.txt")]
    assert langvec.main([*argv, "--langs", "na", "nb", "--out", str(out)]) == 0
    # The format hkd.langvec has always written (f"{x:.6g}" of each float32): the clusters depend on it.
    assert out.read_text() == "lang\td0\td1\td2\nna\t2\t-0.0313958\t123457\nnb\t0.192516\t-3\t1e-07\n"
    np.testing.assert_allclose(read_vectors(out)["nb"], rows[4].numpy(), rtol=5e-6)
