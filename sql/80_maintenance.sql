\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Housekeeping.
--
-- task_maintain() is the one call any scheduler makes: it rescues expired
-- leases, releases blocked tasks whose dependencies have all completed (a
-- safety net for the settle trigger), and purges finished tasks past their
-- queue's retention with their logs, access rows and dependency rows.
-- Every step locks only the rows it takes (SKIP LOCKED) and does at most
-- max_rows of work, so it can run beside workers and beside itself.
--
-- pg_cron is optional: task_cron_enable() / task_cron_disable() install
-- and remove the job that calls task_maintain() every minute. Nothing here
-- refers to pg_cron until one of those is called, so the extension
-- installs and works without it.

-- Whether a finished task is kept past its queue's retention: a blocked
-- task still waits for it, or it was hired (a hired task keeps its
-- ledger's history: never purged, whatever retention its service gives
-- the queue).
CREATE FUNCTION task._purge_kept(owner integer, id task.task_id) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN EXISTS (SELECT FROM task.task_dependency d
                     JOIN task.task b ON b.owner OPERATOR(pg_catalog.=) d.owner AND b.id OPERATOR(task.=) d.task_id
                    WHERE d.owner OPERATOR(pg_catalog.=) _purge_kept.owner AND d.depends_on OPERATOR(task.=) _purge_kept.id
                      AND b.status OPERATOR(pg_catalog.=) 'blocked')
        OR EXISTS (SELECT FROM task.market_task m
                    WHERE m.owner OPERATOR(pg_catalog.=) _purge_kept.owner AND m.task_id OPERATOR(task.=) _purge_kept.id);
COMMENT ON FUNCTION task._purge_kept(integer, task.task_id) IS
    'Internal (task_maintain): whether a finished task past its retention is kept (a blocked task waits for it, or it was hired).';

-- A finished task still linked to live rows stays live (purged as
-- before): a hired task, one in a dependency, a parent of a live child.
CREATE FUNCTION task._archive_kept(owner integer, id task.task_id, code text) RETURNS boolean
    LANGUAGE sql STABLE
    RETURN code LIKE 'market.%'
        OR EXISTS (SELECT FROM task.task_dependency d
                    WHERE d.owner OPERATOR(pg_catalog.=) _archive_kept.owner AND d.task_id OPERATOR(task.=) _archive_kept.id)
        OR EXISTS (SELECT FROM task.task_dependency d
                    WHERE d.owner OPERATOR(pg_catalog.=) _archive_kept.owner AND d.depends_on OPERATOR(task.=) _archive_kept.id)
        OR EXISTS (SELECT FROM ONLY task.task c
                    WHERE c.owner OPERATOR(pg_catalog.=) _archive_kept.owner AND c.parent OPERATOR(task.=) _archive_kept.id);
COMMENT ON FUNCTION task._archive_kept(integer, task.task_id, text) IS
    'Internal (task_maintain): whether a finished task stays live instead of moving to the history tables (hired, in a dependency, or the parent of a live child).';

-- The queues holding a finished task past their retention (archive
-- false: to purge) or their archive_after (true: to move to the history
-- tables) that is not kept, the longest overdue first: one probe of each
-- queue's index range, in one statement (any service may make queues, as
-- many as it likes: a statement per queue made every run 100 times slower
-- for every tenant; in name order, a service whose queues sort first took
-- every run).
CREATE FUNCTION task._due_queues(archive boolean) RETURNS SETOF task.queue
    LANGUAGE sql STABLE
AS $$
    SELECT (c.x).* FROM (
        SELECT x,
               (SELECT t.status_at FROM ONLY task.task t
                 WHERE t.queue = x.name
                   AND t.status IN ('completed', 'failed', 'cancelled')
                   AND t.status_at < now() - k.keep
                   AND NOT CASE WHEN _due_queues.archive THEN task._archive_kept(t.owner, t.id, t.code)
                                ELSE task._purge_kept(t.owner, t.id) END
                 ORDER BY t.status_at LIMIT 1) + k.keep AS due
          FROM task.queue x,
               LATERAL (SELECT CASE WHEN _due_queues.archive THEN x.archive_after ELSE x.retention END AS keep) k
         WHERE k.keep > '0') c
     WHERE c.due IS NOT NULL
     ORDER BY c.due, (c.x).name
