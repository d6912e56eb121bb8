#!/usr/bin/env bash
# Long history (issue 14, docs/ARCHITECTURE.md "History"): what n finished
# tasks cost, kept live in task.task (archive_after 0, before 0.2.0's
# history tables) and archived in the monthly history tables.
#
#   bench/history.sh            (HISTORY_TASKS=10000000 by default)
#
# One throwaway cluster (shared_buffers 1GB, synchronous_commit on). Steps:
#  1. load n finished tasks of bench/hist over 90 days (history_load.sql)
#  2. live: task_get of an old finished task and of a live one, task_list
#     of a client account (default 10-day window, and all its tasks) and of
#     the service, each pgbench -c 1 for HISTORY_SECONDS; the W3 drain
#     (bench/sql/task_drain1.sql, HISTORY_BACKLOG tasks, 4 workers)
#  3. retention by DELETE: task_maintain(100000) purging the oldest tasks,
#     HISTORY_PURGE_CALLS calls, rows/s
#  4. archive: task_maintain(100000) moving tasks to the history tables,
#     HISTORY_ARCHIVE_CALLS calls, rows/s; then the rest at once
#     (bench_history_archive_all) and VACUUM ANALYZE
#  5. archived: the reads and the W3 drain of step 2 again
#  6. retention by DROP: task_maintain dropping the oldest month
# Prints one line per measurement; raw output in tmp/bench-history/.
# Settings: HISTORY_TASKS, HISTORY_SECONDS (10), HISTORY_BACKLOG (20000),
#   HISTORY_PURGE_CALLS (5), HISTORY_ARCHIVE_CALLS (3),
#   BENCH_HISTORY_PORT (58447).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../test/harness/cluster.sh
. "$root/test/harness/cluster.sh"
N=${HISTORY_TASKS:-10000000}
SECS=${HISTORY_SECONDS:-10}
BACKLOG=${HISTORY_BACKLOG:-20000}
PURGE_CALLS=${HISTORY_PURGE_CALLS:-5}
ARCHIVE_CALLS=${HISTORY_ARCHIVE_CALLS:-3}
PORT=${BENCH_HISTORY_PORT:-58447}
dir=$root/tmp/bench-history
bindir=$(h_bindir)
out=$dir/out
cluster_start "$dir/cluster" "$PORT" bench shared_buffers=1GB synchronous_commit=on max_connections=50 \
	max_wal_size=8GB checkpoint_timeout=30min >/dev/null
