#!/usr/bin/env bash
# The cost of the per-queue NOTIFY on final transitions (task_queue_notify),
# measured with pgbench against a database where task is installed, as a
# superuser: one transaction = task_create + task_cancel (a final
# transition) in a queue of a throwaway service. Three variants, interleaved
# ROUNDS times per client count: baseline (the final-transition trigger
# task._settle_dependents without its notify block, as in 0.1.0), the queue
# without a channel, the queue with a channel (nobody listening). Prints
# one line per run; compare the medians. Not a timed test.
#
#   PGHOST=/path/to/socket PGPORT=5432 PGDATABASE=bench bench/notify_cost.sh
#
# Settings (environment): NOTIFY_CLIENTS ("1 4"), NOTIFY_ROUNDS (3),
# NOTIFY_SECONDS (10), PGBENCH (pgbench on PATH), PSQL (psql on PATH).
# It replaces task._settle_dependents for a while: a scratch database only.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

clients=${NOTIFY_CLIENTS:-"1 4"}
rounds=${NOTIFY_ROUNDS:-3}
seconds=${NOTIFY_SECONDS:-10}
pgbench=${PGBENCH:-pgbench}
psql=${PSQL:-psql}
script=$(mktemp)
trap 'rm -f "$script"' EXIT
q() { "$psql" -X -q -v ON_ERROR_STOP=1 -c "$1" >/dev/null; }

q "DO \$\$ BEGIN
     IF NOT EXISTS (SELECT FROM task.service WHERE name = 'bench-notify') THEN
         PERFORM task.task_service_create('bench-notify', 'bench-notify');
     END IF;
     IF NOT EXISTS (SELECT FROM task.queue WHERE name = 'bench-notify/q') THEN
         PERFORM task.task_queue_create('bench-notify/q',
             owner => (SELECT task.service_text(id) FROM task.service WHERE name = 'bench-notify'));
     END IF;
   END \$\$"
echo "SELECT task.task_cancel((task.task_create('bench.notify', 'bench-notify/q')).id);" >"$script"
chmod a+r "$script"

q "DROP TABLE IF EXISTS public.bench_notify_fn;
   CREATE TABLE public.bench_notify_fn AS
   SELECT pg_get_functiondef('task._settle_dependents()'::regprocedure) AS installed,
          regexp_replace(pg_get_functiondef('task._settle_dependents()'::regprocedure),
                         '    -- notify: .*-- notify end\n', '') AS baseline"
use() { q "DO \$\$ BEGIN EXECUTE (SELECT $1 FROM public.bench_notify_fn); END \$\$"; }
run() { "$pgbench" -n -f "$script" -c "$1" -j "$1" -T "$seconds" 2>&1 | awk '/^tps/ {print $3}'; }
for c in $clients; do
	for r in $(seq "$rounds"); do
		q "UPDATE task.queue SET notify_channel = '' WHERE name = 'bench-notify/q'"
		use baseline
		echo "clients=$c round=$r baseline tps=$(run "$c")"
		use installed
		echo "clients=$c round=$r no-channel tps=$(run "$c")"
		q "UPDATE task.queue SET notify_channel = 'bench_notify' WHERE name = 'bench-notify/q'"
		echo "clients=$c round=$r channel tps=$(run "$c")"
	done
done
q "UPDATE task.queue SET notify_channel = '' WHERE name = 'bench-notify/q'"
use installed
q "DROP TABLE public.bench_notify_fn"
q "DO \$\$ BEGIN
     LOOP EXIT WHEN NOT (SELECT more FROM task.task_bulk('purge', queue => 'bench-notify/q', batch_size => 10000)); END LOOP;
   END \$\$"
