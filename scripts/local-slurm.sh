#!/usr/bin/env bash
# A two-node Slurm cluster on this one host, for tests and demos (Debian's packages,
# run as root). Nodes n1 and n2 are two slurmd processes on different ports.
#
#   scripts/local-slurm.sh start    start munged, slurmctld, slurmd n1 and n2 (idempotent),
#                                   then wait until both nodes answer
#   scripts/local-slurm.sh stop     stop the daemons this script started (by pid file)
#   scripts/local-slurm.sh status   print node states; exit 0 only when both nodes are up
#   scripts/local-slurm.sh conf     print the slurm.conf this script writes
#
# Packages: slurmctld slurmd slurm-client munge (and openmpi-bin libpmix-dev for MPI).
# State, spool and logs live under $RUNBOARD_SLURM_DIR (default /var/tmp/runboard-slurm);
# the config is /etc/slurm/slurm.conf. See scripts/SLURM-NOTES.md for how jobs behave.
#
# "Is the cluster up?" from anywhere: `sinfo -h -o '%D %t'` prints `2 idle` when both
# nodes are up and free (`mix`/`alloc` while jobs run; a trailing `*` = not responding).
set -euo pipefail

DIR=${RUNBOARD_SLURM_DIR:-/var/tmp/runboard-slurm}
CONF=/etc/slurm/slurm.conf
NODES=(n1 n2)
PORTS=(17001 17002)
WAIT_SECONDS=${RUNBOARD_SLURM_WAIT:-60}
MUNGE_RUN=/run/munge

die() { echo "local-slurm: $*" >&2; exit 1; }
say() { echo "local-slurm: $*" >&2; }

need_packages() {
    local missing=()
    for p in munged slurmctld slurmd sinfo scontrol; do
        command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        die "missing ${missing[*]}; install: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge openmpi-bin libpmix-dev"
    fi
}

write_conf() {
    local host cpus
    host=$(hostname)
    cpus=$(nproc)
    cat <<EOF
# Written by runboard scripts/local-slurm.sh: two nodes on one host. Edits are overwritten.
ClusterName=runboard
SlurmctldHost=$host
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
# No slurmdbd here: sacct has no job accounting. Finished jobs are kept by slurmctld
# for MinJobAge seconds (scontrol show job) and written to JobCompLoc (sacct -c).
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MinJobAge=3600
ReturnToService=2
KillWait=5
MailProg=/bin/true
StateSaveLocation=$DIR/ctld
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdSpoolDir=$DIR/d-%n
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmdLogFile=$DIR/slurmd-%n.log
# Per-node /tmp: srun --mpi=pmix puts spmix_appdir_* there; one /tmp for both nodes clashes.
TmpFS=$DIR/tmp-%n
NodeName=${NODES[0]} NodeHostname=$host Port=${PORTS[0]} CPUs=$cpus State=UNKNOWN
NodeName=${NODES[1]} NodeHostname=$host Port=${PORTS[1]} CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=${NODES[0]},${NODES[1]} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOF
}

# The pid in file $1 if that process is alive (not a zombie) and is $2 (not a reused pid).
alive_pid() {
    local pid
    [ -r "$1" ] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
        && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] \
        && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ] \
        && echo "$pid"
}

# Runs a daemon without the file descriptors this script inherited (beyond 0-2, which
# the daemons point at /dev/null themselves): a daemon holding, say, the write end of
# the pipe through which CI reads `cargo xtask test` would keep CI waiting forever.
spawn() {
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        exec "$@" </dev/null
    )
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if [ ! -s /etc/munge/munge.key ]; then
        say "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
    mkdir -p "$MUNGE_RUN" /var/log/munge /var/lib/munge
    chown munge:munge "$MUNGE_RUN" /var/log/munge /var/lib/munge
    chmod 0755 "$MUNGE_RUN"
    if munge_ok; then return 0; fi
    say "starting munged"
    # As the munge user, like Debian's service; --force gets past a stale socket.
    spawn runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do munge_ok && return 0; sleep 0.1; done
    die "munged does not answer (munge -n | unmunge); see /var/log/munge/munged.log"
}

ctld_ok() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

