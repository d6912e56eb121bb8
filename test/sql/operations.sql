-- Operations: whether pg_cron's jobs can reach the server (the check behind
-- task_cron_enable's warning), installing next to an application's schema
-- api with the HTTP layer (task_http) in a schema of the operator's choice,
-- and what DROP EXTENSION task leaves behind (docs/OPERATIONS.md).
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

-- ------------------------------------------------------------ pg_cron can connect?
SELECT bgw, host, listen, task._cron_connect_problem(bgw, host, listen, '/var/run/postgresql') IS NULL AS fine
  FROM (VALUES ('on', NULL, ''), ('on', 'localhost', ''), ('off', NULL, 'localhost'),
               ('off', '/var/run/postgresql', ''), ('off', NULL, ''), ('off', 'localhost', ''),
               (NULL, NULL, '')) v(bgw, host, listen);
SELECT task._cron_connect_problem('off', NULL, '', '/tmp, /var/run/postgresql') AS problem;
-- this server runs jobs in background workers (test/harness/task.conf): no warning
SELECT task._cron_connect_problem(current_setting('cron.use_background_workers', true), current_setting('cron.host', true),
                                  current_setting('listen_addresses'), current_setting('unix_socket_directories')) AS here;

-- ------------------------------------------------------------ install anywhere
CREATE DATABASE ops_drop;
\c ops_drop
-- the application has a schema api of its own: task installs next to it
CREATE SCHEMA api;
CREATE TABLE api.mine (x integer);
CREATE EXTENSION task;
-- and the HTTP layer goes where the operator says
CREATE SCHEMA tasks_v1;
CREATE EXTENSION task_http SCHEMA tasks_v1;
SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname LIKE 'task%' ORDER BY 1;
SELECT count(*) AS functions, bool_and(has_function_privilege('task_web_service', p.oid, 'EXECUTE')) AS web_roles_may,
       bool_and(NOT has_function_privilege('public', p.oid, 'EXECUTE')) AS public_may_not
  FROM pg_proc p WHERE p.pronamespace = 'tasks_v1'::regnamespace;
SELECT has_table_privilege('task_web_client', 'tasks_v1.tasks', 'SELECT') AS client_reads_view;
SELECT relname FROM pg_class WHERE relnamespace = 'api'::regnamespace ORDER BY 1;
SELECT task.task_service_create('drop-svc', 'drop') IS NOT NULL AS made;

-- ------------------------------------------------------------ DROP EXTENSION task
\set ON_ERROR_STOP 0
DROP EXTENSION task;
\set ON_ERROR_STOP 1
DROP EXTENSION task CASCADE;
-- what stays: the schema task (the extension creates it but cannot own it)
-- and the roles, which are cluster-wide and may serve other databases
SELECT nspname FROM pg_namespace WHERE nspname IN ('task', 'api', 'tasks_v1') ORDER BY 1;
SELECT count(*) AS objects_left FROM pg_proc WHERE pronamespace = 'tasks_v1'::regnamespace;
SELECT count(*) AS objects_left FROM pg_class WHERE relnamespace = 'task'::regnamespace;
SELECT rolname FROM pg_roles WHERE rolname LIKE 'task\_%' ORDER BY 1;
-- installs again over the empty schema
CREATE EXTENSION task;
SELECT count(*) AS services FROM task.service;
DROP EXTENSION task;
DROP SCHEMA task;
\c contrib_regression
DROP DATABASE ops_drop;
