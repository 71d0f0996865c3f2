#!/usr/bin/env bash
# stop-slurm.sh -- stop the cluster that start-slurm.sh started in STATE_DIR.
#
#     STATE_DIR=/tmp/hkd-slurm tests/slurm/stop-slurm.sh [--purge]    # --purge: also rm -rf STATE_DIR
#
# Cancels the jobs still queued or running (their processes would outlive slurmd), then stops the
# daemons by their pid files in STATE_DIR/run, never by name: slurmd, slurmctld, slurmdbd, mariadbd,
# munged. A pid is signalled only when that process is the expected program (a stale pid file can
# point at a recycled pid). Then removes the link /etc/slurm/slurm.conf when it points into STATE_DIR.
# Safe to run twice, or on a cluster that failed half-way through starting.
set -uo pipefail

STATE_DIR=${STATE_DIR:-/tmp/hkd-slurm}
RUN=$STATE_DIR/run
export SLURM_CONF=$STATE_DIR/etc/slurm.conf
ETC_CONF=${ETC_CONF:-/etc/slurm/slurm.conf}   # another path only in the scripts' own tests

. "$(dirname "$0")/daemons.sh"   # alive, DAEMONS

stop_one() { # stop_one PIDFILE PROGRAM
  local pid
  if pid=$(alive "$1" "$2"); then
    echo "stopping $2 (pid $pid)" >&2
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "  $2 still alive after 10 s: SIGKILL $pid" >&2; kill -9 "$pid"; fi
  fi
  rm -f "$1"
}

if alive "$RUN/slurmctld.pid" slurmctld >/dev/null && [ -f "$SLURM_CONF" ]; then
  jobs=$(timeout 10 squeue -h -o %i 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    echo "cancelling jobs: $jobs" >&2
    timeout 10 scancel --full $jobs 2>/dev/null
    for _ in $(seq 1 150); do
      [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

for program in $DAEMONS; do stop_one "$RUN/$program.pid" "$program"; done

if [ -L "$ETC_CONF" ] && [ "$(readlink "$ETC_CONF")" = "$SLURM_CONF" ]; then
  rm -f "$ETC_CONF"
fi
if [ "${1:-}" = --purge ]; then
  rm -rf "$STATE_DIR"
fi
exit 0
