\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 22, the hot path: the WHEN of task_settle_dependents is a call of a
-- C function (task._settles) instead of an IN list and IS DISTINCT FROM.
-- PostgreSQL reads a trigger's WHEN from its stored form and compiles it
-- in every statement that updates task.task, claims and completions
-- included (docs/QUEUE.md, "Stop 22").
-- @replace function task._settles
-- as 90_access.sql: revoked from PUBLIC with every internal function, then
-- granted, since the trigger's WHEN runs as whoever updates task.task
REVOKE ALL ON FUNCTION task._settles(task.status, task.status) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._settles(task.status, task.status) TO PUBLIC;
DROP TRIGGER task_settle_dependents ON task.task;
CREATE TRIGGER task_settle_dependents
    AFTER UPDATE OF status ON task.task
    FOR EACH ROW
    WHEN (task._settles(OLD.status, NEW.status))
    EXECUTE FUNCTION task._settle_gate();
--
-- The batch completion is C (src/hotpath.c, complete_many): each task as
-- task._complete does it, without a plan, instead of one UPDATE of a join
-- with the arrays.
-- @replace function task._complete_many
--
-- task._may_write is C (src/identity.c, task_may_write): one rule for the
-- SQL that checks a writer and for the writes of src/hotpath.c.
-- @replace function task._may_write
