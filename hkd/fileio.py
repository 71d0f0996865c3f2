"""Atomic writes: a killed job never leaves a file that looks finished.

Text goes to a temporary file beside the target, which is then renamed over it (``os.replace`` is
atomic on one file system); the temporary file is removed if writing fails. A job killed (kill -9)
while writing leaves its temporary file behind: ``remove_stale_temporaries`` clears them when the
job is run again.

``tempfile.mkstemp`` and ``mkdtemp`` make private files (0600) and folders (0700); renamed into
place they would stay so, and on a shared cluster the group could not read the data or the models.
Every such temporary file or folder is given the mode ``open`` or ``mkdir`` would give it
(``honour_umask``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("hkd.fileio")


def honour_umask(path: Path | str) -> None:
    """Give a file made by mkstemp (a folder made by mkdtemp) the mode that open() (mkdir()) gives:
    0o666 (0o777) less the umask."""
    mask = os.umask(0o022)  # os.umask is the only way to read it: set, then restore
    os.umask(mask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~mask)


def _temporary(path: Path) -> str:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    honour_umask(tmp)
    return tmp


def write_atomic_text(path: Path | str, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomic(src: Path | str, dst: Path | str) -> None:
    """Copy `src` to `dst` through a temporary file beside `dst` (a checkpoint: hundreds of MB)."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(dst)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: Path | str) -> int:
    """Remove the temporary files that killed writers of `path` left beside it; their number."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp")) if path.parent.is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    if stale:
        log.info("removed %d temporary file(s) of %s left by a killed job", len(stale), path)
    return len(stale)
