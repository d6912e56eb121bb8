#!/usr/bin/env bash
# pg_cron over libpq on a unix socket only (issue 11): a cluster with listen_addresses = '',
# cron.use_background_workers = off and cron.host = its socket directory -- the other mode
# task_cron_enable() supports (the regression suite runs pg_cron in background workers, where
# maintenance.sql checks the counts in return_message). Over libpq pg_cron 1.4 records only
# the tag, "CALL" for CALL task.task_maintain_all() (src/pg_cron.c, GetTaskFeedback); the counts of that
# run must be found by task_maintain_runs(), joined on the job's pid. Polls for the first run
# (up to 75 s: pg_cron runs at minute boundaries). Prints "cron ... ok|FAILED" (check.sh counts
# it); exit 1 on failure. Port: TASK_CHECK_CRON_PORT (default 58450).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"
port=${TASK_CHECK_CRON_PORT:-58450}
dir=$(h_check_dir cron "$root")
fail() {
	echo "cron: $*"
	h_result cron FAILED
	cluster_stop "$dir"
	exit 1
}
rm -rf "$dir"
mkdir -p "$dir"
h_own "$dir"
sock=$(h_sockdir "$(realpath -m "$dir")")
cluster_start "$dir" "$port" app "listen_addresses=" "cron.use_background_workers=off" "cron.host=$sock" >/dev/null
q() { cluster_psql "$dir" "$port" -v ON_ERROR_STOP=1 -q -d app "$@"; }

q -c 'CREATE EXTENSION pg_cron' -c 'CREATE EXTENSION task' >"$dir/install.log" 2>&1 ||
	fail "install failed: $(tail -5 "$dir/install.log")"
# an expired lease for the job to rescue; task_cron_enable must not warn (the socket is reachable)
q >"$dir/setup.log" 2>&1 <<'SQL' || fail "setup failed: $(tail -5 "$dir/setup.log")"
SELECT task.task_service_create('cron', 'cr') AS svc \gset
SELECT task.task_queue_create('cr/q', owner => :'svc') IS NOT NULL;
CREATE ROLE cr_svc;
SELECT task.task_login_grant('cr_svc', :'svc');
SET ROLE cr_svc;
SELECT task.task_create('cr.job', 'cr/q') IS NOT NULL;
SELECT count(*) FROM task.task_dequeue('cr/q');
RESET ROLE;
UPDATE task.task SET lease_until = now() - interval '1 minute';
SQL
q -c 'SELECT task.task_cron_enable()' >"$dir/enable.log" 2>&1 || fail "task_cron_enable failed: $(cat "$dir/enable.log")"
! grep -q WARNING "$dir/enable.log" || fail "task_cron_enable warned: $(cat "$dir/enable.log")"

n=0
for _ in $(seq 1 75); do
	n=$(q -At -c "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'task-maintain' AND d.status IN ('succeeded', 'failed')")
	[ "$n" = 0 ] || break
	sleep 1
done
[ "$n" != 0 ] || fail "the task-maintain job did not run within 75 s"
got=$(q -At -F ' | ' -c "SELECT d.status, d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'task-maintain' ORDER BY d.runid LIMIT 1")
[ "$got" = "succeeded | CALL" ] || fail "over libpq the first run should record 'succeeded | CALL', not: $got"
got=$(q -At -F ' | ' -c "SELECT m.cron_status, m.cron_message, m.result->>'leases_rescued', m.by
                           FROM task.task_maintain_runs() m
                          WHERE m.cron_runid = (SELECT min(d.runid) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                                                 WHERE j.jobname = 'task-maintain')")
[ "$got" = "succeeded | CALL | 1 | postgres" ] ||
	fail "task_maintain_runs() should show the run's counts (succeeded | CALL | 1 | system), not: '$got'"
cluster_stop "$dir"
h_result cron ok
