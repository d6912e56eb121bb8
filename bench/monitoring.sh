#!/usr/bin/env bash
# Cost of a monitoring scrape (issue 11): MON_TASKS tasks (default 1M) over MON_QUEUES queues
# (default 20) of one service, as a busy system's table looks: ~1% runnable, 0.5% scheduled
# later, 0.5% processing (a tenth with expired leases), 0.1% blocked, all of them from the last
# 10 minutes; the rest finished (completed, 2% failed, 1% cancelled): 98% of those over the ten
# days before the last hour, 2% in the last hour -- a busy hour, ~4.7 times the ten days'
# average rate. The rows are loaded by the tables' owner with their audit columns (the restore
# path of the trigger), in the order of their last status change, as a table filled over time
# lies on disk (the newest tasks in the last pages); then VACUUM ANALYZE (all pages visible, as
# after autovacuum). Then MON_RUNS (default 10) timed calls, each from a new connection, of
#   SELECT task.monitor_prometheus();  SELECT * FROM task.monitor_queues;
# and the same from one connection (a scraper that stays connected). Prints the times (ms: min,
# median, max) and EXPLAIN (ANALYZE, BUFFERS) of _monitor()'s query.
#   bench/monitoring.sh   (MON_TASKS, MON_QUEUES, MON_RUNS, MON_PORT default 58446; MON_KEEP=1
#   leaves the cluster running; MON_COMPARE=REV, e.g. main, also times the reader of git revision REV)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
TASKS=${MON_TASKS:-1000000} QUEUES=${MON_QUEUES:-20} RUNS=${MON_RUNS:-10}
PORT=${MON_PORT:-${TASK_BENCH_MONITORING_PORT:-58446}}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/monitoring
cluster_start "$DIR" "$PORT" bench >/dev/null
[ -n "${MON_KEEP:-}" ] || trap 'cluster_stop "$DIR"' EXIT   # MON_KEEP=1 leaves the cluster running
q() { cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -q "$@"; }
q -c 'CREATE EXTENSION task'
q -v tasks="$TASKS" -v queues="$QUEUES" <<'SQL'
SELECT task.task_service_create('bench', 'bench') AS svc \gset
SELECT count(task.task_queue_create('bench/q' || i, owner => :'svc')) AS queues FROM generate_series(1, :queues) i;
\timing on
INSERT INTO task.task (owner, id, status, code, queue, run_at, lease_until, started_at, started_by,
                       completed_at, completed_by, failed_at, failed_by, cancelled_at, cancelled_by,
                       status_at, created_at, created_by, updated_at, updated_by, progress, error)
SELECT o, task.task_id_make(o, nextval('task.task_serial_seq')), st, 'bench.job', 'bench/q' || (1 + i % :queues),
       CASE WHEN st IN ('queued', 'rescheduled') AND r >= 0.010 THEN now() + interval '1 hour' ELSE at END,
       CASE WHEN st = 'processing' THEN now() + CASE WHEN i % 10 = 0 THEN interval '-1 minute' ELSE interval '5 minutes' END END,
       CASE WHEN st IN ('processing', 'completed', 'failed') THEN at - interval '2 seconds' * random() END,
       CASE WHEN st IN ('processing', 'completed', 'failed') THEN 'SVC-0001' END,
       CASE WHEN st = 'completed' THEN at END, CASE WHEN st = 'completed' THEN 'SVC-0001' END,
       CASE WHEN st = 'failed' THEN at END, CASE WHEN st = 'failed' THEN 'SVC-0001' END,
       CASE WHEN st = 'cancelled' THEN at END, CASE WHEN st = 'cancelled' THEN 'SVC-0001' END,
       at, at - interval '3 seconds', 'SVC-0001', at, 'SVC-0001',
       CASE WHEN st = 'completed' THEN 100 END, CASE WHEN st = 'failed' THEN 'boom' END
  FROM (SELECT i, r, task.service_number(:'svc') AS o,
               CASE WHEN r < 0.015 THEN 'queued' WHEN r < 0.020 THEN 'processing' WHEN r < 0.021 THEN 'blocked'
                    WHEN r < 0.041 THEN 'failed' WHEN r < 0.051 THEN 'cancelled' ELSE 'completed' END::task.status AS st,
               CASE WHEN r < 0.021 THEN now() - interval '10 minutes' * random()
                    WHEN r2 < 0.02 THEN now() - interval '1 hour' * random()
                    ELSE now() - interval '1 hour' - interval '10 days' * random() END AS at
          FROM (SELECT i, random() AS r, random() AS r2 FROM generate_series(1, :tasks) i) g) x
 ORDER BY x.at;
