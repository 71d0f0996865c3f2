"""Training curves as data: fairseq's epoch statistics appended to a JSON-lines file.

fairseq reports each epoch's training and validation statistics through the logger of
``fairseq.logging.progress_bar`` (renamed to the tag, "train" or "valid", while it logs, and
JSON-encoded with ``--log-format json``). A handler on that logger appends each such record, with its
tag, to the file named by ``HKD_CURVE_FILE``. The handler is installed by importing the plugin, so it
also runs in the worker processes of distributed training (only the master process logs statistics).
"""

from __future__ import annotations

import json
import logging
import os

ENV = "HKD_CURVE_FILE"
TAGS = ("train", "valid")


class CurveHandler(logging.Handler):
    def __init__(self, path: str):
        super().__init__(level=logging.INFO)
        self.path = path

    def emit(self, record: logging.LogRecord) -> None:
        if record.name not in TAGS:
            return
        try:
            stats = json.loads(record.getMessage())
        except ValueError:
            return
        if not isinstance(stats, dict):
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"tag": record.name, **stats}, sort_keys=True) + "\n")


def install_from_env() -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    logger = logging.getLogger("fairseq.logging.progress_bar")
    if not any(isinstance(h, CurveHandler) for h in logger.handlers):
        logger.addHandler(CurveHandler(path))
