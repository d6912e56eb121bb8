\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 40. A look for expired leases stores no lease mark past a lease
-- that is still processing as an ordinary read sees it: a row its SKIP
-- LOCKED skipped (another transaction held it and could roll back) and the
-- rows it rescues itself (before its update; it could roll back) left such
-- a task unrescued by claims until task_maintain's look from the beginning.
-- @replace function task._rescue_leases
--
-- task_maintain_all(run_for, pause): once caught up, a pause (holding no
-- xmin: task._pause) and another pass while the run has time left;
-- task_cron_enable(every => '5 seconds') runs it so each minute (the
-- procedure and task_cron_enable come with 99_stop39's and 40_ops'
-- @replace, which expand to this version's text).
-- @replace function task._pause
REVOKE ALL ON FUNCTION task._pause(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._pause(double precision) TO task_operations;
-- A call's record starts at the call, not at its transaction's start
-- (which, in a pass of task_maintain_all, came before the pause).
-- @replace function task.task_maintain
