"""hkd's fairseq plugin, loaded with ``--user-dir hkd_fairseq`` (never a fork of fairseq).

Importing it registers hkd's tasks and criteria with fairseq and, when the environment variable
``HKD_CURVE_FILE`` names a file, records fairseq's epoch statistics there as JSON lines (see
``curve``); hkd.train sets that variable and turns the records into a declared training-curve output.
When ``HKD_PATIENCE_STATE`` is set (a resumed run), fairseq's early-stopping count is restored from it.
fairseq puts the plugin's *parent* folder on sys.path, which is why it is a top-level package.

Registered: the task ``hkd_multilingual`` (hkd_multilingual.py, with kd_stores.py, online_teachers.py,
selective_switch.py and dev_bleu.py) and the criteria ``selective_kd``
(selective_kd.py) and ``adaptive_kd`` (adaptive_kd.py).
"""

import json
import os
import sys

from hkd_fairseq import curve
from hkd_fairseq import adaptive_kd, hkd_multilingual, selective_kd  # noqa: F401  (registers the task and criteria)

curve.install_from_env()


def restore_patience_from_env() -> None:
    """Set fairseq-train's early-stopping count to what it was before a restart (``HKD_PATIENCE_STATE``,
    written by hkd.train from the run's curve): fairseq keeps it on its ``should_stop_early``
    function, in memory only. fairseq-train runs as ``__main__`` (``python -m fairseq_cli.train``)."""
    state = os.environ.get("HKD_PATIENCE_STATE")
    if not state:
        return
    state = json.loads(state)
    for name in ("__main__", "fairseq_cli.train"):
        stop = getattr(sys.modules.get(name), "should_stop_early", None)
        if stop is not None:
            stop.best, stop.num_runs = state["best"], state["num_runs"]


restore_patience_from_env()
