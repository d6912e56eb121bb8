#!/usr/bin/env bash
# The narrow queue-state table, estimated (issue 15, docs/QUEUE.md): the
# plain-SQL prototype bench/sql/narrow_proto.sql on a throwaway cluster (no
# extension), today's wide layout against the narrow one and against the
# wide row with four indexes (wide4), drain and enqueue (1 per
# transaction). All blocks run in ONE backend, alternating the layouts
# (wide narrow wide4 wide4 narrow wide ...): a new backend's first
# thousands of transactions cost more (more page faults, more so for wider
# statements), which made separate runs of a fresh session each overstate
# the differences. Each block: TRUNCATE, load the backlog (drain), VACUUM
# ANALYZE, then the backend's CPU (/proc/self/schedstat) and the WAL
# (pg_current_wal_insert_lsn(); no checkpoint, so no full-page images) of
# the CALL. synchronous_commit = off, no autovacuum.
#   bench/narrow_proto.sh      (NARROW_N per block 2000, NARROW_ROUNDS 4, NARROW_PORT 58557)
# Prints per layout and workload: fastest block, median block (µs of CPU
# per task), WAL bytes per task (mean), blocks.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PORT=${NARROW_PORT:-58557}
N=${NARROW_N:-2000}
ROUNDS=${NARROW_ROUNDS:-4}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/narrow_proto
cluster_start "$DIR" "$PORT" bench synchronous_commit=off autovacuum=off \
	checkpoint_timeout=1h max_wal_size=20GB shared_buffers=256MB >/dev/null
trap 'cluster_stop "$DIR"' EXIT
{
	echo "SET client_min_messages = warning;"
	echo "\\i $HERE/sql/narrow_proto.sql"
	echo "CREATE TEMP TABLE r (layout text, workload text, us numeric, wal numeric);"
	for w in drain1 enqueue1; do
		for r in $(seq "$ROUNDS"); do
			for l in wide narrow wide4 wide4 narrow wide; do
				echo "TRUNCATE w_task, w4_task, n_task, n_entry;"
				case $w in drain*) echo "SELECT proto_preload('$l', $N);" ;; esac
				echo "VACUUM ANALYZE w_task; VACUUM ANALYZE w4_task; VACUUM ANALYZE n_task; VACUUM ANALYZE n_entry;"
				echo "SELECT proto_cpu_ns() AS c0, pg_current_wal_insert_lsn() AS l0 \\gset"
				echo "CALL proto_${l}_$w($N);"
				echo "INSERT INTO r SELECT '$l', '$w', (proto_cpu_ns() - :c0) / 1000.0 / $N, pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') / $N;"
			done
		done
	done
	echo "SELECT format('%s %s: fastest %s, median %s µs/task, WAL %s bytes/task (%s blocks of $N; load %s)', layout, workload,"
	echo "  round(min(us), 1), round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us))::numeric, 1), round(avg(wal)), count(*),"
	echo "  '$(cut -d' ' -f1 /proc/loadavg)') FROM r GROUP BY layout, workload ORDER BY workload, layout;"
} | cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -qAt | grep -v '^$'
