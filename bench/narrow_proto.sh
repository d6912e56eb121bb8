#!/usr/bin/env bash
# The narrow queue-state table, estimated (issue 15, docs/QUEUE.md): the
# plain-SQL prototype bench/sql/narrow_proto.sql on a throwaway cluster (no
# extension), the wide layout of today against the narrow one, drain (1
# per transaction) and enqueue (1 per transaction), CPU and WAL per task
# measured as bench/hot_cpu.sh does (synchronous_commit = off, no
# autovacuum, a CHECKPOINT before the backlog is loaded).
#   bench/narrow_proto.sh      (NARROW_N 8000, NARROW_RUNS 3, NARROW_PORT 58557)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PORT=${NARROW_PORT:-58557}
N=${NARROW_N:-8000}
RUNS=${NARROW_RUNS:-3}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/narrow_proto
cluster_start "$DIR" "$PORT" bench synchronous_commit=off autovacuum=off \
	checkpoint_timeout=1h max_wal_size=20GB shared_buffers=256MB >/dev/null
out=$(mktemp)
trap 'rm -f "$out"; cluster_stop "$DIR"' EXIT
q() { cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }
run() {	# LAYOUT WORKLOAD
	q -c "SET client_min_messages = warning" -f "$HERE/sql/narrow_proto.sql" >/dev/null
	case $2 in drain*) q -c "SELECT proto_preload('$1', $N)" >/dev/null ;; esac
	q -c 'VACUUM ANALYZE w_task' -c 'VACUUM ANALYZE w4_task' -c 'VACUUM ANALYZE n_task' -c 'VACUUM ANALYZE n_entry' -c CHECKPOINT
	q <<-SQL
		SELECT pg_stat_force_next_flush();
		SELECT s.wal_records AS rec0, pg_current_wal_insert_lsn() AS lsn0, proto_cpu_ns() AS cpu0 FROM pg_stat_wal s \gset
		CALL proto_$1_$2($N);
		SELECT proto_cpu_ns() AS cpu1, pg_current_wal_insert_lsn() AS lsn1 \gset
		SELECT pg_stat_force_next_flush();
		SELECT format('%s %s %s %s %s', '$1', '$2', round((:cpu1 - :cpu0) / 1000.0 / $N, 1),
		              round(pg_wal_lsn_diff(:'lsn1', :'lsn0') / $N, 0), round((s.wal_records - :rec0)::numeric / $N, 2))
		  FROM pg_stat_wal s;
	SQL
}
for w in drain1 enqueue1; do
	for r in $(seq "$RUNS"); do
		if [ $((r % 2)) = 1 ]; then order="wide wide4 narrow"; else order="narrow wide4 wide"; fi
		for l in $order; do run "$l" "$w" | tail -n 1 | tee -a "$out"; done
	done
done
echo "$RUNS runs of $N tasks (load $(cut -d' ' -f1-3 /proc/loadavg)); per task: layout workload cpu_us(min median) wal_bytes(median) wal_records(median)"
sort -k1,1 -k2,2 -k3,3n "$out" | awk '
	{ k = $1 " " $2; n[k]++; c[k, n[k]] = $3; b[k, n[k]] = $4; w[k, n[k]] = $5; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
	function med(a, k, cnt, which,   i, v, t, j) { for (i = 1; i <= cnt; i++) v[i] = a[k, i] + 0; for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t } return which == "min" ? v[1] : v[int((cnt + 1) / 2)] }
	END { for (i = 1; i <= m; i++) { k = order[i]; printf "%s %s %s %s %s\n", k, med(c, k, n[k], "min"), med(c, k, n[k], "med"), med(b, k, n[k], "med"), med(w, k, n[k], "med") } }'
