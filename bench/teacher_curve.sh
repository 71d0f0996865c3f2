#!/bin/bash
# Benchmark (prints figures; not a test): one demo teacher trained to convergence by hand, early
# stopping on dev loss, for each warmup given; its curve and wall time. Run under the CPU lock:
#     flock /tmp/hkd-cpu.lock bench/teacher_curve.sh [LANG] [MAX_EPOCH] [WARMUP ...]
# (default: na 50 40 400; one run per warmup, all at once, one thread each). Work folder: $WORK
# (default /tmp/hkd-teacher-curve): the demo's data up to binarize_pair, then WORK/t/w<WARMUP>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
LANG_=${1:-na}; MAX=${2:-50}; shift $(( $# > 2 ? 2 : $# )); WARMUPS=${*:-40 400}
W=${WORK:-/tmp/hkd-teacher-curve}
mkdir -p "$W"
snakemake --snakefile Snakefile --directory "$W" --configfile config/config.yaml --cores 2 \
    --until binarize_pair -q > "$W/prep.log" 2>&1
for warm in $WARMUPS; do
  args=$(python -c "
import yaml
from hkd import fairseq_args
c = yaml.safe_load(open('config/config.yaml'))
s = dict(c['teacher']['default'], max_epoch=$MAX, patience=5, stop_metric='loss', warmup_updates=$warm)
print(fairseq_args.quote(fairseq_args.bilingual_args('$LANG_', c['target'], s)))")
  ( start=$(date +%s)
    eval "python -m hkd.train --data $W/results/data/bin/$LANG_ --work-dir $W/t/w$warm/work \
        --checkpoint $W/t/w$warm/checkpoint_best.pt --curve $W/t/w$warm/curve.jsonl --threads 1 -- $args" \
        > "$W/w$warm.log" 2>&1
    echo "$LANG_ warmup $warm: $(( $(date +%s) - start )) s"
    python -m hkd.convergence --models "$LANG_-w$warm=$W/t/w$warm/curve.jsonl:$MAX:5:loss" \
        --out "$W/t/w$warm/convergence.tsv" 2>/dev/null
    tail -1 "$W/t/w$warm/convergence.tsv" ) &
done
wait
