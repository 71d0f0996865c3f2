# daemons.sh -- sourced by start-slurm.sh and stop-slurm.sh: which of a test cluster's daemons live.
#
# A test cluster's daemons write their pid files into STATE_DIR/run. A pid file outlives its process
# when the cluster was never stopped (its test session killed, the machine's processes gone), and its
# pid can be recycled: a pid counts only when that process is the program the file is named after.

DAEMONS="slurmd slurmctld slurmdbd mariadbd munged"   # the order stop-slurm.sh stops them in

alive() { # alive PIDFILE PROGRAM: print the pid if the pid file names a live PROGRAM process
  local pid comm
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  comm=$(ps -p "$pid" -o comm= 2>/dev/null) || return 1
  [ "$comm" = "$2" ] || return 1
  echo "$pid"
}

live_daemons() { # live_daemons STATE_DIR: print "program:pid" for each live daemon of that cluster
  local program pid live=""
  for program in $DAEMONS; do
    if pid=$(alive "$1/run/$program.pid" "$program"); then live="$live $program:$pid"; fi
  done
  echo "${live# }"
}