start_slurmctld() {
    if alive_pid "$DIR/slurmctld.pid" slurmctld >/dev/null; then return 0; fi
    say "starting slurmctld"
    spawn /usr/sbin/slurmctld
    for _ in $(seq 100); do ctld_ok && return 0; sleep 0.1; done
    die "slurmctld does not answer (scontrol ping); see $DIR/slurmctld.log"
}

start_slurmd() {
    local n=$1
    if alive_pid "$DIR/slurmd-$n.pid" slurmd >/dev/null; then return 0; fi
    say "starting slurmd -N $n"
    mkdir -p "$DIR/d-$n" "$DIR/tmp-$n"
    chmod 1777 "$DIR/tmp-$n"
    spawn /usr/sbin/slurmd -N "$n"
}

# "n1 idle" lines, one per node.
node_states() { sinfo -h -N -o '%N %t' 2>/dev/null || true; }

# True when every node answers (idle, mixed or allocated; no `*`, not down/drained).
nodes_up() {
    local states up=0
    states=$(node_states)
    for n in "${NODES[@]}"; do
        grep -qE "^$n (idle|mix|alloc|comp)\$" <<<"$states" && up=$((up + 1))
    done
    [ "$up" -eq "${#NODES[@]}" ]
}

resume_nodes() {
    local down
    down=$(node_states | awk '$2 ~ /^(down|drain|drng|drained|fail)/ {print $1}' | paste -sd, -)
    if [ -n "$down" ]; then
        say "resuming $down"
        scontrol update nodename="$down" state=resume || true
    fi
}

start() {
    [ "$(id -u)" -eq 0 ] || die "run as root (it starts munged, slurmctld and slurmd)"
    need_packages
    mkdir -p "$DIR/ctld" /etc/slurm
    local new=$DIR/slurm.conf.new restart=0
    write_conf >"$new"
    if ! cmp -s "$new" "$CONF"; then
        [ -e "$CONF" ] && ! grep -q '^# Written by runboard' "$CONF" \
            && cp "$CONF" "$CONF.before-runboard" && say "kept the old config as $CONF.before-runboard"
        mv "$new" "$CONF"
        say "wrote $CONF"
        restart=1
    else
        rm -f "$new"
    fi
    start_munge
    if [ "$restart" -eq 1 ] && any_running; then
        say "config changed: restarting the Slurm daemons"
        stop_slurm
    fi
    start_slurmctld
    for n in "${NODES[@]}"; do start_slurmd "$n"; done
    local deadline=$((SECONDS + WAIT_SECONDS))
    while ! nodes_up; do
        resume_nodes
        if [ "$SECONDS" -ge "$deadline" ]; then
            node_states >&2
            die "nodes not up after ${WAIT_SECONDS}s; see $DIR/slurmctld.log and $DIR/slurmd-n*.log"
        fi
        sleep 1
    done
    say "up: $(sinfo -h -o '%D %t' | paste -sd' ' -) (partition debug, nodes ${NODES[*]}, state in $DIR)"
}

any_running() {
    alive_pid "$DIR/slurmctld.pid" slurmctld >/dev/null && return 0
    for n in "${NODES[@]}"; do alive_pid "$DIR/slurmd-$n.pid" slurmd >/dev/null && return 0; done
    return 1
}

# Sends SIGTERM to the pid in file $1 (if it is a live $2) and waits (bounded) for it.
stop_pidfile() {
    local pid
    pid=$(alive_pid "$1" "$2") || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    say "pid $pid ($1) ignored SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
}

stop_slurm() {
    for n in "${NODES[@]}"; do stop_pidfile "$DIR/slurmd-$n.pid" slurmd; done
    stop_pidfile "$DIR/slurmctld.pid" slurmctld
}

stop() {
    stop_slurm
    stop_pidfile "$MUNGE_RUN/munged.pid" munged
    say "stopped"
}

status() {
    local rc=0
    if munge_ok; then echo "munged: up"; else echo "munged: down"; rc=1; fi
    if ctld_ok; then echo "slurmctld: up"; else echo "slurmctld: down"; rc=1; fi
    for n in "${NODES[@]}"; do
        if alive_pid "$DIR/slurmd-$n.pid" slurmd >/dev/null; then echo "slurmd $n: running"; else echo "slurmd $n: not running"; fi
    done
    node_states | sed 's/^/node /'
    nodes_up || rc=1
    return $rc
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    conf) write_conf ;;
    *) echo "usage: $0 start|stop|status|conf" >&2; exit 2 ;;
esac
