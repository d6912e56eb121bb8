\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Housekeeping and recurring tasks.
--
-- task_maintain() is the one call any scheduler makes: it rescues
-- expired leases, releases blocked tasks whose dependencies have all
-- completed (a safety net for the settle trigger), and purges finished
-- tasks past their queue's retention with their logs, access rows and
-- dependency rows. Every step locks only the rows it takes (SKIP LOCKED)
-- and does at most max_rows of work, so it can run beside workers and
-- beside itself.
--
-- pg_cron is optional: task_cron_enable() / task_cron_disable() install
-- and remove the job that calls task_maintain() every minute, and
-- task_schedule() creates one pg_cron job per recurring task. Nothing
-- here refers to pg_cron until one of those is called, so the extension
-- installs and works without it.

-- The purge walks finished tasks per queue, oldest first, and never reads
-- the tasks of a queue that keeps them forever.
CREATE INDEX task_finished_idx ON task.task (queue, status_at)
    WHERE status IN ('completed', 'failed', 'cancelled');
-- The dependency safety net reads blocked tasks only (few, and only while
-- they wait: the index holds no other row).
CREATE INDEX task_blocked_idx ON task.task (owner, id) WHERE status = 'blocked';

-- ---------------------------------------------------------------- checks
CREATE FUNCTION task._require_operations(what text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF NOT task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to %', what
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Housekeeping is run by the system (an unmapped superuser) or an Operations account.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._require_operations(text) IS
    'Internal: 42501 unless the caller is the system or an active Operations account.';

-- ---------------------------------------------------------------- task_maintain
CREATE FUNCTION task.task_maintain(max_rows integer DEFAULT 1000) RETURNS jsonb
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
BEGIN
    PERFORM task._require_operations('run maintenance');
    IF task_maintain.max_rows IS NULL OR task_maintain.max_rows NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 100000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep batches small and call again while "more" is true.';
    END IF;

    -- 1. expired leases, queue by queue (the rescue is the one dequeue uses)
    FOR q IN
        SELECT x.* FROM task.queue x
         WHERE EXISTS (SELECT FROM task.task t
                        WHERE t.queue = x.name AND t.status = 'processing'
                          AND t.lease_until < clock_timestamp())
         ORDER BY x.name
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

    -- 3. finished tasks past their queue's retention, oldest first, with
    -- their logs (no foreign key) and the dependency rows naming them
    -- (access rows and their own dependency rows go by cascade). A task
    -- that a blocked task still waits for is kept.
    FOR q IN SELECT x.* FROM task.queue x WHERE x.retention > '0' ORDER BY x.name LOOP
        EXIT WHEN purged >= task_maintain.max_rows;
        WITH victim AS MATERIALIZED (
            SELECT t.owner, t.id FROM task.task t
             WHERE t.queue = q.name
               AND t.status IN ('completed', 'failed', 'cancelled')
               AND t.status_at < now() - q.retention
               AND NOT EXISTS (SELECT FROM task.task_dependency d
                                 JOIN task.task b ON b.owner = d.owner AND b.id = d.task_id
                                WHERE d.owner = t.owner AND d.depends_on = t.id AND b.status = 'blocked')
             ORDER BY t.status_at
             LIMIT task_maintain.max_rows - purged
             FOR UPDATE OF t SKIP LOCKED),
        logs AS (
            DELETE FROM task.task_log l USING victim v
             WHERE l.owner = v.owner AND l.task_id = v.id
            RETURNING 1),
        deps AS (
            DELETE FROM task.task_dependency d USING victim v
             WHERE d.owner = v.owner AND d.depends_on = v.id
            RETURNING 1),
        gone AS (
            DELETE FROM task.task t USING victim v
             WHERE t.owner = v.owner AND t.id = v.id
            RETURNING 1)
        -- (deps runs too: PostgreSQL runs every data-modifying WITH)
        SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM logs)
          INTO n, n_logs;
        purged := purged + n;
        logs_purged := logs_purged + n_logs;
    END LOOP;

    RETURN jsonb_build_object(
        'leases_rescued', rescued,
        'released', released,
        'purged', purged,
        'logs_purged', logs_purged,
        -- a step stopped at max_rows: there may be more to do now
        'more', rescued >= task_maintain.max_rows OR released >= task_maintain.max_rows
                OR purged >= task_maintain.max_rows);
