#!/usr/bin/env bash
# Run the demo scenario test/harness/demo.sql with psql on a throwaway cluster in tmp/demo (port 58434,
# or TASK_DEMO_PORT) preloading task and pg_cron, after CREATE EXTENSION task CASCADE; stops it on exit
# unless TASK_DEMO_KEEP=1 (then it says how to connect and how to stop it).
# Needs the extension installed first (make demo does that).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"

dir=$(h_tmp "$root")/demo
port=${TASK_DEMO_PORT:-58434}
keep=${TASK_DEMO_KEEP:-0}

on_exit() {
	local rc=$?
	if [ "$rc" != 0 ] && [ -f "$dir/server.log" ]; then
		echo "---- demo failed (exit $rc); tail of $dir/server.log" >&2
		tail -n 30 "$dir/server.log" >&2 || true
	fi
	if [ "$rc" != 0 ] || [ "$keep" != 1 ]; then cluster_stop "$dir"; fi
	exit "$rc"
}
trap on_exit EXIT

cluster_start "$dir" "$port" postgres
cluster_psql "$dir" "$port" -d postgres -v ON_ERROR_STOP=1 \
	-c 'CREATE EXTENSION IF NOT EXISTS task CASCADE' \
	-f test/harness/demo.sql

echo
echo "== 3. Two workers drain the queue concurrently (FOR UPDATE SKIP LOCKED)"
pids=()
for w in worker-1 worker-2; do
	cluster_psql "$dir" "$port" -d postgres -U platform_worker -v ON_ERROR_STOP=1 -q \
		-c "CALL public.demo_worker('$w')" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

cluster_psql "$dir" "$port" -d postgres -v ON_ERROR_STOP=1 -f test/harness/demo_report.sql

version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" task.control)
echo
echo "demo: ok -- task $version ran the scenario above on PostgreSQL 15 (a throwaway cluster in $dir, port $port)"
if [ "$keep" = 1 ]; then
	echo "demo: the cluster is still running, with the demo's data in database postgres; connect as its superuser:"
	echo "  psql -h $(h_sockdir "$(realpath -m "$dir")") -p $port -U postgres postgres"
	echo "  SELECT status, count(*) FROM task.task GROUP BY status;   -- then README.md, Getting started"
	echo "demo: stop it with: test/harness/cluster.sh stop $dir"
else
	echo "demo: the cluster is stopped now; to keep it running and connect with psql: TASK_DEMO_KEEP=1 make demo"
fi
