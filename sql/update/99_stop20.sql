\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 20: errors with a SQLSTATE and a hint where a raw one was raised.
-- (The other functions changed for it are replaced by earlier fragments:
-- task._write_failed, task_heartbeat, task._complete_many,
-- task._account_numbers, task_result, api.task_create, task_login_grant,
-- task_account_create; task_artifacts_add with sql/87_market.sql.)
--
-- An enum argument given as text (the HTTP layer's status, the type and
-- status of task_account_create(text, text, text)) answers 22023 naming
-- the parameter, with the accepted values, instead of the cast's 22P02.
-- @replace function task._enum_arg
REVOKE ALL ON FUNCTION task._enum_arg(text, text, regtype, text, text[]) FROM PUBLIC;
--
-- A NULL task id answers 22004, not "task <NULL> not found".
-- @replace function task._not_found
--
-- A client refused a marketplace operation gets a hint about who may do
-- it, not the housekeeping one.
-- @replace function task._require_operations
--
-- A login role named as text that does not exist answers 42704 with a
-- hint (task_login_grant(text, text), task_login_revoke(text)).
-- @replace function task._login_role
REVOKE ALL ON FUNCTION task._login_role(text) FROM PUBLIC;
-- @replace function task.task_login_revoke