END
$$;
COMMENT ON FUNCTION task.task_maintain(integer) IS
    'Housekeeping, safe to run at any time and concurrently: rescues expired leases, releases blocked tasks whose dependencies have all completed, and purges finished tasks older than their queue''s retention (0 keeps forever) with their logs, access and dependency rows; at most max_rows of each a call. Returns the counts and "more" (a batch was full: call again). System or Operations only. Call it every minute from pg_cron (task_cron_enable) or any other scheduler.';

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
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, then CREATE EXTENSION pg_cron; or call task.task_maintain() every minute from another scheduler.';
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
                  HINT = 'Run CREATE EXTENSION pg_cron as a superuser; or call task.task_maintain() every minute from another scheduler.';
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
CREATE FUNCTION task._cron_schedule(job text, schedule text, command text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'a cron schedule is required'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use a five-field cron expression such as ''* * * * *'' (every minute).';
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
    'Internal: cron.schedule(job, schedule, command) with a clear error for a bad schedule.';

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

CREATE FUNCTION task.task_cron_enable(schedule text DEFAULT '* * * * *') RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('schedule maintenance');
    PERFORM task._cron_check(format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                    'task-maintain:' || current_database(), task_cron_enable.schedule,
                                    'SELECT task.task_maintain()', current_database()));
    RETURN task._cron_schedule('task-maintain', task_cron_enable.schedule, 'SELECT task.task_maintain()');
END
$$;
COMMENT ON FUNCTION task.task_cron_enable(text) IS
    'Installs (or reschedules) the pg_cron job "task-maintain" running SELECT task.task_maintain() on the given cron schedule (default every minute); returns the pg_cron job id. Needs pg_cron installed in this database (cron.database_name); the error''s hint says what to run otherwise. System or Operations only.';

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

-- ---------------------------------------------------------------- recurring tasks
CREATE TABLE task.schedule (
    owner          integer NOT NULL REFERENCES task.service ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,40}$'),
    cron           text NOT NULL,
    queue          text NOT NULL,
    template       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by     text NOT NULL,
    last_run_at    timestamptz,
    last_task      task.task_id,
    runs           bigint NOT NULL DEFAULT 0,
    failures       bigint NOT NULL DEFAULT 0,
    last_error     text,
    last_error_at  timestamptz,
    PRIMARY KEY (owner, name)
);
COMMENT ON TABLE task.schedule IS
    'Recurring tasks: on each tick of cron, pg_cron calls task._run_schedule, which creates a task from the template for the owning service.';
COMMENT ON COLUMN task.schedule.owner IS 'The service that scheduled it (SVC-XXXX number); its tasks belong to this service.';
COMMENT ON COLUMN task.schedule.name IS 'Name, unique per service: letters, digits, "_", "-", ".", at most 40.';
COMMENT ON COLUMN task.schedule.cron IS 'pg_cron schedule, five fields (minute granularity).';
COMMENT ON COLUMN task.schedule.template IS 'The task_create arguments as JSON: code and queue, optionally name, description, object, parameters, access, ordering_key, max_attempts.';
COMMENT ON COLUMN task.schedule.last_run_at IS 'The last tick, successful or not.';
COMMENT ON COLUMN task.schedule.last_task IS 'The task the last successful tick created.';
COMMENT ON COLUMN task.schedule.last_error IS 'SQLSTATE and message of the last tick that failed to create its task (kept after later successes; compare last_error_at with last_run_at).';
SELECT pg_catalog.pg_extension_config_dump('task.schedule', '');

CREATE FUNCTION task._schedule_job(owner integer, name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN 'task-schedule:' OPERATOR(pg_catalog.||) task.service_text(owner)
           OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) name;
COMMENT ON FUNCTION task._schedule_job(integer, text) IS 'Internal: the pg_cron job name of a schedule.';

-- Create the task a template describes, as the caller.
CREATE FUNCTION task._schedule_task(template jsonb) RETURNS task.task
    LANGUAGE plpgsql
