\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Reading tasks no slower than 0.1.0 (issue 16): no SQL function on the
-- read path is parsed and planned again on every call (docs/PERFORMANCE.md,
-- "Reading tasks"). _strip_nulls is C (src/json.c); _task_json,
-- _actor_json and _visible are PL/pgSQL, whose plans are kept for the
-- session; _iso and status_description are marked so they are inlined.

-- @replace function task._strip_nulls
-- @replace function task._iso
-- @replace function task.status_description
-- @replace function task._actor_json
-- @replace function task._task_json
-- @replace function task._visible
