\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The defaults of a new queue are written once, as the column defaults of
-- task.queue: task_queue_create and the not-yet-created queue a worker
-- waits on (task._worker_queue) read them through task._queue_defaults.
-- @replace function task._queue_defaults
REVOKE ALL ON FUNCTION task._queue_defaults(text, integer) FROM PUBLIC;
