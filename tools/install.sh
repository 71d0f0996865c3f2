#!/usr/bin/env bash
# Creates .venv with every pinned dependency of hkd, then applies the fairseq compatibility step.
#
#   bash tools/install.sh            # idempotent: a finished install is recognised by its stamp file
#
# Why the order matters: fairseq 0.12.2 pins hydra-core 1.0 / omegaconf 2.0, which do not install or
# import on Python 3.11, so its working dependencies are installed first and fairseq itself with
# --no-deps; `python -m hkd.fairseq_compat` then patches the installed package (see that module).
# torch is pinned to 2.13.0: on this machine kind pip takes the CPU wheel that lies on disk; on a GPU
# cluster install the CUDA build first (README, "Running on a cluster").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${HKD_VENV:-.venv}
PY=${PYTHON:-python3}
stamp="$VENV/.hkd-installed"
want=$(cat pyproject.toml tools/install.sh hkd/fairseq_compat.py | sha256sum | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
echo "hkd: installing into $VENV (first use only; a few minutes)" >&2
[[ -x $VENV/bin/python ]] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@"; }
pip install "pip==24.0" "setuptools<82" wheel
pip install "torch==2.13.0"
# fairseq's own dependencies at versions that work on Python 3.11 (its pins do not).
pip install "hydra-core==1.3.2" "omegaconf==2.3.0" "bitarray==3.8.0" "regex" "cffi" "cython" "tqdm" "numpy==2.4.6"
pip install --no-deps "fairseq==0.12.2"
pip install -e ".[test]"
"$VENV/bin/python" -m hkd.fairseq_compat --apply
echo "$want" > "$stamp"
echo "hkd: environment ready in $VENV" >&2
