"""Atomic writes: a killed job never leaves a file that looks finished.

Text goes to a temporary file beside the target, which is then renamed over it (``os.replace`` is
atomic on one file system); the temporary file is removed if writing fails.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic_text(path: Path | str, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
