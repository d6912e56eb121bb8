#!/usr/bin/env bash
# Backend CPU and WAL per task of the queue path, task against raw SQL
# (issue 15): the procedures of bench/sql/hot_cpu.sql run N tasks in one
# backend, one COMMIT per transaction of the workload, on a throwaway
# cluster with synchronous_commit = off (CPU, not fsync waits) and no
# autovacuum or checkpoint during a run (each run starts after a VACUUM and
# a CHECKPOINT, and the backlog is loaded after the checkpoint, so the
# full-page images fall on the load). Workloads:
#   drain1     complete the previous task and claim the next, 1 per tx
#   drain10    complete the previous batch and claim the next 10, 1 tx
#   enqueue1   one task_create (raw: one INSERT) per tx
#   enqueue100 one task_create_many of 100 (raw: INSERT of 100 rows) per tx
#   idle1      a dequeue with wait => 1 ms on an empty queue, 1 per tx (raw:
#              the claim finds nothing, then pg_sleep 1 ms): a blocking
#              worker's idle turn; not in the default list
# Each run is a new backend: its first thousands of transactions cost more
# than a long-lived worker's, so compare variants with bench/hot_ab.sh
# (one backend, alternating blocks) and read these as upper bounds.
# Prints one line per run, then the fastest and the median run of each system and workload:
#   SYSTEM WORKLOAD cpu_us/task(min median) wal_bytes/task wal_records/task
#
#   bench/hot_cpu.sh [WORKLOAD...]        (default: all four)
# Environment: HOT_N tasks per run (8000), HOT_RUNS runs (3, alternating
# raw and task), HOT_SYSTEMS ("raw task"; floor: raw SQL writing task's row
# and indexes, bench/sql/floor_setup.sql), HOT_PORT (58556),
# HOT_KEEP=1 leaves the cluster running (tmp/hot_cpu), HOT_PERF=DIR records
# `perf record -g` of the task backend of each run into DIR/WORKLOAD-RUN.data,
# HOT_PERF_CALLGRAPH (dwarf), HOT_PGSS_TRACK (pg_stat_statements.track, none).
# A/B in one cluster: the systems taskA and taskB run the task procedures
# after the SQL in HOT_A_SQL / HOT_B_SQL (say, a trigger or an index
# dropped and created again), so two variants alternate on the same data.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PORT=${HOT_PORT:-58556}
N=${HOT_N:-8000}
RUNS=${HOT_RUNS:-3}
SYSTEMS=${HOT_SYSTEMS:-"raw task"}
WORKLOADS=${*:-"drain1 drain10 enqueue1 enqueue100"}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/hot_cpu
if [ -z "${HOT_REUSE:-}" ]; then
	cluster_start "$DIR" "$PORT" bench synchronous_commit=off autovacuum=off \
		checkpoint_timeout=1h max_wal_size=20GB shared_buffers=256MB \
		shared_preload_libraries=task,pg_cron,pg_stat_statements pg_stat_statements.track="${HOT_PGSS_TRACK:-none}" >/dev/null
fi
[ -n "${HOT_KEEP:-}" ] || trap 'cluster_stop "$DIR"' EXIT
q() { cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }
q -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS task' \
	-c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' \
	-c "SELECT task.task_service_create('bench', 'bench') WHERE NOT EXISTS (SELECT FROM task.service WHERE name = 'bench')" \
	-c "SELECT task.task_queue_create('bench/q', owner => (SELECT task.service_text(id) FROM task.service WHERE name = 'bench')) WHERE NOT EXISTS (SELECT FROM task.queue WHERE name = 'bench/q')" >/dev/null
q -f "$HERE/sql/floor_setup.sql" >/dev/null
q -f "$HERE/sql/hot_cpu.sql" >/dev/null

