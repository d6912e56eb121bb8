\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Features of issue 14 that do not touch the claim path: status
-- descriptions and run_at in the task JSON, the 10-day listing window,
-- inline logs in task_get, access list changes, unique-while-active keys
-- and debounce, task_wait_many, per-queue NOTIFY on final statuses, bulk
-- operations, reschedule without consuming an attempt, schedules in a new
-- queue of the caller's namespace. See docs/FEATURES.md.

-- ---------------------------------------------------------------- tables
ALTER TABLE task.task ADD COLUMN unique_key text;
COMMENT ON COLUMN task.task.idempotency_key IS 'Request key (task_create(idempotency_key => ...)): a repeat returns this task for as long as it exists.';
COMMENT ON COLUMN task.task.unique_key IS 'Unique-while-active key (task_create(unique_key => ...)): no second unfinished task of the service has it.';
CREATE UNIQUE INDEX task_unique_active_idx ON task.task (owner, unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('blocked', 'queued', 'processing', 'rescheduled');

-- ---------------------------------------------------------------- the task JSON
-- @replace function task.status_description

-- @replace function task._task_json

-- ---------------------------------------------------------------- reads
-- @replace function task._check_log_page

-- @replace function task._log_entries

-- @replace function task._may_read_logs

-- task_get with log_limit and log_offset (the old one was replaced by
-- 30_sidechan.sql, which needed the final text already)
-- @replace function task.task_get

-- @replace function task.task_logs

DROP FUNCTION IF EXISTS task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer);
-- @replace function task._list_match
REVOKE ALL ON FUNCTION task._list_match(task.task, task.status, text, text, text, task.task_id, timestamptz, interval, task.task_id[]) FROM PUBLIC;
-- @replace function task.task_list

-- ---------------------------------------------------------------- create
-- @replace function task._account_numbers

-- @replace function task._check_same_request

DROP FUNCTION IF EXISTS task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean);
-- @replace function task.task_create

-- ---------------------------------------------------------------- access list changes
-- @replace function task._access_change

-- @replace function task.task_access_add

-- @replace function task.task_access_remove

-- ---------------------------------------------------------------- worker, schedules
-- @replace function task.task_reschedule

-- @replace function task.task_schedule

REVOKE ALL ON FUNCTION task._check_log_page(integer, integer), task._log_entries(task.task, integer, integer),
    task._may_read_logs(integer), task._account_numbers(text[]),
    task._check_same_request(task.task, text, text, text, text),
    task._access_change(task.task_id, text[], boolean) FROM PUBLIC;

-- ---------------------------------------------------------------- bulk operations
-- @replace function task.task_bulk

-- ---------------------------------------------------------------- notifications
-- @replace function task.task_wait_many

ALTER TABLE task.queue ADD COLUMN notify_channel text NOT NULL DEFAULT '' CHECK (notify_channel = '' OR notify_channel ~ '^[a-z_][a-z0-9_]{0,62}$');
COMMENT ON COLUMN task.queue.notify_channel IS 'NOTIFY channel of the queue''s final transitions: the name given to task_queue_notify and a suffix derived from a secret, so that no other tenant can guess it; empty: none.';

-- @replace function task.task_queue_notify

-- the NOTIFY is sent by the trigger on final transitions
-- @replace function task._settle_dependents

-- api.task_get(id) of a database created at 0.1.0 keeps its signature (it is
-- released from the extension by 99_release_api.sql and still works: log_limit
-- is new in task_http's api.task_get).
