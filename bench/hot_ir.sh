#!/usr/bin/env bash
# Instructions per task of the queue path, counted by callgrind in a
# single-user backend (issue 15): deterministic where CPU time on a shared
# VM moves by 20% between blocks, so a change of a few percent can be seen.
# Needs the cluster bench/hot_cpu.sh leaves with HOT_KEEP=1 (stopped here
# first) and valgrind. For each workload, two runs of N1 and N2 tasks; the
# instructions of the CALLs (procedures of bench/sql/hot_cpu.sql, COMMITs
# included: the backend flushes its own WAL in single-user mode) of the
# second minus the first, divided by N2 - N1, so set-up and warm-up cancel.
#   bench/hot_ir.sh [WORKLOAD...]   (default: drain1 enqueue1)
# Environment: HOT_IR_N1 (200), HOT_IR_N2 (1200), HOT_IR_SYSTEM (task; or raw, or floor:
# raw SQL writing task's row and indexes, bench/sql/floor_setup.sql),
# HOT_IR_KEEP=DIR keeps the callgrind files (callgrind_annotate --inclusive=yes),
# HOT_IR_SQL: one line of SQL run first in each backend (a variant to compare; it stays).
# Prints: SYSTEM WORKLOAD instructions/task
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
N1=${HOT_IR_N1:-200}
N2=${HOT_IR_N2:-1200}
SYS=${HOT_IR_SYSTEM:-task}
WORKLOADS=${*:-"drain1 enqueue1"}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/hot_cpu
BIN=$(h_bindir)
[ -d "$DIR/data" ] || { echo "hot_ir: no cluster in $DIR: run HOT_KEEP=1 bench/hot_cpu.sh first" >&2; exit 2; }
cluster_stop "$DIR" >/dev/null 2>&1 || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
chown postgres "$out" 2>/dev/null || true
ir() {	# WORKLOAD N -> instructions in the CALLs
	local w=$1 n=$2 f=$out/cg.$1.$2
	{
		[ -z "${HOT_IR_SQL:-}" ] || echo "$HOT_IR_SQL"
		# a single-user backend does not read ALTER DATABASE ... SET (floor_setup.sql)
		echo "SET search_path = \"\$user\", public, task"
		echo "TRUNCATE task.task CASCADE"
		echo "TRUNCATE public.bench_raw"
		echo "TRUNCATE public.bench_floor"
		case $w in drain*) echo "SELECT public.hot_preload('$SYS', $n + 20)" ;; esac
		echo "VACUUM ANALYZE task.task"
		echo "VACUUM ANALYZE public.bench_floor"
		echo "CALL public.hot_${SYS}_$w($n)"
	} | (h_as_pg valgrind --tool=callgrind --callgrind-out-file="$f" \
		--collect-atstart=no --toggle-collect=ExecuteCallStmt \
		"$BIN/postgres" --single -D "$DIR/data" -c shared_preload_libraries=task -c synchronous_commit=off bench) \
		>"$out/log.$w.$n" 2>&1 || { cat "$out/log.$w.$n" >&2; exit 1; }
	if grep -q "ERROR:" "$out/log.$w.$n"; then grep -m3 "ERROR:" "$out/log.$w.$n" >&2; exit 1; fi
	[ -z "${HOT_IR_KEEP:-}" ] || cp "$f" "$HOT_IR_KEEP/"
	awk '/^summary:|^totals:/ { print $2; exit }' "$f"
}
for w in $WORKLOADS; do
	a=$(ir "$w" "$N1"); b=$(ir "$w" "$N2")
	awk -v s="$SYS" -v w="$w" -v a="$a" -v b="$b" -v n="$((N2 - N1))" 'BEGIN { printf "%s %s %.0f\n", s, w, (b - a) / n }'
done
