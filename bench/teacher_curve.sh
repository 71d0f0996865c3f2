#!/bin/bash
# Benchmark (prints figures; not a test): one demo teacher trained to convergence by hand, early
# stopping on dev loss, once per variant of its settings, all at once (one thread each); each run's
# wall time and why it stopped. Run under the CPU lock:
#     flock -s /tmp/hkd-cpu.lock bench/teacher_curve.sh [LANG] [MAX_EPOCH] [VARIANT ...]
# A VARIANT is a warmup (a number: `400`) or settings `key=value,key=value` (`lr=0.005,max_tokens=512`)
# over config/config.yaml's teacher.default, with patience 5 and stop_metric loss unless it sets them
# (default: na 50 40 400). Work folder: $WORK (default /tmp/hkd-teacher-curve): the demo's data up to
# binarize_pair, then WORK/t/<variant>/ (curve.jsonl, convergence.tsv) and WORK/<variant>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
LANG_=${1:-na}; MAX=${2:-50}; shift $(( $# > 2 ? 2 : $# )); VARIANTS=${*:-40 400}
W=${WORK:-/tmp/hkd-teacher-curve}
mkdir -p "$W"
snakemake --snakefile Snakefile --directory "$W" --configfile config/config.yaml --cores 2 \
    --until binarize_pair -q > "$W/prep.log" 2>&1
for variant in $VARIANTS; do
  name=$LANG_-$(echo "$variant" | tr ',=' '_-')
  read -r patience metric args < <(python -c "
import sys, yaml
from hkd import fairseq_args
c = yaml.safe_load(open('config/config.yaml'))
v = sys.argv[1]
pairs = [('warmup_updates', v)] if v.isdigit() else [p.split('=', 1) for p in v.split(',')]
s = dict(c['teacher']['default'], max_epoch=$MAX, patience=5, stop_metric='loss')
s.update({k: yaml.safe_load(x) for k, x in pairs})
print(s['patience'], s['stop_metric'], fairseq_args.quote(fairseq_args.bilingual_args('$LANG_', c['target'], s)))
" "$variant")
  ( start=$(date +%s)
    eval "python -m hkd.train --data $W/results/data/bin/$LANG_ --work-dir $W/t/$name/work \
        --checkpoint $W/t/$name/checkpoint_best.pt --curve $W/t/$name/curve.jsonl --threads 1 -- $args" \
        > "$W/$name.log" 2>&1
    echo "$name: $(( $(date +%s) - start )) s"
    python -m hkd.convergence --models "$name=$W/t/$name/curve.jsonl:$MAX:$patience:$metric" \
        --out "$W/t/$name/convergence.tsv" 2>/dev/null
    tail -1 "$W/t/$name/convergence.tsv" ) &
done
wait
