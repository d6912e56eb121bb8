#!/usr/bin/env bash
# Wake-on-commit benchmark (issue 7), on its own throwaway cluster preloading task:
#
#  1. pickup latency: one producer creates tasks at a steady rate (pgbench -R) while
#     LAT_WORKERS workers sleep in task_dequeue(..., wait => '1 second') and complete
#     what they get, one transaction per task. Latency = claim time (started_at, the
#     real clock in the trigger) - commit time of the creating transaction
#     (pg_xact_commit_timestamp, track_commit_timestamp = on). p50/p95/p99/max, and
#     a check that every task was claimed exactly once. The producers commit with
#     synchronous_commit = LAT_PRODUCER_SYNC (off, the workers too: their fsyncs would
#     otherwise make a backlog on a slow disk and measure queueing): the commit timestamp is taken before
#     the WAL flush, so with "on" the figure includes the producer's own fsync.
#  2. W1 (single-row task_create, 4 clients, pgbench) with and without 8 idle waiters
#     sleeping on another queue: the cost of the commit callback for enqueue.
#
#   bench/latency.sh            (LAT_RATE=500/s, LAT_SECONDS=20, LAT_WORKERS=4,
#                                LAT_W1_SECONDS=10, LAT_W1_RUNS=3, LAT_PORT=58445)
# Output: the table on stdout and in bench/results/<date>-latency.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RATE=${LAT_RATE:-500} SECONDS_RUN=${LAT_SECONDS:-20} WORKERS=${LAT_WORKERS:-4}
PRODUCER_SYNC=${LAT_PRODUCER_SYNC:-off}
W1_SECONDS=${LAT_W1_SECONDS:-10} W1_RUNS=${LAT_W1_RUNS:-3} PORT=${LAT_PORT:-58445}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG
PGBIN=$("$PG_CONFIG" --bindir)
DIR=$ROOT/tmp/latency
CL=$ROOT/test/harness/cluster.sh
log() { printf '[latency %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { "$CL" psql "$DIR" "$PORT" -d bench -qAt -v ON_ERROR_STOP=1 "$@"; }

"$CL" stop "$DIR" >/dev/null 2>&1 || true
rm -rf "$DIR"
"$CL" start "$DIR" "$PORT" bench track_commit_timestamp=on synchronous_commit=on max_connections=60 >/dev/null
[ -n "${LAT_KEEP:-}" ] || trap '"$CL" stop "$DIR" >/dev/null 2>&1 || true' EXIT
SOCK=$DIR
q -c "CREATE EXTENSION IF NOT EXISTS task CASCADE" >/dev/null 2>&1 || true
q <<'SQL'
SELECT task._wait_attached() AS attached \gset
\if :attached
\else
\warn 'task is not preloaded: this measures the polling fallback'
\endif
SELECT task.task_queue_create('lat/q', owner => task.task_service_create('latency', 'lat')) IS NOT NULL;
SELECT task.task_queue_create('lat/idle', owner => 'SVC-0001') IS NOT NULL;
SELECT task.task_queue_create('lat/w1', owner => 'SVC-0001') IS NOT NULL;
CREATE TABLE bench_created (id task.task_id);
CREATE PROCEDURE bench_worker(queue text, seconds double precision) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    deadline timestamptz := clock_timestamp() + seconds * interval '1 second';
BEGIN
    WHILE clock_timestamp() < deadline LOOP
        SELECT id, lease_token INTO r FROM task.task_dequeue(queue, wait => '1 second');
        IF r.id IS NOT NULL THEN
            PERFORM task.task_complete(r.id, token => r.lease_token);
        END IF;
        COMMIT;
    END LOOP;
END $$;
SQL

# ---- 1. pickup latency
cat >"$DIR/produce.sql" <<'SQL'
WITH t AS (SELECT (task.task_create('lat.job', 'lat/q')).id) INSERT INTO bench_created SELECT id FROM t;
SQL
log "pickup latency: $WORKERS waiting workers, $RATE tasks/s for $SECONDS_RUN s"
pids=()
for _ in $(seq "$WORKERS"); do
	PGOPTIONS="-c synchronous_commit=$PRODUCER_SYNC" q -c "CALL bench_worker('lat/q', $SECONDS_RUN + 3)" & pids+=($!)
done
sleep 1
PGOPTIONS="-c synchronous_commit=$PRODUCER_SYNC" "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -M prepared -c 2 -j 2 -R "$RATE" -T "$SECONDS_RUN" -f "$DIR/produce.sql" bench >"$DIR/produce.log" 2>&1
for p in "${pids[@]}"; do wait "$p"; done
lat=$(q -F ' | ' <<'SQL'
SELECT count(*),
       count(*) FILTER (WHERE t.status = 'completed' AND t.attempts = 1),
       round((percentile_cont(0.50) WITHIN GROUP (ORDER BY ms))::numeric, 3),
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::numeric, 3),
       round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 3),
       round(max(ms)::numeric, 3)
  FROM (SELECT t.status, t.attempts,
               extract(epoch FROM t.started_at - pg_xact_commit_timestamp(c.xmin)) * 1000 AS ms
          FROM bench_created c JOIN task.task t ON t.id OPERATOR(task.=) c.id) t
