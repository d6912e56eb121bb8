\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The worker's hot path in C (src/hotpath.c): task_dequeue when it does not
-- wait, the claim and the completion. The other calls of task_dequeue run
-- the PL/pgSQL it had, now task._dequeue.
-- @replace function task._dequeue
REVOKE ALL ON FUNCTION task._dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) FROM PUBLIC;
-- @replace function task._claim
-- @replace function task._complete
-- @replace function task.task_dequeue
--
-- task_create likewise for a task without a parent, access list,
-- dependencies or keys; the other calls run task._create.
-- @replace function task._create
REVOKE ALL ON FUNCTION task._create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval, interval) FROM PUBLIC;
-- @replace function task.task_create
