\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 26. task_queue_configure wakes the queue's waiters at commit when
-- it unpauses the queue or changes its limits (task._wake_queue, C).
-- @replace function task._wake_queue
REVOKE ALL ON FUNCTION task._wake_queue(text, integer) FROM PUBLIC;
-- @replace function task.task_queue_configure
