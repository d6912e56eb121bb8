-- Issue 14, writing: access list changes after creation, unique-while-active
-- keys and debounce, key reuse for another request, reschedule without
-- using up an attempt, schedules in a new queue of the caller's namespace.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the service id sequence as this test found it, restored at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 150) AS _, setval('task.task_serial_seq', 1500000) AS _ \gset
SELECT setval('task.account_id_seq', 1500) AS _ \gset

SELECT task_service_create('feat-write', 'fw') AS svc \gset
SELECT task_service_create('feat-write-other', 'fwo') AS other \gset
SELECT task_account_create('FW Ops', 'Operations') AS ops \gset
SELECT task_account_create('FW Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('FW Client', 'Client') AS client \gset
CREATE ROLE fw_svc; CREATE ROLE fw_other; CREATE ROLE fw_ops; CREATE ROLE fw_vendor; CREATE ROLE fw_client;
SELECT task_login_grant('fw_svc', :'svc'), task_login_grant('fw_other', :'other'),
       task_login_grant('fw_ops', :'ops'), task_login_grant('fw_vendor', :'vendor'),
       task_login_grant('fw_client', :'client');

-- ------------------------------------------------------------ access list changes
SET ROLE fw_svc;
SELECT id AS t1, revision AS rev0 FROM task_create('fw.job', 'fw/q') \gset
SELECT jsonb_path_query_array(j, '$.access[*].id') AS access, (j->>'revision')::int - :rev0 AS bumped
  FROM task_access_add(:'t1', ARRAY[:'vendor', :'client', :'vendor']) j;
-- already there: nothing changes, no new revision
SELECT (j->>'revision')::int - :rev0 AS bumped FROM task_access_add(:'t1', ARRAY[:'vendor']) j;
RESET ROLE;
-- the client sees it now
SET ROLE fw_client;
SELECT j->>'id' = :'t1' AS client_sees FROM task_get(:'t1') j;
-- and may not change the list
SELECT task_access_remove(:'t1', ARRAY[:'client']);
RESET ROLE;
-- Operations may
SET ROLE fw_ops;
SELECT jsonb_path_query_array(j, '$.access[*].id') AS access, (j->>'revision')::int - :rev0 AS bumped
  FROM task_access_remove(:'t1', ARRAY[:'client', :'ops']) j;
RESET ROLE;
SET ROLE fw_client;
SELECT task_get(:'t1');
RESET ROLE;
-- audited: the log says who changed what, the audit who updated last
SET ROLE fw_svc;
SELECT message, by FROM task_logs(:'t1') WHERE message LIKE 'access%' ORDER BY at;
SELECT j->'audit'->'updated'->'by'->>'id' = :'ops' AS updated_by_ops FROM task_get(:'t1') j;
-- errors: unknown account, malformed id, no accounts, another service's task
SELECT task_access_add(:'t1', ARRAY['ACC-9999-9999']);
SELECT task_access_add(:'t1', ARRAY['nobody']);
SELECT task_access_add(:'t1', ARRAY[]::text[]);
RESET ROLE;
SET ROLE fw_other;
SELECT task_access_add(:'t1', ARRAY[:'vendor']);
RESET ROLE;

-- ------------------------------------------------------------ unique while active
SET ROLE fw_svc;
SELECT id AS u1 FROM task_create('fw.sync', 'fw/q', unique_key => 'sync-42') \gset
SELECT id = :'u1' AS same_task, status FROM task_create('fw.sync', 'fw/q', unique_key => 'sync-42');
-- another code or queue with the same key is a mistake, not a repeat
SELECT task_create('fw.other', 'fw/q', unique_key => 'sync-42');
SELECT task_create('fw.sync', 'fw/q2', unique_key => 'sync-42');
-- once the first is final the key is free again
SELECT task_cancel(:'u1') IS NULL AS _ \gset
SELECT id <> :'u1' AS new_task, status FROM task_create('fw.sync', 'fw/q', unique_key => 'sync-42');
-- keys are per service
RESET ROLE;
SET ROLE fw_other;
SELECT status FROM task_create('fwo.sync', 'fwo/q', unique_key => 'sync-42');
RESET ROLE;

-- idempotency keys still block until purge, and reject another request
SET ROLE fw_svc;
SELECT id AS i1 FROM task_create('fw.pay', 'fw/q', idempotency_key => 'pay-1') \gset
SELECT task_cancel(:'i1') IS NULL AS _ \gset
SELECT id = :'i1' AS same_task, status FROM task_create('fw.pay', 'fw/q', idempotency_key => 'pay-1');
SELECT task_create('fw.refund', 'fw/q', idempotency_key => 'pay-1');

-- ------------------------------------------------------------ debounce
-- the first call waits the window; a repeat while it is queued replaces
-- its arguments and restarts the wait
SELECT id AS d1, run_at > now() + interval '59 seconds' AS waits
  FROM task_create('fw.index', 'fw/q', unique_key => 'index-7', debounce => '1 minute',
                   parameters => '{"rev": 1}') \gset
SELECT :'waits' AS waits;
SELECT id = :'d1' AS same_task, parameters, run_at > now() + interval '9 minutes' AS pushed, revision
  FROM task_create('fw.index', 'fw/q', unique_key => 'index-7', debounce => '10 minutes',
                   parameters => '{"rev": 2}');
-- a duplicate while the task runs is answered with it, unchanged
RESET ROLE;
UPDATE task.task SET run_at = now() - interval '1 second' WHERE id = :'d1';
SET ROLE fw_svc;
SELECT id = :'d1' AS claimed FROM task_dequeue('fw/q', 1) WHERE code = 'fw.index';
SELECT id = :'d1' AS same_task, status, parameters
  FROM task_create('fw.index', 'fw/q', unique_key => 'index-7', debounce => '1 minute', parameters => '{"rev": 3}');
SELECT task_create('fw.index', 'fw/q', debounce => '1 minute');
SELECT task_create('fw.index', 'fw/q', unique_key => 'k', debounce => '-1 minute');
RESET ROLE;

-- ------------------------------------------------------------ reschedule keeps its attempt
SET ROLE fw_svc;
SELECT name FROM task_queue_create('fw/resched', max_attempts => 2);
SELECT id AS r1 FROM task_create('fw.poll', 'fw/resched') \gset
SELECT attempts, lease_token AS tok FROM task_dequeue('fw/resched') \gset
\echo :attempts
SELECT status, attempts FROM task_reschedule(:'r1', now() - interval '1 second', token => :tok);
SELECT attempts, lease_token AS tok FROM task_dequeue('fw/resched') \gset
\echo :attempts
SELECT status, attempts FROM task_reschedule(:'r1', now() - interval '1 second', token => :tok);
SELECT attempts, lease_token AS tok FROM task_dequeue('fw/resched') \gset
\echo :attempts
-- the failure is attempt 1 of 2, so it is retried
SELECT status, attempts FROM task_fail(:'r1', 'boom', token => :tok);
SELECT message FROM task_logs(:'r1') WHERE message LIKE 'attempt%';
RESET ROLE;

-- ------------------------------------------------------------ schedules in a new queue
SET ROLE fw_svc;
SELECT name, queue FROM task_schedule('fw-nightly', '0 3 * * *', '{"code": "fw.report", "queue": "fw/new/reports"}');
SELECT name, task.service_text(owner) = :'svc' AS owned FROM task.queue WHERE name = 'fw/new/reports';
-- outside its namespace: refused as task_create refuses it
SELECT task_schedule('fw-bad', '0 3 * * *', '{"code": "fw.report", "queue": "elsewhere/reports"}');
SELECT task_unschedule('fw-nightly');
RESET ROLE;
RESET ROLE;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
