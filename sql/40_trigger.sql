\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The transition and audit trigger (src/transition.c). It checks every
-- INSERT and UPDATE of task.task -- API call or direct statement alike --
-- rejects forbidden transitions, stamps the audit columns, bumps the
-- revision and writes "from -> to" entries into task.task_log.

CREATE FUNCTION task.task_transition() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_transition' LANGUAGE C;
COMMENT ON FUNCTION task.task_transition() IS
    'Trigger: checks status transitions and field rules, stamps audit {at, by}, bumps revision, logs transitions.';
-- Nobody else attaches it to a table of theirs (CREATE TRIGGER needs
-- EXECUTE; firing does not): it writes task logs as the tables' owner.
REVOKE ALL ON FUNCTION task.task_transition() FROM PUBLIC;

CREATE TRIGGER task_transition
    BEFORE INSERT OR UPDATE ON task.task
    FOR EACH ROW EXECUTE FUNCTION task.task_transition();
-- It fires under session_replication_role = replica too (a subscriber, a
-- load that skips triggers), where it writes the row as given and only
-- notes it for the queue's claim marks and its waiters.
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
