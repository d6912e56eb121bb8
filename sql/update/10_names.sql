\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Names (issue 10): the two result columns of task.task are named after the
-- task_complete arguments that fill them -- result (the JSON value) and
-- resource (the URI of a resource result) -- instead of result_value and
-- result. The functions that read or write them are replaced.

ALTER TABLE task.task RENAME COLUMN result TO resource;
ALTER TABLE task.task RENAME COLUMN result_value TO result;
COMMENT ON COLUMN task.task.resource IS 'Relative URI of a resource holding the result (task_complete(resource => ...)); NULL when the result is a JSON value.';
COMMENT ON COLUMN task.task.result IS 'The JSON result (task_complete(result => ...)), served at the task''s result endpoint.';

-- @replace function task._result_uri

-- @replace function task.task_result

-- @replace function task._complete

-- @replace function api.task_result

-- api.tasks expands task.task's columns in a subquery: it is re-read under
-- their new names by 30_sidechan.sql, which replaces it (its new text
-- calls a function that does not exist yet here)
