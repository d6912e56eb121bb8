\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Operators, the rest of issue 11: task_maintain's counts reach a pg_cron
-- job's run details (a NOTICE at commit in pg_cron's background workers;
-- a run table joined on the job's pid in both modes), and the monitoring
-- scrape runs without JIT compilation.

-- one row per task_maintain() call, kept 7 days (20_tables.sql)
-- @replace function task._maintain_notice
REVOKE ALL ON FUNCTION task._maintain_notice() FROM PUBLIC;
-- @create table task.maintenance_run
REVOKE ALL ON task.maintenance_run FROM PUBLIC;
-- @replace function task.task_maintain
-- @replace function task.task_maintain_runs

-- monitoring: no JIT (compiling the reader's plan cost more than running it)
-- @replace function task._monitor
-- @replace function task._monitor_workers
-- @replace function task.monitor_prometheus
