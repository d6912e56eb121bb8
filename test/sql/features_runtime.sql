-- Issue 14, worker runtime: the maximum run time of an attempt (per queue
-- and per task), cancelling a processing task for real (the worker learns
-- it with 55T01, waiters wake), and who holds a task (the worker identity
-- stamped at each claim, in task_get, the monitoring and the log).
-- Sleeps are a few tens of milliseconds, against limits of 10 ms.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the service id sequence as this test found it, restored at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 180) AS _, setval('task.task_serial_seq', 1800000) AS _ \gset
SELECT setval('task.account_id_seq', 1800) AS _ \gset

SELECT task_service_create('feat-runtime', 'frt') AS svc \gset
SELECT task_account_create('FRT Ops', 'Operations') AS ops \gset
SELECT task_account_create('FRT Client', 'Client') AS client \gset
CREATE ROLE frt_svc; CREATE ROLE frt_ops; CREATE ROLE frt_client; CREATE ROLE frt_monitor;
GRANT task_monitor TO frt_monitor;
SELECT task_login_grant('frt_svc', :'svc'), task_login_grant('frt_ops', :'ops'),
       task_login_grant('frt_client', :'client');
-- log messages name the worker's backend pid: shown as N
CREATE FUNCTION pg_temp.msgs(id task.task_id) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT regexp_replace(l.message, 'pid \d+', 'pid N') FROM task.task_logs(id) l ORDER BY l.at, l.message
$$;

