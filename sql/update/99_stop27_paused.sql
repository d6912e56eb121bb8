\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 27. task_dequeue(wait => ...) on a paused queue waits until the
-- queue is unpaused (task_queue_configure's commit wakes it) or the wait
-- passes, instead of returning at once (a worker's loop spun on it).
-- @replace function task._dequeue_sleep
-- @replace function task._dequeue
-- @replace function task.task_dequeue
