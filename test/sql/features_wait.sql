-- Issue 14, notifications: task_wait_many (returns when all the tasks are
-- final) and the per-queue NOTIFY setting. The waking itself is tested in
-- test/specs/features_notify.spec.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the service id sequence as this test found it, restored at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 170) AS _, setval('task.task_serial_seq', 1700000) AS _ \gset

SELECT task_service_create('feat-wait', 'fwt') AS svc \gset
SELECT task_service_create('feat-wait-other', 'fwto') AS other \gset
CREATE ROLE fwt_svc; CREATE ROLE fwt_other;
SELECT task_login_grant('fwt_svc', :'svc'), task_login_grant('fwt_other', :'other');

SET ROLE fwt_svc;
SELECT id AS a FROM task_create('fwt.a', 'fwt/q') \gset
SELECT id AS b FROM task_create('fwt.b', 'fwt/q') \gset
-- timeout 0: the tasks as they are, in the order given, repeats once
SELECT jsonb_path_query_array(task_wait_many(ARRAY[:'b', :'a', :'b']::task_id[], '0'), '$[*].code') AS codes;
SELECT task_cancel(:'a') IS NULL AS _ \gset
SELECT jsonb_path_query_array(task_wait_many(ARRAY[:'a', :'b']::task_id[], '0'), '$[*].status') AS one_final;
SELECT task_cancel(:'b') IS NULL AS _ \gset
-- all final: returns at once whatever the timeout
SELECT jsonb_path_query_array(task_wait_many(ARRAY[:'a', :'b']::task_id[], '1 hour'), '$[*].status') AS all_final,
       clock_timestamp() - statement_timestamp() < interval '10 seconds' AS at_once;
-- bad calls
SELECT task_wait_many(ARRAY[]::task_id[]);
SELECT task_wait_many(ARRAY[:'a', NULL]::task_id[]);
SELECT task_wait_many(ARRAY[:'a']::task_id[], '2 hours');
SELECT task_wait_many(ARRAY[:'a', 'TSK-0171-0000-0000-0001']::task_id[], '0');
RESET ROLE;
-- another service's task is not found, as a missing one
SET ROLE fwt_other;
SELECT task_wait_many(ARRAY[:'a']::task_id[], '0');
RESET ROLE;
-- REPEATABLE READ cannot wait (its snapshot would never change)
SET ROLE fwt_svc;
SELECT id AS c FROM task_create('fwt.c', 'fwt/q') \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT task_wait_many(ARRAY[:'c']::task_id[], '1 second');
ROLLBACK;

-- ------------------------------------------------------------ NOTIFY setting
-- the channel is the name, "_" and 16 hex digits from the extension's
-- secret: no other tenant can guess it (any role may LISTEN or pg_notify);
-- the same call gives the same channel
SELECT name, notify_channel ~ '^fwt_done_[0-9a-f]{16}$' AS suffixed, notify_channel AS fwt_channel
  FROM task_queue_notify('fwt/q', 'fwt_done') \gset
SELECT :'name' AS name, :'suffixed' AS suffixed,
       (task_queue_notify('fwt/q', 'fwt_done')).notify_channel = :'fwt_channel' AS same_again;
SELECT task_queue_notify('fwt/q', repeat('x', 47));
SELECT task_queue_notify('fwt/q', 'Bad-Name');
SELECT name, notify_channel FROM task_queue_notify('fwt/q', NULL);
RESET ROLE;
SET ROLE fwt_other;
SELECT task_queue_notify('fwt/q', 'steal');
RESET ROLE;
RESET ROLE;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
