\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 26, the hot path. task_create_many looks its queue up as
-- task_create does (task._queue_for_create_direct, C: the caller's
-- existing queue read directly, task._queue_for_create otherwise). The
-- other changes of this stop's hot path are in the library alone.
-- @replace function task._queue_for_create_direct
REVOKE ALL ON FUNCTION task._queue_for_create_direct(text) FROM PUBLIC;
-- @replace function task.task_create_many
-- task._check_batch refuses a NULL code (stop 25, in the library): its
-- comment says so.
-- @replace function task._check_batch
