\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The SQL API: queues, task_create, task_get, task_list, task_progress,
-- task_log, task_logs, task_complete, task_result, task_cancel.
--
-- Internal helpers (names starting with "_") carry no SET search_path:
-- they only run inside the API's SECURITY DEFINER functions, whose fixed
-- search_path they inherit (PUBLIC cannot execute them), and a SET clause
-- would cost a settings save/restore per call and block SQL inlining.
--
-- Every function is SECURITY DEFINER with a fixed search_path and checks
-- the caller itself: a task outside the caller's scope is "not found"
-- (P0002), a visible task the caller may not change is 42501. Writes are
-- a single guarded UPDATE; only when it misses do we look at why.

-- ---------------------------------------------------------------- helpers
CREATE FUNCTION task._iso(at timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
COMMENT ON FUNCTION task._iso(timestamptz) IS 'Internal: ISO 8601 in UTC with milliseconds, as in seed 001.';

CREATE FUNCTION task._actor_json(actor text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN actor ~ '^SVC-[0-9]{4}$' THEN
            (SELECT jsonb_build_object('id', actor, 'name', s.name, 'revision', s.revision)
               FROM task.service s WHERE s.id = task.service_number(actor))
        WHEN actor ~ '^ACC-[0-9]{4}-[0-9]{4}$' THEN
            (SELECT jsonb_build_object('id', actor, 'name', a.name, 'revision', a.revision)
               FROM task.account a WHERE a.id = task.account_number(actor))
        -- an unmapped role (the operator, a maintenance job): its name only
        ELSE jsonb_build_object('name', actor)
        END
$$;
COMMENT ON FUNCTION task._actor_json(text) IS 'Internal: the {id, name, revision} object of an audit or log author.';

CREATE FUNCTION task._stamp(at timestamptz, by text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN at IS NOT NULL
        THEN jsonb_build_object('at', task._iso(at), 'by', task._actor_json(by)) END
$$;
COMMENT ON FUNCTION task._stamp(timestamptz, text) IS 'Internal: one audit entry {at, by}.';

CREATE FUNCTION task._strip_nulls(obj jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(pg_catalog.jsonb_object_agg(e.key, e.value), '{}'::jsonb)
      FROM pg_catalog.jsonb_each(obj) e
     WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'null'
$$;
COMMENT ON FUNCTION task._strip_nulls(jsonb) IS 'Internal: drops the top-level keys whose value is null (nested values are kept as they are).';

CREATE FUNCTION task._result_uri(t task.task) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(t.result,
        CASE WHEN t.result_value IS NOT NULL THEN
            coalesce(nullif(current_setting('task.result_uri_prefix', true), ''), '/public/v1/system/tasks')
            || '/' || t.id::text || '/result' END)
$$;
COMMENT ON FUNCTION task._result_uri(task.task) IS
    'Internal: the result field of a task: the resource URI, or the URI of its JSON result endpoint.';

-- The task as JSON, in the shape of seed 001's FULL EXAMPLE.
CREATE FUNCTION task._task_json(t task.task) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        'parent', CASE WHEN t.parent IS NOT NULL THEN
            task._strip_nulls(jsonb_build_object('id', t.parent::text,
                'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent))) END,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'owner', (SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
                    FROM task.service s WHERE s.id = t.owner),
        'access', coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status) ORDER BY a.id)
                     FROM task.task_access x JOIN task.account a ON a.id = x.account
                    WHERE x.owner = t.owner AND x.task_id = t.id), '[]'::jsonb),
        'audit', task._strip_nulls(jsonb_build_object(
            'created', task._stamp(t.created_at, t.created_by),
            'updated', task._stamp(t.updated_at, t.updated_by),
            'started', task._stamp(t.started_at, t.started_by),
            'completed', task._stamp(t.completed_at, t.completed_by),
            'failed', task._stamp(t.failed_at, t.failed_by),
            'rescheduled', task._stamp(t.rescheduled_at, t.rescheduled_by),
            'cancelled', task._stamp(t.cancelled_at, t.cancelled_by)))
    ))
