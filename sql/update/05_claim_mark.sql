\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The claim mark (issue 15, W6): task._claim starts its search of a
-- queue's runnable index where nothing runnable sorts before it
-- (src/mark.c), so a snapshot held open elsewhere no longer makes every
-- claim walk the entries of all the tasks claimed since. Here before the
-- fragments that replace task._claim and task_dequeue, whose bodies
-- declare a claim_mark.
-- @create type task.claim_mark
-- @replace function task._mark_get
-- @replace function task._mark_set
-- @replace function task._mark_done
-- @replace function task._mark_peek
-- @replace function task._lease_from
-- @replace function task._lease_set
-- @replace function task._claimable_version
REVOKE ALL ON FUNCTION task._mark_get(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._mark_done(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._mark_peek(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._lease_from(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._lease_set(integer, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._claimable_version(regclass, tid) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._mark_set(integer, text, bigint, integer, timestamptz, task.task_id, boolean) FROM PUBLIC;