AS $$
BEGIN
    RETURN task.task_create(
        code         => template->>'code',
        queue        => template->>'queue',
        name         => template->>'name',
        description  => template->>'description',
        object       => template->'object',
        parameters   => template->'parameters',
        access       => CASE WHEN template ? 'access'
                             THEN ARRAY(SELECT jsonb_array_elements_text(template->'access')) END,
        ordering_key => template->>'ordering_key',
        max_attempts => (template->>'max_attempts')::integer);
END
$$;
COMMENT ON FUNCTION task._schedule_task(jsonb) IS 'Internal: task_create with the arguments of a schedule template.';

CREATE FUNCTION task.task_schedule(name text, cron text, template jsonb) RETURNS task.schedule
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    allowed constant text[] := ARRAY['code', 'queue', 'name', 'description', 'object', 'parameters',
                                     'access', 'ordering_key', 'max_attempts'];
    unknown text;
    q task.queue;
    owner_id integer;
    s task.schedule;
BEGIN
    IF task_schedule.name IS NULL OR task_schedule.name !~ '^[A-Za-z0-9_.-]{1,40}$' THEN
        RAISE EXCEPTION 'invalid schedule name: "%"', left(task_schedule.name, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A schedule name is 1 to 40 letters, digits, "_", "-" or ".".',
                  HINT = 'Use a name such as "nightly-report".';
    END IF;
    IF task_schedule.template IS NULL OR jsonb_typeof(task_schedule.template) <> 'object' THEN
        RAISE EXCEPTION 'a schedule template must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the task_create arguments, e.g. ''{"code": "report", "queue": "ns/reports"}''.';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
      FROM jsonb_object_keys(task_schedule.template) k WHERE k <> ALL (allowed);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown key in schedule template: %', unknown
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A template takes %s.', array_to_string(allowed, ', ')),
                  HINT = 'Each tick creates a new task now: run_at, status, parent, dependencies and idempotency keys do not apply.';
    END IF;
    IF task_schedule.template->>'queue' IS NULL OR task_schedule.template->>'code' IS NULL THEN
        RAISE EXCEPTION 'a schedule template needs a code and a queue'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass e.g. ''{"code": "report", "queue": "ns/reports"}''.';
    END IF;

    -- who: a service schedules in its own queues; the system for a queue's owner
    IF task.current_kind() NOT IN ('service', 'system') THEN
        RAISE EXCEPTION 'permission denied to schedule tasks'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Recurring tasks are scheduled by the service that owns the queue.';
    END IF;
    PERFORM task._cron_check(NULL);
    SELECT * INTO q FROM task.queue x WHERE x.name = task_schedule.template->>'queue';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" not found', task_schedule.template->>'queue'
            USING ERRCODE = 'no_data_found',
                  HINT = 'Create the queue first with task_queue_create().';
    END IF;
    IF task.current_kind() = 'service' AND q.owner <> task.current_service() THEN
        RAISE EXCEPTION 'permission denied to schedule tasks in queue "%"', q.name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s; the caller acts as %s.',
                                  task.service_text(q.owner), task.current_actor()),
                  HINT = 'A service schedules tasks in its own queues only.';
    END IF;
    owner_id := q.owner;

    -- try the template now, so a bad one fails here and not at every tick
    -- (the trial task is rolled back; it only uses up one task number)
    BEGIN
        PERFORM task._schedule_task(task_schedule.template);
        RAISE EXCEPTION USING ERRCODE = 'TKD01';
    EXCEPTION WHEN SQLSTATE 'TKD01' THEN
        NULL;
    END;

    INSERT INTO task.schedule AS x (owner, name, cron, queue, template, created_by)
    VALUES (owner_id, task_schedule.name, task_schedule.cron, q.name, task_schedule.template, task.current_actor())
    ON CONFLICT (owner, name) DO UPDATE
       SET cron = excluded.cron, queue = excluded.queue, template = excluded.template
    RETURNING * INTO s;
    PERFORM task._cron_schedule(task._schedule_job(owner_id, task_schedule.name), task_schedule.cron,
                                format('SELECT task._run_schedule(%s, %L)', owner_id, task_schedule.name));
    RETURN s;
