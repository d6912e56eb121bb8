\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 26. task_create in another service's queue and in a new name
-- outside the caller's namespace are refused by one call of
-- task._check_queue_namespace in task._queue_for_create, so even the
-- CONTEXT a direct connection shows is the same for both.
-- @replace function task._queue_for_create
