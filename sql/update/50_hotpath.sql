\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The hot path (issue 15): priorities per task and per queue, waits that
-- hold no snapshot while they sleep and wake one waiter per runnable task
-- (src/wait.c), fencing by default, and a stale complete_batch that fails
-- with "lease lost". See docs/QUEUE.md.

-- ---------------------------------------------------------------- priorities
-- Existing tasks and queues get priority 0: the order they were claimed in
-- (FIFO by run_at, id) is unchanged.
ALTER TABLE task.queue ADD COLUMN priority integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN task.queue.priority IS 'Priority of the queue''s new tasks that name none (task_create(priority => ...)).';

ALTER TABLE task.task ADD COLUMN priority integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN task.task.priority IS 'Claimed before tasks of lower priority of its queue (FIFO within a priority); default: the queue''s priority.';

DROP INDEX task.task_runnable_idx;
CREATE INDEX task_runnable_idx ON task.task (hashtext(queue), priority DESC, run_at, id) INCLUDE (queue)
    WHERE status IN ('queued', 'rescheduled');

DROP FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean);
-- @replace function task.task_queue_create

DROP FUNCTION task.task_queue_configure(text, interval, integer, interval, interval, interval, boolean);
-- @replace function task.task_queue_configure

DROP FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean);
-- @replace function task.task_create

DROP FUNCTION task.task_create_many(text, text, jsonb[], timestamptz, text[]);
-- @replace function task.task_create_many

-- @replace function task._claim

-- every statement of the worker path names the owner (the distribution key)
-- @replace function task._rescue_leases

-- ---------------------------------------------------------------- fencing by default
-- A claimed task is completed, failed or rescheduled only with its token
-- (force => true overrides); the errors of a stale worker never print the
-- live token; a stale complete_batch fails with "lease lost".
DROP FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[]);
-- @replace function task._write_failed

-- task_complete's SQL body depends on _complete: dropped first
DROP FUNCTION task.task_complete(task.task_id, jsonb, text, bigint);
DROP FUNCTION task._complete(task.task_id, bigint, jsonb, text);
-- @replace function task._complete

-- @replace function task.task_complete

-- @replace function task._complete_many

DROP FUNCTION task.task_fail(task.task_id, text, bigint, boolean);
-- @replace function task.task_fail

DROP FUNCTION task.task_reschedule(task.task_id, timestamptz, bigint);
-- @replace function task.task_reschedule

REVOKE ALL ON FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[], boolean),
                       task._complete(task.task_id, bigint, jsonb, text, boolean) FROM PUBLIC;

-- Tasks processing without a token (moved there directly in 0.1.0) get one,
-- as the trigger now gives them (their revision), and a lease, so that
-- rescue applies to them.
UPDATE task.task t
   SET lease_token = t.revision,
       lease_until = coalesce(t.lease_until, pg_catalog.clock_timestamp() + q.lease)
  FROM task.queue q
 WHERE q.name = t.queue AND t.status = 'processing' AND t.lease_token IS NULL;

-- api.tasks expands task.task's columns in a subquery: it picks up priority
-- @replace view api.tasks

-- ---------------------------------------------------------------- waits
-- src/wait.c: one waiter per runnable task, no snapshot while asleep, keys
-- per database, a waiter whose client has gone ends before it claims.
COMMENT ON FUNCTION task._wait_sleep(bigint, bigint, double precision, text, boolean) IS
    'Internal: sleeps until a commit that moved the key''s wake generation past seq signals this waiter (true) or timeout_ms pass (false), without a snapshot when nothing reads with it afterwards; ends the backend if its client has gone; one 50 ms poll when task is not preloaded.';
COMMENT ON COLUMN task.wait_stats.name IS 'The queue name or task id of the last waiter (first 63 bytes); other keys may share the slot. NULL when the last waiter was in another database.';
COMMENT ON COLUMN task.wait_stats.broadcasts IS 'Of those wakeups, the ones that found waiters and woke them: one waiter per runnable task for a queue, every waiter for a task.';

-- @replace function task.task_dequeue

-- ---------------------------------------------------------------- settling dependents
