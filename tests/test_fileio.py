"""Outputs honour the umask: on a shared cluster the group reads the data and the models (not 0600)."""

from __future__ import annotations

import os
import stat

import pytest

from hkd import corpus, extract, fileio


@pytest.fixture(params=[0o022, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_writes_honour_the_umask(tmp_path, umask):
    fileio.write_atomic_text(tmp_path / "a" / "out.txt", "x\n")
    assert mode(tmp_path / "a" / "out.txt") == 0o666 & ~umask


def test_corpus_and_pairs_honour_the_umask(tmp_path, umask):
    src = tmp_path / "src"
    src.mkdir()
    for split in ("train", "dev", "test"):
        (src / f"all_talks_{split}.tsv").write_text(f"talk_name\ten\tkk\nt\t{split} en .\t{split} kk .\n")
    assert corpus.main(["local", "--path", str(src), "--out-dir", str(tmp_path / "ted")]) == 0
    assert extract.main(["--corpus-dir", str(tmp_path / "ted"), "--langs", "kk", "--out-dir", str(tmp_path / "pairs"),
                         "--counts", str(tmp_path / "pairs" / "counts.tsv")]) == 0
    written = [*(tmp_path / "ted").iterdir(), *(p for p in (tmp_path / "pairs").rglob("*") if p.is_file())]
    assert len(written) == 3 + 6 + 1
    assert {p.name: mode(p) for p in written} == {p.name: 0o666 & ~umask for p in written}
