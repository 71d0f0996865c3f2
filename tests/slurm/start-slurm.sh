#!/usr/bin/env bash
# start-slurm.sh -- a one-node SLURM cluster on 127.0.0.1 with real accounting, for the tests.
#
#     STATE_DIR=/tmp/hkd-slurm tests/slurm/start-slurm.sh     # progress on stderr; about 10 s
#     sinfo; sacct; snakemake --profile profiles/slurm-test ...
#     STATE_DIR=/tmp/hkd-slurm tests/slurm/stop-slurm.sh
#
# Debian 12's SLURM 22.05 (slurmctld, slurmd, slurmdbd) with munge and a private MariaDB, started as
# plain background processes (no systemd), all as root. Everything the cluster writes (config, munge
# key and socket, database, spool, logs, pid files) lives under STATE_DIR. The one file outside it is
# the symlink /etc/slurm/slurm.conf -> STATE_DIR/etc/slurm.conf, where every client finds the cluster
# (SLURM_CONF would not do: Snakemake's job step drops SLURM_* variables before it calls srun). The
# script refuses to replace a slurm.conf that is not such a symlink. stop-slurm.sh removes the link,
# so that afterwards `scontrol` finds no config and fails at once (with a config but no controller it
# waits 10 s, and Snakemake's SLURM plugin runs it whenever Snakemake starts).
# Packages are installed with apt-get when a program is missing (about 16 s, apt-get update included).
#
# Knobs (environment):
#   STATE_DIR=/tmp/hkd-slurm  everything the cluster writes; wiped at start (job ids restart at 1)
#   INSTALL=auto|1|0          apt-get install when a program is missing | always | never
#   PARTITION=debug  CLUSTER=hkdtest  ACCOUNT=hkdtest   (the account root submits with)
#   SLURMCTLD_PORT=6817 SLURMD_PORT=6818 SLURMDBD_PORT=6819 MYSQL_PORT=16306
#   KILL_WAIT=5               seconds between SIGTERM and SIGKILL for a job at its time limit
#   OVER_TIME_LIMIT=0         minutes a job may run past its time limit
#   WAIT_OTHER=900            seconds to wait for another test cluster on this machine to stop
#   CHECK_ONLY=0              1: only the checks that come before a start (and the waiting), then exit
# Writes STATE_DIR/startup.tsv (seconds since start at the end of each phase), STATE_DIR/log/*.log.
# SLURM checks time limits about every 30 s: a job with `-t 1` is stopped 60-90 s after it starts.
set -euo pipefail