-- ------------------------------------------------------------ maximum run time: settings
SET ROLE frt_svc;
SELECT name, max_run_time FROM task_queue_create('frt/limited', max_run_time => '10 milliseconds', max_attempts => 1);
SELECT name, max_run_time FROM task_queue_create('frt/free');
SELECT task_queue_create('frt/bad', max_run_time => '-1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('frt.job', 'frt/free', max_run_time => '-1 second');
\echo :LAST_ERROR_SQLSTATE
-- 0 means none, on a task and on a queue
SELECT max_run_time FROM task_create('frt.job', 'frt/free', max_run_time => '0');
SELECT max_run_time FROM task_queue_configure('frt/free', max_run_time => '1 hour');
SELECT max_run_time FROM task_queue_configure('frt/free', lease => '5 minutes');   -- unchanged
SELECT max_run_time FROM task_queue_configure('frt/free', max_run_time => '0');
SELECT count(*) AS created FROM task_create_many('frt.bulk', 'frt/free', ARRAY['{}', '{}']::jsonb[], max_run_time => '2 minutes');
SELECT DISTINCT max_run_time FROM task.task WHERE code = 'frt.bulk';
-- below the API the table refuses it too: the transition trigger checks
-- what a CHECK constraint did (23514, naming task_max_run_time_check)
RESET ROLE;
UPDATE task.task SET max_run_time = '-1 second' WHERE code = 'frt.bulk';
\echo :LAST_ERROR_SQLSTATE
SET ROLE frt_svc;
-- drain the free queue so the next claims are the tasks below
SELECT count(*) AS drained FROM (SELECT task_complete(d.id, token => d.lease_token) FROM task_dequeue('frt/free', n => 10) d) x;
RESET ROLE;

-- ------------------------------------------------------------ a task's own limit bounds its lease
SET ROLE frt_svc;
SELECT id AS t1 FROM task_create('frt.job', 'frt/free', max_run_time => '10 milliseconds', max_attempts => 2) \gset
SELECT lease_token AS tok1, lease_until <= started_at + interval '10 milliseconds' AS lease_bounded
  FROM task_dequeue('frt/free', lease => '5 minutes') \gset
SELECT :'lease_bounded' AS lease_bounded;
SELECT pg_sleep(0.05) \gset
-- past the limit, the worker's heartbeat and progress are refused: it stops
SELECT task_heartbeat(:'t1', :tok1);
\echo :LAST_ERROR_SQLSTATE
SELECT task_progress(:'t1', 50, token => :tok1);
\echo :LAST_ERROR_SQLSTATE
-- the next dequeue on the short queue rescues it (attempts remain: queued
-- again) and claims it again
SELECT attempts, lease_token AS tok2 FROM task_dequeue('frt/free', lease => '5 minutes') \gset
SELECT :attempts AS attempts;
SELECT * FROM pg_temp.msgs(:'t1');
SELECT error FROM task.task WHERE id = :'t1';
-- the first worker comes back: lease lost (another claim holds the task now)
SELECT task_complete(:'t1', token => :tok1);
\echo :LAST_ERROR_SQLSTATE
-- a worker that completes after the limit but before any rescue is not refused
SELECT status FROM task_complete(:'t1', token => :tok2);
RESET ROLE;

-- ------------------------------------------------------------ a queue's limit, rescued by task_maintain
SET ROLE frt_svc;
SELECT id AS t2 FROM task_create('frt.job', 'frt/limited') \gset
SELECT lease_token AS tok FROM task_dequeue('frt/limited', lease => '5 minutes') \gset
SELECT pg_sleep(0.05) \gset
SELECT task_heartbeat(:'t2', :tok);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE frt_ops;
SELECT (task_maintain() ->> 'leases_rescued')::int >= 1 AS rescued;
RESET ROLE;
SET ROLE frt_svc;
SELECT status, attempts, error FROM task_get(:'t2') j, task.task x WHERE x.id = :'t2';
SELECT * FROM pg_temp.msgs(:'t2');
SELECT task_heartbeat(:'t2', :tok);
\echo :LAST_ERROR_SQLSTATE
-- a heartbeat never extends the lease past the limit
SELECT max_run_time FROM task_queue_configure('frt/limited', max_run_time => '1 hour');
SELECT id AS t3 FROM task_create('frt.job', 'frt/limited') \gset
SELECT lease_token AS tok FROM task_dequeue('frt/limited') \gset
SELECT lease_until = started_at + interval '1 hour' AS capped
  FROM task_heartbeat(:'t3', :tok, lease => '3 hours');
SELECT lease_until > now() + interval '30 minutes' AS extended
  FROM task_heartbeat(:'t3', :tok, lease => '40 minutes');
SELECT status FROM task_complete(:'t3', token => :tok);
RESET ROLE;

-- ------------------------------------------------------------ who holds a task
SET ROLE frt_svc;
SELECT id AS t4 FROM task_create('frt.job', 'frt/free', access => ARRAY[:'client']) \gset
SELECT lease_token AS tok FROM task_dequeue('frt/free') \gset
-- the owning service sees the worker: application_name, address (none
-- over a Unix socket), backend pid, since when
SELECT j->'worker'->>'name' AS name, j->'worker' ? 'address' AS has_address,
       (j->'worker'->>'pid')::int = pg_backend_pid() AS my_pid,
       j->'worker'->>'since' = j->'audit'->'started'->>'at' AS since_claim
  FROM task_get(:'t4') j;
RESET ROLE;
SET ROLE frt_ops;
SELECT (task_get(:'t4')->'worker'->>'pid')::int = pg_backend_pid() AS ops_sees_worker;
RESET ROLE;
-- an account on the access list does not
SET ROLE frt_client;
SELECT j->>'status' AS status, j ? 'worker' AS client_sees_worker FROM task_get(:'t4') j;
SELECT count(*) FILTER (WHERE j ? 'worker') AS listed_with_worker FROM task_list() j;
RESET ROLE;
-- the monitoring: processing tasks per worker
SET ROLE frt_monitor;
SELECT queue, worker_name, worker_addr, worker_pid = pg_backend_pid() AS my_pid, processing, expired_leases
  FROM task.monitor_workers WHERE service = :'svc';
RESET ROLE;
-- a finished task shows no holder
SET ROLE frt_svc;
SELECT status FROM task_complete(:'t4', token => :tok);
SELECT task_get(:'t4') ? 'worker' AS has_worker;
RESET ROLE;
-- the row keeps the last holder
SELECT worker_name, worker_addr, worker_pid = pg_backend_pid() AS my_pid FROM task.task WHERE id = :'t4';
-- a direct move into processing by the owner is stamped too
SET ROLE frt_svc;
SELECT id AS t5 FROM task_create('frt.job', 'frt/elsewhere') \gset
RESET ROLE;
SET application_name = 'frt-direct';
UPDATE task.task SET status = 'processing' WHERE id = :'t5';
SELECT worker_name, worker_pid = pg_backend_pid() AS my_pid FROM task.task WHERE id = :'t5';
RESET application_name;
-- a lease expiry names the worker that lost the task
SET ROLE frt_svc;
SELECT id AS t6 FROM task_create('frt.job', 'frt/free') \gset
SELECT lease_token AS tok FROM task_dequeue('frt/free', lease => '10 milliseconds') \gset
SELECT pg_sleep(0.05) \gset
SELECT attempts FROM task_dequeue('frt/free');
SELECT * FROM pg_temp.msgs(:'t6');
SELECT task_heartbeat(:'t6', :tok);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ------------------------------------------------------------ cancelling a processing task
SET ROLE frt_svc;
SELECT id AS t7 FROM task_create('frt.job', 'frt/cancel') \gset
SELECT lease_token AS tok FROM task_dequeue('frt/cancel') \gset
RESET ROLE;
SET ROLE frt_ops;
SELECT status, error FROM task_cancel(:'t7', 'customer withdrew the order');
RESET ROLE;
SET ROLE frt_svc;
-- every call of the worker with its token answers 55T01, distinct from lease lost (55000)
SELECT task_heartbeat(:'t7', :tok);
\echo :LAST_ERROR_SQLSTATE
SELECT task_progress(:'t7', 50, token => :tok);
\echo :LAST_ERROR_SQLSTATE
SELECT task_complete(:'t7', result => '{}', token => :tok);
\echo :LAST_ERROR_SQLSTATE
SELECT task_fail(:'t7', 'gave up', token => :tok);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS completed FROM task_dequeue('frt/cancel', complete => :'t7', complete_token => :tok);
\echo :LAST_ERROR_SQLSTATE
-- without the token it is the plain status error
SELECT task_progress(:'t7', 50);
\echo :LAST_ERROR_SQLSTATE
-- the log: the transition, and the hand-over naming attempt, worker and reason
SELECT * FROM pg_temp.msgs(:'t7');
-- task_wait on it returns at once with the final status
SELECT j->>'status' AS status FROM task_wait(:'t7', '5 seconds') j;
-- a cancel without a reason still names the worker; a queued task has none
SELECT id AS t8 FROM task_create('frt.job', 'frt/cancel') \gset
SELECT lease_token AS tok FROM task_dequeue('frt/cancel') \gset
SELECT status FROM task_cancel(:'t8');
SELECT * FROM pg_temp.msgs(:'t8');
SELECT id AS t9 FROM task_create('frt.job', 'frt/cancel') \gset
SELECT status FROM task_cancel(:'t9');
SELECT * FROM pg_temp.msgs(:'t9');
-- a bulk cancel takes processing tasks from their workers the same way
SELECT id AS t10 FROM task_create('frt.job', 'frt/bulk') \gset
SELECT id AS t11 FROM task_create('frt.job', 'frt/bulk') \gset
SELECT lease_token AS tok FROM task_dequeue('frt/bulk') \gset
SELECT changed, more FROM task_bulk('cancel', queue => 'frt/bulk', reason => 'queue retired');
SELECT task_heartbeat(:'t10', :tok);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.msgs(:'t10');
SELECT * FROM pg_temp.msgs(:'t11');
RESET ROLE;

-- ------------------------------------------------------------ HTTP: 55T01 is 410
DO $$
BEGIN
    PERFORM task._http_raise('55T01', 'task X was cancelled', NULL, NULL);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'sqlstate %', SQLSTATE;
END
$$;

RESET ROLE;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