$$;
COMMENT ON FUNCTION task._due_queues(boolean) IS
    'Internal (task_maintain): the queues with a finished task to purge (archive false) or to archive (true), the longest overdue first.';

-- The queues holding an expired lease or an attempt past the queue's
-- maximum run time, the one whose oldest is oldest first (when it became
-- due: its lease_until, or started_at + max_run_time): one probe of each
-- queue's lease index in one statement. In name order, a queue that sorts
-- late waited for every queue before it while their rescues filled
-- max_rows; now it waits only for leases that expired before its own.
CREATE FUNCTION task._rescue_queues() RETURNS SETOF task.queue
    LANGUAGE sql VOLATILE
AS $$
    SELECT (c.x).* FROM (
        SELECT x,
               -- least() skips the NULL of a queue without the other kind
               least((SELECT t.lease_until FROM ONLY task.task t
                       WHERE t.queue = x.name AND t.status = 'processing'
                         AND t.lease_until < clock_timestamp()
                       ORDER BY t.lease_until LIMIT 1),
                     CASE WHEN x.max_run_time > '0' THEN
                         (SELECT min(t.started_at) FROM ONLY task.task t
                           WHERE t.queue = x.name AND t.status = 'processing' AND t.max_run_time IS NULL
                             AND t.started_at + x.max_run_time < clock_timestamp()) + x.max_run_time
                     END) AS due
          FROM task.queue x) c
     WHERE c.due IS NOT NULL
     ORDER BY c.due, (c.x).name
$$;
COMMENT ON FUNCTION task._rescue_queues() IS
    'Internal (task_maintain): the queues with an expired lease or an attempt past the queue''s maximum run time, the one whose oldest became due first.';

-- One queue's part of task_maintain's purge: up to max_rows live finished
-- tasks past the queue's retention, oldest first, with their logs (no
-- foreign key) and the dependency rows naming them (access rows and their
-- own dependency rows go by cascade); the kept ones (task._purge_kept)
-- stay, and so do rows another transaction holds. The tasks go by the
-- ctids their lock returned (a TID scan: a join on the key hashed the
-- whole table for every batch), in statements after the lock's: the lock
-- returns the newest version of a row updated after the statement began
-- (read committed), which only a later statement's snapshot sees, and it
-- keeps that version where it is until the commit.
CREATE FUNCTION task._purge_queue(q task.queue, max_rows integer, OUT purged integer, OUT logs_purged integer)
    LANGUAGE plpgsql
AS $$
DECLARE
    tids tid[];
    owners integer[];
    ids task.task_id[];
BEGIN
    SELECT array_agg(v.ctid), array_agg(v.owner), array_agg(v.id)
      INTO tids, owners, ids
      FROM (SELECT t.ctid, t.owner, t.id FROM ONLY task.task t
             WHERE t.queue = _purge_queue.q.name
               AND t.status IN ('completed', 'failed', 'cancelled')
               AND t.status_at < now() - _purge_queue.q.retention
               AND NOT task._purge_kept(t.owner, t.id)
             ORDER BY t.status_at
             LIMIT _purge_queue.max_rows
             FOR UPDATE OF t SKIP LOCKED) v;
    purged := 0;
    logs_purged := 0;
    IF tids IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM ONLY task.task_log l USING unnest(owners, ids) v(owner, id)
     WHERE l.owner = v.owner AND l.task_id = v.id;
    GET DIAGNOSTICS logs_purged = ROW_COUNT;
    DELETE FROM task.task_dependency d USING unnest(owners, ids) v(owner, id)
     WHERE d.owner = v.owner AND d.depends_on = v.id;
    DELETE FROM ONLY task.task t WHERE t.ctid = ANY (tids);
    GET DIAGNOSTICS purged = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION task._purge_queue(task.queue, integer) IS
    'Internal (task_maintain): purges up to max_rows live finished tasks of one queue past its retention, oldest first, with their logs and the dependency rows naming them; returns how many tasks and log rows.';

