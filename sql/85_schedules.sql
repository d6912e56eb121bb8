\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Recurring tasks: task_schedule creates one pg_cron job per schedule,
-- which calls task._run_schedule to create a task from the template for
-- the owning service. The table task.schedule is in 20_tables.sql.

CREATE FUNCTION task._schedule_job(owner integer, name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN 'task-schedule:' OPERATOR(pg_catalog.||) task.service_text(owner)
           OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) name;
COMMENT ON FUNCTION task._schedule_job(integer, text) IS 'Internal: the pg_cron job name of a schedule.';

-- Install (or replace) the pg_cron job of a schedule (task_schedule, and
-- task_cron_enable for every schedule).
CREATE FUNCTION task._schedule_cron(owner integer, name text, cron text) RETURNS bigint
    LANGUAGE sql
    RETURN task._cron_schedule(task._schedule_job(owner, name), cron,
                               pg_catalog.format('SELECT task._run_schedule(%s, %L)', owner, name));
COMMENT ON FUNCTION task._schedule_cron(integer, text, text) IS
    'Internal: installs (or replaces) the pg_cron job of the schedule name of service owner, running task._run_schedule on cron.';

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
    -- a template the hints offer: a queue of the caller's own namespace
    example constant text := format('Pass e.g. ''{"code": "reports.daily", "queue": "%s/reports"}''.',
                                    coalesce((SELECT x.namespace FROM task.service x WHERE x.id = task.current_service()),
                                             'namespace'));
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
                  HINT = example;
    END IF;
    IF task_schedule.cron IS NULL OR task_schedule.cron ~ '[[:cntrl:]]' OR length(task_schedule.cron) > 100 THEN
        RAISE EXCEPTION 'invalid cron schedule: "%"', left(regexp_replace(task_schedule.cron, '[[:cntrl:]]', '?', 'g'), 100)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A schedule is five cron fields on one line, up to 100 characters (pg_cron 1.5 and later also take "N seconds").',
                  HINT = 'Pass e.g. ''0 3 * * *'' (every night at 03:00) or ''*/5 * * * *'' (every five minutes).';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
      FROM jsonb_object_keys(task_schedule.template) k WHERE k <> ALL (allowed);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown key in schedule template: %', unknown
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A template takes %s.', array_to_string(allowed, ', ')),
                  HINT = 'Each tick creates a new task now: run_at, status, parent, dependencies and idempotency keys do not apply.';
    END IF;
    SELECT string_agg(e.k, ', ' ORDER BY e.k) INTO unknown
      FROM jsonb_each(task_schedule.template) e(k, v)
     WHERE jsonb_typeof(e.v) <> 'null'
       AND NOT CASE WHEN e.k IN ('object', 'parameters') THEN jsonb_typeof(e.v) = 'object'
                    WHEN e.k = 'access' THEN jsonb_typeof(e.v) = 'array'
                    WHEN e.k = 'max_attempts' THEN e.v::text ~ '^[0-9]{1,9}$'
                    ELSE jsonb_typeof(e.v) = 'string' END;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'wrong type in schedule template: %', unknown
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'code, queue, name, description and ordering_key are strings, object and parameters JSON objects, access an array of account ids, max_attempts an integer.',
                  HINT = 'Write the template as task_create''s arguments in JSON.';
    END IF;
    IF task_schedule.template->>'queue' IS NULL OR task_schedule.template->>'code' IS NULL THEN
        RAISE EXCEPTION 'a schedule template needs a code and a queue'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = example;
    END IF;

    -- who: a service schedules in its own queues; the system for a queue's owner
    IF task.current_kind() NOT IN ('service', 'system') THEN
        RAISE EXCEPTION 'permission denied to schedule tasks'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Recurring tasks are scheduled by the service that owns the queue.';
    END IF;
    PERFORM task._cron_check(NULL);
    -- the queue as task_create finds it, with its answers: one of the
    -- caller's namespace not created yet is made on first use, and one of
    -- another service is answered like a name outside the caller's
    -- namespace that does not exist (22023)
    q := task._queue_for_create(task_schedule.template->>'queue');
    owner_id := q.owner;

    -- try the template now, so a bad one fails here and not at every tick
    -- (the trial task is rolled back; it only uses up one task number)
    BEGIN
        PERFORM task._schedule_task(task_schedule.template);
        RAISE EXCEPTION USING ERRCODE = 'TKD01';
    EXCEPTION WHEN SQLSTATE 'TKD01' THEN
        NULL;
    END;

    -- at most task.schedules_per_service schedules a service; the lock on
    -- its row orders concurrent calls, so two cannot both take the last one
    PERFORM FROM task.service x WHERE x.id = owner_id FOR UPDATE;
    IF NOT EXISTS (SELECT FROM task.schedule x WHERE x.owner = owner_id AND x.name = task_schedule.name)
       AND (SELECT count(*) FROM task.schedule x WHERE x.owner = owner_id)
           >= current_setting('task.schedules_per_service')::integer THEN
        RAISE EXCEPTION 'too many schedules for %', task.service_text(owner_id)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('A service may have %s schedules (task.schedules_per_service).',
                                  current_setting('task.schedules_per_service')),
                  HINT = 'Remove schedules it no longer needs (task_unschedule), or ask the operator to raise the limit.';
    END IF;

    INSERT INTO task.schedule AS x (owner, name, cron, queue, template, created_by)
    VALUES (owner_id, task_schedule.name, task_schedule.cron, q.name, task_schedule.template, task.current_actor())
    ON CONFLICT (owner, name) DO UPDATE
       SET cron = excluded.cron, queue = excluded.queue, template = excluded.template
    RETURNING * INTO s;
    PERFORM task._schedule_cron(owner_id, task_schedule.name, task_schedule.cron);
    RETURN s;
END
$$;
COMMENT ON FUNCTION task.task_schedule(text, text, jsonb) IS
    'Creates (or replaces) the recurring task name: on each tick of the pg_cron schedule cron, a task is created from template (the task_create arguments as JSON: code, queue, name, description, object, parameters, access, ordering_key, max_attempts) in a queue of the calling service (made on first use in its namespace, as task_create does), owned by it. The template is tried once at once. A tick that fails records last_error (task_schedules). Needs pg_cron in this database.';

-- The pg_cron job of a schedule calls this (as the extension's owner, so
-- it is SECURITY DEFINER only to pin its search_path). It creates the
-- task as the schedule's owning service (task._act_as_service: audited
-- and checked as that service, not as the job's role); a failure is
-- recorded on the schedule, never raised, so it is not lost in pg_cron's
-- run log.
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
    PERFORM task._act_as_service(s.owner);
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
        PERFORM task._act_as_service(NULL);
        RETURN t.id;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        UPDATE task.schedule x
           SET last_run_at = now(), failures = x.failures + 1,
               last_error = format('%s: %s', state, message), last_error_at = now()
         WHERE x.owner = s.owner AND x.name = s.name;
        PERFORM task._act_as_service(NULL);
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
