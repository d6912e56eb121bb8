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

CREATE TRIGGER task_transition
    BEFORE INSERT OR UPDATE ON task.task
    FOR EACH ROW EXECUTE FUNCTION task.task_transition();

-- Optional NOTIFY when a task of a queue with a notify_channel reaches a
-- final status (task_queue_notify). The payload is {"id", "queue",
-- "status"}; it is sent when the transaction commits. NOTIFY serializes
-- committing transactions that sent one on a global lock: measured cost in
-- docs/FEATURES.md.
CREATE FUNCTION task._notify_final() RETURNS trigger
    LANGUAGE plpgsql
    -- it runs as whoever updates the task (a service may UPDATE directly):
    -- its operators must not resolve through the caller's search_path
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    channel text;
BEGIN
    SELECT q.notify_channel INTO channel FROM task.queue q WHERE q.name = NEW.queue;
    IF channel <> '' THEN
        PERFORM pg_catalog.pg_notify(channel, pg_catalog.jsonb_build_object(
            'id', NEW.id::text, 'queue', NEW.queue, 'status', NEW.status)::text);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._notify_final() IS
    'Trigger: NOTIFY on the queue''s notify_channel when a task reaches a final status (payload {"id", "queue", "status"}).';

CREATE TRIGGER task_notify_final
    AFTER UPDATE OF status ON task.task
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION task._notify_final();
