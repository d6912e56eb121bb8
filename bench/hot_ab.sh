#!/usr/bin/env bash
# A/B of two variants of the schema in ONE backend, in alternating blocks
# (ABBA), so that the load of a shared machine falls on both alike. Each
# block applies its variant's SQL, loads a backlog (drains), VACUUMs, and
# times one workload of bench/sql/hot_cpu.sql by the backend's CPU
# (/proc/self/schedstat), every statement at top level. Runs against the
# cluster bench/hot_cpu.sh leaves with HOT_KEEP=1.
#   HOT_A_SQL=... HOT_B_SQL=... bench/hot_ab.sh WORKLOAD [N per block, 1000] [ROUNDS, 6]
# Prints per variant the fastest and the median block in µs of backend CPU
# per task, and the WAL bytes per task of the median.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PORT=${HOT_PORT:-58556}
w=${1:?usage: bench/hot_ab.sh WORKLOAD [N] [ROUNDS]}
n=${2:-1000}
rounds=${3:-6}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/hot_cpu
{
	echo "SET client_min_messages = warning;"
	echo "CREATE TEMP TABLE hot_ab (variant text, round integer, us double precision, wal double precision);"
	for r in $(seq "$rounds"); do
		if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
		for v in $order; do
			if [ "$v" = A ]; then echo "${HOT_A_SQL:-SELECT};"; else echo "${HOT_B_SQL:-SELECT};"; fi
			echo "TRUNCATE task.task CASCADE;"
			case $w in drain*) echo "SELECT public.hot_preload('task', $n);" ;; esac
			echo "VACUUM ANALYZE task.task;"
			echo "SELECT public.hot_cpu_ns() AS c0, pg_current_wal_insert_lsn() AS l0 \\gset"
			echo "CALL public.hot_task_$w($n);"
			echo "INSERT INTO hot_ab SELECT '$v', $r, (public.hot_cpu_ns() - :c0) / 1000.0 / $n, pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') / $n;"
		done
	done
	echo "SELECT format('%s %s: fastest %s, median %s µs/task, WAL %s bytes/task (%s blocks of %s; load %s)', '$w', variant,"
	echo "  round(min(us)::numeric, 1), round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us))::numeric, 1),"
	echo "  round((percentile_cont(0.5) WITHIN GROUP (ORDER BY wal))::numeric), count(*), $n, '$(cut -d' ' -f1 /proc/loadavg)')"
	echo "  FROM hot_ab GROUP BY variant ORDER BY variant;"
} | cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -qAt | grep -v "^$"