trap 'cluster_stop "$dir/cluster"' EXIT
mkdir -p "$out"
h_own "$dir"
sock=$(h_sockdir "$(realpath -m "$dir/cluster")")
q() { cluster_psql "$dir/cluster" "$PORT" -d bench -qAt -v ON_ERROR_STOP=1 "$@"; }
log() { printf '[history %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
ms() { date +%s%N | cut -c1-13; }

q -f "$here/sql/task_setup.sql" >/dev/null
q -f "$here/sql/history_load.sql" >/dev/null
q <<'SQL' >/dev/null
CREATE ROLE bh_svc LOGIN; CREATE ROLE bh_cli LOGIN;
SELECT task.task_login_grant('bh_svc', 'SVC-0001'), task.task_login_grant('bh_cli', 'ACC-0000-0001');
SQL
t0=$(ms)
q -c "SET synchronous_commit = off" -c "CALL bench_history_load($N)"
q -c "VACUUM ANALYZE"
log "loaded $N finished tasks in $(( ($(ms) - t0) / 1000 )) s; task.task $(q -c "SELECT pg_size_pretty(pg_total_relation_size('task.task'))") with indexes"
# 1000 live tasks (queued, in their own queue) for the live task_get
q -c "SELECT count(task.task_create('bench.live', 'bench/live')) FROM generate_series(1, 1000)" >/dev/null
live_lo=$(q -c "SELECT min(task.task_id_serial(id)) FROM task.task WHERE queue = 'bench/live'")
live_hi=$(q -c "SELECT max(task.task_id_serial(id)) FROM task.task WHERE queue = 'bench/live'")

cat >"$out/get_old.sql" <<SQL
\set i random(1, $((N * 9 / 10)))
SELECT task.task_get(task.task_id_make(1, 1000000000 + :i));
SQL
cat >"$out/get_live.sql" <<SQL
\set i random($live_lo, $live_hi)
SELECT task.task_get(task.task_id_make(1, :i));
SQL
echo "SELECT count(*) FROM task.task_list();" >"$out/list.sql"
echo "SELECT count(*) FROM task.task_list(submitted_within => NULL);" >"$out/list_all.sql"

pgb() { # tag user script
	"$bindir/pgbench" -h "$sock" -p "$PORT" -U "$2" -n -M prepared -c 1 -T "$SECS" -f "$3" bench >"$out/$1.log" 2>&1 || true
	printf '%-34s %8s tps  %8s ms\n' "$1" "$(awk '/^tps/ {printf "%.0f", $3}' "$out/$1.log")" \
		"$(awk '/latency average/ {print $4}' "$out/$1.log")"
}
reads() { # phase
	pgb "$1 task_get old (service)" bh_svc "$out/get_old.sql"
	pgb "$1 task_get live (service)" bh_svc "$out/get_live.sql"
	pgb "$1 task_list account 10 days" bh_cli "$out/list.sql"
	pgb "$1 task_list account all" bh_cli "$out/list_all.sql"
	pgb "$1 task_list service 10 days" bh_svc "$out/list.sql"
}
drain() { # phase
	q -c "SET synchronous_commit = off" -c "SELECT bench_task_preload($BACKLOG)" >/dev/null
	q -c "VACUUM ANALYZE task.task" >/dev/null
	local t0 t1
	t0=$(ms)
	"$bindir/pgbench" -h "$sock" -p "$PORT" -U postgres -n -M prepared -c 4 -j 2 -t $(( BACKLOG / 4 + 20 )) \
		-D prev_id=none -D prev_token=none -f "$here/sql/task_drain1.sql" bench >"$out/$1-drain.log" 2>&1
	t1=$(ms)
	printf '%-34s %8s tasks/s (%s left)\n' "$1 W3 drain $BACKLOG" "$(awk -v n="$BACKLOG" -v ms=$((t1 - t0)) 'BEGIN {printf "%.0f", n / ms * 1000}')" \
		"$(q -f "$here/sql/task_pending.sql")"
}

maintain_rate() { # label key calls: task_maintain(100000) calls, rows/s of the count under key
	local t0 t1 rows=0 n i
	t0=$(ms)
	for ((i = 0; i < $3; i++)); do
		n=$(q -c "SELECT task.task_maintain(100000)->>'$2'"); rows=$((rows + n))
	done
	t1=$(ms)
	printf '%-34s %8s rows/s (%s rows in %s ms)\n' "$1" "$(awk -v n=$rows -v ms=$((t1 - t0)) 'BEGIN {printf "%.0f", n / ms * 1000}')" "$rows" "$((t1 - t0))"
}

log "live: $N finished tasks in task.task"
reads live
drain live

# retention by DELETE: the oldest tasks pass a retention of 85 days
q -c "UPDATE task.queue SET retention = '85 days' WHERE name = 'bench/hist'"
maintain_rate "retention by DELETE" purged "$PURGE_CALLS"
q -c "UPDATE task.queue SET retention = '1000 days' WHERE name = 'bench/hist'"

# archive through task_maintain, then the rest at once
q -c "UPDATE task.queue SET archive_after = '1 minute' WHERE name = 'bench/hist'"
maintain_rate "archive (task_maintain)" archived "$ARCHIVE_CALLS"
q -c "CALL bench_history_archive_all()"
q -c "VACUUM ANALYZE"
log "archived: $(q -c "SELECT count(*) FROM ONLY task.task") live rows, history months: $(q -c "SELECT string_agg(format('%s %s', c.relname, c.reltuples::bigint), ', ' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'task.task'::regclass")"
reads archived
drain archived

# retention by DROP: the oldest month passes its retention
old=$(q -c "SELECT min(c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'task.task'::regclass")
rows=$(q -c "SELECT reltuples::bigint FROM pg_class WHERE oid = 'task.$old'::regclass")
q -c "UPDATE task.queue SET retention = now() - (SELECT max(status_at) FROM task.$old) - interval '1 second' WHERE name = 'bench/hist'" \
	-c "UPDATE task.queue SET archive_after = '0'"
# a month locked by someone else (autovacuum) for over 200 ms waits for the
# next call: up to 10 calls a second apart
for ((try = 1; try <= 10; try++)); do
	t0=$(ms)
	d=$(q -c "SELECT task.task_maintain(1)->>'months_dropped'")
	t1=$(ms)
	[[ $d != 0 ]] && break
	q -c "SELECT format('waiting: %s %s', pid, query) FROM pg_stat_activity WHERE query ~ '$old'" >>"$out/drop-waits.log"
	sleep 1
done
printf '%-34s %8s ms (%s month(s) at call %s, %s: %s rows)\n' "retention by DROP (task_maintain)" "$((t1 - t0))" "$d" "$try" "$old" "$rows"