$$;
COMMENT ON FUNCTION task._task_json(task.task) IS 'Internal: a task row as the JSON Task object of seed 001.';

-- May the caller see this task? Operations see all, a service its own,
-- an account the tasks whose access list holds it.
CREATE FUNCTION task._visible(owner integer, id task.task_id) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    -- coalesce: a NULL identity must mean "no", never "unknown"
    SELECT coalesce(task.current_is_operations()
        OR _visible.owner = task.current_service()
        OR EXISTS (SELECT FROM task.task_access a
                    WHERE a.owner = _visible.owner AND a.task_id = _visible.id
                      AND a.account = task.current_account()), false)
$$;
COMMENT ON FUNCTION task._visible(integer, task.task_id) IS 'Internal: whether the caller may see the task.';

-- May the caller change this task? The owning service and the system;
-- operations accounts too where ops_allowed (cancel, retry).
CREATE FUNCTION task._may_write(owner integer, ops_allowed boolean) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(_may_write.owner = task.current_service(), false)
        OR task.current_kind() = 'system'
        OR (coalesce(ops_allowed, false) AND task.current_is_operations())
$$;
COMMENT ON FUNCTION task._may_write(integer, boolean) IS 'Internal: whether the caller may change a task of this owner.';

CREATE FUNCTION task._not_found(id task.task_id) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'task % not found', id
        USING ERRCODE = 'no_data_found',
              HINT = 'Check the id; tasks outside your scope are reported as not found.';
END
$$;
COMMENT ON FUNCTION task._not_found(task.task_id) IS 'Internal: the not-found error (P0002), the same for missing and out-of-scope tasks.';

-- A guarded write matched no row: say why, most specific reason first.
CREATE FUNCTION task._write_failed(id task.task_id, operation text, ops_allowed boolean,
                                   token bigint DEFAULT NULL, expected task.status[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(_write_failed.id) AND x.id = _write_failed.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(_write_failed.id);
    END IF;
    IF NOT task._may_write(t.owner, ops_allowed) THEN
        RAISE EXCEPTION 'permission denied to % task %', operation, _write_failed.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The task belongs to %s; the caller acts as %s.',
                                  task.service_text(t.owner), task.current_actor()),
                  HINT = CASE WHEN ops_allowed
                              THEN 'Only the owning service or an Operations account can do this.'
                              ELSE 'Only the owning service can do this.' END;
    END IF;
    IF token IS NOT NULL AND (t.status <> 'processing' OR t.lease_token IS DISTINCT FROM token) THEN
        RAISE EXCEPTION 'lease lost: task % is no longer claimed with token %', _write_failed.id, token
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The task is %s%s.', t.status,
                                  CASE WHEN t.status = 'processing'
                                       THEN format(' under token %s', t.lease_token) ELSE '' END),
                  HINT = 'Another worker owns the task now: drop this result and dequeue again.';
    END IF;
    IF expected IS NOT NULL AND t.status <> ALL (expected) THEN
        RAISE EXCEPTION 'cannot % task %: it is %', operation, _write_failed.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s applies to a task that is %s.', initcap(operation),
                                  array_to_string(expected, ' or ')),
                  HINT = 'Read the task again (task_get) and act on its current status.';
    END IF;
    -- nothing explains the miss: a concurrent change won the race
    RAISE EXCEPTION 'task % changed concurrently', _write_failed.id
        USING ERRCODE = 'serialization_failure',
              HINT = 'Retry the call.';
END
$$;
COMMENT ON FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[]) IS
    'Internal: raises the precise error for a write that matched no row (not found, 42501, lease lost, wrong status).';

-- ---------------------------------------------------------------- queues
CREATE FUNCTION task.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
    ns text;
    q task.queue;
