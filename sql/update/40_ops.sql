\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Operators (issue 11): workers that start before their queue exists,
-- the task_monitor role and its views, the HTTP error mapping of
-- oversized input, pg_cron jobs that report task_maintain's counts.

-- task_dequeue on a queue not created yet in the caller's namespace waits
-- instead of failing: _worker_queue takes missing_ok
DROP FUNCTION task._worker_queue(text);
-- @replace function task._worker_queue
REVOKE ALL ON FUNCTION task._worker_queue(text, boolean) FROM PUBLIC;
-- @replace function task.task_dequeue
