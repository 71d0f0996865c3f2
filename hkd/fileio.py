"""Atomic writes: a killed job never leaves a file that looks finished.

Every output goes to a temporary file beside its target (``temporary_beside``), which is then renamed
over it (``os.replace`` is atomic on one file system); the temporary file is removed if writing
fails. ``atomic_outputs`` does that for several files at once (all renamed, or none);
``write_atomic_text``, ``write_atomic_lines`` and ``copy_atomic`` are the one-file cases. A job
killed (kill -9) while writing leaves its temporary file behind: ``remove_stale_temporaries`` clears
them when the job is run again.

A folder that is a job's output (a Snakemake ``directory()``: the stores of a model's languages, an
evaluation's scores, the student's assistants) is written whole in a temporary folder beside it and
renamed into place (``atomic_directory``): a kill leaves no folder at all, never one with some of
its files. That matters beyond tidiness: Snakemake (9.27) checks its incomplete-job markers before it
adds the jobs that follow a checkpoint (``dag.init`` runs ``check_incomplete``, then
``update_checkpoint_dependencies``), so a killed job behind the clusters checkpoint whose output
exists is taken as finished, even with ``--rerun-incomplete``.

``tempfile.mkstemp`` and ``mkdtemp`` make private files (0600) and folders (0700); renamed into
place they would stay so, and on a shared cluster the group could not read the data or the models.
Every such temporary file or folder is given the mode ``open`` or ``mkdir`` would give it
(``honour_umask``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Mapping, TypeVar

K = TypeVar("K")
log = logging.getLogger("hkd.fileio")


def honour_umask(path: Path | str) -> None:
    """Give a file made by mkstemp (a folder made by mkdtemp) the mode that open() (mkdir()) gives:
    0o666 (0o777) less the umask."""
    mask = os.umask(0o022)  # os.umask is the only way to read it: set, then restore
    os.umask(mask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~mask)


def temporary_beside(path: Path | str) -> Path:
    """A new empty temporary file in `path`'s folder (created if needed), named after `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    honour_umask(tmp)
    return Path(tmp)


@contextlib.contextmanager
def atomic_outputs(finals: Mapping[K, Path | str]) -> Iterator[dict[K, Path]]:
    """Yield {key: temporary path} for {key: final path}; on success every temporary file is renamed
    to its final path, on failure all are removed."""
    tmps: dict[K, Path] = {}
    try:
        for key, final in finals.items():  # inside the try: one that cannot be made removes the others
            tmps[key] = temporary_beside(final)
        yield tmps
        for key, tmp in tmps.items():
            os.replace(tmp, finals[key])
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)


def write_atomic_text(path: Path | str, text: str) -> None:
    with atomic_outputs({0: path}) as tmps:
        with open(tmps[0], "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


def write_atomic_lines(path: Path | str, lines: Iterable[str]) -> None:
    """Each line followed by a newline, streamed (no copy of the whole text in memory)."""
    with atomic_outputs({0: path}) as tmps:
        with open(tmps[0], "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line + "\n")


def copy_atomic(src: Path | str, dst: Path | str) -> None:
    """Copy `src` to `dst` through a temporary file beside `dst` (a checkpoint: hundreds of MB)."""
    with atomic_outputs({0: dst}) as tmps:
        shutil.copyfile(src, tmps[0])


def remove_partial_folders(path: Path | str) -> int:
    """Remove the temporary folders that killed writers of the folder `path` left beside it (a store is
    as large as its data's target tokens times 2k+ bytes: one left behind per preemption fills a disk);
    their number."""
    path = Path(path)
    stale = sorted(p for p in path.parent.glob(f".{path.name}.partial-*") if p.is_dir()) if path.parent.is_dir() else []
    for folder in stale:
        log.info("removing %s: a writer of %s killed before it finished", folder, path)
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)


def partial_folder(path: Path | str) -> Path:
    """A new empty temporary folder beside the folder `path` (after removing those of killed writers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_partial_folders(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.partial-"))
    honour_umask(tmp)
    return tmp


def replace_folder(tmp: Path | str, path: Path | str) -> None:
    """Put the finished folder `tmp` in place of `path` (an older one removed first: in between, `path`
    is missing, never partial)."""
    path = Path(path)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_directory(path: Path | str) -> Iterator[Path]:
    """Yield a new empty folder beside `path`; on success it replaces `path`, on failure it is removed."""
    tmp = partial_folder(path)
    try:
        yield tmp
        replace_folder(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temporaries(path: Path | str) -> int:
    """Remove the temporary files that killed writers of `path` left beside it; their number."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp")) if path.parent.is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    if stale:
        log.info("removed %d temporary file(s) of %s left by a killed job", len(stale), path)
    return len(stale)