SQL
)
stats=$(q -F ' | ' -c "SELECT sleeps, wakeups, broadcasts FROM task.wait_stats WHERE name = 'lat/q'")
log "latency: $lat (tasks | claimed once | p50 | p95 | p99 | max ms); slot: $stats"

# ---- 2. W1 with and without idle waiters
cat >"$DIR/w1.sql" <<'SQL'
SELECT id FROM task.task_create('bench.job', 'lat/w1', parameters => '{"n": 1}'::jsonb);
SQL
w1() {
	"$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -M prepared -c 4 -j 2 -T "$W1_SECONDS" -f "$DIR/w1.sql" bench 2>&1 |
		sed -nE 's/^tps = ([0-9.]+).*/\1/p'
}
no=() with=()
for i in $(seq "$W1_RUNS"); do
	no+=("$(w1)")
	idle=()
	for _ in 1 2 3 4 5 6 7 8; do
		q -c "SELECT count(*) FROM task.task_dequeue('lat/idle', wait => '$((W1_SECONDS + 5)) seconds')" >/dev/null & idle+=($!)
	done
	sleep 0.5
	waiting=$(q -c "SELECT coalesce(sum(waiters), 0) FROM task.wait_stats")
	with+=("$(w1)")
	for p in "${idle[@]}"; do wait "$p"; done
	log "W1 run $i: ${no[-1]} tps without waiters, ${with[-1]} tps with $waiting idle waiters"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_no=$(median "${no[@]}") m_with=$(median "${with[@]}")
ratio=$(awk "BEGIN { printf \"%.3f\", $m_with / $m_no }")

IFS='|' read -r n once p50 p95 p99 max <<<"${lat// /}"
out=$ROOT/bench/results/$(date +%F)-latency.md
{
	echo "# Wake on commit: pickup latency and enqueue cost ($(date +%F))"
	echo
	echo "\`bench/latency.sh\` on a throwaway cluster (\`shared_preload_libraries = task\`, synchronous_commit = on,"
	echo "track_commit_timestamp = on), $(nproc) CPUs, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')."
	echo
	echo "## Pickup latency (commit of task_create → claim by a sleeping task_dequeue)"
	echo
	echo "$WORKERS workers in \`task_dequeue('lat/q', wait => '1 second')\`, 2 producer clients at $RATE tasks/s in all (pgbench -R) for $SECONDS_RUN s, producers and workers with synchronous_commit = $PRODUCER_SYNC (the commit timestamp is taken before the WAL flush; with on, the figure would include the producer's fsync)."
	echo "Latency = \`started_at\` (stamped at the claim) − \`pg_xact_commit_timestamp\` of the creating transaction."
	echo
	echo "| tasks | claimed exactly once | p50 ms | p95 ms | p99 ms | max ms | target |"
	echo "|---|---|---|---|---|---|---|"
	echo "| $n | $once | $p50 | $p95 | $p99 | $max | p50 ≤ 1 ms, p99 ≤ 5 ms |"
	echo
	echo "Wait slot of the queue afterwards (sleeps | wakeups | broadcasts): $stats"
	echo
	echo "## W1 enqueue with idle waiters"
	echo
	echo "pgbench, 4 clients, single-row \`task_create\`, ${W1_SECONDS} s a run, $W1_RUNS runs alternating; idle = 8 sessions sleeping in task_dequeue on another queue."
	echo
	echo "| without waiters (tps) | with 8 idle waiters (tps) | ratio | target |"
	echo "|---|---|---|---|"
	echo "| $m_no (${no[*]}) | $m_with (${with[*]}) | $ratio | ≥ 0.95 |"
} >"$out"
cat "$out"
