#!/usr/bin/env bash
# What the transition trigger costs a load made with session_replication_role
# = replica (a subscriber's apply, a load that skips triggers; stop 38): the
# trigger is installed enabled ALWAYS and there only takes its notes (the
# queues' claim marks, the waiters' wakes). Loads n finished tasks the way
# bench/history.sh does (bench/sql/history_load.sql: task.task, task_access,
# a log row for one in ten) with the trigger enabled ALWAYS (as installed)
# and enabled ORIGIN (it does not fire under replica: the load of 0.1.0 to
# stop 37), alternated, the tables emptied before each load.
#
#   bench/replica_load.sh            (REPLICA_LOAD_TASKS=500000, REPLICA_LOAD_RUNS=3)
#
# One throwaway cluster (shared_buffers 1GB, synchronous_commit off for the
# load, as history.sh). Prints one line per load and the medians.
# Port: BENCH_REPLICA_LOAD_PORT (58448).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../test/harness/cluster.sh
. "$root/test/harness/cluster.sh"
N=${REPLICA_LOAD_TASKS:-500000}
RUNS=${REPLICA_LOAD_RUNS:-3}
PORT=${BENCH_REPLICA_LOAD_PORT:-58448}
dir=$root/tmp/bench-replica-load
cluster_start "$dir/cluster" "$PORT" bench shared_buffers=1GB synchronous_commit=on max_connections=20 \
	max_wal_size=8GB checkpoint_timeout=30min >/dev/null
trap 'cluster_stop "$dir/cluster"' EXIT
h_own "$dir"
q() { cluster_psql "$dir/cluster" "$PORT" -d bench -qAt -v ON_ERROR_STOP=1 "$@"; }
log() { printf '[replica_load %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
ms() { date +%s%N | cut -c1-13; }

q -f "$here/sql/task_setup.sql" >/dev/null
q -f "$here/sql/history_load.sql" >/dev/null
declare -A took
for ((r = 1; r <= RUNS; r++)); do
	for mode in ALWAYS ORIGIN; do
		q -c "TRUNCATE task.task_log, task.task_access, task.task_dependency" \
		  -c "DELETE FROM task.task WHERE queue = 'bench/hist'" -c "VACUUM task.task" >/dev/null
		if [[ $mode == ALWAYS ]]; then
			q -c "ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition"
		else
			q -c "ALTER TABLE task.task ENABLE TRIGGER task_transition"
		fi
		t0=$(ms)
		q -c "SET synchronous_commit = off" -c "CALL bench_history_load($N)"
		t=$(( $(ms) - t0 ))
		took[$mode]+="$t "
		log "run $r, trigger enabled $mode: $N tasks loaded in $t ms"
	done
done
q -c "ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition"
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
a=$(median <<<"${took[ALWAYS]}")
o=$(median <<<"${took[ORIGIN]}")
log "medians of $RUNS: ALWAYS $a ms, ORIGIN $o ms; ALWAYS / ORIGIN $(awk -v a="$a" -v o="$o" 'BEGIN {printf "%.2f", a / o}')"
