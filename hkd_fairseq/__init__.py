"""hkd's fairseq plugin, loaded with ``--user-dir hkd_fairseq`` (never a fork of fairseq).

Importing it registers hkd's tasks and criteria with fairseq and, when the environment variable
``HKD_CURVE_FILE`` names a file, records fairseq's epoch statistics there as JSON lines (see
``curve``); hkd.train sets that variable and turns the records into a declared training-curve output.
fairseq puts the plugin's *parent* folder on sys.path, which is why it is a top-level package.

Registered: the task ``hkd_multilingual`` (hkd_multilingual.py) and the criteria ``selective_kd``
(selective_kd.py) and ``adaptive_kd`` (adaptive_kd.py).
"""

from hkd_fairseq import curve
from hkd_fairseq import adaptive_kd, hkd_multilingual, selective_kd  # noqa: F401  (registers the task and criteria)

curve.install_from_env()
