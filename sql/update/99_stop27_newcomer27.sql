\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 27 (operator's first week). pg_cron keeps the host, port and
-- database a job was first scheduled with, so the jobs of a restored dump
-- connected to the old server and task_cron_enable() did not change them;
-- a restore of schema task alone left the schedules without jobs.
-- task._cron_schedule makes such a job anew, and task_cron_enable()
-- (re)installs the job of every schedule too (task._schedule_cron, also
-- task_schedule's).
-- @replace function task._cron_schedule
-- @replace function task._schedule_cron
REVOKE ALL ON FUNCTION task._schedule_cron(integer, text, text) FROM PUBLIC;
-- @replace function task.task_cron_enable
-- @replace function task.task_schedule