CREATE FUNCTION task.task_maintain(max_rows integer DEFAULT 20000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue;
    r record;
    rescued integer := 0;
    released integer := 0;
    purged integer := 0;
    logs_purged integer := 0;
    n integer;
    n_logs integer;
    archived integer := 0;
    months_dropped integer := 0;
    -- one call at a time archives and drops history (83_history.sql);
    -- another skips both steps rather than wait
    history boolean;
    result jsonb;
    -- the call's own start, not its transaction's: in task_maintain_all's
    -- passes the transaction began before the pause
    started timestamptz := clock_timestamp();
BEGIN
    PERFORM task._require_operations('run maintenance');
    IF task_maintain.max_rows IS NULL OR task_maintain.max_rows NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 100000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep batches small and call again while "more" is true.';
    END IF;

    -- 1. expired leases and attempts past their queue's maximum run time,
    -- queue by queue (the rescue is the one dequeue uses, oldest first
    -- within a queue), the queue whose oldest became due first
    -- (task._rescue_queues)
    FOR q IN SELECT * FROM task._rescue_queues()
    LOOP
        EXIT WHEN rescued >= task_maintain.max_rows;
        rescued := rescued + task._rescue_leases(q, task_maintain.max_rows - rescued);
    END LOOP;

    -- 2. blocked tasks whose dependencies have all completed: the settle
    -- trigger releases them as the last dependency completes; this finds
    -- any it could not (rows written with triggers disabled, restores)
    FOR r IN
        SELECT c.owner, array_agg(c.id ORDER BY c.id) AS ids
          FROM (SELECT t.owner, t.id FROM task.task t
                 WHERE t.status = 'blocked'
                   AND EXISTS (SELECT FROM task.task_dependency d
                                WHERE d.owner = t.owner AND d.task_id = t.id)
                   AND NOT EXISTS (SELECT FROM task.task_dependency d
                                     JOIN task.task x ON x.owner = d.owner AND x.id = d.depends_on
                                    WHERE d.owner = t.owner AND d.task_id = t.id
                                      AND x.status <> 'completed')
                 ORDER BY t.owner, t.id
                 LIMIT task_maintain.max_rows
                 FOR UPDATE OF t SKIP LOCKED) c
         GROUP BY c.owner
         ORDER BY c.owner
    LOOP
        released := released + task._release_ready(r.owner, r.ids,
                                                    'released by maintenance: all its dependencies completed');
    END LOOP;

    -- 3. live finished tasks past their queue's retention, oldest first,
    -- queue by queue (task._purge_queue), the queues that hold such a task
    -- only, the longest overdue first (task._due_queues). Archived tasks
    -- are not deleted here: their month is dropped as a whole (step 6).
    FOR q IN SELECT * FROM task._due_queues(false)
    LOOP
        EXIT WHEN purged >= task_maintain.max_rows;
        SELECT p.purged, p.logs_purged INTO n, n_logs FROM task._purge_queue(q, task_maintain.max_rows - purged) p;
        purged := purged + n;
        logs_purged := logs_purged + n_logs;
    END LOOP;

    -- 4. finished tasks archive_after past their finishing time move to the
    -- history tables of their month (83_history.sql)
    -- one call at a time: the one that locks task.maintenance_run at once
    -- (no tenant may lock that table: no grant on it; an advisory lock's
    -- key shows in pg_locks, and anyone may take it)
    BEGIN
        LOCK TABLE task.maintenance_run IN SHARE UPDATE EXCLUSIVE MODE NOWAIT;
        history := true;
    EXCEPTION WHEN lock_not_available THEN
        history := false;
    END;
    IF history THEN
        BEGIN
            archived := task._history_archive(task_maintain.max_rows);
        EXCEPTION WHEN lock_not_available THEN
            archived := 0;  -- a new month's tables wait for a VACUUM: next call
        END;
    END IF;

    -- 5. the marketplace: escrows past their review window, dispute deadlines
    PERFORM task._market_maintain(task_maintain.max_rows);
    -- mappings whose role was dropped (roles are global: no event trigger
    -- sees DROP ROLE); they grant nothing already (src/identity.c)
    DELETE FROM task.login l
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles pr WHERE pr.oid = l.role::oid);

    -- 6. retention of the history: months past every queue's retention
    -- are dropped, last, as their tables stay locked until the commit
    IF history THEN
        months_dropped := task._history_drop();
    END IF;

    result := jsonb_build_object(
        'leases_rescued', rescued,
        'released', released,
        'purged', purged,
        'logs_purged', logs_purged,
        'archived', archived,
        'months_dropped', months_dropped,
        -- a step stopped at max_rows: there may be more to do now
        'more', rescued >= task_maintain.max_rows OR released >= task_maintain.max_rows
                OR purged >= task_maintain.max_rows OR archived >= task_maintain.max_rows);

    -- 7. the run's record (task_maintain_runs; a pg_cron job's run details
    -- join it on the job's pid), and the records past a week
    DELETE FROM task.maintenance_run m
     WHERE m.ctid = ANY (ARRAY(SELECT o.ctid FROM task.maintenance_run o
                                WHERE o.at < now() - interval '7 days'
                                LIMIT task_maintain.max_rows
                                  FOR UPDATE SKIP LOCKED));
    INSERT INTO task.maintenance_run (at, finished_at, pid, by, result)
    VALUES (started, clock_timestamp(), pg_backend_pid(), task.current_actor(), result);
    RETURN result;
