\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Creating tasks: task_create and task_create_many (bulk enqueue).

-- The accounts of an access list given as text ids, checked to exist (the
-- one check for task_create and the access list changes).
CREATE FUNCTION task._account_numbers(access text[]) RETURNS bigint[]
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    accounts bigint[];
BEGIN
    IF EXISTS (SELECT FROM unnest(access) a WHERE a IS NULL) THEN
        RAISE EXCEPTION 'access list must not contain null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'List account ids ACC-XXXX-YYYY only; leave the NULLs out.';
    END IF;
    SELECT array_agg(DISTINCT task.account_number(a)) INTO accounts FROM unnest(access) a;
    IF EXISTS (SELECT FROM unnest(accounts) n WHERE n IS NULL OR NOT EXISTS (SELECT FROM task.account x WHERE x.id = n)) THEN
        RAISE EXCEPTION 'access list names an account that does not exist'
            USING ERRCODE = 'foreign_key_violation',
                  -- only the ids not found: the caller's own list, nothing more
                  DETAIL = format('Not found: %s.', (SELECT string_agg(coalesce(task.account_text(n), 'NULL'), ', ' ORDER BY n)
                                   FROM unnest(accounts) n WHERE n IS NULL OR NOT EXISTS (SELECT FROM task.account x WHERE x.id = n))),
                  HINT = 'Create accounts with task_account_create() first.';
    END IF;
    RETURN accounts;
END
$$;
COMMENT ON FUNCTION task._account_numbers(text[]) IS
    'Internal: the account numbers of an access list of text ids, distinct; 23503 when one does not exist.';

-- A key names one request: reusing it for another code or queue is a
-- mistake, not a repeat.
CREATE FUNCTION task._check_same_request(t task.task, key_name text, key text, code text, queue text)
    RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF t.code IS DISTINCT FROM code OR t.queue IS DISTINCT FROM queue THEN
        RAISE EXCEPTION '% "%" is already used by task % of another code or queue', key_name, key, t.id
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Task %s has code %s in queue %s; this call asks for code %s in queue %s.',
                                  t.id, t.code, t.queue, code, queue),
                  HINT = 'Use a key per kind of request, e.g. prefix it with the code.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_same_request(task.task, text, text, text, text) IS
    'Internal: 23505 when a task found by an idempotency or unique key has another code or queue than the call.';

-- task_create is C (src/hotpath.c) for the common task: no parent, access
-- list, dependencies or keys, status queued, valid arguments -- find the
-- queue (_queue_for_create), insert. Every other call is task._create
-- below, called with the same arguments.
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
    blocks_parent   boolean DEFAULT false,
    priority        integer DEFAULT NULL,
    unique_key      text DEFAULT NULL,
    debounce        interval DEFAULT NULL,
    max_run_time    interval DEFAULT NULL)
    RETURNS task.task
    AS 'MODULE_PATHNAME', 'task_create_one' LANGUAGE C VOLATILE SECURITY DEFINER
    -- the planner settings of the other entry points (docs/QUEUE.md, "Plans
    -- made on an empty table") are set by the C function around the
    -- statements it plans: the common task plans none, and a SET clause
    -- cost 4% of a task_create
    SET search_path = task, pg_catalog, pg_temp;
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval, interval) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task for as long as it exists; another code or queue is 23505), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task), priority (higher is claimed first; default: the queue''s), unique_key (a repeat returns the unfinished task holding the key; once it is final the key is free), debounce (with unique_key: the task waits that long, and a repeat while it is still queued replaces its name, description, object, parameters and eta and restarts the wait), max_run_time (the hard limit of one attempt, overriding the queue''s: past it the attempt is failed or retried even if its worker keeps sending heartbeats).';

-- The parameters of task_create, always all passed (by src/hotpath.c).
CREATE FUNCTION task._create(code text, queue text, name text, description text, object jsonb,
                             parent task.task_id, parameters jsonb, eta timestamptz, access text[],
                             status task.status, run_at timestamptz, idempotency_key text,
                             ordering_key text, max_attempts integer, depends_on task.task_id[],
                             blocks_parent boolean, priority integer, unique_key text,
                             debounce interval, max_run_time interval)
    RETURNS task.task
    LANGUAGE plpgsql
    SET search_path = task, pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    t task.task;
    accounts bigint[];
    deps task.task_id[];
    initial task.status := _create.status;
    n_found integer;
    n_pending integer;
    settled text;
    run_limit interval := task._check_max_run_time(_create.max_run_time);
