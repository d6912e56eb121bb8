\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Long history (issue 14): finished tasks move to monthly history tables
-- (children of task.task, task.task_access and task.task_log) and go by
-- DROP TABLE once past retention. See sql/83_history.sql and the History
-- section of docs/ARCHITECTURE.md.

ALTER TABLE task.queue ADD COLUMN archive_after interval NOT NULL DEFAULT '0' CHECK (archive_after >= '0');
COMMENT ON COLUMN task.queue.archive_after IS 'How long after it finished a task moves to the monthly history tables (task_queue_archive, 83_history.sql); 0: never, it stays live until purged.';

-- @include sql/83_history.sql

COMMENT ON COLUMN task.task.idempotency_key IS 'Request key (task_create(idempotency_key => ...)): a repeat returns this task for as long as it is live (not purged or archived).';

-- @replace function task._visible_task

-- @replace function task._write_failed

-- @replace function task.task_create

-- @replace function task._access_change

-- @replace function task.task_bulk

-- @replace function task._worker_queue

-- a node's copy of the directory takes archive_after too (scale-out)
-- @replace function task._node_directory_apply

-- the worker path and the dependency triggers read and write live tasks
-- only (ONLY task.task): the history tables never join their plans or locks
-- @replace function task._rescue_leases

-- @replace function task._complete

-- @replace function task._complete_many

-- @replace function task._claim

-- @replace function task.task_dequeue

-- @replace function task.task_heartbeat

-- @replace function task.task_progress

-- @replace function task.task_log

-- @replace function task.task_fail

-- @replace function task.task_reschedule

-- @replace function task._release_ready

-- @replace function task._settle_dependents

-- @replace function task.task_unblock

-- @replace function task.task_maintain

REVOKE ALL ON FUNCTION task._history_month(timestamptz), task._history_read_only(),
    task._history_create(date), task._history_archive(integer), task._history_drop() FROM PUBLIC;
