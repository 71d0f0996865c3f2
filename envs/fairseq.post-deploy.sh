#!/usr/bin/env bash
# Run by Snakemake once after creating envs/fairseq.yaml's environment (--sdm conda).
# The workflow's own package, then fairseq 0.12.2 without its broken pins, then hkd's one
# compatibility step (hkd/fairseq_compat.py) patches it.
set -euo pipefail
python -m pip install --no-deps -e "$(dirname "$0")/.."
python -m pip install --no-deps fairseq==0.12.2
python -m hkd.fairseq_compat --apply
