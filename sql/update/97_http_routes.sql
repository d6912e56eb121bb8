\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The HTTP routes caught up with 0.2.0's arguments (sql/http/api.sql):
-- task_create (blocks_parent, priority, unique_key, debounce), task_complete,
-- task_fail, task_reschedule (force) and task_dequeue (complete and claim).
-- 40_ops.sql's directives created them with their new signatures beside the
-- old ones; schema api of a database created at 0.1.0 keeps one function
-- per name (PostgREST cannot choose between overloads by their arguments):
-- the old signatures go, the new ones get the web roles' grants.
-- 99_release_api.sql then releases the new ones from extension task.
DROP FUNCTION api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[]);
DROP FUNCTION api.task_complete(text, jsonb, text, bigint);
DROP FUNCTION api.task_fail(text, text, bigint, boolean);
DROP FUNCTION api.task_reschedule(text, timestamptz, bigint);
DROP FUNCTION api.task_dequeue(text, integer, interval, interval);
DO $$
DECLARE
    f regprocedure;
    r name;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[], boolean, integer, text, interval)',
        'api.task_complete(text, jsonb, text, bigint, boolean)',
        'api.task_fail(text, text, bigint, boolean, boolean)',
        'api.task_reschedule(text, timestamptz, bigint, boolean)',
        'api.task_dequeue(text, integer, interval, interval, text, bigint, jsonb, text, text[], bigint[])']::regprocedure[] LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        FOR r IN SELECT x.web_role FROM task._roles() x WHERE x.group_role IS NOT NULL LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f, r);
        END LOOP;
    END LOOP;
END
$$;