STATE_DIR=${STATE_DIR:-/tmp/hkd-slurm}
INSTALL=${INSTALL:-auto}
PARTITION=${PARTITION:-debug}
CLUSTER=${CLUSTER:-hkdtest}
ACCOUNT=${ACCOUNT:-hkdtest}
SLURMCTLD_PORT=${SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
SLURMDBD_PORT=${SLURMDBD_PORT:-6819}
MYSQL_PORT=${MYSQL_PORT:-16306}
KILL_WAIT=${KILL_WAIT:-5}
OVER_TIME_LIMIT=${OVER_TIME_LIMIT:-0}
WAIT_OTHER=${WAIT_OTHER:-900}
CHECK_ONLY=${CHECK_ONLY:-0}
ETC_CONF=${ETC_CONF:-/etc/slurm/slurm.conf}   # another path only in the scripts' own tests
MARK="# written by tests/slurm/start-slurm.sh"

T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
log() { printf '[%6ss] %s\n' "$(elapsed)" "$*" >&2; }
phase() { printf '%s\t%s\n' "$1" "$(elapsed)" >>"$STATE_DIR/startup.tsv"; log "$1"; }
die() { echo "start-slurm.sh: $*" >&2; exit 1; }
wait_for() { # wait_for SECONDS CMD...: run CMD until it succeeds
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && die "timed out waiting for: $*"
    sleep 0.2
  done
}

[ "$(id -u)" = 0 ] || die "must run as root (the daemons run as root)"
case "$STATE_DIR" in /*) ;; *) die "STATE_DIR must be an absolute path: $STATE_DIR" ;; esac
. "$(dirname "$0")/daemons.sh"   # live_daemons
live=$(live_daemons "$STATE_DIR")
if [ -n "$live" ]; then
  die "a cluster runs in $STATE_DIR ($live): stop it first (STATE_DIR=$STATE_DIR $(dirname "$0")/stop-slurm.sh)"
fi
# One test cluster at a time: they share /etc/slurm/slurm.conf and the ports. Another one that still
# runs (a second test session on this machine) is waited for; one whose daemons are gone, killed
# without stop-slurm.sh, leaves pid files and a link that mean nothing: its link is replaced below.
if [ -e "$ETC_CONF" ] || [ -L "$ETC_CONF" ]; then
  [ -L "$ETC_CONF" ] || die "$ETC_CONF is a real SLURM config (not a test cluster's link): not touching it"
  target=$(readlink "$ETC_CONF")
  if [ -e "$target" ]; then
    grep -qxF "$MARK" "$target" || die "$ETC_CONF -> $target is not a test cluster's config: not touching it"
    other=$(dirname "$(dirname "$target")")
    if [ "$other" != "$STATE_DIR" ]; then
      waited=0
      while live=$(live_daemons "$other") && [ -n "$live" ]; do
        [ "$waited" -ge "$WAIT_OTHER" ] && die "another test cluster runs in $other ($live) after ${waited} s of waiting: stop it first (STATE_DIR=$other stop-slurm.sh)"
        [ "$waited" = 0 ] && log "another test cluster runs in $other ($live): waiting up to ${WAIT_OTHER} s for it to stop"
        sleep 5; waited=$((waited + 5))
      done
      [ "$waited" -gt 0 ] && log "the cluster in $other stopped after ${waited} s"
    fi
  fi
fi
[ "$CHECK_ONLY" = 1 ] && { log "a test cluster can start in $STATE_DIR"; exit 0; }

# ---------------------------------------------------------------------------------------- packages
PROGRAMS="/usr/sbin/slurmctld /usr/sbin/slurmd /usr/sbin/slurmdbd /usr/bin/sbatch /usr/bin/sacct
          /usr/sbin/munged /usr/sbin/mariadbd /usr/bin/mariadb-install-db"
missing=""
for p in $PROGRAMS; do [ -x "$p" ] || missing="$missing $p"; done
installed=0
if [ "$INSTALL" = 1 ] || { [ "$INSTALL" = auto ] && [ -n "$missing" ]; }; then
  command -v apt-get >/dev/null || die "apt-get not found; install SLURM 22.05, munge and MariaDB by hand"
  apt_log=$(mktemp "${TMPDIR:-/tmp}/hkd-slurm-apt.XXXXXX")
  # no package may start a daemon of its own (the usual guard in Debian containers)
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
  fi
  ok=1
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      slurmctld slurmd slurm-client slurmdbd munge mariadb-server; } >"$apt_log" 2>&1 || ok=0
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$ok" = 1 ] || { tail -20 "$apt_log" >&2; die "apt-get install failed (log: $apt_log)"; }
  rm -f "$apt_log"
  installed=1
elif [ -n "$missing" ]; then
  die "missing:$missing (INSTALL=0)"
fi

rm -rf "$STATE_DIR"
mkdir -p "$STATE_DIR"/{etc,run,log,ctld,slurmd,mysql,munge}
chmod 700 "$STATE_DIR/munge"
printf 'phase\tseconds\n' >"$STATE_DIR/startup.tsv"
[ "$installed" = 1 ] && phase "packages installed"

NODE=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.85 }' /proc/meminfo)  # leave 15 % to the OS
CONF=$STATE_DIR/etc/slurm.conf
MUNGE_SOCKET=$STATE_DIR/munge/munge.socket

# ------------------------------------------------------------------------------------------- munge
# A private munged with its own key and socket; slurm.conf and slurmdbd.conf name the socket.
dd if=/dev/urandom of="$STATE_DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE_DIR/munge/munge.key"
/usr/sbin/munged --force --key-file="$STATE_DIR/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$STATE_DIR/run/munged.pid" --log-file="$STATE_DIR/log/munged.log" \
  --seed-file="$STATE_DIR/munge/munged.seed" </dev/null >>"$STATE_DIR/log/munged.log" 2>&1
wait_for 10 sh -c "munge -S '$MUNGE_SOCKET' -n | unmunge -S '$MUNGE_SOCKET'"
phase "munged up"

# ----------------------------------------------------------------------------------------- mariadb
MYSQL_SOCKET=$STATE_DIR/run/mysqld.sock
mariadb-install-db --no-defaults --user=root --datadir="$STATE_DIR/mysql" --skip-test-db \
  --auth-root-authentication-method=socket >"$STATE_DIR/log/mariadb-install.log" 2>&1 \
  || { tail -20 "$STATE_DIR/log/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
# setsid and no inherited stdout: the caller (a test's subprocess) must not wait on the daemon
setsid /usr/sbin/mariadbd --no-defaults --user=root --datadir="$STATE_DIR/mysql" \
  --socket="$MYSQL_SOCKET" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
  --pid-file="$STATE_DIR/run/mariadbd.pid" --log-error="$STATE_DIR/log/mariadbd.log" \
  --skip-log-bin --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
  --performance-schema=OFF </dev/null >>"$STATE_DIR/log/mariadbd.log" 2>&1 &
wait_for 60 mariadb-admin --no-defaults -S "$MYSQL_SOCKET" -u root ping
mariadb --no-defaults -S "$MYSQL_SOCKET" -u root -e \
  "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmpw';
   GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
phase "mariadb up"

# ------------------------------------------------------------------------------------ config files
cat >"$CONF" <<EOF
$MARK
# one node on 127.0.0.1, no systemd, no cgroups, every daemon as root
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
SlurmctldPort=$SLURMCTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$STATE_DIR/run/slurmctld.pid
SlurmdPidFile=$STATE_DIR/run/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
# real accounting: sacct answers from slurmdbd (the Snakemake plugin polls sacct). The comment,
# where Snakemake writes rule and wildcards, is stored, so that tests can tell jobs apart.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$SLURMDBD_PORT
# with a slurmdbd, AccountingStoragePass names the munge socket to authenticate with
AccountingStoragePass=$MUNGE_SOCKET
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without DefMemPerCPU a job that asks for no memory takes the whole node's
DefMemPerCPU=1000
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
InactiveLimit=0
# a job at its time limit gets SIGTERM, then SIGKILL after KillWait s; no grace minutes
KillWait=$KILL_WAIT
OverTimeLimit=$OVER_TIME_LIMIT
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$STATE_DIR/etc/slurmdbd.conf" <<EOF
$MARK
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$SLURMDBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$STATE_DIR/log/slurmdbd.log
PidFile=$STATE_DIR/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
EOF
chmod 600 "$STATE_DIR/etc/slurmdbd.conf"
mkdir -p /etc/slurm
ln -sfn "$CONF" "$ETC_CONF"

# ---------------------------------------------------------------------------------------- slurmdbd
# daemonises; reads the slurmdbd.conf beside slurm.conf (SLURM_CONF: the real path, not the link)
SLURM_CONF=$CONF /usr/sbin/slurmdbd </dev/null
wait_for 60 sacctmgr -n list cluster
phase "slurmdbd up"
sacctmgr -i add cluster "$CLUSTER" >/dev/null
sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description=tests Organization=hkd >/dev/null
sacctmgr -i add user root Account="$ACCOUNT" DefaultAccount="$ACCOUNT" >/dev/null
phase "cluster $CLUSTER and account $ACCOUNT registered"

# ------------------------------------------------------------------------------- slurmctld, slurmd
/usr/sbin/slurmctld -i </dev/null  # daemonises; -i: no saved state to read
wait_for 30 sh -c 'scontrol ping | grep -q UP'
phase "slurmctld up"
/usr/sbin/slurmd -N "$NODE" </dev/null
wait_for 60 sh -c "[ \"\$(sinfo -h -n '$NODE' -o %T)\" = idle ]"
phase "slurmd up, node $NODE idle (cpus=$CPUS mem=${MEM_MB}M)"

srun -p "$PARTITION" -A "$ACCOUNT" -t 1 true
phase "srun ok: cluster ready"