BEGIN
    q := task._queue_for_create(_create.queue);

    -- the rule in C for any status but the default: PERFORM runs a query
    -- of its own (an executor start and end), the IF a simple expression
    IF _create.status IS DISTINCT FROM 'queued' THEN
        PERFORM task._check_new_status(_create.status);
    END IF;
    IF _create.max_attempts IS NOT NULL AND _create.max_attempts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it out to use the queue''s policy.';
    END IF;
    IF _create.parent IS NOT NULL AND NOT EXISTS (
            SELECT FROM task.task p WHERE p.owner = q.owner AND p.id = _create.parent) THEN
        RAISE EXCEPTION 'parent task % not found', _create.parent
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'A parent is an existing task of the same service.';
    END IF;
    IF _create.parent IS NOT NULL AND NOT EXISTS (
            SELECT FROM ONLY task.task p WHERE p.owner = q.owner AND p.id = _create.parent) THEN
        RAISE EXCEPTION 'parent task % is archived', _create.parent
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A parent is a live task: archived tasks are read-only (task_queue_archive).';
    END IF;
    IF _create.access IS NOT NULL THEN
        accounts := task._account_numbers(_create.access);
    END IF;

    IF EXISTS (SELECT FROM unnest(_create.depends_on) d WHERE d IS NULL) THEN
        RAISE EXCEPTION 'depends_on must not contain null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'List task ids TSK-XXXX-YYYY-YYYY-YYYY only; leave the NULLs out.';
    END IF;
    IF _create.depends_on IS NOT NULL AND cardinality(_create.depends_on) > 0 THEN
        SELECT array_agg(DISTINCT d ORDER BY d) INTO deps FROM unnest(_create.depends_on) d;
        -- share-lock the dependencies: none can settle unseen while we look,
        -- and one completing right after us finds our dependency rows
        PERFORM FROM task.task d WHERE d.owner = q.owner AND d.id = ANY (deps) ORDER BY d.id FOR SHARE;
        SELECT count(*), count(*) FILTER (WHERE d.status <> 'completed'),
               string_agg(format('%s is %s', d.id, d.status), ', ') FILTER (WHERE d.status IN ('failed', 'cancelled'))
          INTO n_found, n_pending, settled
          FROM task.task d WHERE d.owner = q.owner AND d.id = ANY (deps);
        IF n_found < cardinality(deps) THEN
            -- the ids not found among those given: another service's and
            -- never-issued ones alike
            RAISE EXCEPTION 'a dependency of the new task was not found'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Not found: %s.', (SELECT string_agg(d::text, ', ' ORDER BY d) FROM unnest(deps) d
                                       WHERE NOT EXISTS (SELECT FROM task.task x WHERE x.owner = q.owner AND x.id = d))),
                      HINT = 'A task depends on existing tasks of the same service.';
        END IF;
        IF settled IS NOT NULL THEN
            RAISE EXCEPTION 'a dependency of the new task will never complete'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('%s.', settled),
                      HINT = 'Depend on tasks that can still complete: retry a failed dependency first, or replace a cancelled one.';
        END IF;
        IF n_pending > 0 THEN
            initial := 'blocked';
        END IF;
    END IF;
    IF _create.blocks_parent AND _create.parent IS NULL THEN
        RAISE EXCEPTION 'blocks_parent needs a parent'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass parent => the blocked task that waits for this one.';
    END IF;

    IF _create.debounce IS NOT NULL AND (_create.unique_key IS NULL OR _create.debounce < '0'
                                         OR _create.debounce > '366 days') THEN
        RAISE EXCEPTION 'debounce needs a unique_key and a window of 0 to 1 year'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass unique_key => ''...'', debounce => interval ''30 seconds''.';
    END IF;

    IF _create.idempotency_key IS NULL AND _create.unique_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, priority, max_run_time)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, _create.code, _create.name, _create.queue,
                _create.object, _create.description, _create.parent,
                _create.parameters, _create.eta, coalesce(_create.run_at, now()),
                _create.ordering_key, _create.max_attempts,
                coalesce(_create.priority, q.priority), run_limit)
        RETURNING * INTO t;
    ELSE
        LOOP
            IF _create.unique_key IS NOT NULL THEN
                -- unique while active: an unfinished task with the key answers
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.unique_key = _create.unique_key
                   AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
                   FOR UPDATE;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'unique_key', _create.unique_key,
                                                     _create.code, _create.queue);
                    IF _create.debounce IS NOT NULL AND t.status IN ('queued', 'rescheduled') THEN
                        -- debounce: the pending duplicate takes this call's arguments and waits again
                        UPDATE task.task x
                           SET name = _create.name, description = _create.description,
                               object = _create.object, parameters = _create.parameters,
                               eta = _create.eta,
                               run_at = greatest(coalesce(_create.run_at, now()), now() + _create.debounce)
                         WHERE x.owner = t.owner AND x.id = t.id
                        RETURNING * INTO t;
                    END IF;
                    RETURN t;
                END IF;
            END IF;
            INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                        parameters, eta, run_at, ordering_key, max_attempts,
                                        idempotency_key, unique_key, priority, max_run_time)
            VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                    initial, _create.code, _create.name, _create.queue,
                    _create.object, _create.description, _create.parent,
                    _create.parameters, _create.eta,
                    greatest(coalesce(_create.run_at, now()), now() + coalesce(_create.debounce, '0')),
                    _create.ordering_key, _create.max_attempts,
                    _create.idempotency_key, _create.unique_key,
                    coalesce(_create.priority, q.priority), run_limit)
            ON CONFLICT DO NOTHING
            RETURNING * INTO t;
            EXIT WHEN FOUND;
            IF _create.idempotency_key IS NOT NULL THEN
                -- the same request again: answer with the task it created
                -- (live tasks only: archiving frees a key, as purging does)
                SELECT * INTO t FROM ONLY task.task x
                 WHERE x.owner = q.owner AND x.idempotency_key = _create.idempotency_key;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'idempotency_key', _create.idempotency_key,
                                                     _create.code, _create.queue);
                    RETURN t;
                END IF;
            END IF;
            -- a concurrent call took the unique key (or the key's task was
            -- purged meanwhile): look again
        END LOOP;
    END IF;

    IF accounts IS NOT NULL THEN
        INSERT INTO task.task_access (owner, task_id, account)
        SELECT t.owner, t.id, n FROM unnest(accounts) n;
    END IF;
    IF n_pending > 0 THEN
        INSERT INTO task.task_dependency (owner, task_id, depends_on)
        SELECT t.owner, t.id, d FROM unnest(deps) d;
    END IF;
    IF _create.blocks_parent THEN
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
COMMENT ON FUNCTION task._create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval, interval) IS
    'Internal: task_create for the calls its C path leaves to PL/pgSQL (a parent, an access list, dependencies, a key, another status, or an argument to refuse).';