END
$$;
COMMENT ON FUNCTION task.task_maintain(integer) IS
    'Housekeeping, safe to run at any time and concurrently: rescues expired leases and attempts past their maximum run time, releases blocked tasks whose dependencies have all completed, and purges live finished tasks older than their queue''s retention (0 keeps forever) with their logs, access and dependency rows, moves finished tasks archive_after old to the monthly history tables (archived) and drops the months past every queue''s retention (months_dropped); at most max_rows of each a call; removes the logins of dropped roles. Returns the counts and "more" (a batch was full: call again), and records them with the caller''s pid in task.maintenance_run (task_maintain_runs; kept 7 days). System or Operations only. Call it every minute from pg_cron (task_cron_enable) or any other scheduler.';

-- The pause between two passes of task_maintain_all: a sleep on the latch
-- that holds no xmin (src/wait.c: the statement calling it reads no table),
-- so a run that lasts most of a minute keeps no vacuum waiting. Only for
-- task_maintain_all's callers (the system, Operations: 90_access.sql): a
-- snapshot outside the running statements (a cursor, a loop's query)
-- would not be safe to let go of.
CREATE FUNCTION task._pause(ms double precision) RETURNS void
    AS 'MODULE_PATHNAME', 'task_pause'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._pause(double precision) IS
    'Internal: sleeps ms milliseconds holding no xmin when no running statement reads a table afterwards (task_maintain_all''s pause between passes).';

-- task_maintain() again and again, each call its own transaction, until a
-- call has nothing more to do (its "more" false) or max_calls calls: what
-- task_cron_enable's job runs (pg_cron 1.4 runs a job at most once a
-- minute, and one call does at most max_rows of each step: about 330
-- tasks a second purged with the default). With run_for, a pass that
-- caught up is followed by a pause and another pass while the run has
-- time left: task_cron_enable(every => '5 seconds') makes each minute's
-- run purge every 5 s (at thousands of tasks a second the once-a-minute
-- purge lets the table and its indexes grow: docs/QUEUE.md, W7). A
-- procedure, so that it can commit between the calls; without SET or
-- SECURITY DEFINER for that reason: it runs with the caller's rights and
-- search_path, so what that path resolves can change nothing but the
-- caller's own call, and task_maintain (SECURITY DEFINER, its own path)
-- checks the caller. Refused up front where it cannot commit, not only on
-- a busy day when a call has more. The last call is left to the caller's
-- commit, after the CALL's tag: in pg_cron's background workers its
-- NOTICE (task._maintain_notice) is then the message that stays.
CREATE PROCEDURE task.task_maintain_all(max_rows integer DEFAULT 20000, max_calls integer DEFAULT 100,
                                        run_for interval DEFAULT NULL, pause interval DEFAULT '5 seconds')
    LANGUAGE plpgsql