END
$$;
COMMENT ON FUNCTION task.task_schedule(text, text, jsonb) IS
    'Creates (or replaces) the recurring task name: on each tick of the pg_cron schedule cron, a task is created from template (the task_create arguments as JSON: code, queue, name, description, object, parameters, access, ordering_key, max_attempts) in a queue of the calling service, owned by it. The template is tried once at once. A tick that fails records last_error (task_schedules). Needs pg_cron in this database.';

-- The pg_cron job of a schedule calls this (as the extension's owner, so
-- it is SECURITY DEFINER only to pin its search_path). It creates the
-- task for the schedule's owner; a failure is recorded on the schedule,
-- never raised, so it is not lost in pg_cron's run log.
CREATE FUNCTION task._run_schedule(owner integer, name text) RETURNS task.task_id
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    s task.schedule;
    q task.queue;
    t task.task;
    state text;
    message text;
BEGIN
    SELECT * INTO s FROM task.schedule x
     WHERE x.owner = _run_schedule.owner AND x.name = _run_schedule.name
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- gone (its service was deleted): remove the orphan job; or busy: skip this tick
        IF NOT EXISTS (SELECT FROM task.schedule x
                        WHERE x.owner = _run_schedule.owner AND x.name = _run_schedule.name) THEN
            PERFORM task._cron_unschedule(task._schedule_job(_run_schedule.owner, _run_schedule.name));
        END IF;
        RETURN NULL;
    END IF;
    BEGIN
        SELECT * INTO q FROM task.queue x WHERE x.name = s.queue;
        IF NOT FOUND OR q.owner <> s.owner THEN
            RAISE EXCEPTION 'queue "%" no longer belongs to %', s.queue, task.service_text(s.owner)
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Unschedule it (task_unschedule) and schedule it again in a queue of the service.';
        END IF;
        t := task._schedule_task(s.template);
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, format('created by schedule "%s" of %s (%s)', s.name, task.service_text(s.owner), s.cron),
                task.current_actor());
        UPDATE task.schedule x SET last_run_at = now(), last_task = t.id, runs = x.runs + 1
         WHERE x.owner = s.owner AND x.name = s.name;
        RETURN t.id;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        UPDATE task.schedule x
           SET last_run_at = now(), failures = x.failures + 1,
               last_error = format('%s: %s', state, message), last_error_at = now()
         WHERE x.owner = s.owner AND x.name = s.name;
        RAISE WARNING 'schedule "%" of % could not create its task: %', s.name, task.service_text(s.owner), message;
        RETURN NULL;
    END;
END
$$;
COMMENT ON FUNCTION task._run_schedule(integer, text) IS
    'Internal, called by the pg_cron job of a schedule: creates its task for the owning service and records the run, or the error, on the schedule.';

CREATE FUNCTION task.task_unschedule(name text, owner text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
BEGIN
    IF svc IS NOT NULL THEN
        IF task_unschedule.owner IS NOT NULL AND task.service_number(task_unschedule.owner) <> svc THEN
            RAISE EXCEPTION 'permission denied to unschedule tasks of %', task_unschedule.owner
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'A service removes its own schedules only; leave owner out.';
        END IF;
        owner_id := svc;
    ELSIF task.current_is_operations() THEN
        IF task_unschedule.owner IS NULL THEN
            RAISE EXCEPTION 'which service''s schedule?'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Pass owner => ''SVC-XXXX''.';
        END IF;
        owner_id := task.service_number(task_unschedule.owner);
    ELSE
        RAISE EXCEPTION 'permission denied to unschedule tasks'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Schedules are removed by their service or by Operations.';
    END IF;
    DELETE FROM task.schedule x WHERE x.owner = owner_id AND x.name = task_unschedule.name;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM task._cron_unschedule(task._schedule_job(owner_id, task_unschedule.name));
    RETURN true;
END
$$;
COMMENT ON FUNCTION task.task_unschedule(text, text) IS
    'Removes a recurring task and its pg_cron job; false when there was none. A service removes its own; Operations name the owner (SVC-XXXX).';

CREATE FUNCTION task.task_schedules() RETURNS SETOF task.schedule
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT * FROM task.schedule s
     WHERE task.current_is_operations() OR s.owner = task.current_service()
     ORDER BY s.owner, s.name
$$;
COMMENT ON FUNCTION task.task_schedules() IS
    'The recurring tasks the caller may see (a service its own, Operations all), with their last run, last task and last error.';
