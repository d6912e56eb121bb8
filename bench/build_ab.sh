#!/usr/bin/env bash
# A/B of two builds of task.so on the W3 drain (bench/sql/task_drain1.sql:
# one task_dequeue per task that completes the previous one), the builds
# alternated (ABBA) so that the load of a shared machine falls on both
# alike, each run on a throwaway cluster of its own (test/harness/
# cluster.sh), started after the build was installed. Per run: tasks/s, CPU of the whole machine per task (all
# processes: server, pgbench, kernel; /proc/stat), WAL bytes and fsyncs
# per task (pg_stat_wal). Installs each build over the server's task.so:
# run `make install` afterwards.
#   bench/build_ab.sh A.so B.so ["WORKERS..." (4 64)] [ROUNDS (3)]
# Settings: BUILD_AB_BACKLOG (40000), BUILD_AB_PORT (58449);
# BUILD_AB_A_PGOPTIONS, BUILD_AB_B_PGOPTIONS: the workers' PGOPTIONS in A's
# and B's runs, to compare two settings of one build (pass the same .so
# twice), e.g. BUILD_AB_A_PGOPTIONS="-c task.claim_concurrency=0";
# BUILD_AB_WORKLOAD: drain (W3, the default), drain10 (W4: batches of 10,
# bench/sql/task_drain10.sql) or enqueue (W1: BACKLOG task_create calls,
# one per transaction, bench/sql/task_insert1.sql).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
A=${1:?usage: bench/build_ab.sh A.so B.so [WORKERS] [ROUNDS]}
B=${2:?usage: bench/build_ab.sh A.so B.so [WORKERS] [ROUNDS]}
WORKERS=${3:-4 64}
ROUNDS=${4:-3}
BACKLOG=${BUILD_AB_BACKLOG:-40000}
PORT=${BUILD_AB_PORT:-58449}
WORKLOAD=${BUILD_AB_WORKLOAD:-drain}
case $WORKLOAD in drain) SCRIPT=task_drain1.sql ;; drain10) SCRIPT=task_drain10.sql ;;
enqueue) SCRIPT=task_insert1.sql ;;
*) echo "build_ab: BUILD_AB_WORKLOAD is drain, drain10 or enqueue" >&2; exit 2 ;; esac
export PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
BIN=$(h_bindir)
LIB=$("$PG_CONFIG" --pkglibdir)/task.so
DIR=$(h_tmp "$ROOT")/build_ab
export PGHOST=$(h_sockdir "$(realpath -m "$DIR")") PGPORT=$PORT PGUSER=postgres
unset PGDATABASE PGOPTIONS
q() { "$BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$@"; }
trap 'cluster_stop "$DIR"' EXIT
cpu() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

echo "build_ab: A = $A ${BUILD_AB_A_PGOPTIONS:+($BUILD_AB_A_PGOPTIONS)}, B = $B ${BUILD_AB_B_PGOPTIONS:+($BUILD_AB_B_PGOPTIONS)}; $WORKLOAD of $BACKLOG tasks; workers: $WORKERS; $ROUNDS rounds"
printf '%-5s %-3s %7s %8s %12s %9s %10s\n' round ab workers tasks/s "cpu us/task" "wal B" "fsyncs"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for v in $order; do
		cluster_stop "$DIR"
		if [ "$v" = A ]; then cp "$A" "$LIB"; else cp "$B" "$LIB"; fi
		cluster_start "$DIR" "$PORT" postgres shared_buffers=512MB synchronous_commit=on max_connections=200 >/dev/null
		for n in $WORKERS; do
			"$BIN/dropdb" --if-exists ab >/dev/null 2>&1; "$BIN/createdb" ab
			q ab -f "$HERE/sql/task_setup.sql" >/dev/null
			[ "$WORKLOAD" = enqueue ] || PGOPTIONS='-c synchronous_commit=off' q ab -c "SELECT bench_task_preload($BACKLOG)" >/dev/null
			q ab -c "VACUUM ANALYZE" -c "CHECKPOINT" -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
			c0=$(cpu); t0=$(date +%s.%N)
			if [ "$v" = A ]; then opts=${BUILD_AB_A_PGOPTIONS:-}; else opts=${BUILD_AB_B_PGOPTIONS:-}; fi
			# transactions per client: one a task, or one a batch of 10 (and two more to be sure)
			if [ "$WORKLOAD" = drain10 ]; then tx=$((BACKLOG / (10 * n) + 2)); else tx=$((BACKLOG / n)); fi
			PGOPTIONS=$opts "$BIN/pgbench" -n -M prepared -c "$n" -j $((n < 2 ? n : 2)) -t "$tx" \
				-D prev_id=none -D prev_token=none -D prev_ids=none -D prev_tokens=none \
				-f "$HERE/sql/$SCRIPT" ab >"$DIR/pgbench.log" 2>&1 \
				|| { tail -5 "$DIR/pgbench.log" >&2; exit 1; }
			t1=$(date +%s.%N); c1=$(cpu)
			left=$(q ab -f "$HERE/sql/task_pending.sql")
			# enqueue: the tasks made are the ones pending now
			if [ "$WORKLOAD" = enqueue ]; then left=$((BACKLOG - left)); fi
			wal=$(q ab -c "SELECT wal_bytes || ' ' || wal_sync FROM pg_stat_wal")
			awk -v r="$r" -v v="$v" -v n="$n" -v d=$((BACKLOG - left)) -v t0="$t0" -v t1="$t1" \
				-v c0="$c0" -v c1="$c1" -v w="$wal" -v hz="$(getconf CLK_TCK)" 'BEGIN {
				split(w, a, " ")
				printf "%-5d %-3s %7d %8.0f %12.0f %9.0f %10.3f\n", r, v, n, d / (t1 - t0),
				       (c1 - c0) / hz * 1e6 / d, a[1] / d, a[2] / d }'
		done
	done
done
