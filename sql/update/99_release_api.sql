\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Last of all: fragments before this one may still replace api.* objects.
--
-- The HTTP schema is its own extension now, task_http, installed in the
-- schema the operator names (sql/http/api.sql): a fresh install of task has
-- no schema api. A database created at 0.1.0 has api inside extension task:
-- the update brings its objects up to date (above, and 10_names.sql) and
-- then releases them from the extension, so PostgREST keeps working with
-- them as they are, and extension task is what a fresh install is. They
-- are plain objects from now on: to manage them as task_http (and get its
-- later updates), DROP SCHEMA api CASCADE; CREATE SCHEMA api; CREATE
-- EXTENSION task_http SCHEMA api; (docs/OPERATIONS.md, "Upgrading").
ALTER EXTENSION task DROP VIEW api.tasks;
ALTER EXTENSION task DROP FUNCTION api.task_get(text, integer, integer);
ALTER EXTENSION task DROP FUNCTION api.task_logs(text, integer, integer);
ALTER EXTENSION task DROP FUNCTION api.task_result(text);
ALTER EXTENSION task DROP FUNCTION api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[], boolean, integer, text, interval);
ALTER EXTENSION task DROP FUNCTION api.task_progress(text, double precision, timestamptz, jsonb, bigint);
ALTER EXTENSION task DROP FUNCTION api.task_log(text, text, bigint, bigint, bigint, bigint);
ALTER EXTENSION task DROP FUNCTION api.task_heartbeat(text, bigint, interval, double precision);
ALTER EXTENSION task DROP FUNCTION api.task_complete(text, jsonb, text, bigint, boolean);
ALTER EXTENSION task DROP FUNCTION api.task_fail(text, text, bigint, boolean, boolean);
ALTER EXTENSION task DROP FUNCTION api.task_reschedule(text, timestamptz, bigint, boolean);
ALTER EXTENSION task DROP FUNCTION api.task_cancel(text, text);
ALTER EXTENSION task DROP FUNCTION api.task_retry(text);
ALTER EXTENSION task DROP FUNCTION api.task_dequeue(text, integer, interval, interval, text, bigint, jsonb, text, text[], bigint[]);
ALTER EXTENSION task DROP SCHEMA api;
