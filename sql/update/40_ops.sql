\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Operators (issue 11): workers that start before their queue exists,
-- the task_monitor role and its views, the HTTP error mapping of
-- oversized input, task_cron_enable's warnings, and the HTTP layer as an
-- extension of its own (task_http; schema api of databases created at
-- 0.1.0 is released from extension task by 99_release_api.sql, last).

-- task_dequeue on a queue not created yet in the caller's namespace waits
-- instead of failing: _worker_queue takes missing_ok
DROP FUNCTION task._worker_queue(text);
-- @replace function task._worker_queue
REVOKE ALL ON FUNCTION task._worker_queue(text, boolean) FROM PUBLIC;
-- @replace function task.task_dequeue

-- monitoring reads the last hour's finished tasks from task_finished_idx
-- alone: it includes their status and times (rebuilt here: on a large
-- table this takes a while, and blocks writes to task.task meanwhile)
DROP INDEX task.task_finished_idx;
CREATE INDEX task_finished_idx ON task.task (queue, status_at)
    INCLUDE (status, started_at, completed_at, failed_at)
    WHERE status IN ('completed', 'failed', 'cancelled');

-- monitoring (82_monitoring.sql): the role, the reader, its views and the
-- Prometheus text, granted to task_monitor only (as 90_access.sql does)
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'task_monitor') THEN
        CREATE ROLE task_monitor NOLOGIN;
    END IF;
END
$$;
-- @replace function task._monitor
-- @replace view task.monitor_queues
-- @replace view task.monitor_services
-- @replace function task.monitor_prometheus
REVOKE ALL ON FUNCTION task._monitor(), task.monitor_prometheus() FROM PUBLIC;
REVOKE ALL ON task.monitor_queues, task.monitor_services FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._monitor(), task.monitor_prometheus() TO task_monitor;
GRANT SELECT ON task.monitor_queues, task.monitor_services TO task_monitor;

-- HTTP: oversized input (54000) answers 413, other program limits 400
-- @replace function task._http_raise
-- the API functions hand program limits (54xxx) to _http_raise too
-- api.task_get gained log_limit and log_offset (a new signature: its grants again)
DROP FUNCTION api.task_get(text);
-- @replace function api.task_get
REVOKE ALL ON FUNCTION api.task_get(text, integer, integer) FROM PUBLIC;
DO $$
DECLARE
    r name;
BEGIN
    FOR r IN SELECT x.web_role FROM task._roles() x WHERE x.group_role IS NOT NULL LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION api.task_get(text, integer, integer) TO %I', r);
    END LOOP;
END
$$;
-- @replace function api.task_logs
-- @replace function api.task_result
-- @replace function api.task_create
-- @replace function api.task_progress
-- @replace function api.task_log
-- @replace function api.task_heartbeat
-- @replace function api.task_complete
-- @replace function api.task_fail
-- @replace function api.task_reschedule
-- @replace function api.task_cancel
-- @replace function api.task_retry
-- @replace function api.task_dequeue

-- pg_cron: task_cron_enable warns when its job cannot connect or last failed
-- @replace function task._cron_connect_problem
REVOKE ALL ON FUNCTION task._cron_connect_problem(text, text, text, text) FROM PUBLIC;
-- (its signature takes every since stop 40: the old one goes first)
DROP FUNCTION task.task_cron_enable(text);
-- @replace function task.task_cron_enable
