\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Long history: finished tasks in monthly tables, retention by DROP TABLE.
--
-- A queue with archive_after (task_queue_archive) has its finished tasks
-- moved, archive_after after they finished, out of the live tables into the
-- history tables of the month they finished in (UTC):
--
--   task.task_YYYYMM         INHERITS (task.task)          the task rows
--   task.task_access_YYYYMM  INHERITS (task.task_access)   their access lists
--   task.task_log_YYYYMM     INHERITS (task.task_log)      their logs
--
-- They are children by table inheritance, so every read of task.task,
-- task.task_access and task.task_log -- task_get, task_list, task_logs,
-- task_result, the visibility rule, the RLS policies of the parents, the
-- HTTP views -- sees an archived task exactly as it saw it live, by the
-- same code. Their CHECK constraints (finished statuses only, one month of
-- status_at) let the planner leave them out of every statement that names
-- an unfinished status, such as the claim and the worker calls; a lookup by
-- id alone probes one primary key index per month kept.
--
-- Archived tasks are read-only (task._history_read_only): an UPDATE or
-- DELETE through the parents skips them, and a call naming one says it is
-- archived (task._write_failed). They go when the whole month has passed
-- the retention of every queue that has tasks in it: task_maintain drops
-- the three tables (no DELETE, no dead rows, no vacuum). Tasks still
-- linked to live rows stay live and are purged as before: those with
-- dependency rows, parents of live tasks, and hired tasks (code market.*,
-- referenced by the marketplace tables).
--
-- The history tables are created by task_maintain, not by the extension
-- script, so they are ordinary tables of schema task: pg_dump dumps them
-- with their rows like any table (see docs/OPERATIONS.md for --data-only).

-- ---------------------------------------------------------------- the queue setting
CREATE FUNCTION task.task_queue_archive(queue text, archive_after interval) RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue := task._worker_queue(task_queue_archive.queue);
BEGIN
    IF task_queue_archive.archive_after IS NULL OR task_queue_archive.archive_after < '0'
       OR task_queue_archive.archive_after > '36525 days' THEN
        RAISE EXCEPTION 'archive_after must be between 0 and 100 years'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass an interval such as ''1 day'', or ''0'' to keep finished tasks live until purged.';
    END IF;
    UPDATE task.queue x SET archive_after = task_queue_archive.archive_after
     WHERE x.name = q.name
    RETURNING * INTO q;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task.task_queue_archive(text, interval) IS
    'Sets how long after it finished a task of the queue moves to the monthly history tables (read-only, dropped a month at a time once past the queue''s retention); 0: never (the default). Owning service only.';

