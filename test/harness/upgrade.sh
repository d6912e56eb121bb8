#!/usr/bin/env bash
# The update from the released 0.1.0: install 0.1.0 from its frozen script, fill it with data
# (test/upgrade/data.sql), ALTER EXTENSION task UPDATE, check the data came through
# (test/upgrade/check.sql) and that the updated schema is the fresh install's, object for object
# (test/harness/fingerprint.sql); dump the updated database and restore it into a fresh 0.2.0
# install (its rows compared column by column: an update appends new columns where a fresh install
# has them elsewhere), a worker and a client working there; then run the regression tests and isolation specs on that updated
# database, its tables emptied (check.sh with TASK_CHECK_EXISTING=database: pg_regress --use-existing).
# Prints "upgrade ... ok|FAILED" (check.sh counts it); exit 1 on failure.
# TASK_UPGRADE_SUITE=0 skips the suite run.
# Port: TASK_CHECK_UPGRADE_PORT (default 58435); directory: $TASK_CHECK_DIR/upgrade or tmp/check-upgrade.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"
port=${TASK_CHECK_UPGRADE_PORT:-58435}
dir=$(h_check_dir upgrade "$root")
out=$dir/out
fail() { echo "upgrade: $*"; h_result upgrade FAILED; cluster_stop "$dir/cluster"; exit 1; }
# The updated database is the suite's, contrib_regression, which is also pg_cron's
# (cron.database_name): test/upgrade/data.sql schedules a job.
updated=contrib_regression
cluster_start "$dir/cluster" "$port" "$updated" >/dev/null
mkdir -p "$out"
q() { cluster_psql "$dir/cluster" "$port" -v ON_ERROR_STOP=1 -q "$@"; }
q -d postgres -c 'CREATE DATABASE fresh'
q -d fresh -c 'CREATE EXTENSION task CASCADE'
q -d "$updated" -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION pgtap' -c "CREATE EXTENSION task VERSION '0.1.0' CASCADE" >"$out/install.log" 2>&1 || fail "0.1.0 did not install: $(tail -5 "$out/install.log")"
if [ -f test/upgrade/data.sql ]; then
	q -d "$updated" -f test/upgrade/data.sql >"$out/data.log" 2>&1 || fail "loading test/upgrade/data.sql into 0.1.0 failed: $(tail -5 "$out/data.log")"
fi
q -d "$updated" -c 'ALTER EXTENSION task UPDATE' >"$out/update.log" 2>&1 || fail "ALTER EXTENSION task UPDATE failed: $(tail -5 "$out/update.log")"
if [ -f test/upgrade/check.sql ]; then
	q -d "$updated" -f test/upgrade/check.sql >"$out/check.log" 2>&1 || fail "test/upgrade/check.sql failed after the update: $(tail -5 "$out/check.log")"
fi
q -d fresh -f test/harness/fingerprint.sql >"$out/fresh.txt"
q -d "$updated" -f test/harness/fingerprint.sql >"$out/updated.txt"
if ! diff -u "$out/fresh.txt" "$out/updated.txt" >"$out/fingerprint.diff"; then
	echo "upgrade: the updated schema differs from a fresh install (- fresh, + updated):"
	head -n 200 "$out/fingerprint.diff"
	fail "fingerprints differ"
fi
# the updated database's dump, restored where CREATE EXTENSION task makes 0.2.0 afresh (pg_cron's
# entries left out: it installs only in cron.database_name). Rows are compared as jsonb (by column
# name), the sequences by position.
sock=$(h_sockdir "$(realpath -m "$dir/cluster")")
bindir=$(h_bindir)
"$bindir/pg_dump" -h "$sock" -p "$port" -U postgres -Fc -f "$out/updated.dump" "$updated" 2>"$out/dump.log" ||
	fail "pg_dump of the updated database failed: $(cat "$out/dump.log")"
"$bindir/pg_restore" -l "$out/updated.dump" | grep -v -e ' pg_cron' -e ' cron ' >"$out/restore.list"
q -d postgres -c 'CREATE DATABASE restored'
"$bindir/pg_restore" -h "$sock" -p "$port" -U postgres -d restored -L "$out/restore.list" "$out/updated.dump" >"$out/restore.log" 2>&1 ||
	fail "restoring the updated database's dump failed: $(head -20 "$out/restore.log")"