BEGIN
    IF task_queue_create.queue IS NULL
       OR task_queue_create.queue !~ '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$'
       OR octet_length(task_queue_create.queue) > 255 THEN
        RAISE EXCEPTION 'invalid task queue name: "%"', left(task_queue_create.queue, 255)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A queue name is one or more segments of letters, digits, "_", "-" or "." separated by single slashes, with no slash at either end, at most 255 bytes.',
                  HINT = 'Use a name such as "marketplace/platform/internal/buyers/commands".';
    END IF;
    IF task.current_kind() = 'system' THEN
        IF task_queue_create.owner IS NULL THEN
            RAISE EXCEPTION 'a queue needs an owning service'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Pass owner => ''SVC-XXXX''.';
        END IF;
        owner_id := task.service_number(task_queue_create.owner);
    ELSIF svc IS NOT NULL THEN
        IF task_queue_create.owner IS NOT NULL AND task.service_number(task_queue_create.owner) <> svc THEN
            RAISE EXCEPTION 'permission denied to create a queue for %', task_queue_create.owner
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'A service creates queues for itself only; leave owner out.';
        END IF;
        owner_id := svc;
    ELSE
        RAISE EXCEPTION 'permission denied to create a queue'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Queues are created by services.';
    END IF;

    SELECT s.namespace INTO ns FROM task.service s WHERE s.id = owner_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % does not exist', task.service_text(owner_id)
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    IF left(task_queue_create.queue, length(ns) + 1) <> ns || '/' THEN
        RAISE EXCEPTION 'queue "%" is outside the namespace of %', task_queue_create.queue, task.service_text(owner_id)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Queues of %s are named %s/...', task.service_text(owner_id), ns),
                  HINT = format('Use a name such as "%s/commands".', ns);
    END IF;

    INSERT INTO task.queue AS x (name, owner, paused, lease, max_attempts, backoff_base, backoff_max, retention)
    VALUES (task_queue_create.queue, owner_id, coalesce(task_queue_create.paused, false),
            coalesce(task_queue_create.lease, '5 minutes'),
            coalesce(task_queue_create.max_attempts, 5),
            coalesce(task_queue_create.backoff_base, '10 seconds'),
            coalesce(task_queue_create.backoff_max, '1 hour'),
            coalesce(task_queue_create.retention, '10 days'))
    ON CONFLICT (name) DO NOTHING
    RETURNING * INTO q;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" already exists', task_queue_create.queue
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Change its policy with task_queue_configure().';
    END IF;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean) IS
    'Creates a FIFO queue under the owning service''s namespace, with its worker policy. Services create their own; the operator names the owner.';

-- The queue a task is created in: existing, or made on first use by a
-- service under its namespace.
CREATE FUNCTION task._queue_for_create(queue text) RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    q task.queue;
    svc integer := task.current_service();
BEGIN
    SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
    -- the common case in one lookup: the owner (or the system) in an existing queue
    IF FOUND AND task._may_write(q.owner, false) THEN
        RETURN q;
    END IF;
    IF NOT FOUND THEN
        IF svc IS NULL THEN
            IF task.current_kind() = 'system' THEN
                RAISE EXCEPTION 'queue "%" does not exist', _queue_for_create.queue
                    USING ERRCODE = 'no_data_found',
                          HINT = 'Create it first with task_queue_create(queue, owner => ''SVC-XXXX'').';
            END IF;
            RAISE EXCEPTION 'permission denied to create a task'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('The caller acts as %s.', task.current_actor()),
                      HINT = 'Tasks are created by services.';
        END IF;
        -- first task of a new queue: make it with the default policy
        BEGIN
            q := task.task_queue_create(_queue_for_create.queue);
        EXCEPTION WHEN duplicate_object THEN
            SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
        END;
    END IF;
    IF NOT task._may_write(q.owner, false) THEN
        RAISE EXCEPTION 'permission denied to create a task in queue "%"', _queue_for_create.queue
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s; the caller acts as %s.',
                                  task.service_text(q.owner), task.current_actor()),
                  HINT = 'Only the service that owns a queue creates tasks in it.';
    END IF;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task._queue_for_create(text) IS 'Internal: resolves (or creates) the queue of a new task and checks the caller may use it.';

