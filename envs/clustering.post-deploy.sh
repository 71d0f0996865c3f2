#!/usr/bin/env bash
# Run by Snakemake once after creating this environment (--sdm conda): the workflow's own package.
set -euo pipefail
python -m pip install --no-deps -e "$(dirname "$0")/.."
