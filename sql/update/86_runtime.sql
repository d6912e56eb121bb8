\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Worker runtime (issue 14): the maximum run time of an attempt (per queue
-- and per task), cancelling a processing task for real (55T01 for its
-- worker), and who holds a task (the worker identity the trigger stamps at
-- each claim). See docs/FEATURES.md and docs/WORKERS.md.
--
-- Earlier fragments already replace task_queue_create, task_queue_configure,
-- task_create and task_create_many with their final text (this version's
-- signatures), so none of them needs a DROP here.

-- ---------------------------------------------------------------- tables
ALTER TABLE task.queue ADD COLUMN max_run_time interval NOT NULL DEFAULT '0' CHECK (max_run_time >= '0');
COMMENT ON COLUMN task.queue.max_run_time IS 'Hard limit of one attempt: a task processing longer is failed or retried by lease rescue even if its worker keeps sending heartbeats; 0: none. A task''s own max_run_time overrides it.';
ALTER TABLE task.task ADD COLUMN max_run_time interval CHECK (max_run_time > '0');
ALTER TABLE task.task ADD COLUMN worker_name text;
ALTER TABLE task.task ADD COLUMN worker_addr inet;
ALTER TABLE task.task ADD COLUMN worker_pid integer;
COMMENT ON COLUMN task.task.max_run_time IS 'Hard limit of one attempt (task_create(max_run_time => ...)), overriding the queue''s: a task processing longer is failed or retried by lease rescue even if its worker keeps sending heartbeats.';
COMMENT ON COLUMN task.task.worker_name IS 'The worker that holds (or last held) the task: application_name of the session that claimed it, stamped by the trigger at each move into processing.';
COMMENT ON COLUMN task.task.worker_addr IS 'The worker that holds (or last held) the task: client address of the session that claimed it (inet_client_addr(): NULL for a Unix socket or a background process).';
COMMENT ON COLUMN task.task.worker_pid IS 'The worker that holds (or last held) the task: backend process id of the session that claimed it (pg_stat_activity.pid).';

-- ---------------------------------------------------------------- settings
-- @replace function task._check_max_run_time

-- @replace function task.task_queue_create

-- @replace function task.task_queue_configure

-- @replace function task.task_create

-- @replace function task.task_create_many

-- ---------------------------------------------------------------- rescue, heartbeat, progress
-- @replace function task._worker_text

-- @replace function task._run_limit

-- @replace function task._seconds_text

-- @replace function task._rescue_leases

-- @replace function task.task_heartbeat

-- @replace function task.task_progress

-- @replace function task._write_failed

-- @replace function task.task_maintain

-- ---------------------------------------------------------------- cancel
-- @replace function task.task_cancel

-- (task_bulk's final text is already replaced by 80_features.sql; again
-- here for the hand-over log of a bulk cancel)
-- @replace function task.task_bulk

-- @replace function task._http_raise

-- ---------------------------------------------------------------- who holds a task
-- @replace function task._task_json

-- @replace function task.task_get

-- @replace function task._monitor_workers

-- @replace view task.monitor_workers

REVOKE ALL ON FUNCTION task._check_max_run_time(interval), task._worker_text(task.task),
                       task._run_limit(task.task, interval), task._seconds_text(interval),
                       task._monitor_workers() FROM PUBLIC;
REVOKE ALL ON task.monitor_workers FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._monitor_workers() TO task_monitor;
GRANT SELECT ON task.monitor_workers TO task_monitor;