-- ---------------------------------------------------------------- the history tables
-- The month (UTC) of a finishing time: the history table it goes to.
CREATE FUNCTION task._history_month(at timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.date_trunc('month', at AT TIME ZONE 'UTC')::date;
COMMENT ON FUNCTION task._history_month(timestamptz) IS
    'Internal: the first day of the month (UTC) of a finishing time: the history tables task_YYYYMM, task_access_YYYYMM and task_log_YYYYMM of that month hold it.';

CREATE FUNCTION task._history_read_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    -- skip the row: bulk statements pass over archived tasks, and a call
    -- naming one reports it (task._write_failed)
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._history_read_only() IS
    'Internal trigger of the history tables: archived rows are read-only, an UPDATE or DELETE skips them (they go with their month''s DROP TABLE).';

-- The history tables of a month, created if missing, with the indexes the
-- reads need (those of the parents that can match a finished task).
-- CREATE TABLE ... INHERITS takes SHARE UPDATE EXCLUSIVE on the parents:
-- it waits for a VACUUM of them, never for workers.
CREATE FUNCTION task._history_create(month date) RETURNS void
    LANGUAGE plpgsql
    SET lock_timeout = '10s'
AS $$
DECLARE
    m text := pg_catalog.to_char(_history_create.month, 'YYYYMM');
    lo text := pg_catalog.quote_literal(pg_catalog.to_char(_history_create.month, 'YYYY-MM-DD') || ' 00:00:00+00');
    hi text := pg_catalog.quote_literal(pg_catalog.to_char(_history_create.month + 31, 'YYYY-MM') || '-01 00:00:00+00');
BEGIN
    IF _history_create.month IS DISTINCT FROM task._history_month(_history_create.month::timestamp AT TIME ZONE 'UTC') THEN
        RAISE EXCEPTION 'history month must be the first day of a month, not %',
                        pg_catalog.to_char(_history_create.month, 'YYYY-MM-DD')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass task._history_month(a finishing time).';
    END IF;
    IF pg_catalog.to_regclass('task.task_' || m) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format($ddl$
        CREATE TABLE task.%1$I (
            CONSTRAINT %1$I_finished CHECK (status IN ('completed', 'failed', 'cancelled')),
            CONSTRAINT %1$I_month CHECK (status_at >= %2$s AND status_at < %3$s),
            PRIMARY KEY (id, owner)
        ) INHERITS (task.task);
        CREATE INDEX ON task.%1$I (owner, status_at);
        CREATE INDEX ON task.%1$I (queue, status_at) INCLUDE (status, started_at, completed_at, failed_at);
        CREATE INDEX ON task.%1$I (owner, parent) WHERE parent IS NOT NULL;
        CREATE TRIGGER task_history_read_only BEFORE UPDATE OR DELETE ON task.%1$I
            FOR EACH ROW EXECUTE FUNCTION task._history_read_only();
        COMMENT ON TABLE task.%1$I IS 'History: tasks that finished in %4$s (UTC), archived by task_maintain; read through task.task, dropped as a whole.';
        CREATE TABLE task.%5$I (PRIMARY KEY (owner, task_id, account)) INHERITS (task.task_access);
        CREATE INDEX ON task.%5$I (account, owner, task_id);
        CREATE TRIGGER task_history_read_only BEFORE UPDATE OR DELETE ON task.%5$I
            FOR EACH ROW EXECUTE FUNCTION task._history_read_only();
        COMMENT ON TABLE task.%5$I IS 'History: the access lists of the tasks of task.%1$I.';
        CREATE TABLE task.%6$I (PRIMARY KEY (owner, task_id, seq)) INHERITS (task.task_log);
        CREATE TRIGGER task_history_read_only BEFORE UPDATE OR DELETE ON task.%6$I
            FOR EACH ROW EXECUTE FUNCTION task._history_read_only();
        COMMENT ON TABLE task.%6$I IS 'History: the logs of the tasks of task.%1$I.';
        -- read through the parents, whose grants and policies apply; nobody
        -- reads them directly (no grant; row security as on every table)
        ALTER TABLE task.%1$I ENABLE ROW LEVEL SECURITY;
        ALTER TABLE task.%1$I FORCE ROW LEVEL SECURITY;
        ALTER TABLE task.%5$I ENABLE ROW LEVEL SECURITY;
        ALTER TABLE task.%5$I FORCE ROW LEVEL SECURITY;
        ALTER TABLE task.%6$I ENABLE ROW LEVEL SECURITY;
        ALTER TABLE task.%6$I FORCE ROW LEVEL SECURITY;
        $ddl$, 'task_' || m, lo, hi, pg_catalog.to_char(_history_create.month, 'YYYY-MM'),
        'task_access_' || m, 'task_log_' || m);
END
$$;
COMMENT ON FUNCTION task._history_create(date) IS
    'Internal: creates the history tables of a month (task_YYYYMM, task_access_YYYYMM, task_log_YYYYMM, children of task.task, task.task_access and task.task_log) with their indexes and read-only trigger, unless they exist.';

-- ---------------------------------------------------------------- archive
-- Moves up to max_rows finished tasks, archive_after past their finishing
-- time, with their access lists and logs, into the history tables of their
-- month: one transaction, so a reader sees the task live or archived, never
-- both or neither. The rows are locked (SKIP LOCKED) first: a call that
-- changes one of them (retry, delete) waits, then finds it archived.
CREATE FUNCTION task._archive_queue(q task.queue, max_rows integer) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    ids task.task_id[];
    months date[];
    m date;
    n integer;
BEGIN
    SELECT array_agg(v.id), array_agg(DISTINCT v.month) INTO ids, months
      FROM (SELECT t.id, task._history_month(t.status_at) AS month
              FROM ONLY task.task t
             WHERE t.queue = q.name
               AND t.status IN ('completed', 'failed', 'cancelled')
               AND t.status_at < now() - q.archive_after
               AND NOT task._archive_kept(t.owner, t.id, t.code)
             ORDER BY t.status_at
             LIMIT _archive_queue.max_rows
             FOR UPDATE OF t SKIP LOCKED) v;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    FOREACH m IN ARRAY months LOOP
        PERFORM task._history_create(m);
        EXECUTE pg_catalog.format(
            'INSERT INTO task.%I SELECT t.* FROM ONLY task.task t
              WHERE t.id = ANY ($1) AND task._history_month(t.status_at) = $2',
            'task_' || pg_catalog.to_char(m, 'YYYYMM')) USING ids, m;
        EXECUTE pg_catalog.format(
            'INSERT INTO task.%I SELECT a.* FROM ONLY task.task t JOIN ONLY task.task_access a
                 ON a.owner = t.owner AND a.task_id = t.id
              WHERE t.id = ANY ($1) AND task._history_month(t.status_at) = $2',
            'task_access_' || pg_catalog.to_char(m, 'YYYYMM')) USING ids, m;
        EXECUTE pg_catalog.format(
            'INSERT INTO task.%I SELECT l.* FROM ONLY task.task t JOIN ONLY task.task_log l
                 ON l.owner = t.owner AND l.task_id = t.id
              WHERE t.id = ANY ($1) AND task._history_month(t.status_at) = $2',
            'task_log_' || pg_catalog.to_char(m, 'YYYYMM')) USING ids, m;
    END LOOP;
    DELETE FROM ONLY task.task_log l USING unnest(ids) v(id)
     WHERE l.owner = task.task_id_owner(v.id) AND l.task_id = v.id;
    DELETE FROM ONLY task.task_access a USING unnest(ids) v(id)
     WHERE a.owner = task.task_id_owner(v.id) AND a.task_id = v.id;
    DELETE FROM ONLY task.task t WHERE t.id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._archive_queue(task.queue, integer) IS
    'Internal (task_maintain): moves up to max_rows finished tasks of one queue, archive_after past their finishing time and not kept (task._archive_kept), with their access lists and logs, into the history tables of their month; returns how many.';

CREATE FUNCTION task._history_archive(max_rows integer) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    q task.queue;
    moved integer := 0;
BEGIN
    -- only the queues holding a finished task old enough that can move,
    -- the longest overdue first (task._due_queues, as the purge)
    FOR q IN SELECT * FROM task._due_queues(true)
    LOOP
        EXIT WHEN moved >= _history_archive.max_rows;
        moved := moved + task._archive_queue(q, _history_archive.max_rows - moved);
    END LOOP;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION task._history_archive(integer) IS
    'Internal (task_maintain): moves up to max_rows finished tasks of the queues with archive_after, with their access lists and logs, into the history tables of the month they finished in; returns how many.';

-- ---------------------------------------------------------------- retention
-- Drops the history tables of every month before the current one whose
-- tasks have all passed their queue's retention (a queue keeping forever,
-- retention 0, keeps its months). The test reads, per queue, the last
-- finishing time of the month from the (queue, status_at) index, so a
-- retention changed later applies to archived months too. The lock waits
-- at most lock_timeout: a month in use by a long reader is dropped by a
-- later call. Call it last in a transaction: the dropped tables stay
-- locked until the commit.
CREATE FUNCTION task._history_drop() RETURNS integer
    LANGUAGE plpgsql
    SET lock_timeout = '200ms'
