\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The cost per task of the queue path (issue 15, docs/QUEUE.md "Cost per
-- task"): the final-transition trigger runs a C gate that calls the
-- PL/pgSQL settlement only when there is something to settle, and the
-- CHECK on max_run_time moves into the transition trigger (a CHECK is
-- parsed and planned again by every statement writing task.task).

ALTER TABLE task.task DROP CONSTRAINT task_max_run_time_check;

-- @replace function task._settle_dependents
CREATE FUNCTION task._settle_gate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_settle_gate' LANGUAGE C;
COMMENT ON FUNCTION task._settle_gate() IS
    'Trigger: on a final transition, calls task._settle_dependents() when the task has dependents, its queue a NOTIFY channel, or it is a hired task (code market.*); otherwise does nothing.';
REVOKE ALL ON FUNCTION task._settle_gate() FROM PUBLIC;

DROP TRIGGER task_settle_dependents ON task.task;
CREATE TRIGGER task_settle_dependents
    AFTER UPDATE OF status ON task.task
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION task._settle_gate();
