#!/usr/bin/env bash
# Backup and restore round trip, as a DBA does it: a database holding tasks in every status, logs,
# access lists, dependencies, a parent and its child, a schedule and advanced sequences
# (test/upgrade/data.sql), the marketplace's rows, claim-time limits and maintenance runs
# (test/harness/restore_data.sql) is dumped with pg_dump -Fc and -Fp and restored into new clusters with
# plain pg_restore / psql (roles first, with pg_dumpall --roles-only); a third round restores only
# the data of schema task (pg_dump --data-only --schema=task) into a fresh CREATE EXTENSION task.
# Every table of schema task (md5 of its ordered rows), every sequence position and the pg_cron jobs
# must match, and a worker (dequeue, complete), a client read and a hire (hire, complete, accept,
# task_market_check) must work on the restored database; task_cron_enable() there must point every
# pg_cron job (task-maintain, the schedule's) at the restored server, not the source's port.
# The clusters listen on a unix socket only (listen_addresses = ''), and the source's maintenance
# job (task_cron_enable) must have run successfully by the end (cron.job_run_details).
# Prints "restore ... ok|FAILED" (check.sh counts it); exit 1 on failure.
# Ports: TASK_CHECK_RESTORE_PORT (default 58436) for the source, +1 for the restored clusters.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"
port=${TASK_CHECK_RESTORE_PORT:-58436}
tport=${TASK_CHECK_RESTORE_TARGET_PORT:-$((port + 1))}
dir=$(h_check_dir restore "$root")
out=$dir/out
bindir=$(h_bindir)
fail() {
	echo "restore: $*"
	h_result restore FAILED
	cluster_stop "$dir/source"
	cluster_stop "$dir/target"
	exit 1
}
rm -rf "$dir"
mkdir -p "$out"
h_own "$dir"
# both clusters listen on their unix socket only (listen_addresses = '')
cluster_start "$dir/source" "$port" app "listen_addresses=" >/dev/null
src() { cluster_psql "$dir/source" "$port" -v ON_ERROR_STOP=1 -q -d app "$@"; }
dst() { cluster_psql "$dir/target" "$tport" -v ON_ERROR_STOP=1 -q -d app "$@"; }
sock=$(h_sockdir "$(realpath -m "$dir/source")")

# ---- the source: data of every kind
src -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION task' >"$out/install.log" 2>&1 ||
	fail "install failed: $(tail -5 "$out/install.log")"
src -f test/upgrade/data.sql >"$out/data.log" 2>&1 || fail "test/upgrade/data.sql failed: $(tail -5 "$out/data.log")"
src -f test/harness/restore_data.sql >"$out/data2.log" 2>&1 || fail "test/harness/restore_data.sql failed: $(tail -5 "$out/data2.log")"
# a task_log sequence moved past its rows, and a sequence nobody used yet
src -c "SELECT setval('task.task_log_seq', 5000)" -c "SELECT task.task_cron_enable()" >/dev/null
# an archived task (sql/83_history.sql): the history tables of its month are ordinary tables of
# schema task, not extension members, so pg_dump dumps them whole (definition and rows)
src -At >"$out/history.log" 2>&1 <<'SQL' || fail "archiving failed: $(tail -5 "$out/history.log")"
SET search_path = task, public;
SELECT task.task_queue_create('up/history', owner => (SELECT task.service_text(owner) FROM task.queue WHERE name = 'up/main'),
                              retention => '1000 days') IS NOT NULL;
UPDATE task.queue SET archive_after = '1 day' WHERE name = 'up/history';
SELECT (task.task_cancel((task.task_create('up.old', 'up/history', parameters => '{"old": true}')).id, 'archived')).status;
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '40 days' WHERE queue = 'up/history';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;
SELECT 'archived ' || task._history_archive(100);
SQL
grep -qx 'archived 1' "$out/history.log" || fail "the task was not archived: $(cat "$out/history.log")"

# The state to compare: every table of schema task (rows sorted as text), every sequence position,
# the pg_cron jobs of the task schedules and maintenance. task.maintenance_run records each
# task_maintain() call of the server it runs on, and the task-maintain job runs every minute in
# both clusters: its rows are compared up to $cutoff (5 s before the source's state is taken; a
# call takes milliseconds), so a run of either cluster after that is not a difference.
state() { # psql-function
	"$1" -At -v "cutoff=$cutoff" <<'SQL'
SELECT format('table %s: %s rows, md5 %s', c.oid::regclass,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s t %s', c.oid::regclass, w.w), false, true, '')))[1],
              (xpath('/row/m/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) AS m FROM %s t %s',
                                                          c.oid::regclass, w.w), false, true, '')))[1])
  FROM pg_class c,
       LATERAL (SELECT CASE WHEN c.oid = 'task.maintenance_run'::regclass THEN format('WHERE t.at < %L', :'cutoff') ELSE '' END AS w) w
 WHERE c.relnamespace = 'task'::regnamespace AND c.relkind = 'r'
