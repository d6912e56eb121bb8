\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 19.
--
-- A task_dequeue(wait => ...) that found nothing sleeps from the wake
-- generations read before its look (task._dequeue_sleep, one sleep; the
-- claim after it in C), instead of
-- calling task._dequeue to look up the queue, claim and rescue again.
-- task._dequeue, which calls it too, is replaced by 95_hotpath_c.sql.
-- @replace function task._dequeue_sleep
REVOKE ALL ON FUNCTION task._dequeue_sleep(task.queue, timestamptz, bigint, bigint, bigint, bigint) FROM PUBLIC;
--
-- The error of a queue policy the table's checks refuse, shared by
-- task_queue_create (which raised the raw 23514) and task_queue_configure,
-- both replaced by earlier fragments.
-- @replace function task._queue_policy_error
REVOKE ALL ON FUNCTION task._queue_policy_error(text) FROM PUBLIC;
--
-- The upper bounds of a queue's policy (lease and backoff 1 year, retention
-- 100 years): past them task_maintain's arithmetic left the timestamps'
-- range and failed housekeeping for every tenant. task_queue_create and
-- task_queue_configure call it; they are replaced by earlier fragments.
-- @replace function task._check_policy_bounds
REVOKE ALL ON FUNCTION task._check_policy_bounds(text, interval, interval, interval, interval) FROM PUBLIC;
--
-- task_account_create refuses a NULL name with 22004 and a hint (it raised
-- the table's raw not-null error).
-- @replace function task.task_account_create