AS $$
DECLARE
    part record;
    expired boolean;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT substr(c.relname, 6) AS m
          FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'task.task'::regclass AND c.relname ~ '^task_[0-9]{6}$'
           AND substr(c.relname, 6) < pg_catalog.to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format(
            'SELECT coalesce(bool_and(q.retention > ''0'' AND l.last < now() - q.retention), true)
               FROM task.queue q
               CROSS JOIN LATERAL (SELECT max(t.status_at) AS last FROM task.%I t WHERE t.queue = q.name) l
              WHERE l.last IS NOT NULL', 'task_' || part.m) INTO expired;
        CONTINUE WHEN NOT expired;
        BEGIN
            EXECUTE pg_catalog.format('DROP TABLE task.%I, task.%I, task.%I',
                                      'task_log_' || part.m, 'task_access_' || part.m, 'task_' || part.m);
            dropped := dropped + 1;
        EXCEPTION WHEN lock_not_available THEN
            NULL;   -- a long reader holds it: a later call drops it
        END;
    END LOOP;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION task._history_drop() IS
    'Internal (task_maintain, last): drops the history tables of each past month whose tasks have all passed their queue''s retention (never for a queue keeping forever); a month locked by a reader for over 200 ms waits for a later call. Returns how many months it dropped.';