AS $$
DECLARE
    calls integer := 0;
    result jsonb;
    started timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF task_maintain_all.max_calls IS NULL OR task_maintain_all.max_calls NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'max_calls must be between 1 and 10000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Each call does at most max_rows of each step; the job runs again a minute later.';
    END IF;
    IF task_maintain_all.run_for OPERATOR(pg_catalog.<) interval '0'
       OR task_maintain_all.run_for OPERATOR(pg_catalog.>) interval '1 day' THEN
        RAISE EXCEPTION 'run_for must be between 0 and 1 day'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For a job that runs each minute, a little less than a minute: task_cron_enable(every => ''5 seconds'') sets 55 seconds.';
    END IF;
    IF task_maintain_all.run_for OPERATOR(pg_catalog.>) interval '0'
       AND (task_maintain_all.pause IS NULL OR task_maintain_all.pause OPERATOR(pg_catalog.<) interval '100 milliseconds'
            OR task_maintain_all.pause OPERATOR(pg_catalog.>) interval '1 hour') THEN
        RAISE EXCEPTION 'pause must be between 100 milliseconds and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The pause is the time between two passes of a run (run_for), such as ''5 seconds''.';
    END IF;
    IF NOT task._can_commit() THEN
        RAISE EXCEPTION 'task_maintain_all cannot commit here'
            USING ERRCODE = 'invalid_transaction_termination',
                  DETAIL = 'It commits after each task_maintain() call that has more to do: it runs as a CALL on its own, not inside a transaction block or a function.',
                  HINT = 'CALL it on its own (autocommit), or call task_maintain() again while "more" is true.';
    END IF;
    LOOP
        result := task.task_maintain(task_maintain_all.max_rows);
        calls := calls OPERATOR(pg_catalog.+) 1;
        EXIT WHEN calls OPERATOR(pg_catalog.>=) task_maintain_all.max_calls;
        IF NOT (result OPERATOR(pg_catalog.->>) 'more')::boolean THEN
            -- caught up: another pass after the pause, if the run has time for it
            EXIT WHEN coalesce(task_maintain_all.run_for OPERATOR(pg_catalog.<=) interval '0', true)
                   OR (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) task_maintain_all.pause)
                      OPERATOR(pg_catalog.>=) (started OPERATOR(pg_catalog.+) task_maintain_all.run_for);
            COMMIT;
            PERFORM task._pause(pg_catalog.date_part('epoch', task_maintain_all.pause) OPERATOR(pg_catalog.*) 1000);
        ELSE
            COMMIT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE task.task_maintain_all(integer, integer, interval, interval) IS
    'Calls task_maintain(max_rows) again while a call returns "more" true, each call committed before the next (the last by the caller); with run_for (0 to 1 day), once caught up, waits pause (100 ms to 1 hour, default 5 s, holding no snapshot) and passes again while run_for has time left; at most max_calls calls in all (1..10000, default 100): the command of task_cron_enable''s job. CALL it outside a transaction block. System or Operations only (task_maintain''s check).';

-- What a pg_cron job records of task_maintain (pg_cron 1.4.2, src/pg_cron.c):
-- over libpq (GetTaskFeedback) return_message is the last result's
-- command tag or "N rows" ("CALL" for CALL task.task_maintain_all()) and
-- notices go to the server log, so no text of the job's reaches it; in a
-- background worker (GetBgwTaskFeedback) every message the worker sends
-- overwrites it in order: a notice, then the statement's tag ("CALL"),
-- so only a notice sent after the statement, at its commit, is what stays.
-- This deferred trigger sends the counts then, in pg_cron's background
-- workers only (C: a PL/pgSQL RAISE would add a CONTEXT line to the
-- message); over libpq the run is found in task.maintenance_run by the
-- job's pid (task_maintain_runs).
CREATE FUNCTION task._maintain_notice() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_maintain_notice'
    LANGUAGE C;
COMMENT ON FUNCTION task._maintain_notice() IS
    'Internal: at the commit of a task_maintain() call in a pg_cron background worker, a NOTICE "task_maintain {counts}" -- the last message of the run, which pg_cron 1.4 keeps as cron.job_run_details.return_message (src/maintenance.c).';

