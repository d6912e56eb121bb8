#!/usr/bin/env bash
# The update from the released 0.1.0: install 0.1.0 from its frozen script, fill it with data
# (test/upgrade/data.sql), ALTER EXTENSION task UPDATE, check the data came through
# (test/upgrade/check.sql) and that the updated schema is the fresh install's, object for object
# (test/harness/fingerprint.sql); then run the regression tests and isolation specs on that updated
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