out=$(mktemp)
trap 'rm -f "$out"; [ -n "${HOT_KEEP:-}" ] || cluster_stop "$DIR"' EXIT
run() {	# SYSTEM WORKLOAD RUN
	local sys=$1 w=$2 r=$3 pidf="$DIR/backend.pid" perf="" proc=$1
	case $sys in
	taskA) proc=task; q -c "${HOT_A_SQL:-SELECT}" >/dev/null ;;
	taskB) proc=task; q -c "${HOT_B_SQL:-SELECT}" >/dev/null ;;
	esac
	q -c "TRUNCATE public.bench_raw, public.bench_floor" -c "SET client_min_messages = warning" -c "TRUNCATE task.task CASCADE"
	case $w in drain*) q -c "SELECT public.hot_preload('$proc', $N)" >/dev/null ;; esac
	q -c 'VACUUM ANALYZE public.bench_raw' -c 'VACUUM ANALYZE public.bench_floor' -c 'VACUUM ANALYZE task.task' -c 'VACUUM ANALYZE task.task_log' -c CHECKPOINT
	if [ -n "${HOT_PERF:-}" ] && [ "$proc" = task ]; then
		mkdir -p "$HOT_PERF"
		perf="$HOT_PERF/$sys-$w-$r.data"
	fi
	# reconnect: a fresh backend, whose caches the run warms like a worker's
	q -v pidf="$pidf" -v perf="$perf" -v cg="${HOT_PERF_CALLGRAPH:-dwarf}" <<-SQL
		SELECT pg_backend_pid() \g :pidf
		SELECT :'perf' <> '' AS perfon \gset
		\if :perfon
		\setenv PERFOUT :perf
		\setenv PERFCG :cg
		\setenv PIDF :pidf
		\! sh -c 'perf record -q --call-graph "\$PERFCG" -F 1999 -p "\$(cat "\$PIDF")" -o "\$PERFOUT" >/dev/null 2>&1 & echo \$! > "\$PIDF.perf"; sleep 1'
		\endif
		SELECT pg_stat_force_next_flush();
		SELECT s.wal_records AS rec0, pg_current_wal_insert_lsn() AS lsn0, public.hot_cpu_ns() AS cpu0 FROM pg_stat_wal s \gset
		CALL public.hot_${proc}_${w}($N);
		SELECT public.hot_cpu_ns() AS cpu1, pg_current_wal_insert_lsn() AS lsn1 \gset
		SELECT pg_stat_force_next_flush();
		\if :perfon
		\! sh -c 'kill -INT "\$(cat "\$PIDF.perf")"; while kill -0 "\$(cat "\$PIDF.perf")" 2>/dev/null; do sleep 0.2; done'
		\endif
		SELECT format('%s %s %s %s %s', '$sys', '$w',
		              round((:cpu1 - :cpu0) / 1000.0 / $N, 1),
		              round(pg_wal_lsn_diff(:'lsn1', :'lsn0') / $N, 0),
		              round((s.wal_records - :rec0)::numeric / $N, 2))
		  FROM pg_stat_wal s;
	SQL
}
for w in $WORKLOADS; do
	for r in $(seq "$RUNS"); do
		order=$SYSTEMS
		[ $((r % 2)) = 0 ] && order=$(echo "$SYSTEMS" | tr ' ' '\n' | tac | tr '\n' ' ')
		for sys in $order; do
			run "$sys" "$w" "$r" | tail -n 1 | tee -a "$out"
		done
	done
done
echo "$RUNS runs of $N tasks (load $(cut -d' ' -f1-3 /proc/loadavg)); per task: system workload cpu_us(min median) wal_bytes(median) wal_records(median)"
sort -k1,1 -k2,2 -k3,3n "$out" | awk '
	{ k = $1 " " $2; n[k]++; c[k, n[k]] = $3; b[k, n[k]] = $4; w[k, n[k]] = $5; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
	function med(a, k, cnt, which,   i, v, t, j) { for (i = 1; i <= cnt; i++) v[i] = a[k, i] + 0; for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t } return which == "min" ? v[1] : v[int((cnt + 1) / 2)] }
	END { for (i = 1; i <= m; i++) { k = order[i]; printf "%s %s %s %s %s\n", k, med(c, k, n[k], "min"), med(c, k, n[k], "med"), med(b, k, n[k], "med"), med(w, k, n[k], "med") } }'