CREATE CONSTRAINT TRIGGER maintenance_run_notice AFTER INSERT ON task.maintenance_run
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION task._maintain_notice();
COMMENT ON TRIGGER maintenance_run_notice ON task.maintenance_run IS
    'Sends the counts of a task_maintain() call as a NOTICE at commit when it ran in a pg_cron background worker (task._maintain_notice).';

CREATE FUNCTION task.task_maintain_runs(since interval DEFAULT '1 day')
    RETURNS TABLE (at timestamptz, duration interval, pid integer, by text, result jsonb,
                   cron_jobid bigint, cron_runid bigint, cron_status text, cron_message text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('read the maintenance runs');
    IF to_regclass('cron.job_run_details') IS NULL THEN
        RETURN QUERY
            SELECT m.at, m.finished_at - m.at, m.pid, m.by, m.result, NULL::bigint, NULL::bigint, NULL::text, NULL::text
              FROM task.maintenance_run m
             WHERE m.at >= now() - task_maintain_runs.since
             ORDER BY m.at DESC, m.finished_at DESC;
        RETURN;
    END IF;
    -- the pg_cron run of the same backend that started before the call
    -- ended (a worker may start it before pg_cron records the start) and
    -- did not end before it began (pg_cron takes the end time before it
    -- reads the worker's last messages), the latest such: a run of
    -- task_maintain_all makes up to 100 calls, a minute and more after its
    -- start; one pass over the runs of the period and the day before it
    -- (pg_cron indexes only runid)
    RETURN QUERY
        SELECT DISTINCT ON (m.at, m.finished_at, m.pid)
               m.at, m.finished_at - m.at, m.pid, m.by, m.result, r.jobid, r.runid, r.status, r.return_message
          FROM task.maintenance_run m
          LEFT JOIN cron.job_run_details r
                 ON r.job_pid = m.pid
                AND r.start_time BETWEEN m.at - interval '1 day' AND m.finished_at
                AND (r.end_time IS NULL OR r.end_time >= m.at)
                AND r.start_time >= now() - task_maintain_runs.since - interval '1 day'
         WHERE m.at >= now() - task_maintain_runs.since
         ORDER BY m.at DESC, m.finished_at DESC, m.pid, r.start_time DESC;
END
$$;
COMMENT ON FUNCTION task.task_maintain_runs(interval) IS
    'The task_maintain() calls of the last since (default a day; 7 days are kept), newest first: start, duration, backend pid, caller, the counts it returned, and, for a call made by a pg_cron job, that run''s jobid, runid, status and return_message from cron.job_run_details. Operations only.';

-- ---------------------------------------------------------------- pg_cron
-- Can this database schedule pg_cron jobs? Raises a clear error if not;
-- elsewhere is the statement to run in the pg_cron database instead
-- (NULL: there is none).
CREATE FUNCTION task._cron_check(elsewhere text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
BEGIN
    IF cron_db IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not available'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The pg_cron library is not loaded (there is no cron.database_name setting).',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, then CREATE EXTENSION pg_cron; or CALL task.task_maintain_all() every minute from another scheduler.';
    END IF;
    IF cron_db <> current_database() THEN
        RAISE EXCEPTION 'pg_cron runs its jobs from database "%", not "%"', cron_db, current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_cron''s functions exist only in the database named by cron.database_name.',
                  HINT = CASE WHEN elsewhere IS NULL
                              THEN format('Install the extension in database "%s", or set cron.database_name to "%s" and restart.',
                                          cron_db, current_database())
                              ELSE format('Connected to database "%s" as a superuser, run: %s', cron_db, elsewhere) END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron')
       OR to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run CREATE EXTENSION pg_cron as a superuser; or CALL task.task_maintain_all() every minute from another scheduler.';
    END IF;
    IF to_regprocedure('cron.schedule(text,text,text)') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is too old: named jobs need pg_cron 1.4 or later'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run ALTER EXTENSION pg_cron UPDATE after installing pg_cron 1.4 or later.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._cron_check(text) IS
    'Internal: 55000 with a hint unless pg_cron is loaded, installed here and runs jobs in this database.';

-- Schedule (or replace) a named pg_cron job owned by the extension's owner,
-- turning pg_cron's bare "invalid schedule" into an error with a hint.
-- pg_cron 1.4 stores with a new job the host, port and database it runs
-- in (cron.host, this server's port, this database) and keeps them when
-- the name is scheduled again: a job that came with a dump of another
-- server (or was made before cron.host changed) would go on connecting
-- there -- to the old server, when it still runs. Such a job is made anew
-- (in the same subtransaction: a bad schedule leaves it as it was).
CREATE FUNCTION task._cron_schedule(job text, schedule text, command text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'a cron schedule is required'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use a five-field cron expression such as ''* * * * *'' (every minute).';
    END IF;
    IF EXISTS (SELECT FROM cron.job j
                WHERE j.jobname = _cron_schedule.job AND j.username = current_user
                  AND (j.nodename IS DISTINCT FROM coalesce(current_setting('cron.host', true), 'localhost')
                       OR j.nodeport IS DISTINCT FROM current_setting('port')::integer
                       OR j.database IS DISTINCT FROM current_database())) THEN
        PERFORM cron.unschedule(_cron_schedule.job);
    END IF;
    RETURN cron.schedule(job, schedule, command);
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION 'invalid cron schedule: "%"', left(schedule, 100)
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'pg_cron could not parse it.',
              HINT = 'Use five fields, minute hour day-of-month month day-of-week, such as ''*/5 * * * *''; pg_cron 1.4 has minute granularity.';
END
$$;
COMMENT ON FUNCTION task._cron_schedule(text, text, text) IS
    'Internal: cron.schedule(job, schedule, command) with a clear error for a bad schedule; a job of that name stored for another host, port or database (restored from another server) is made anew.';

-- Remove a named pg_cron job of the extension's owner if it exists.
CREATE FUNCTION task._cron_unschedule(job text) RETURNS boolean
    LANGUAGE plpgsql
AS $$
BEGIN
    -- two statements: the second does not parse without pg_cron
    IF to_regnamespace('cron') IS NULL THEN
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT FROM cron.job j WHERE j.jobname = _cron_unschedule.job AND j.username = current_user) THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule(_cron_unschedule.job);
END
$$;
COMMENT ON FUNCTION task._cron_unschedule(text) IS
    'Internal: removes the named pg_cron job of the extension owner; false when there is none (or no pg_cron).';

-- Whether pg_cron's jobs can reach this server, from its settings: NULL
-- when they can, else what is wrong (the detail of task_cron_enable's
-- WARNING). In background-worker mode a job needs no connection; over
-- libpq (cron.use_background_workers = off, pg_cron's default) it connects
-- to cron.host (default localhost) over TCP unless cron.host names a
-- socket directory, so a server with listen_addresses = '' fails every run
-- with "connection failed". A job's host is stored when it is scheduled.
CREATE FUNCTION task._cron_connect_problem(background_workers text, host text, listen_addresses text,
                                           socket_directories text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE
        WHEN background_workers = 'on' THEN NULL
        WHEN left(coalesce(host, 'localhost'), 1) = '/' THEN NULL
        WHEN coalesce(listen_addresses, '') <> '' THEN NULL
        ELSE format('pg_cron connects to "%s" over TCP, but the server listens on no TCP address (listen_addresses = ''''): every run fails with "connection failed". '
                    'Set cron.use_background_workers = on (with max_worker_processes above cron.max_running_jobs plus your other workers), '
                    'or cron.host = ''%s'' (a unix socket directory), restart, and run task_cron_enable() again.',
                    coalesce(host, 'localhost'),
                    coalesce(nullif(trim(split_part(socket_directories, ',', 1)), ''), '/var/run/postgresql'))
    END;
COMMENT ON FUNCTION task._cron_connect_problem(text, text, text, text) IS
    'Internal: why pg_cron''s jobs cannot connect to this server with these settings (cron.use_background_workers, cron.host, listen_addresses, unix_socket_directories), or NULL.';

CREATE FUNCTION task.task_cron_enable(schedule text DEFAULT '* * * * *', every interval DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    -- the job's command, in the hint of a database pg_cron does not serve
    -- too: with every, each minute's run passes every that often until
    -- the minute is nearly over (pg_cron 1.4 schedules whole minutes)
    command text := 'CALL task.task_maintain_all()';
    seconds double precision;
    job bigint;
    problem text;
    last_status text;
    last_message text;
BEGIN
    PERFORM task._require_operations('schedule maintenance');
    IF task_cron_enable.every IS NOT NULL THEN
        -- in seconds, as the command says it (an interval's comparison counts a
        -- year as 360 days, its epoch as 365.25: a mixed one could pass the
        -- one and make a negative run_for of the other)
        seconds := date_part('epoch', task_cron_enable.every);
        IF seconds < 1 OR seconds > 30 THEN
            RAISE EXCEPTION 'every must be between 1 and 30 seconds'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'For maintenance less often than every 30 seconds, give a cron schedule instead, such as ''*/5 * * * *''.';
        END IF;
        IF pg_catalog.btrim(task_cron_enable.schedule) <> '* * * * *' THEN
            RAISE EXCEPTION 'every needs the schedule of every minute'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Each minute''s run passes every that often until the next run is due.',
                      HINT = 'Call task_cron_enable(every => ''5 seconds'') with the default schedule ''* * * * *''.';
        END IF;
        -- in seconds: the text of an interval follows the session's IntervalStyle
        command := format('CALL task.task_maintain_all(run_for => ''%s seconds'', pause => ''%s seconds'')',
                          60 - seconds, seconds);
    END IF;
    PERFORM task._cron_check(format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                    'task-maintain:' || current_database(), task_cron_enable.schedule,
                                    command, current_database()));
    job := task._cron_schedule('task-maintain', task_cron_enable.schedule, command);
    -- and the job of every recurring task: a restore of schema task alone
    -- brings the schedules without their jobs, one of another server's
    -- dump brings jobs that connect to that server (task._cron_schedule)
    PERFORM task._schedule_cron(s.owner, s.name, s.cron) FROM task.schedule s;
    -- a job that cannot run is not scheduled silently
    problem := task._cron_connect_problem(current_setting('cron.use_background_workers', true),
                                          current_setting('cron.host', true),
                                          current_setting('listen_addresses'),
                                          current_setting('unix_socket_directories'));
    IF problem IS NOT NULL THEN
        RAISE WARNING 'the pg_cron job "task-maintain" cannot connect to this server'
            USING DETAIL = problem,
                  HINT = 'Check with: SELECT status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 5;';
    END IF;
    -- the last run of the job, if it ran before (rescheduling keeps its id)
    SELECT r.status, r.return_message INTO last_status, last_message
      FROM cron.job_run_details r WHERE r.jobid = job ORDER BY r.runid DESC LIMIT 1;
    IF last_status = 'failed' THEN
        RAISE WARNING 'the last run of the pg_cron job "task-maintain" failed: %', last_message
            USING HINT = CASE WHEN last_message LIKE '%connection failed%'
                              THEN 'Set cron.use_background_workers = on, or cron.host to a unix socket directory, restart, and run task_cron_enable() again.'
                              ELSE 'See cron.job_run_details and the server log.' END;
    END IF;
    RETURN job;
END
$$;
COMMENT ON FUNCTION task.task_cron_enable(text, interval) IS
    'Installs (or reschedules) the pg_cron job "task-maintain" running CALL task.task_maintain_all() (task_maintain() while it has more to do) on the given cron schedule (default every minute); with every (1 to 30 seconds, schedule every minute), each run passes again every that often until the next is due (run_for 1 minute less every, pause every); and (again) the job of every recurring task (task_schedule), each for this server, port and database (run it after a restore); returns the pg_cron job id of "task-maintain". Needs pg_cron installed in this database (cron.database_name); the error''s hint says what to run otherwise. Warns when the job cannot connect (listen_addresses = '''' over libpq without a socket cron.host) or its last run failed. System or Operations only.';

CREATE FUNCTION task.task_cron_disable() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('schedule maintenance');
    PERFORM task._cron_check(format('SELECT cron.unschedule(%L);', 'task-maintain:' || current_database()));
    RETURN task._cron_unschedule('task-maintain');
END
$$;
COMMENT ON FUNCTION task.task_cron_disable() IS
    'Removes the pg_cron job "task-maintain"; false when it was not installed. System or Operations only.';
