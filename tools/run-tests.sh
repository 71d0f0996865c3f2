#!/usr/bin/env bash
# The test suite: lint and format checks of the workflow, then pytest (unit tests, single-rule tests,
# a real run of the DAG on tiny data, the SLURM tests against a real cluster when run as root).
#   bash tools/run-tests.sh [pytest args]     (make test = this, after tools/install.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/${HKD_VENV:-.venv}/bin:$PATH"
echo "== snakemake --lint"
snakemake --lint
echo "== snakefmt --check"
snakefmt --check .
echo "== pytest"
exec python -m pytest -ra "$@"