UNION ALL
SELECT format('sequence %s: %s', c.oid::regclass,
              (xpath('/row/v/text()', query_to_xml(format('SELECT last_value || '' '' || is_called AS v FROM %s', c.oid::regclass), false, true, '')))[1])
  FROM pg_class c WHERE c.relnamespace = 'task'::regnamespace AND c.relkind = 'S'
UNION ALL
SELECT format('cron job %s: %s | %s | %s', jobname, schedule, command, database) FROM cron.job
ORDER BY 1;
SQL
}
cutoff=$(src -At -c "SELECT clock_timestamp() - interval '5 seconds'")
state src >"$out/source.txt"
grep -q "table task.task: 1[0-9] rows" "$out/source.txt" || fail "the source holds too few tasks: $(grep 'task.task:' "$out/source.txt")"
src -At -c "SELECT string_agg(DISTINCT status::text, ',' ORDER BY status::text) FROM task.task" >"$out/statuses.txt"
[ "$(cat "$out/statuses.txt")" = "blocked,cancelled,completed,failed,processing,queued,rescheduled" ] ||
	fail "the source lacks a status: $(cat "$out/statuses.txt")"

"$bindir/pg_dumpall" -h "$sock" -p "$port" -U postgres --roles-only -f "$out/roles.sql"
"$bindir/pg_dump" -h "$sock" -p "$port" -U postgres -Fc -f "$out/app.dump" app 2>"$out/dump-c.log" || fail "pg_dump -Fc failed: $(cat "$out/dump-c.log")"
"$bindir/pg_dump" -h "$sock" -p "$port" -U postgres -Fp -f "$out/app.sql" app 2>"$out/dump-p.log" || fail "pg_dump -Fp failed: $(cat "$out/dump-p.log")"
rm -rf "$out/app.dir"
"$bindir/pg_dump" -h "$sock" -p "$port" -U postgres -Fd -j 2 -f "$out/app.dir" app 2>"$out/dump-j.log" || fail "pg_dump -Fd failed: $(cat "$out/dump-j.log")"
"$bindir/pg_dump" -h "$sock" -p "$port" -U postgres -Fc --data-only --schema=task -f "$out/task-data.dump" app 2>"$out/dump-d.log" ||
	fail "pg_dump --data-only --schema=task failed: $(cat "$out/dump-d.log")"
# pg_dump's one warning: the self-referencing parent key of task.task ("circular foreign-key
# constraints on this table: task"). Harmless: one table's rows are restored by one COPY, and
# foreign keys are checked at the end of the statement (docs/OPERATIONS.md). Anything else fails.
for log in "$out"/dump-*.log; do
	if grep -v -e 'circular foreign-key constraints on this table:' -e '^pg_dump: detail: task$' \
		-e 'You might not be able to restore the dump without using --disable-triggers' \
		-e 'Consider using a full dump instead of a --data-only dump' "$log" | grep -q .; then
		fail "pg_dump warned ($log): $(cat "$log")"
	fi
done

# ---- restore into a new cluster (unix socket only), compare, work on it
round() { # NAME: compare the restored database with the source, then work on it
	local name=$1
	state dst >"$out/$name.txt"
	diff -u "$out/source.txt" "$out/$name.txt" >"$out/$name.diff" || { head -n 60 "$out/$name.diff"; fail "$name: the restored database differs (- source, + restored)"; }
	# a worker and a client on the restored database
	dst -At >"$out/$name-work.txt" 2>&1 <<'SQL' || fail "$name: the worker or the client failed: $(tail -5 "$out/$name-work.txt")"
SET search_path = task, public;
SET ROLE up_svc;
SELECT 'dequeued ' || code FROM task_dequeue('up/main');
SELECT 'completed ' || c.status FROM task.task t, task_complete(t.id, result => '{"ok": true}', token => t.lease_token) c
 WHERE t.status = 'processing' AND t.queue = 'up/main';
SELECT 'created ' || status FROM task_create('up.job', 'up/main');
RESET ROLE;
SET ROLE up_client;
SELECT 'client sees ' || count(*) FROM task_list();
SELECT 'client result ' || (task_result((j->>'id')::task.task_id))::text FROM task_list() j WHERE j->>'name' = 'done';
RESET ROLE;
-- the marketplace: a hire from the restored wallet, completed and accepted; the ledger holds
SET ROLE rs_market_client;
SELECT 'hired ' || (task_hire('writing', '{"topic": "after the restore"}', 1000, name => 'after') ->> 'status');
RESET ROLE;
SET ROLE rs_market_agent;
SELECT 'agent ' || c.status FROM task_list() j, task_complete((j->>'id')::task.task_id, '{"words": 3}') c WHERE j->>'name' = 'after';
RESET ROLE;
SET ROLE rs_market_client;
SELECT 'escrow ' || (task_accept((SELECT (j->>'id')::task.task_id FROM task_list() j WHERE j->>'name' = 'after'))
                     -> 'marketplace' -> 'escrow' ->> 'state');
SELECT 'disputed ' || (task_get((SELECT (j->>'id')::task.task_id FROM task_list() j WHERE j->>'name' = 'disputed'))
                       -> 'marketplace' -> 'escrow' ->> 'state');
RESET ROLE;
SELECT 'market violations ' || count(*) FROM task_market_check();
-- pg_cron's jobs came with the dump, stored for the source's port: task_cron_enable() (the docs'
-- step after a restore) makes them this server's
SELECT 'cron enabled ' || (task_cron_enable() > 0);
SELECT 'cron jobs here ' || count(*) FILTER (WHERE nodeport = current_setting('port')::integer AND database = current_database())
       || ' of ' || count(*) FROM cron.job;
SQL
	cat >"$out/$name-work.expected" <<'EOF2'
dequeued up.job
completed completed
created queued
client sees 2
client result {"answer": 42}
hired Queued
agent completed
escrow released
disputed disputed
market violations 0
cron enabled true
cron jobs here 2 of 2
EOF2
	diff -u "$out/$name-work.expected" "$out/$name-work.txt" || fail "$name: unexpected worker or client answers"
}
target() { # start a fresh restored cluster listening on its unix socket only
	cluster_start "$dir/target" "$tport" app "listen_addresses=" >/dev/null
	cluster_psql "$dir/target" "$tport" -q -d postgres -f "$out/roles.sql" >"$out/roles.log" 2>&1
}

