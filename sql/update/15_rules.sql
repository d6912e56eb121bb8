\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- One rule in one place (issue 10): the queue-name, namespace and new-status
-- rules are C validators (src/rules.c) that the trigger and the SQL paths
-- share, and the extension's role names come from one list (task._roles(),
-- src/identity.c).

-- @replace function task._roles

-- @replace function task._check_path

-- @replace function task._check_new_status

-- @replace function task.task_service_create

-- @replace function task.task_login_grant

-- @replace function task._group_role

-- @replace function task._set_group

-- @replace function task.task_queue_create

-- @replace function task.task_create

-- @replace function task.http_pre_request

REVOKE ALL ON FUNCTION task._check_path(text, text), task._check_new_status(task.status) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._roles() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._roles() TO PUBLIC;
