#!/usr/bin/env bash
# Run the demo scenario test/harness/demo.sql with psql on a throwaway cluster in tmp/demo (port 58434,
# or TASK_DEMO_PORT) preloading task and pg_cron, after CREATE EXTENSION task CASCADE; stops it on exit.
# Needs the extension installed first (make demo does that).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"

dir=$(h_tmp "$root")/demo
port=${TASK_DEMO_PORT:-58434}

on_exit() {
	local rc=$?
	if [ "$rc" != 0 ] && [ -f "$dir/server.log" ]; then
		echo "---- demo failed (exit $rc); tail of $dir/server.log" >&2
		tail -n 30 "$dir/server.log" >&2 || true
	fi
	cluster_stop "$dir"
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
