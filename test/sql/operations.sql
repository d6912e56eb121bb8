-- Operations: whether pg_cron's jobs can reach the server (the check behind
-- task_cron_enable's warning), and what DROP EXTENSION task leaves behind
-- (docs/OPERATIONS.md, "Uninstalling").
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

-- ------------------------------------------------------------ DROP EXTENSION task
CREATE DATABASE ops_drop;
\c ops_drop
CREATE EXTENSION task;
SELECT task.task_service_create('drop-svc', 'drop') IS NOT NULL AS made;
DROP EXTENSION task;
-- what stays: the schema task (the extension creates it but cannot own it)
-- and the roles, which are cluster-wide and may serve other databases
SELECT nspname FROM pg_namespace WHERE nspname IN ('task', 'api') ORDER BY 1;
SELECT count(*) AS objects_left FROM pg_class WHERE relnamespace = 'task'::regnamespace;
SELECT rolname FROM pg_roles WHERE rolname LIKE 'task\_%' ORDER BY 1;
-- installs again over the empty schema
CREATE EXTENSION task;
SELECT count(*) AS services FROM task.service;
DROP EXTENSION task;
DROP SCHEMA task;
\c contrib_regression
DROP DATABASE ops_drop;