target
"$bindir/pg_restore" -h "$(h_sockdir "$(realpath -m "$dir/target")")" -p "$tport" -U postgres -d app "$out/app.dump" >"$out/restore-c.log" 2>&1 ||
	fail "pg_restore of the custom dump failed: $(head -20 "$out/restore-c.log")"
round custom
cluster_stop "$dir/target"

target
dst -f "$out/app.sql" >"$out/restore-p.log" 2>&1 || fail "psql < plain dump failed: $(head -20 "$out/restore-p.log")"
round plain
cluster_stop "$dir/target"

# in parallel (docs/OPERATIONS.md): pg_restore -j loads tables side by side, and the rows of the
# extension's tables, whose foreign keys CREATE EXTENSION made, failed when a table came before
# the one it refers to; they go first, in one job (pg_dump orders them by their foreign keys)
target
tsock=$(h_sockdir "$(realpath -m "$dir/target")")
{ "$bindir/pg_restore" -h "$tsock" -p "$tport" -U postgres -d app --section=pre-data "$out/app.dir" &&
  "$bindir/pg_restore" -h "$tsock" -p "$tport" -U postgres -d app --section=data -n task "$out/app.dir" &&
  "$bindir/pg_restore" -h "$tsock" -p "$tport" -U postgres -d app -j 4 --section=data -N task "$out/app.dir" &&
  "$bindir/pg_restore" -h "$tsock" -p "$tport" -U postgres -d app -j 4 --section=post-data "$out/app.dir"; } \
	>"$out/restore-j.log" 2>&1 || fail "the parallel restore failed: $(head -20 "$out/restore-j.log")"
round parallel
cluster_stop "$dir/target"

target
dst -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION task' >/dev/null
# the history tables are not the extension's: create those of the source's months first (docs/OPERATIONS.md)
for m in $(src -At -c "SELECT to_date(substr(c.relname, 6), 'YYYYMM') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                        WHERE i.inhparent = 'task.task'::regclass"); do
	dst -c "SELECT task._history_create('$m')" >/dev/null
done
"$bindir/pg_restore" -h "$(h_sockdir "$(realpath -m "$dir/target")")" -p "$tport" -U postgres -d app "$out/task-data.dump" >"$out/restore-d.log" 2>&1 ||
	fail "pg_restore --data-only --schema=task failed: $(head -20 "$out/restore-d.log")"
# the pg_cron jobs are not in schema task: re-create them as the docs say
dst -At -c "SELECT task.task_cron_enable()" >/dev/null
# (task_cron_enable also makes the jobs of the restored schedules: compared with the source's too)
state dst >"$out/data-only.txt"
diff -u "$out/source.txt" "$out/data-only.txt" >"$out/data-only.diff" || { head -n 60 "$out/data-only.diff"; fail "data-only: the restored schema task differs"; }
cluster_stop "$dir/target"

# pg_cron on a unix socket only: the source's task-maintain job (task_cron_enable above, a while
# ago) runs in a background worker; its first run (within a minute) must have succeeded
src() { cluster_psql "$dir/source" "$port" -v ON_ERROR_STOP=1 -q -d app "$@"; }
for _ in $(seq 1 75); do
	n=$(src -At -c "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'task-maintain' AND d.status IN ('succeeded', 'failed')")
	[ "$n" = 0 ] || break
	sleep 1
done
src -At -c "SELECT status || ' ' || return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'task-maintain' ORDER BY runid LIMIT 1" >"$out/cron.txt"
grep -q '^succeeded' "$out/cron.txt" || fail "the task-maintain job did not succeed on a unix-socket-only server: $(cat "$out/cron.txt")"
cluster_stop "$dir/source"
h_result restore ok
