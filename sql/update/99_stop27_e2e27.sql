\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 27, the acceptance scenarios from the seeds: task_account_create
-- past the last account number answers 54000 "too many accounts" with a
-- detail and hint (as task_service_create does for services), not the
-- sequence's own 2200H; task_agent_register names an Operations account
-- with "an".
-- @replace function task.task_account_create
-- @replace function task.task_agent_register