\timing off
VACUUM ANALYZE task.task;
SELECT status, count(*) FROM task.task GROUP BY status ORDER BY status;
SQL
times() { # LABEL SQL: RUNS timed calls, min / median / max ms
	local label=$1 sql=$2
	for _ in $(seq 1 "$RUNS"); do
		q -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
	done | sort -n | awk -v l="$label" '{ a[NR] = $1 } END { printf "%-45s min %8.1f ms  median %8.1f ms  max %8.1f ms  (%d runs)\n", l, a[1], a[int((NR + 1) / 2)], a[NR], NR }'
}
same() { # LABEL SQL: RUNS timed calls on one connection, min / median / max ms
	local label=$1 sql=$2
	{ echo '\timing on'; for _ in $(seq 1 "$RUNS"); do echo "$sql;"; done; } | q -o /dev/null 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n |
		awk -v l="$label" '{ a[NR] = $1 } END { printf "%-45s min %8.1f ms  median %8.1f ms  max %8.1f ms  (%d runs)\n", l, a[1], a[int((NR + 1) / 2)], a[NR], NR }'
}
q -c "SELECT count(*) FILTER (WHERE status IN ('completed', 'failed') AND status_at >= now() - interval '1 hour') AS finished_last_hour,
             count(*) FILTER (WHERE status IN ('queued', 'rescheduled') AND run_at <= now()) AS runnable
        FROM task.task"
echo "monitoring scrape on $TASKS tasks, $QUEUES queues (a new connection a call):"
times "SELECT task.monitor_prometheus()" "SELECT task.monitor_prometheus()"
times "SELECT * FROM task.monitor_queues" "SELECT * FROM task.monitor_queues"
echo "the same on one connection:"
same "SELECT task.monitor_prometheus()" "SELECT task.monitor_prometheus()"
same "SELECT * FROM task.monitor_queues" "SELECT * FROM task.monitor_queues"
# the plan of the reader's query (its text from the function body)
body=$(q -At -c "SELECT prosrc FROM pg_proc WHERE oid = 'task._monitor'::regproc")
q -c "SET search_path = task, pg_catalog" -c "SET jit = off" -c "SET work_mem = '64MB'" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $body"
if [ -n "${MON_COMPARE:-}" ]; then # MON_COMPARE=REV: the reader task._monitor() as of git revision REV, side by side
	git -C "$ROOT" show "$MON_COMPARE:sql/82_monitoring.sql" |
		sed -n '/^CREATE FUNCTION task._monitor(/,/^\$\$;/p' |
		sed 's/^CREATE FUNCTION task._monitor(/CREATE FUNCTION task._monitor_before(/' >"$DIR/before.sql"
	q -f "$DIR/before.sql"
	echo "the reader task._monitor() of $MON_COMPARE ($(git -C "$ROOT" rev-parse --short "$MON_COMPARE")) and of this tree, side by side:"
	times "SELECT * FROM task._monitor_before()  [$MON_COMPARE]" "SELECT * FROM task._monitor_before()"
	times "SELECT * FROM task._monitor()" "SELECT * FROM task._monitor()"
	same "SELECT * FROM task._monitor_before()  [$MON_COMPARE]" "SELECT * FROM task._monitor_before()"
	same "SELECT * FROM task._monitor()" "SELECT * FROM task._monitor()"
	for f in _monitor_before _monitor; do
		echo "task.$f(): $(q -At -c 'SET client_min_messages = log' -c 'SET log_statement_stats = on' -c "SELECT count(*) FROM task.$f()" 2>&1 | grep -v '\[' | grep -o '[0-9.]* s user, [0-9.]* s system' | tail -1) (CPU of the call, on a new connection)"
	done
fi
