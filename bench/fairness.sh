#!/usr/bin/env bash
# Fair share between tenants (issue 14): the wait of a small tenant's tasks
# queued behind another tenant's flood, with and without the queue option
# fair_share (docs/FEATURES.md, "Claim-time limits").
#
# For each variant (off, on), on a fresh queue of one throwaway cluster:
#   1. tenant "big" enqueues FAIR_FLOOD tasks (default 100,000; ordering key
#      "big"), then tenant "small" FAIR_SMALL tasks (default 100; key "small");
#      the queue has key_concurrency 0, so keys only group tasks;
#   2. FAIR_WORKERS pgbench clients (default 4) claim batches of FAIR_BATCH
#      (default 10) and complete them in the same statement, until the queue
#      is empty;
#   3. wait = started_at - created_at of each task (from the start of the
#      drain when created before it): p50, p99 and max for the small tenant,
#      p50 and p99 for the flood, and the drain rate (tasks/s, wall clock).
#
#   bench/fairness.sh        (FAIR_FLOOD, FAIR_SMALL, FAIR_WORKERS, FAIR_BATCH, FAIR_VARIANTS ("false true"),
#                             FAIR_PORT default 58447 or TASK_BENCH_FAIRNESS_PORT)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
FLOOD=${FAIR_FLOOD:-100000} SMALL=${FAIR_SMALL:-100} WORKERS=${FAIR_WORKERS:-4} BATCH=${FAIR_BATCH:-10}
PORT=${FAIR_PORT:-${TASK_BENCH_FAIRNESS_PORT:-58447}}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/fairness
cluster_start "$DIR" "$PORT" bench >/dev/null
[ -n "${FAIR_KEEP:-}" ] || trap 'cluster_stop "$DIR"' EXIT   # FAIR_KEEP=1 leaves the cluster running
q() { cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }
PGBIN=$(h_bindir)
SOCK=$(h_sockdir "$(realpath -m "$DIR")")
q -c 'CREATE EXTENSION task' -c "SELECT task.task_service_create('bench', 'bench')" >/dev/null

echo "fair share: $FLOOD tasks of tenant big, then $SMALL of tenant small; $WORKERS workers claiming $BATCH a call ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for fair in ${FAIR_VARIANTS:-false true}; do
	queue=bench/fair-$fair
	q -v queue="$queue" -v fair="$fair" -v flood="$FLOOD" -v small="$SMALL" >/dev/null <<'SQL'
SELECT task.task_queue_create(:'queue', owner => 'SVC-0001', key_concurrency => 0, fair_share => :fair);
SELECT count(*) FROM generate_series(1, :flood / 1000) b,
       LATERAL task.task_create_many('bench.big', :'queue', array_fill(jsonb_build_object('batch', b), ARRAY[1000]),
                                     ordering_keys => array_fill('big'::text, ARRAY[1000]));
SELECT count(*) FROM task.task_create_many('bench.small', :'queue', array_fill('{}'::jsonb, ARRAY[:small]),
                                           ordering_keys => array_fill('small'::text, ARRAY[:small]));
VACUUM ANALYZE task.task;
SQL
	cat >"$DIR/worker.sql" <<SQL
SELECT count(task.task_complete(d.id, token => d.lease_token)) FROM task.task_dequeue('$queue', $BATCH) d;
SQL
	# until the queue is empty (a claim beside others may take fewer than FAIR_BATCH)
	t0=$(date +%s%N)
	left=$(( FLOOD + SMALL ))
	while [ "$left" -gt 0 ]; do
		"$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -M prepared -c "$WORKERS" -j 2 \
			-t $(( left / (BATCH * WORKERS) + 5 )) -f "$DIR/worker.sql" bench >>"$DIR/pgbench-$fair.log" 2>&1
		left=$(q -c "SELECT count(*) FROM task.task WHERE queue = '$queue' AND status <> 'completed'")
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	q -v queue="$queue" -v ms="$ms" <<'SQL' | sed "s/^/fair_share $fair: /"
-- wait: from when the task was created, or the drain started if later (the setup's time is no one's wait)
SELECT format('small tenant wait p50 %s ms, p99 %s ms, max %s ms; flood wait p50 %s ms, p99 %s ms; drain %s tasks/s (%s s)',
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY w) FILTER (WHERE code = 'bench.small'))::numeric, 1),
              round((percentile_cont(0.99) WITHIN GROUP (ORDER BY w) FILTER (WHERE code = 'bench.small'))::numeric, 1),
              round((max(w) FILTER (WHERE code = 'bench.small'))::numeric, 1),
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY w) FILTER (WHERE code = 'bench.big'))::numeric, 1),
              round((percentile_cont(0.99) WITHIN GROUP (ORDER BY w) FILTER (WHERE code = 'bench.big'))::numeric, 1),
              round(count(*) * 1000.0 / :ms), round(:ms / 1000.0, 1))
  FROM (SELECT code, status, started_at,
               extract(epoch FROM started_at - greatest(created_at, min(started_at) OVER ())) * 1000 AS w
          FROM task.task WHERE queue = :'queue') t;
SQL
done
