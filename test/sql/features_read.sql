-- Issue 14, reading: status descriptions and run_at in the task JSON, the
-- listing window (tasks submitted in the last 10 days by default), inline
-- logs in task_get for who may read them.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- this test's own id ranges, so ids in messages do not depend on other tests
-- the service id sequence as this test found it, restored at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 140) AS _, setval('task.task_serial_seq', 1400000) AS _ \gset
SELECT setval('task.account_id_seq', 1400) AS _ \gset

SELECT task_service_create('feat-read', 'fr') AS svc \gset
SELECT task_service_create('feat-read-other', 'fro') AS other \gset
SELECT task_account_create('FR Ops', 'Operations') AS ops \gset
SELECT task_account_create('FR Vendor', 'Vendor') AS vendor \gset
CREATE ROLE fr_svc; CREATE ROLE fr_other; CREATE ROLE fr_ops; CREATE ROLE fr_vendor;
SELECT task_login_grant('fr_svc', :'svc'), task_login_grant('fr_other', :'other'),
       task_login_grant('fr_ops', :'ops'), task_login_grant('fr_vendor', :'vendor');

-- ------------------------------------------------------------ status descriptions
SELECT s AS status, status_description(s) FROM unnest(enum_range(NULL::task.status)) s;

SET ROLE fr_svc;
SELECT id AS t1 FROM task_create('fr.job', 'fr/q', access => ARRAY[:'vendor'],
                                 run_at => '2030-01-01 00:00:00+00') \gset
SELECT j->>'status' AS status, j->>'status_description' AS status_description, j->>'run_at' AS run_at
  FROM task_get(:'t1') j;
-- every transition keeps the description in step
SELECT task_cancel(:'t1', 'not needed') IS NULL AS _ \gset
SELECT j->>'status' AS status, j->>'status_description' AS status_description
  FROM task_get(:'t1') j;

-- ------------------------------------------------------------ inline logs
-- no log_limit: no logs key (the seed 001 shape)
SELECT task_get(:'t1') ? 'logs' AS has_logs;
SELECT jsonb_path_query_array(task_get(:'t1', log_limit => 10), '$.logs[*].message') AS messages;
SELECT jsonb_path_query_array(task_get(:'t1', log_limit => 1, log_offset => 1), '$.logs[*].message') AS page_2;
-- entries carry counters and their author
SELECT task_log(:'t1', 'exported', errors => 1, skips => 2, success => 3, total => 6) IS NULL AS _ \gset
SELECT (task_get(:'t1', log_limit => 1)->'logs'->0) - 'at' AS newest;
-- the same entries as task_logs
SELECT (SELECT array_agg(message) FROM task_logs(:'t1', 10, 0))
     = ARRAY(SELECT jsonb_array_elements_text(jsonb_path_query_array(task_get(:'t1', log_limit => 10), '$.logs[*].message')))
       AS same_as_task_logs;
SELECT task_get(:'t1', log_limit => 0);
SELECT task_get(:'t1', log_limit => 10, log_offset => -1);
RESET ROLE;
-- Operations read them too; a vendor on the access list gets the task without logs
SET ROLE fr_ops;
SELECT jsonb_array_length(task_get(:'t1', log_limit => 10)->'logs') AS ops_entries;
RESET ROLE;
SET ROLE fr_vendor;
SELECT j->>'status' AS status, j ? 'logs' AS vendor_sees_logs FROM task_get(:'t1', log_limit => 10) j;
RESET ROLE;
-- over HTTP: GET /rpc/task_get?id=...&log_limit=2 (the operator calls it here;
-- test/sql/http.sql replays PostgREST's statements for the web roles)
CREATE SCHEMA fr_api;
CREATE EXTENSION task_http SCHEMA fr_api;
SELECT jsonb_array_length(fr_api.task_get(:'t1', log_limit => 2)->'logs') AS http_entries,
       fr_api.task_get(:'t1') ? 'logs' AS http_logs_unasked;
SELECT fr_api.task_get(:'t1', log_limit => 0);
DROP EXTENSION task_http;
DROP SCHEMA fr_api;
-- another service: not found, with or without logs asked for
SET ROLE fr_other;
SELECT task_get(:'t1', log_limit => 10);
RESET ROLE;

-- ------------------------------------------------------------ listing window
SET ROLE fr_svc;
SELECT id AS old FROM task_create('fr.old', 'fr/q') \gset
SELECT id AS recent FROM task_create('fr.recent', 'fr/q') \gset
RESET ROLE;
-- the old task was submitted 30 days ago (audit columns are the trigger's: bypass it)
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET created_at = now() - interval '30 days' WHERE id = :'old';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
SET ROLE fr_svc;
-- default: the last 10 days, most recent status change first
SELECT j->>'code' AS code FROM task_list(queue => 'fr/q') j;
-- widened, and unbounded
SELECT j->>'code' AS code FROM task_list(queue => 'fr/q', submitted_within => '60 days') j;
SELECT count(*) AS all_tasks FROM task_list(queue => 'fr/q', submitted_within => NULL);
-- with the other filters
SELECT j->>'code' AS code FROM task_list(status => 'queued', submitted_within => NULL) j;
SELECT task_list(submitted_within => '-1 day');
SELECT task_list(submitted_within => '178000000 years');
RESET ROLE;
SET ROLE fr_vendor;
SELECT j->>'code' AS code FROM task_list() j;
RESET ROLE;
SET ROLE fr_ops;
SELECT j->>'code' AS code FROM task_list(queue => 'fr/q', submitted_within => '60 days') j;
RESET ROLE;
RESET ROLE;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
