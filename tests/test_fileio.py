"""Atomic writes: outputs honour the umask (on a shared cluster the group reads the data and the models,
not 0600), and a folder output appears whole or not at all."""

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


KILLED_FOLDER_WRITER = """
import sys, time
from pathlib import Path
from hkd import fileio
with fileio.atomic_directory(sys.argv[1]) as tmp:
    (tmp / "na.json").write_text("{}")
    print(tmp, flush=True)
    time.sleep(600)  # killed here, between two of the folder's files
    (tmp / "sa.json").write_text("{}")
"""


def test_a_folder_output_appears_whole_or_not_at_all(tmp_path, umask):
    """kill -9 between two files of a folder output: no folder (a folder with some of its files would
    pass for finished behind a Snakemake checkpoint); an older one stays whole; the rerun replaces it and
    removes the killed writer's partial folder."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "eval" / "c1"
    with fileio.atomic_directory(out) as tmp:  # an earlier run's output
        (tmp / "old.json").write_text("{}")
    root = Path(fileio.__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", KILLED_FOLDER_WRITER, str(out)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(root)})
    partial = Path(proc.stdout.readline().strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial.parent == out.parent and (partial / "na.json").is_file()  # what the kill left
    assert sorted(p.name for p in out.iterdir()) == ["old.json"]  # the older output, untouched
    with fileio.atomic_directory(out) as tmp:  # the rerun
        (tmp / "na.json").write_text("{}")
        (tmp / "sa.json").write_text("{}")
    assert sorted(p.name for p in out.parent.iterdir()) == ["c1"]  # no partial folder beside it
    assert sorted(p.name for p in out.iterdir()) == ["na.json", "sa.json"]
    assert mode(out) == 0o777 & ~umask  # an ordinary folder, not mkdtemp's 0700


def test_a_failed_folder_writer_leaves_the_older_folder(tmp_path):
    out = tmp_path / "c1"
    out.mkdir()
    (out / "old.json").write_text("{}")
    with pytest.raises(RuntimeError):
        with fileio.atomic_directory(out) as tmp:
            (tmp / "new.json").write_text("{}")
            raise RuntimeError("the evaluation failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1"]
    assert sorted(p.name for p in out.iterdir()) == ["old.json"]