-- ---------------------------------------------------------------- create
CREATE FUNCTION task.task_create(
    code            text,
    queue           text,
    name            text DEFAULT NULL,
    description     text DEFAULT NULL,
    object          jsonb DEFAULT NULL,
    parent          task.task_id DEFAULT NULL,
    parameters      jsonb DEFAULT NULL,
    eta             timestamptz DEFAULT NULL,
    access          text[] DEFAULT NULL,
    status          task.status DEFAULT 'queued',
    run_at          timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL,
    ordering_key    text DEFAULT NULL,
    max_attempts    integer DEFAULT NULL,
    depends_on      task.task_id[] DEFAULT NULL,
    blocks_parent   boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    t task.task;
    accounts bigint[];
    deps task.task_id[];
    initial task.status := task_create.status;
    n_found integer;
    n_pending integer;
    settled text;
BEGIN
    q := task._queue_for_create(task_create.queue);

    IF task_create.status IS NULL OR task_create.status NOT IN ('queued', 'blocked') THEN
        RAISE EXCEPTION 'a new task must be queued or blocked, not %', coalesce(task_create.status::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave status out (queued) or pass status => ''blocked''.';
    END IF;
    IF task_create.max_attempts IS NOT NULL AND task_create.max_attempts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it out to use the queue''s policy.';
    END IF;
    IF task_create.parent IS NOT NULL AND NOT EXISTS (
            SELECT FROM task.task p WHERE p.owner = q.owner AND p.id = task_create.parent) THEN
        RAISE EXCEPTION 'parent task % not found', task_create.parent
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'A parent is an existing task of the same service.';
    END IF;
    IF task_create.access IS NOT NULL THEN
        SELECT array_agg(DISTINCT task.account_number(a)) INTO accounts
          FROM unnest(task_create.access) a;
        IF EXISTS (SELECT FROM unnest(accounts) n WHERE n IS NULL OR NOT EXISTS (SELECT FROM task.account x WHERE x.id = n)) THEN
            RAISE EXCEPTION 'access list names an account that does not exist'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Accounts: %s.', array_to_string(task_create.access, ', ', 'NULL')),
                      HINT = 'Create accounts with task_account_create() first.';
        END IF;
    END IF;

    IF task_create.depends_on IS NOT NULL AND cardinality(task_create.depends_on) > 0 THEN
        SELECT array_agg(DISTINCT d ORDER BY d) INTO deps FROM unnest(task_create.depends_on) d;
        -- share-lock the dependencies: none can settle unseen while we look,
        -- and one completing right after us finds our dependency rows
        PERFORM FROM task.task d WHERE d.owner = q.owner AND d.id = ANY (deps) ORDER BY d.id FOR SHARE;
        SELECT count(*), count(*) FILTER (WHERE d.status <> 'completed'),
               string_agg(format('%s is %s', d.id, d.status), ', ') FILTER (WHERE d.status IN ('failed', 'cancelled'))
          INTO n_found, n_pending, settled
          FROM task.task d WHERE d.owner = q.owner AND d.id = ANY (deps);
        IF n_found < cardinality(deps) THEN
            RAISE EXCEPTION 'a dependency of the new task was not found'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('depends_on: %s.', array_to_string(deps, ', ')),
                      HINT = 'A task depends on existing tasks of the same service.';
        END IF;
        IF settled IS NOT NULL THEN
            RAISE EXCEPTION 'a dependency of the new task will never complete'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('%s.', settled),
                      HINT = 'Retry or replace the failed dependency first.';
        END IF;
        IF n_pending > 0 THEN
            initial := 'blocked';
        END IF;
    END IF;
    IF task_create.blocks_parent AND task_create.parent IS NULL THEN
        RAISE EXCEPTION 'blocks_parent needs a parent'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass parent => the blocked task that waits for this one.';
    END IF;

    IF task_create.idempotency_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts)
        RETURNING * INTO t;
    ELSE
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, idempotency_key)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts, task_create.idempotency_key)
        ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING * INTO t;
        IF NOT FOUND THEN
            -- the same request again: answer with the task it created
            SELECT * INTO t FROM task.task x
             WHERE x.owner = q.owner AND x.idempotency_key = task_create.idempotency_key;
            RETURN t;
        END IF;
    END IF;

    IF accounts IS NOT NULL THEN
        INSERT INTO task.task_access (owner, task_id, account)
        SELECT t.owner, t.id, n FROM unnest(accounts) n;
    END IF;
    IF n_pending > 0 THEN
        INSERT INTO task.task_dependency (owner, task_id, depends_on)
        SELECT t.owner, t.id, d FROM unnest(deps) d;
    END IF;
    IF task_create.blocks_parent THEN
        -- the parent, blocked, now also waits for this child
        PERFORM FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent FOR UPDATE;
        IF NOT EXISTS (SELECT FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent AND p.status = 'blocked') THEN
            RAISE EXCEPTION 'parent task % is not blocked', t.parent
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Create the parent with status => ''blocked'' to make it wait for its children.';
        END IF;
        INSERT INTO task.task_dependency (owner, task_id, depends_on) VALUES (t.owner, t.parent, t.id);
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task).';