CREATE FUNCTION task._queue_for_create_direct(queue text) RETURNS task.queue
    AS 'MODULE_PATHNAME', 'task_queue_for_create_direct' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._queue_for_create_direct(text) IS
    'Internal: task._queue_for_create for task_create_many, its common case (an existing queue of the caller) read directly (src/hotpath.c).';

CREATE FUNCTION task._create_many(q task.queue, code text, parameters jsonb[], run_at timestamptz,
                                  ordering_keys text[], priority integer, max_run_time interval)
    RETURNS SETOF task.task_id
    AS 'MODULE_PATHNAME', 'task_create_many_direct' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._create_many(task.queue, text, jsonb[], timestamptz, text[], integer, interval) IS
    'Internal: the insert of task_create_many (the queue looked up, the batch checked), one direct insert per task in one statement (src/hotpath.c); no row when a default of task.task asks for the INSERT statement.';

CREATE FUNCTION task.task_create_many(
    code          text,
    queue         text,
    parameters    jsonb[],
    run_at        timestamptz DEFAULT NULL,
    ordering_keys text[] DEFAULT NULL,
    priority      integer DEFAULT NULL,
    max_run_time  interval DEFAULT NULL)
    RETURNS SETOF task.task_id
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    run_limit interval;
BEGIN
    q := task._queue_for_create_direct(task_create_many.queue);
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
    -- every rule the trigger would refuse a task of the batch by, before
    -- the first serial is drawn: serials are shared by every service and
    -- never given back (docs/THREAT-MODEL.md, "Task serials")
    PERFORM task._check_batch(task_create_many.code, task_create_many.parameters, task_create_many.ordering_keys);
    PERFORM task._check_time('run_at', task_create_many.run_at);
    run_limit := task._check_max_run_time(task_create_many.max_run_time);
    -- one direct insert per task (ids in the order of the array) ...
    RETURN QUERY
    SELECT i FROM task._create_many(q, task_create_many.code, task_create_many.parameters,
                                    task_create_many.run_at, task_create_many.ordering_keys,
                                    task_create_many.priority, run_limit) AS i;
    IF FOUND THEN
        RETURN;
    END IF;
    -- ... or, when task.task has a default it does not know, one statement
    -- (unnest keeps the order, so ids follow the array) naming the columns
    -- the direct insert sets, so that both write the same row
    RETURN QUERY
    INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parameters, eta,
                                run_at, ordering_key, max_attempts, priority, max_run_time)
    SELECT q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')), 'queued',
           task_create_many.code, NULL, q.name, NULL, NULL, p.v, NULL,
           coalesce(task_create_many.run_at, now()), p.k, NULL,
           coalesce(task_create_many.priority, q.priority), run_limit
      FROM unnest(task_create_many.parameters, task_create_many.ordering_keys) AS p(v, k)
    RETURNING x.id;
END
$$;
COMMENT ON FUNCTION task.task_create_many(text, text, jsonb[], timestamptz, text[], integer, interval) IS
    'Bulk enqueue: creates one queued task per parameters object (up to 10000) in one statement, and returns their ids in order. Optional common run_at, one ordering key per task, a common priority (default: the queue''s) and a common max_run_time (default: the queue''s).';
