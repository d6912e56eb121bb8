\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The marketplace (issue 13): its tables, the hooks the core calls, the core
-- functions that call them, the marketplace functions, access rules and
-- HTTP layer, created exactly as the install fragments create them. Its HTTP
-- routes are in extension task_http (sql/http/market.sql).

-- (its tables and hooks: 45_market_hooks.sql, before the worker path's
-- fragment replaces the functions that call the hooks)

-- the core's changed functions (task_list gained agent =>)
-- @replace function task._task_json
DROP FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer);
-- @replace function task.task_list
-- @replace function task.task_complete
-- @replace function task.task_fail
-- @replace function task.task_cancel
-- @replace function task.task_retry
-- @replace function task._settle_dependents
-- @replace function task.task_maintain

-- @include sql/87_market.sql

-- the marketplace's internal helpers: callable by nobody but the owner, as
-- 90_access.sql does for every "_" function at install
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'task'::regnamespace
           AND (p.proname LIKE '\_market%' OR p.proname LIKE '\_ledger%')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

-- @include sql/92_market_access.sql