CREATE FUNCTION task.task_create_many(
    code          text,
    queue         text,
    parameters    jsonb[],
    run_at        timestamptz DEFAULT NULL,
    ordering_keys text[] DEFAULT NULL)
    RETURNS SETOF task.task_id
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
BEGIN
    q := task._queue_for_create(task_create_many.queue);
    IF task_create_many.parameters IS NULL OR cardinality(task_create_many.parameters) NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'task_create_many takes 1 to 10000 tasks a call'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass one parameters object per task; split larger loads.';
    END IF;
    IF task_create_many.ordering_keys IS NOT NULL
       AND cardinality(task_create_many.ordering_keys) <> cardinality(task_create_many.parameters) THEN
        RAISE EXCEPTION 'ordering_keys must have one entry per task'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use NULL entries for tasks without a key.';
    END IF;
    -- one statement; unnest keeps the order, so ids follow the array
    RETURN QUERY
    INSERT INTO task.task AS x (owner, id, status, code, queue, parameters, run_at, ordering_key)
    SELECT q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')), 'queued',
           task_create_many.code, q.name, p.v, coalesce(task_create_many.run_at, now()), p.k
      FROM unnest(task_create_many.parameters, task_create_many.ordering_keys) AS p(v, k)
    RETURNING x.id;
END
$$;
COMMENT ON FUNCTION task.task_create_many(text, text, jsonb[], timestamptz, text[]) IS
    'Bulk enqueue: creates one queued task per parameters object (up to 10000) in one statement, and returns their ids in order. Optional common run_at and one ordering key per task.';

-- ---------------------------------------------------------------- read
CREATE FUNCTION task.task_get(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
BEGIN
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(task_get.id) AND x.id = task_get.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(task_get.id);
    END IF;
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task.task_get(task.task_id) IS
    'The task as a JSON Task object (seed 001): id, name, revision, status, code, queue, object, description, parent, progress, eta, parameters, result, owner, access, audit. Not found (P0002) when missing or outside the caller''s scope.';

CREATE FUNCTION task.task_list(
    status      task.status DEFAULT NULL,
    queue       text DEFAULT NULL,
    code        text DEFAULT NULL,
    object_id   text DEFAULT NULL,
    parent      task.task_id DEFAULT NULL,
    since       timestamptz DEFAULT NULL,
    list_limit  integer DEFAULT 50,
    list_offset integer DEFAULT 0)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    acc bigint := task.current_account();
BEGIN
    IF list_limit IS NULL OR list_limit NOT BETWEEN 1 AND 1000 OR list_offset IS NULL OR list_offset < 0 THEN
        RAISE EXCEPTION 'list_limit must be between 1 and 1000 and list_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long lists with list_offset.';
    END IF;

    -- One static query per kind of caller, so each gets its own plan: a
    -- service walks its (owner, status_at) index, an account starts from
    -- its access list; operations sort all tasks (an operator's view: add
    -- filters, or an index on status_at if you list everything often).
    IF task.current_is_operations() THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE (task_list.status IS NULL OR t.status = task_list.status)
           AND (task_list.queue IS NULL OR t.queue = task_list.queue)
           AND (task_list.code IS NULL OR t.code = task_list.code)
           AND (task_list.object_id IS NULL OR t.object->>'id' = task_list.object_id)
           AND (task_list.parent IS NULL OR t.parent = task_list.parent)
           AND (task_list.since IS NULL OR t.status_at >= task_list.since)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF svc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE t.owner = svc
           AND (task_list.status IS NULL OR t.status = task_list.status)
           AND (task_list.queue IS NULL OR t.queue = task_list.queue)
           AND (task_list.code IS NULL OR t.code = task_list.code)
           AND (task_list.object_id IS NULL OR t.object->>'id' = task_list.object_id)
           AND (task_list.parent IS NULL OR t.parent = task_list.parent)
           AND (task_list.since IS NULL OR t.status_at >= task_list.since)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF acc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE (t.owner, t.id) IN (SELECT a.owner, a.task_id FROM task.task_access a WHERE a.account = acc)
           AND (task_list.status IS NULL OR t.status = task_list.status)
           AND (task_list.queue IS NULL OR t.queue = task_list.queue)
           AND (task_list.code IS NULL OR t.code = task_list.code)
           AND (task_list.object_id IS NULL OR t.object->>'id' = task_list.object_id)
           AND (task_list.parent IS NULL OR t.parent = task_list.parent)
           AND (task_list.since IS NULL OR t.status_at >= task_list.since)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer) IS
    'Lists the tasks the caller may see as JSON Task objects, most recent status change first. Filters: status, queue, code, object_id (object.id), parent, since (status changed at or after); list_limit (1..1000, default 50), list_offset.';

