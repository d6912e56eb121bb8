#!/usr/bin/env bash
# Issue 4's listing benchmark: the 50 newest tasks of a client account that
# can see 1,000 of 1,000,000 tasks, as that client through task_list (an
# account has no grant on the tables: it reads through the API only),
# against the same rows read by the table owner with an explicit filter.
# Prints median and p99 latency (pgbench per-transaction log) and the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../test/harness/cluster.sh
. "$root/test/harness/cluster.sh"
cd "$root"

dir=$(h_tmp "$root")/listing
port=${BENCH_LISTING_PORT:-58445}
n=${BENCH_LISTING_RUNS:-500}
bin=$(h_bindir)
trap 'cluster_stop "$dir"' EXIT
cluster_start "$dir" "$port" postgres >/dev/null
psql_() { cluster_psql "$dir" "$port" -d postgres -v ON_ERROR_STOP=1 -q "$@"; }

psql_ >/dev/null <<'SQL'
CREATE EXTENSION task;
SELECT task.task_service_create('s' || g, 'ns' || g) FROM generate_series(1, 3) g;
SELECT task.task_account_create('client', 'Client');
CREATE ROLE bench_client LOGIN;
SELECT task.task_login_grant('bench_client', 'ACC-0000-0001');
SELECT task.task_queue_create('ns' || g || '/q', owner => task.service_text(g)) FROM generate_series(1, 3) g;
-- 1,000,000 finished tasks of three services, loaded directly (the trigger
-- would insist on the queued -> processing -> completed path)
ALTER TABLE task.task DISABLE TRIGGER task_transition;
INSERT INTO task.task (owner, id, code, queue, status, status_at, created_at, updated_at)
SELECT o, task.task_id_make(o, g), 'bench.list', 'ns' || o || '/q', 'completed',
       now() - g * interval '1 second', now() - g * interval '1 second', now()
  FROM generate_series(1, 333334) g, generate_series(1, 3) o;
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
-- 1,000 of them on the client's access list, spread over all three owners
INSERT INTO task.task_access (owner, task_id, account)
SELECT owner, id, 1 FROM task.task WHERE task.task_id_serial(id) % 1000 = 7 LIMIT 1000;
-- other accounts' access rows, so the access table is not only ours
SELECT task.task_account_create('other ' || g, 'Client') FROM generate_series(1, 50) g;
INSERT INTO task.task_access (owner, task_id, account)
SELECT owner, id, 2 + (task.task_id_serial(id) % 50) FROM task.task WHERE task.task_id_serial(id) % 20 = 3;
VACUUM ANALYZE;
SQL

echo "SELECT j->>'id', j->>'status' FROM task.task_list() j;" > "$dir/rls.sql"
# the owner reads the same 50 Task objects with the client's filter written out
echo "SET search_path = task, pg_catalog; SELECT task._task_json(t) FROM task.task t WHERE t.id OPERATOR(task.=) ANY (ARRAY(SELECT a.task_id FROM task.task_access a WHERE a.account = 1)) ORDER BY t.status_at DESC LIMIT 50;" > "$dir/owner.sql"
h_own "$dir"

measure() { # user script -> "median p99" in ms
	rm -f "$dir"/pgbench_log.*
	(cd "$dir" && h_as_pg "$bin/pgbench" -n -h "$(h_sockdir "$(realpath -m "$dir")")" -p "$port" -U "$1" \
		-c 1 -t "$n" -l -f "$2" postgres >/dev/null)
	cat "$dir"/pgbench_log.* | awk '{print $3/1000}' | sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[int((NR+1)/2)], a[int(NR*0.99)]}'
}
measure bench_client "$dir/rls.sql" >/dev/null   # warm up
measure postgres "$dir/owner.sql" >/dev/null
read -r rls_med rls_p99 <<<"$(measure bench_client "$dir/rls.sql")"
read -r own_med own_p99 <<<"$(measure postgres "$dir/owner.sql")"
rows=$(cluster_psql "$dir" "$port" -d postgres -U bench_client -Atc "SELECT count(*) FROM task.task_list(list_limit => 1000)")
out=$here/results/$(date +%F)-listing.md
{
echo "# A client's listing through task_list, $(date +%F)"
echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $(nproc) cores; PostgreSQL $("$bin/postgres" --version | awk '{print $3}'); \`bench/listing.sh\`, 1 client, $n runs each after a warm-up."
echo
echo "| listing the 50 newest of $rows visible tasks (1,000,000 in the table) | median ms | p99 ms |"
echo "|---|--:|--:|"
echo "| client account, \`task_list()\` | $rls_med | $rls_p99 |"
echo "| table owner, the same Task objects with the filter written out | $own_med | $own_p99 |"
awk -v a="$rls_med" -v b="$own_med" -v p="$rls_p99" 'BEGIN { printf "| ratio task_list / explicit (median) | %.2fx | target <= 1.5x; p99 target < 10 ms (%s) |\n", a / b, p }'
} | tee "$out"
