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
CREATE INDEX task_runnable_idx ON task.task (queue, priority DESC, run_at, id)
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
