-- Data for the upgrade and restore checks (test/harness/upgrade.sh, restore.sh):
-- tasks in every status, logs, access lists, dependencies, a parent and its
-- children, a schedule, advanced sequences. It calls only the 0.1.0 API
-- (sql/task--0.1.0.sql), run by a superuser (psql -v ON_ERROR_STOP=1).
-- test/upgrade/check.sql reads it back after the update.
SET search_path = task, public;
SELECT setval('task.service_id_seq', 70) AS _, setval('task.task_serial_seq', 700000) AS _,
       setval('task.account_id_seq', 7000) AS _;

SELECT task_service_create('upgrade-svc', 'up') AS svc \gset
SELECT task_account_create('upgrade-client', 'Client') AS client \gset
SELECT task_account_create('upgrade-ops', 'Operations') AS ops \gset
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'up_svc') THEN CREATE ROLE up_svc; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'up_client') THEN CREATE ROLE up_client; END IF;
END $$;
SELECT task_login_grant('up_svc', :'svc');
SELECT task_login_grant('up_client', :'client');
SELECT task_queue_create('up/main', owner => :'svc') IS NOT NULL AS made;
SELECT task_queue_create('up/other', owner => :'svc', lease => '1 hour', max_attempts => 2) IS NOT NULL AS made;

SET ROLE up_svc;
-- queued, with parameters and an access list
SELECT id AS queued FROM task_create('up.job', 'up/main', name => 'queued one', parameters => '{"n": 1}',
                                    access => ARRAY[:'client']) \gset
-- completed, with a result and a worker log
SELECT id AS done FROM task_create('up.job', 'up/other', name => 'done', access => ARRAY[:'client']) \gset
SELECT lease_token AS tok FROM task_dequeue('up/other') \gset
SELECT task_log(:'done', 'half way', success => 5, total => 10) IS NULL AS logged;
SELECT progress FROM task_progress(:'done', 50, token => :tok);
SELECT status FROM task_complete(:'done', result => '{"answer": 42}', token => :tok);
-- completed with a resource
SELECT id AS done_res FROM task_create('up.job', 'up/other') \gset
SELECT lease_token AS tok FROM task_dequeue('up/other') \gset
SELECT status FROM task_complete(:'done_res', resource => '/files/report.pdf', token => :tok);
-- failed for good
SELECT id AS failed FROM task_create('up.job', 'up/other', max_attempts => 1) \gset
SELECT lease_token AS tok FROM task_dequeue('up/other') \gset
SELECT status FROM task_fail(:'failed', 'it broke', token => :tok);
-- rescheduled by a failed attempt (retried later)
SELECT id AS retried FROM task_create('up.job', 'up/other') \gset
SELECT lease_token AS tok FROM task_dequeue('up/other') \gset
SELECT status FROM task_fail(:'retried', 'try again', token => :tok);
-- processing (claimed, lease running)
SELECT id AS running FROM task_create('up.job', 'up/other') \gset
SELECT id = :'running' AS claimed FROM task_dequeue('up/other');
-- cancelled
SELECT id AS cancelled FROM task_create('up.job', 'up/main') \gset
SELECT status FROM task_cancel(:'cancelled', 'not needed');
-- a parent with a child, the child created after the parent changed (so the
-- child's row precedes its parent's in the heap: a restore must not care)
SELECT id AS parent FROM task_create('up.parent', 'up/main', name => 'parent') \gset
SELECT id AS child FROM task_create('up.child', 'up/main', parent => :'parent') \gset
SELECT parameters FROM task_progress(:'parent', parameters => '{"step": 2}');
-- blocked on a dependency, and a queued task scheduled later
SELECT id AS blocked FROM task_create('up.job', 'up/main', status => 'blocked',
                                      depends_on => ARRAY[:'queued'::task_id]) \gset
SELECT id AS later FROM task_create('up.job', 'up/main', run_at => now() + interval '1 day',
                                    ordering_key => 'k1', idempotency_key => 'idem-1') \gset
-- a schedule (its pg_cron job lives in the cron database)
SELECT name FROM task_schedule('nightly', '0 3 * * *', '{"code": "up.nightly", "queue": "up/main"}');
RESET ROLE;

SELECT status, count(*) FROM task.task GROUP BY status ORDER BY status;