-- ---------------------------------------------------------------- progress
CREATE FUNCTION task.task_progress(
    id         task.task_id,
    progress   double precision DEFAULT NULL,
    eta        timestamptz DEFAULT NULL,
    parameters jsonb DEFAULT NULL,
    token      bigint DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    UPDATE task.task x
       SET progress = coalesce(task_progress.progress, x.progress),
           eta = coalesce(task_progress.eta, x.eta),
           parameters = coalesce(task_progress.parameters, x.parameters)
     WHERE x.owner = task.task_id_owner(task_progress.id) AND x.id = task_progress.id
       AND task._may_write(x.owner, false)
       AND x.status NOT IN ('completed', 'failed', 'cancelled')
       AND (task_progress.token IS NULL OR (x.status = 'processing' AND x.lease_token = task_progress.token))
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_progress.id, 'update', false, task_progress.token,
                                   '{blocked,queued,processing,rescheduled}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_progress(task.task_id, double precision, timestamptz, jsonb, bigint) IS
    'Owner only: sets progress (0..100, once started), eta and parameters (replaced whole) of an unfinished task. With token, only while that claim holds.';

-- ---------------------------------------------------------------- logs
CREATE FUNCTION task.task_log(
    id      task.task_id,
    message text,
    errors  bigint DEFAULT NULL,
    skips   bigint DEFAULT NULL,
    success bigint DEFAULT NULL,
    total   bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o integer := task.task_id_owner(task_log.id);
BEGIN
    IF task_log.message IS NULL THEN
        RAISE EXCEPTION 'a task log entry needs a message'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass message => ''...''.';
    END IF;
    PERFORM task._check_text('log message', task_log.message, 8192, true);
    IF least(task_log.errors, task_log.skips, task_log.success, task_log.total) < 0 THEN
        RAISE EXCEPTION 'task log counters must not be negative'
            USING ERRCODE = 'numeric_value_out_of_range',
                  HINT = 'Counters errors, skips, success and total count items.';
    END IF;
    IF NOT EXISTS (SELECT FROM task.task x WHERE x.owner = o AND x.id = task_log.id AND task._may_write(x.owner, false)) THEN
        PERFORM task._write_failed(task_log.id, 'log to', false);
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, errors, skips, success, total, by)
    VALUES (o, task_log.id, task_log.message, task_log.errors, task_log.skips,
            task_log.success, task_log.total, task.current_actor());
END
$$;
COMMENT ON FUNCTION task.task_log(task.task_id, text, bigint, bigint, bigint, bigint) IS
    'Owner only: appends a log entry to a task, with optional counters errors, skips, success, total (seed 003).';

CREATE FUNCTION task.task_logs(id task.task_id, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at timestamptz, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF log_limit IS NULL OR log_limit NOT BETWEEN 1 AND 1000 OR log_offset IS NULL OR log_offset < 0 THEN
        RAISE EXCEPTION 'log_limit must be between 1 and 1000 and log_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long logs with log_offset.';
    END IF;
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(task_logs.id) AND x.id = task_logs.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(task_logs.id);
    END IF;
    IF NOT (task.current_is_operations() OR t.owner IS NOT DISTINCT FROM task.current_service()) THEN
        RAISE EXCEPTION 'permission denied to read the logs of task %', task_logs.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Task logs are for Operations and the owning service; use task_get for the task itself.';
    END IF;

    -- Stored entries, plus three derived from the audit columns (the
    -- trigger stores no row for them, see src/transition.c): the creation,
    -- the first claim while no later claim has stored it, and the
    -- completion. A task is created blocked exactly when it is blocked or
    -- has a stored entry leaving blocked. Newest first.
    RETURN QUERY
    SELECT e.at, e.message, e.errors, e.skips, e.success, e.total, e.by
      FROM (SELECT l.at, l.seq, l.message, l.errors, l.skips, l.success, l.total, l.by
              FROM task.task_log l
             WHERE l.owner = t.owner AND l.task_id = t.id
            UNION ALL
            SELECT t.created_at, -3,
                   CASE WHEN t.status = 'blocked' OR EXISTS (
                            SELECT FROM task.task_log f
                             WHERE f.owner = t.owner AND f.task_id = t.id AND f.from_status = 'blocked')
                        THEN 'create -> blocked' ELSE 'create -> queued' END,
                   NULL, NULL, NULL, NULL, t.created_by
            UNION ALL
            SELECT t.started_at, -2, 'queued -> processing', NULL, NULL, NULL, NULL, t.started_by
             WHERE t.started_at IS NOT NULL
               AND NOT EXISTS (SELECT FROM task.task_log f
                                WHERE f.owner = t.owner AND f.task_id = t.id AND f.to_status = 'processing')
            UNION ALL
            SELECT t.completed_at, -1, 'processing -> completed', NULL, NULL, NULL, NULL, t.completed_by
             WHERE t.status = 'completed') e
     ORDER BY e.at DESC, e.seq DESC
     LIMIT log_limit OFFSET log_offset;
END
$$;
COMMENT ON FUNCTION task.task_logs(task.task_id, integer, integer) IS
    'The log of a task, newest first (seed 003): worker messages with counters and one "from -> to" entry per status change, creation included. Operations and the owning service only.';

-- ---------------------------------------------------------------- finish
-- task_complete is in 060_worker.sql, beside the dequeue that shares its body.

CREATE FUNCTION task.task_result(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
BEGIN
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(task_result.id) AND x.id = task_result.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(task_result.id);
    END IF;
    IF t.status <> 'completed' THEN
        RAISE EXCEPTION 'task % has no result: it is %', task_result.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait until the task is completed (task_get shows its status).';
    END IF;
    IF t.result IS NOT NULL THEN
        RETURN to_jsonb(t.result);
    END IF;
    RETURN t.result_value;
END
$$;
COMMENT ON FUNCTION task.task_result(task.task_id) IS
    'The result of a completed task: its JSON value, or, for a resource result, the resource URI as a JSON string (task_get''s result field tells them apart). Visible to whoever may see the task.';

CREATE FUNCTION task.task_cancel(id task.task_id, reason text DEFAULT NULL) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._check_text('cancel reason', task_cancel.reason, 8192, true);
    UPDATE task.task x
       SET status = 'cancelled', error = coalesce(task_cancel.reason, x.error)
     WHERE x.owner = task.task_id_owner(task_cancel.id) AND x.id = task_cancel.id
       AND task._may_write(x.owner, true)
       AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_cancel.id, 'cancel', true, NULL, '{blocked,queued,processing,rescheduled}');
    END IF;
    IF task_cancel.reason IS NOT NULL THEN
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, 'cancelled: ' || task_cancel.reason, task.current_actor());
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_cancel(task.task_id, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason kept in error and the log.';
