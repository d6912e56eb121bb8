#!/usr/bin/env bash
# The purge's rate (stop 39): task_maintain() deleting finished tasks past
# their queue's retention, with their access rows and logs, as the pg_cron
# job runs it (max_rows 20,000 a call). Loads n finished tasks the way
# bench/history.sh does (bench/sql/history_load.sql: one access row each, a
# log row for one in ten, finishing times over 90 days), sets the queue's
# retention below the newest so that every one is due, then times
# PURGE_CALLS calls one after another on the one cluster. Measures the
# build installed: run it on two builds to compare them.
#
#   bench/purge.sh            (PURGE_TASKS=1000000, PURGE_CALLS=10, PURGE_MAX_ROWS=20000)
#
# One throwaway cluster (shared_buffers 1GB, synchronous_commit on for the
# purge, off for the load). Prints one line per call and the totals.
# Port: BENCH_PURGE_PORT (58452).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../test/harness/cluster.sh
. "$root/test/harness/cluster.sh"
N=${PURGE_TASKS:-1000000}
CALLS=${PURGE_CALLS:-10}
ROWS=${PURGE_MAX_ROWS:-20000}
PORT=${BENCH_PURGE_PORT:-58452}
dir=$root/tmp/bench-purge
cluster_start "$dir/cluster" "$PORT" bench shared_buffers=1GB synchronous_commit=on max_connections=20 \
	max_wal_size=8GB checkpoint_timeout=30min >/dev/null
trap 'cluster_stop "$dir/cluster"' EXIT
h_own "$dir"
q() { cluster_psql "$dir/cluster" "$PORT" -d bench -qAt -v ON_ERROR_STOP=1 "$@"; }
log() { printf '[purge %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
ms() { date +%s%N | cut -c1-13; }

q -f "$here/sql/task_setup.sql" >/dev/null
q -f "$here/sql/history_load.sql" >/dev/null
q -c "SET synchronous_commit = off" -c "CALL bench_history_load($N)"
q -c "VACUUM ANALYZE" -c "CHECKPOINT"
q -c "UPDATE task.queue SET retention = '30 minutes' WHERE name = 'bench/hist'"
log "$N finished tasks loaded ($(q -c "SELECT pg_size_pretty(pg_total_relation_size('task.task'))") with indexes); build $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
total=0 rows=0
for ((i = 1; i <= CALLS; i++)); do
	t0=$(ms)
	n=$(q -c "SELECT task.task_maintain($ROWS)->>'purged'")
	t=$(( $(ms) - t0 ))
	total=$(( total + t )) rows=$(( rows + n ))
	log "call $i: $n purged in $t ms"
done
log "$rows purged in $total ms: $(awk -v n=$rows -v t=$total 'BEGIN {printf "%.0f", n / t * 1000}') tasks/s"
