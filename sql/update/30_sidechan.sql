\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Tenant isolation without side channels (issue 16): vendors and clients
-- read through the API only; one visibility rule for every path that names
-- a task or a queue; JSON without what the caller may not see; result URIs
-- that cannot redirect elsewhere; namespaces that do not nest; schedules
-- that run as their service, with a limit; logins of dropped roles grant
-- nothing; task_log.seq hidden from services.

-- identity: the schedule job's switch, and one rule for a task named by id
-- @replace function task._act_as_service

-- @replace function task._visible_task

-- @replace function task._write_failed

-- reads
-- @replace function task._actor_json

-- @replace function task._task_json

-- task_get gains log_limit and log_offset (issue 14's inline logs, in its
-- final text here): api.tasks calls it, so the old one steps aside while the
-- view is re-read, then goes
ALTER FUNCTION task.task_get(task.task_id) RENAME TO _task_get_0_1;
-- @replace function task.task_get

-- @replace function task.task_logs

-- @replace function task.task_result

-- @replace function task.task_wait

-- @replace function task._account_tasks

-- @replace view api.tasks
DROP FUNCTION task._task_get_0_1(task.task_id);

-- queues, creation, schedules
-- @replace function task._check_queue_namespace

-- @replace function task.task_queue_create

-- @replace function task._queue_for_create

-- @replace function task.task_create

-- @replace function task.task_schedule

-- @replace function task._run_schedule

-- the directory
-- @replace function task.task_service_create

-- @replace function task.task_account_update

-- @replace function task._group_role

-- @replace function task.task_maintain

REVOKE ALL ON FUNCTION task._act_as_service(integer), task._visible_task(task.task_id),
    task._account_tasks(), task._check_queue_namespace(integer, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._account_tasks() TO task_operations, task_service, task_vendor, task_client;

-- policies and grants (90_access.sql)
DROP POLICY task_access_list ON task.task;
DROP POLICY account_self ON task.account;
DROP POLICY task_access_self ON task.task_access;
REVOKE SELECT ON task.account, task.task, task.task_access FROM task_vendor, task_client;
GRANT SELECT ON task.task TO task_web_vendor, task_web_client;
REVOKE SELECT ON task.task_log FROM task_service;
GRANT SELECT (owner, task_id, at, message, errors, skips, success, total, by, from_status, to_status)
    ON task.task_log TO task_service;

-- data: logins of disabled accounts lose their group role; mappings of
-- dropped roles go
DELETE FROM task.login l
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid = l.role::oid);
SELECT task._set_group(l.role, NULL)
  FROM task.login l JOIN task.account a ON a.id = l.account
 WHERE a.status <> 'Active';
COMMENT ON COLUMN api.tasks.access IS 'Accounts with access to the task and its result [{id, name, revision, type, status}]: all for Operations, ids for the owning service, itself for an account.';
