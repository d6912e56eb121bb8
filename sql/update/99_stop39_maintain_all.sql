\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 39. task_cron_enable's job runs CALL task.task_maintain_all():
-- task_maintain() again, each call committed, while a call has more to do
-- (one call a minute purged at most 20,000 tasks). A job made before this
-- version keeps its SELECT task.task_maintain() until task_cron_enable()
-- runs again (docs/OPERATIONS.md).
-- @replace procedure task.task_maintain_all
-- @replace function task.task_cron_enable
