#!/usr/bin/env bash
# W2 A/B within one build (issue 15, stop 25): task_create_many's direct insert
# (A, task._create_many) against its INSERT statement (B: a default on
# task.task.name sends the batch there), 15 s of bench/sql/task_insert100.sql
# with 4 clients each, alternated (ABBA) on one throwaway cluster. Per run:
# tasks/s, CPU of the whole machine per task (/proc/stat), WAL bytes per task.
#   bench/w2_ab.sh          Settings: W2_AB_ROUNDS (3), W2_AB_PORT (58461)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
. "$ROOT/test/harness/cluster.sh"
BIN=$(h_bindir)
DIR=$(h_tmp "$ROOT")/w2ab
PORT=${W2_AB_PORT:-58461}
export PGHOST=$(h_sockdir "$(realpath -m "$DIR")") PGPORT=$PORT PGUSER=postgres
q() { "$BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$@"; }
trap 'cluster_stop "$DIR"' EXIT
cluster_stop "$DIR" >/dev/null 2>&1 || true
cluster_start "$DIR" "$PORT" postgres shared_buffers=512MB synchronous_commit=on max_connections=200 >/dev/null
cpu() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
for r in $(seq "${W2_AB_ROUNDS:-3}"); do
  if [ $((r % 2)) = 1 ]; then order="A B"; else order="B A"; fi
  for v in $order; do
    "$BIN/dropdb" --if-exists ab >/dev/null 2>&1; "$BIN/createdb" ab
    q ab -f "$ROOT/bench/sql/task_setup.sql" >/dev/null
    [ "$v" = B ] && q ab -c "ALTER TABLE task.task ALTER COLUMN name SET DEFAULT 'b'"
    q ab -c "VACUUM ANALYZE" -c "CHECKPOINT" -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
    c0=$(cpu)
    "$BIN/pgbench" -n -M prepared -c 4 -j 2 -T 15 -f "$ROOT/bench/sql/task_insert100.sql" ab > "$DIR/pgb.log" 2>&1
    c1=$(cpu)
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$DIR/pgb.log")
    n=$(q ab -c "SELECT count(*) FROM task.task")
    named=$(q ab -c "SELECT count(*) FROM task.task WHERE name = 'b'")
    wal=$(q ab -c "SELECT wal_bytes FROM pg_stat_wal")
    awk -v r=$r -v v=$v -v t=$tps -v n=$n -v nb=$named -v c0=$c0 -v c1=$c1 -v w=$wal -v hz=$(getconf CLK_TCK) 'BEGIN { printf "%d %s tasks/s %.0f  cpu us/task %.1f  wal B/task %.0f  (rows %d, statement rows %d)\n", r, v, t*100, (c1-c0)/hz*1e6/n, w/n, n, nb }'
  done
done
