\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 25, the hot path. task_create_many inserts its tasks as
-- task_create does, one direct insert per task (task._create_many, C),
-- with its INSERT statement kept for a default the direct insert does
-- not know. The other changes of this stop are in the library alone.
-- @replace function task._create_many
REVOKE ALL ON FUNCTION task._create_many(task.queue, text, jsonb[], timestamptz, text[], integer, interval) FROM PUBLIC;
-- @replace function task.task_create_many