rows() { # DB: every table and sequence of schema task, by column name
	q -d "$1" -At <<'SQL'
SELECT format('%s: %s', c.oid::regclass,
              (xpath('/row/m/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(to_jsonb(t)::text, E''\n'' ORDER BY to_jsonb(t)::text), '''')) AS m FROM %s t',
                                                          c.oid::regclass), false, true, '')))[1])
  FROM pg_class c WHERE c.relnamespace = 'task'::regnamespace AND c.relkind = 'r'
UNION ALL
SELECT format('%s: %s', c.oid::regclass,
              (xpath('/row/v/text()', query_to_xml(format('SELECT last_value || '' '' || is_called AS v FROM %s', c.oid::regclass), false, true, '')))[1])
  FROM pg_class c WHERE c.relnamespace = 'task'::regnamespace AND c.relkind = 'S'
ORDER BY 1;
SQL
}
rows "$updated" >"$out/rows-updated.txt"
rows restored >"$out/rows-restored.txt"
diff -u "$out/rows-updated.txt" "$out/rows-restored.txt" >"$out/rows.diff" || { head -n 40 "$out/rows.diff"; fail "the updated database's dump restored differently (- updated, + restored)"; }
q -d restored -At >"$out/restored-work.txt" 2>&1 <<'SQL' || fail "working on the restored dump of the updated database failed: $(tail -5 "$out/restored-work.txt")"
SET search_path = task, public;
SELECT task.account_text(account) AS client FROM task.login WHERE role = 'up_client'::regrole \gset
SET ROLE up_svc;
SELECT 'created ' || status FROM task_create('up.after', 'up/main', access => ARRAY[:'client']);
SELECT 'completed ' || c.status FROM task_dequeue('up/main', n => 100) d, task_complete(d.id, result => '{"restored": true}', token => d.lease_token) c
 WHERE d.code = 'up.after';
RESET ROLE;
SET ROLE up_client;
SELECT 'client result ' || (task_result((j->>'id')::task.task_id))::text FROM task_list() j WHERE j->>'code' = 'up.after';
RESET ROLE;
SQL
printf '%s\n' 'created queued' 'completed completed' 'client result {"restored": true}' >"$out/restored-work.expected"
diff -u "$out/restored-work.expected" "$out/restored-work.txt" || fail "unexpected answers on the restored dump of the updated database"
q -d postgres -c 'DROP DATABASE restored'
if [ "${TASK_UPGRADE_SUITE:-1}" != 0 ]; then
	# the whole suite on the updated database; its own lines go to a log (check.sh counts this one).
	# The suite's expected output pins ids drawn from fresh sequences: empty the tables and restart
	# the sequences first (the schema stays the updated one).
	q -d "$updated" >"$out/clear.log" 2>&1 <<'SQL' || fail "clearing the updated database failed: $(tail -5 "$out/clear.log")"
DELETE FROM cron.job WHERE jobname = 'task-maintain' OR jobname LIKE 'task-schedule:%';
-- the HTTP schema left by the update becomes the extension task_http, as docs/OPERATIONS.md says
-- (test/sql/http.sql creates it again: CREATE SCHEMA api; CREATE EXTENSION task_http SCHEMA api)
DROP SCHEMA api CASCADE;
TRUNCATE task.service, task.account, task.login, task.queue, task.task, task.task_access,
         task.task_dependency, task.task_log, task.schedule RESTART IDENTITY CASCADE;
ALTER SEQUENCE task.task_serial_seq RESTART;
SQL
	# the specs' database, created at 0.1.0 and updated too
	q -d postgres -c 'CREATE DATABASE isolation_regression'
	q -d isolation_regression -c "CREATE EXTENSION task VERSION '0.1.0'" -c 'ALTER EXTENSION task UPDATE' >>"$out/clear.log" 2>&1 ||
		fail "0.1.0 and its update failed in isolation_regression: $(tail -5 "$out/clear.log")"
	if ! PGHOST=$(h_sockdir "$(realpath -m "$dir/cluster")") PGPORT=$port PGUSER=postgres TASK_CHECK_DIR=$dir/suite \
		TASK_CHECK_EXISTING=database test/harness/check.sh >"$out/suite.log" 2>&1; then
		grep -E '^(failed:|[0-9]+ passed)' "$out/suite.log" | sed 's/^/upgrade: suite on the updated database: /'
		sed -n '/regression.diffs$/,$p' "$out/suite.log" | head -n 80
		fail "the suite failed on the updated database ($out/suite.log)"
	fi
	echo "upgrade: the suite on the updated database: $(tail -n 1 "$out/suite.log")"
fi
cluster_stop "$dir/cluster"
h_result upgrade ok
