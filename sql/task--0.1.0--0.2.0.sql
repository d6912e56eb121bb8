-- generated from sql/update/[0-9]*.sql by make: edit the fragments, not this file
\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit

-- ---- sql/update/00_begin.sql
--
-- The update from the released 0.1.0 to this version, built by make from
-- the fragments in sql/update/ in name order: one fragment per change,
-- named NN_topic.sql. An updated database must be the same as a fresh
-- install, object for object: test/harness/upgrade.sh compares their
-- catalog fingerprints (test/harness/fingerprint.sql) after updating a
-- database full of data, then runs the suite on it.
--
-- To replace a function or view with exactly what a fresh install creates,
-- write a directive line instead of copying its text (make expands it from
-- the install fragments, sql/update/expand.awk):
--
--   -- @replace function task.task_create
--   -- @replace view api.tasks
--
-- A function whose signature or return type changes needs DROP FUNCTION
-- first (and its grants again); new objects are created as in the install
-- fragments; internal "_" functions need REVOKE ALL ... FROM PUBLIC.
--
-- The re-cut of sql/ into one file per object kind (0.2.0) moved code
-- between files and changed no object: it needs no statement here.

-- Function bodies are checked when the whole update has run (as pg_dump's
-- scripts do): a fragment may replace a function whose final text calls an
-- object a later fragment creates. Reverted at the end of the script.
SET check_function_bodies = off;

-- ---- sql/update/10_names.sql
--
-- Names (issue 10): the two result columns of task.task are named after the
-- task_complete arguments that fill them -- result (the JSON value) and
-- resource (the URI of a resource result) -- instead of result_value and
-- result. The functions that read or write them are replaced.

ALTER TABLE task.task RENAME COLUMN result TO resource;
ALTER TABLE task.task RENAME COLUMN result_value TO result;
COMMENT ON COLUMN task.task.resource IS 'Relative URI of a resource holding the result (task_complete(resource => ...)); NULL when the result is a JSON value.';
COMMENT ON COLUMN task.task.result IS 'The JSON result (task_complete(result => ...)), served at the task''s result endpoint.';

CREATE OR REPLACE FUNCTION task._result_uri(t task.task) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(t.resource,
        CASE WHEN t.result IS NOT NULL THEN
            coalesce(nullif(current_setting('task.result_uri_prefix', true), ''), '/public/v1/system/tasks')
            || '/' || t.id::text || '/result' END)
$$;
COMMENT ON FUNCTION task._result_uri(task.task) IS
    'Internal: the result field of a task: the resource URI, or the URI of its JSON result endpoint.';

CREATE OR REPLACE FUNCTION task.task_result(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
BEGIN
    t := task._visible_task(task_result.id);
    IF t.status <> 'completed' THEN
        RAISE EXCEPTION 'task % has no result: it is %', task_result.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait until the task is completed (task_get shows its status).';
    END IF;
    IF t.resource IS NOT NULL THEN
        RETURN to_jsonb(t.resource);
    END IF;
    RETURN t.result;
END
$$;
COMMENT ON FUNCTION task.task_result(task.task_id) IS
    'The result of a completed task: its JSON value, or, for a resource result, the resource URI as a JSON string (task_get''s result field tells them apart). Visible to whoever may see the task.';

CREATE OR REPLACE FUNCTION task._complete(id task.task_id, token bigint, result jsonb, resource text,
                               force boolean DEFAULT false) RETURNS task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    IF result IS NOT NULL AND resource IS NOT NULL THEN
        RAISE EXCEPTION 'a task result is either a JSON value or a resource URI, not both'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass result => a JSON value, or resource => ''/relative/uri''.';
    END IF;
    UPDATE task.task x
       SET status = 'completed', result = _complete.result, resource = _complete.resource
     WHERE x.owner = task.task_id_owner(_complete.id) AND x.id = _complete.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (_complete.force OR x.lease_token IS NOT DISTINCT FROM _complete.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_complete.id, 'complete', false, _complete.token, '{processing}',
                                   NOT _complete.force);
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task._complete(task.task_id, bigint, jsonb, text, boolean) IS 'Internal: completes a processing task, fenced by its claim''s token unless forced.';

CREATE OR REPLACE FUNCTION api.task_result(id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    tid task.task_id;
    value jsonb;
    resource text;
    s text; m text; d text; h text;
BEGIN
    tid := task_result.id::task.task_id;
    value := task.task_result(tid);     -- checks visibility and status
    SELECT t.resource INTO resource FROM task.task t
     WHERE t.owner = task.task_id_owner(tid) AND t.id = tid;
    IF resource IS NOT NULL THEN
        PERFORM task._http_respond(303, resource);
    END IF;
    RETURN value;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_result(text) IS
    'Gets the result of a completed task: a JSON result answers 200 with the value; a resource result answers 303 See Other with Location: the resource URI. 404 when missing or out of scope, 409 while the task is not completed.';

-- api.tasks expands task.task's columns in a subquery: it is re-read under
-- their new names by 30_sidechan.sql, which replaces it (its new text
-- calls a function that does not exist yet here)

-- ---- sql/update/15_rules.sql
--
-- One rule in one place (issue 10): the queue-name, namespace and new-status
-- rules are C validators (src/rules.c) that the trigger and the SQL paths
-- share, and the extension's role names come from one list (task._roles(),
-- src/identity.c).

CREATE OR REPLACE FUNCTION task._roles(OUT kind text, OUT group_role name, OUT web_role name, OUT account_type text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'task_roles' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._roles() IS
    'Internal: the extension''s roles, the one list of their names (src/identity.c): per kind of caller its group role, its web role and the account type it stands for; kind anon is the web role without identity.';

CREATE OR REPLACE FUNCTION task._check_path(kind text, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'task_check_path_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._check_path(text, text) IS
    'Internal: the rule for queue names (kind ''queue'') and service namespaces (kind ''namespace''); 22023 unless valid, else returns the value.';

CREATE OR REPLACE FUNCTION task._check_new_status(status task.status) RETURNS void
    AS 'MODULE_PATHNAME', 'task_check_new_status_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._check_new_status(task.status) IS
    'Internal: the rule for the status of a new task (queued or blocked); 22023 otherwise.';

CREATE OR REPLACE FUNCTION task.task_service_create(name text, namespace text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id integer;
BEGIN
    PERFORM task._require_system('create a service');
    PERFORM task._check_text('service name', task_service_create.name, 255, false);
    PERFORM task._check_path('namespace', task_service_create.namespace);
    -- namespaces do not nest: one service's queues would squat another's.
    -- The lock orders concurrent creations, so two cannot both pass.
    LOCK TABLE task.service IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM task.service s
                WHERE left(s.namespace, length(task_service_create.namespace) + 1) = task_service_create.namespace || '/'
                   OR left(task_service_create.namespace, length(s.namespace) + 1) = s.namespace || '/') THEN
        RAISE EXCEPTION 'namespace "%" overlaps the namespace of another service', task_service_create.namespace
            USING ERRCODE = 'unique_violation',
                  HINT = 'Namespaces may not contain one another: pick one that is neither a prefix nor an extension of an existing one.';
    END IF;
    BEGIN
        INSERT INTO task.service AS s (name, namespace)
        VALUES (task_service_create.name, task_service_create.namespace)
        RETURNING s.id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'a service with this name or namespace already exists'
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Name "%s", namespace "%s".', task_service_create.name, task_service_create.namespace),
                  HINT = 'Pick another name and namespace, or use the existing service.';
    END;
    RETURN task.service_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_service_create(text, text) IS
    'Creates a service (owner of queues and tasks) and returns its id SVC-XXXX. Superuser only.';

CREATE OR REPLACE FUNCTION task.task_login_grant(role regrole, identity text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    svc integer;
    acc bigint;
BEGIN
    PERFORM task._require_system('map a login');
    IF task_login_grant.identity LIKE 'SVC-%' THEN
        svc := task.service_number(task_login_grant.identity);
        IF NOT EXISTS (SELECT FROM task.service s WHERE s.id = svc) THEN
            RAISE EXCEPTION 'service % does not exist', task_login_grant.identity
                USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
        END IF;
    ELSE
        acc := task.account_number(task_login_grant.identity);
        IF NOT EXISTS (SELECT FROM task.account a WHERE a.id = acc) THEN
            RAISE EXCEPTION 'account % does not exist', task_login_grant.identity
                USING ERRCODE = 'no_data_found', HINT = 'Create it with task_account_create().';
        END IF;
    END IF;
    IF EXISTS (SELECT FROM task._roles() r
                WHERE task_login_grant.role::name IN (r.group_role, r.web_role)) THEN
        RAISE EXCEPTION 'role % is one of the extension''s own roles', task_login_grant.role
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Map login roles. Web roles take their identity from the JWT claim task_identity.';
    END IF;
    INSERT INTO task.login AS l (role, service, account)
    VALUES (task_login_grant.role, svc, acc)
    ON CONFLICT ON CONSTRAINT login_pkey DO UPDATE SET service = excluded.service, account = excluded.account;
    -- direct table access: membership of the identity's group role
    PERFORM task._set_group(task_login_grant.role, task._group_role(task_login_grant.identity));
    PERFORM task._identity_invalidate();
END
$$;
COMMENT ON FUNCTION task.task_login_grant(regrole, text) IS
    'Maps a database role to the service (SVC-XXXX) or account (ACC-XXXX-YYYY) it acts as, and makes it a member of the matching group role (task_service, task_operations, task_vendor or task_client) for direct reads. Superuser only.';

CREATE OR REPLACE FUNCTION task._group_role(identity text) RETURNS name
    LANGUAGE sql STABLE
AS $$
    SELECT r.group_role FROM task._roles() r
     WHERE r.group_role IS NOT NULL
       AND r.account_type IS NOT DISTINCT FROM CASE
            WHEN identity LIKE 'SVC-%' THEN NULL
            ELSE (SELECT a.type::text FROM task.account a
                   WHERE a.id = task.account_number(identity) AND a.status = 'Active') END
       AND (identity LIKE 'SVC-%'
            OR EXISTS (SELECT FROM task.account a WHERE a.id = task.account_number(identity) AND a.status = 'Active'))
$$;
COMMENT ON FUNCTION task._group_role(text) IS 'Internal: the group role (task_service, task_operations, task_vendor, task_client) of a service or active account id; NULL for a disabled account.';

CREATE OR REPLACE FUNCTION task._set_group(role regrole, grp name) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    g name;
BEGIN
    FOR g IN SELECT r.group_role FROM task._roles() r WHERE r.group_role IS NOT NULL LOOP
        IF g IS DISTINCT FROM grp AND pg_has_role(role::oid, g, 'MEMBER')
           AND EXISTS (SELECT FROM pg_auth_members m
                        WHERE m.member = role::oid AND m.roleid = (SELECT oid FROM pg_roles WHERE rolname = g)) THEN
            EXECUTE format('REVOKE %I FROM %s', g, role);
        END IF;
    END LOOP;
    IF grp IS NOT NULL THEN
        EXECUTE format('GRANT %I TO %s', grp, role);
    END IF;
END
$$;
COMMENT ON FUNCTION task._set_group(regrole, name) IS 'Internal: makes a role a direct member of exactly one task group role (or none).';

CREATE OR REPLACE FUNCTION task.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false,
    priority     integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
    q task.queue;
BEGIN
    PERFORM task._check_path('queue', task_queue_create.queue);
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

    PERFORM task._check_queue_namespace(owner_id, task_queue_create.queue);

    INSERT INTO task.queue AS x (name, owner, paused, lease, max_attempts, backoff_base, backoff_max, retention, priority)
    VALUES (task_queue_create.queue, owner_id, coalesce(task_queue_create.paused, false),
            coalesce(task_queue_create.lease, '5 minutes'),
            coalesce(task_queue_create.max_attempts, 5),
            coalesce(task_queue_create.backoff_base, '10 seconds'),
            coalesce(task_queue_create.backoff_max, '1 hour'),
            coalesce(task_queue_create.retention, '10 days'),
            coalesce(task_queue_create.priority, 0))
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
COMMENT ON FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer) IS
    'Creates a FIFO queue under the owning service''s namespace, with its worker policy and the default priority of its tasks (0). Services create their own; the operator names the owner.';

CREATE OR REPLACE FUNCTION task.task_create(
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
    debounce        interval DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
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

    PERFORM task._check_new_status(task_create.status);
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
        accounts := task._account_numbers(task_create.access);
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

    IF task_create.debounce IS NOT NULL AND (task_create.unique_key IS NULL OR task_create.debounce < '0') THEN
        RAISE EXCEPTION 'debounce needs a unique_key and a window of at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass unique_key => ''...'', debounce => interval ''30 seconds''.';
    END IF;

    IF task_create.idempotency_key IS NULL AND task_create.unique_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, priority)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts,
                coalesce(task_create.priority, q.priority))
        RETURNING * INTO t;
    ELSE
        LOOP
            IF task_create.unique_key IS NOT NULL THEN
                -- unique while active: an unfinished task with the key answers
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.unique_key = task_create.unique_key
                   AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
                   FOR UPDATE;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'unique_key', task_create.unique_key,
                                                     task_create.code, task_create.queue);
                    IF task_create.debounce IS NOT NULL AND t.status IN ('queued', 'rescheduled') THEN
                        -- debounce: the pending duplicate takes this call's arguments and waits again
                        UPDATE task.task x
                           SET name = task_create.name, description = task_create.description,
                               object = task_create.object, parameters = task_create.parameters,
                               eta = task_create.eta,
                               run_at = greatest(coalesce(task_create.run_at, now()), now() + task_create.debounce)
                         WHERE x.owner = t.owner AND x.id = t.id
                        RETURNING * INTO t;
                    END IF;
                    RETURN t;
                END IF;
            END IF;
            INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                        parameters, eta, run_at, ordering_key, max_attempts,
                                        idempotency_key, unique_key, priority)
            VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                    initial, task_create.code, task_create.name, task_create.queue,
                    task_create.object, task_create.description, task_create.parent,
                    task_create.parameters, task_create.eta,
                    greatest(coalesce(task_create.run_at, now()), now() + coalesce(task_create.debounce, '0')),
                    task_create.ordering_key, task_create.max_attempts,
                    task_create.idempotency_key, task_create.unique_key,
                    coalesce(task_create.priority, q.priority))
            ON CONFLICT DO NOTHING
            RETURNING * INTO t;
            EXIT WHEN FOUND;
            IF task_create.idempotency_key IS NOT NULL THEN
                -- the same request again: answer with the task it created
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.idempotency_key = task_create.idempotency_key;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'idempotency_key', task_create.idempotency_key,
                                                     task_create.code, task_create.queue);
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
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task for as long as it exists; another code or queue is 23505), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task), priority (higher is claimed first; default: the queue''s), unique_key (a repeat returns the unfinished task holding the key; once it is final the key is free), debounce (with unique_key: the task waits that long, and a repeat while it is still queued replaces its name, description, object, parameters and eta and restarts the wait).';

CREATE OR REPLACE FUNCTION task.http_pre_request() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF current_user IN (SELECT r.web_role FROM task._roles() r WHERE r.group_role IS NOT NULL)
       AND task.current_kind() = 'none' THEN
        RAISE EXCEPTION 'the token names no active service or account for role %', current_user
            USING ERRCODE = 'PT401',
                  DETAIL = 'The claim "task_identity" must name an existing service (SVC-XXXX) for task_web_service, or an active account (ACC-XXXX-YYYY) of the role''s type for the other web roles.',
                  HINT = 'Ask for a new token.';
    END IF;
END
$$;
COMMENT ON FUNCTION task.http_pre_request() IS
    'PostgREST db-pre-request: answers 401 when a web role''s JWT claim task_identity names no active service or account of that role''s kind.';

REVOKE ALL ON FUNCTION task._check_path(text, text), task._check_new_status(task.status) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._roles() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._roles() TO PUBLIC;

-- ---- sql/update/20_comments.sql
--
-- Comments on every column of the extension's tables (0.2.0): under
-- PostgREST they are the API's descriptions. The same statements as in
-- sql/20_tables.sql, which test/harness/upgrade.sh compares byte for byte.
COMMENT ON COLUMN task.service.id IS 'Service number 1..9999; its text id is SVC-XXXX and the XXXX of its task ids.';
COMMENT ON COLUMN task.service.name IS 'Unique name of the service.';
COMMENT ON COLUMN task.service.revision IS 'Version of the service record, shown in the owner and audit objects of its tasks.';
COMMENT ON COLUMN task.service.created_at IS 'When the service was created.';
COMMENT ON COLUMN task.account.id IS 'Account number 0..99999999; its text id is ACC-XXXX-YYYY.';
COMMENT ON COLUMN task.account.name IS 'Display name of the account.';
COMMENT ON COLUMN task.account.type IS 'Operations (sees every task), Vendor or Client (see the tasks whose access list holds them).';
COMMENT ON COLUMN task.account.status IS 'Active, or Disabled: a disabled account acts as nobody.';
COMMENT ON COLUMN task.account.revision IS 'Version of the account record, shown in the access and audit objects of tasks.';
COMMENT ON COLUMN task.account.created_at IS 'When the account was created.';
COMMENT ON COLUMN task.login.role IS 'The database role (a login, or a role reached with SET ROLE).';
COMMENT ON COLUMN task.login.service IS 'The service the role acts as (NULL when it acts as an account).';
COMMENT ON COLUMN task.login.account IS 'The account the role acts as (NULL when it acts as a service).';
COMMENT ON COLUMN task.queue.name IS 'Queue name under the owner''s namespace: slash-separated segments of letters, digits, "_", "-", ".".';
COMMENT ON COLUMN task.queue.owner IS 'The service that owns the queue (SVC-XXXX number): only it creates and works tasks in it.';
COMMENT ON COLUMN task.queue.paused IS 'A paused queue still accepts tasks; task_dequeue returns nothing from it.';
COMMENT ON COLUMN task.queue.backoff_base IS 'Delay before the first retry of a failed attempt; doubles with each attempt (with jitter).';
COMMENT ON COLUMN task.queue.backoff_max IS 'Hard cap of the retry delay, applied after the jitter.';
COMMENT ON COLUMN task.queue.created_at IS 'When the queue was created.';
COMMENT ON COLUMN task.task.status IS 'blocked, queued, processing, completed, failed, rescheduled or cancelled; changes are checked by the trigger task_transition.';
COMMENT ON COLUMN task.task.code IS 'The workflow: dot-separated identifiers, e.g. accounts.buyers.transfer.';
COMMENT ON COLUMN task.task.name IS 'One-line title of the task.';
COMMENT ON COLUMN task.task.queue IS 'The queue the task runs in (a queue of its owning service).';
COMMENT ON COLUMN task.task.object IS 'JSON object referencing the business object the task works on, e.g. {"id": "BUY-1190-0394"}.';
COMMENT ON COLUMN task.task.description IS 'Free text, newlines allowed.';
COMMENT ON COLUMN task.task.parent IS 'The parent task (a task of the same service); NULL once the parent is purged.';
COMMENT ON COLUMN task.task.eta IS 'Estimated completion time, set by the creator or the worker.';
COMMENT ON COLUMN task.task.parameters IS 'JSON object of the task''s inputs; task_progress may replace it.';
COMMENT ON COLUMN task.task.error IS 'The last failure (task_fail) or the reason of the cancellation (task_cancel).';
COMMENT ON COLUMN task.task.attempts IS 'Claims so far: every task_dequeue of the task counts one.';
COMMENT ON COLUMN task.task.max_attempts IS 'Attempts allowed; NULL takes the queue''s max_attempts.';
COMMENT ON COLUMN task.task.lease_until IS 'While processing: when the claim expires unless a heartbeat extends it.';
COMMENT ON COLUMN task.task.ordering_key IS 'Tasks of a queue with the same key run one at a time, in creation order.';
COMMENT ON COLUMN task.task.idempotency_key IS 'Per service: task_create with a key already used returns that task instead of a new one.';
COMMENT ON COLUMN task.task.created_at IS 'Audit: when the task was created.';
COMMENT ON COLUMN task.task.created_by IS 'Audit: who created it (SVC-XXXX, ACC-XXXX-YYYY, or the name of an unmapped role).';
COMMENT ON COLUMN task.task.updated_at IS 'Audit: when the task last changed.';
COMMENT ON COLUMN task.task.updated_by IS 'Audit: who changed it last.';
COMMENT ON COLUMN task.task.started_at IS 'Audit: when it last became processing.';
COMMENT ON COLUMN task.task.started_by IS 'Audit: who claimed it last.';
COMMENT ON COLUMN task.task.completed_at IS 'Audit: when it completed.';
COMMENT ON COLUMN task.task.completed_by IS 'Audit: who completed it.';
COMMENT ON COLUMN task.task.failed_at IS 'Audit: when it last became failed.';
COMMENT ON COLUMN task.task.failed_by IS 'Audit: who failed it last.';
COMMENT ON COLUMN task.task.rescheduled_at IS 'Audit: when it last became rescheduled.';
COMMENT ON COLUMN task.task.rescheduled_by IS 'Audit: who rescheduled it last.';
COMMENT ON COLUMN task.task.cancelled_at IS 'Audit: when it was cancelled.';
COMMENT ON COLUMN task.task.cancelled_by IS 'Audit: who cancelled it.';
COMMENT ON COLUMN task.task_access.owner IS 'The owning service of the task (SVC-XXXX number).';
COMMENT ON COLUMN task.task_access.task_id IS 'The task.';
COMMENT ON COLUMN task.task_access.account IS 'An account (ACC-XXXX-YYYY number) that may see the task and its result.';
COMMENT ON COLUMN task.task_dependency.owner IS 'The owning service of both tasks (SVC-XXXX number).';
COMMENT ON COLUMN task.task_dependency.task_id IS 'The task that waits (blocked until every task it depends on has completed).';
COMMENT ON COLUMN task.task_dependency.depends_on IS 'A task it waits for.';
COMMENT ON COLUMN task.task_log.owner IS 'The owning service of the task (SVC-XXXX number).';
COMMENT ON COLUMN task.task_log.task_id IS 'The task the entry is about.';
COMMENT ON COLUMN task.task_log.seq IS 'Entry number from task.task_log_seq; task_logs orders entries by at, then seq.';
COMMENT ON COLUMN task.task_log.at IS 'When the entry was written (clock time, not transaction start).';
COMMENT ON COLUMN task.task_log.message IS 'The message; for transition entries "from -> to".';
COMMENT ON COLUMN task.task_log.to_status IS 'For transition entries: the status entered (NULL for messages).';
COMMENT ON COLUMN task.task_log.errors IS 'Optional counter: items that failed.';
COMMENT ON COLUMN task.task_log.skips IS 'Optional counter: items skipped.';
COMMENT ON COLUMN task.task_log.success IS 'Optional counter: items done.';
COMMENT ON COLUMN task.task_log.total IS 'Optional counter: items in all.';
COMMENT ON COLUMN task.task_log.by IS 'Who wrote the entry (SVC-XXXX, ACC-XXXX-YYYY, or the name of an unmapped role).';
COMMENT ON COLUMN task.schedule.queue IS 'The queue of the template, checked to belong to the owner at each tick.';
COMMENT ON COLUMN task.schedule.created_at IS 'When the schedule was created.';
COMMENT ON COLUMN task.schedule.created_by IS 'Who created it (SVC-XXXX, ACC-XXXX-YYYY, or the name of an unmapped role).';
COMMENT ON COLUMN task.schedule.runs IS 'Ticks that created their task.';
COMMENT ON COLUMN task.schedule.failures IS 'Ticks that failed to create their task.';
COMMENT ON COLUMN task.schedule.last_error_at IS 'When the last failing tick happened.';

-- ---- sql/update/30_sidechan.sql
--
-- Tenant isolation without side channels (issue 16): vendors and clients
-- read through the API only; one visibility rule for every path that names
-- a task or a queue; JSON without what the caller may not see; result URIs
-- that cannot redirect elsewhere; namespaces that do not nest; schedules
-- that run as their service, with a limit; logins of dropped roles grant
-- nothing; task_log.seq hidden from services.

-- identity: the schedule job's switch, and one rule for a task named by id
CREATE OR REPLACE FUNCTION task._act_as_service(service integer) RETURNS void
    AS 'MODULE_PATHNAME', 'task_act_as_service' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._act_as_service(integer) IS
    'Internal, for task._run_schedule only: the caller acts as this service until the transaction ends (NULL: stop). Only the extension''s owner can call it.';

CREATE OR REPLACE FUNCTION task._visible_task(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    t task.task;
BEGIN
    IF task._visible(task.task_id_owner(_visible_task.id), _visible_task.id) THEN
        SELECT * INTO t FROM task.task x
         WHERE x.owner = task.task_id_owner(_visible_task.id) AND x.id = _visible_task.id;
        IF FOUND THEN
            RETURN t;
        END IF;
    END IF;
    PERFORM task._not_found(_visible_task.id);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._visible_task(task.task_id) IS
    'Internal: the task the caller names by id, or not found (P0002) when it is missing or outside the caller''s scope, by one path for both.';

CREATE OR REPLACE FUNCTION task._write_failed(id task.task_id, operation text, ops_allowed boolean,
                                   token bigint DEFAULT NULL, expected task.status[] DEFAULT NULL,
                                   fenced boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    t := task._visible_task(_write_failed.id);
    IF NOT task._may_write(t.owner, ops_allowed) THEN
        RAISE EXCEPTION 'permission denied to % task %', operation, _write_failed.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The task belongs to %s; the caller acts as %s.',
                                  task.service_text(t.owner), task.current_actor()),
                  HINT = CASE WHEN ops_allowed
                              THEN 'Only the owning service or an Operations account can do this.'
                              ELSE 'Only the owning service can do this.' END;
    END IF;
    -- the live token is never printed: it would let a stale worker take over
    IF token IS NOT NULL AND (t.status <> 'processing' OR t.lease_token IS DISTINCT FROM token) THEN
        RAISE EXCEPTION 'lease lost: task % is no longer claimed with token %', _write_failed.id, token
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The task is %s%s.', t.status,
                                  CASE WHEN t.status = 'processing' THEN ' under another claim' ELSE '' END),
                  HINT = 'Another worker owns the task now: drop this result and dequeue again.';
    END IF;
    -- fencing by default: a claimed task is finished with its claim's token
    IF fenced AND token IS NULL AND t.status = 'processing' AND t.lease_token IS NOT NULL THEN
        RAISE EXCEPTION 'cannot % task % without its lease token', operation, _write_failed.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The task is processing under a claim; only the worker that holds the claim finishes it.',
                  HINT = 'Pass token => the lease_token returned by task_dequeue, or force => true to override the claim.';
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
COMMENT ON FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[], boolean) IS
    'Internal: raises the precise error for a write that matched no row (not found, 42501, lease lost, token missing when fenced, wrong status).';

-- reads
CREATE OR REPLACE FUNCTION task._actor_json(actor text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN actor ~ '^SVC-[0-9]{4}$' THEN
            (SELECT jsonb_build_object('id', actor, 'name', s.name, 'revision', s.revision)
               FROM task.service s WHERE s.id = task.service_number(actor))
        -- an account's name only to itself and Operations; others see its id
        WHEN actor ~ '^ACC-[0-9]{4}-[0-9]{4}$' THEN
            CASE WHEN task.current_is_operations() OR task.account_number(actor) = task.current_account()
                 THEN (SELECT jsonb_build_object('id', actor, 'name', a.name, 'revision', a.revision)
                         FROM task.account a WHERE a.id = task.account_number(actor))
                 ELSE jsonb_build_object('id', actor) END
        -- an unmapped role (the operator, a maintenance job): its name only
        ELSE jsonb_build_object('name', actor)
        END
$$;
COMMENT ON FUNCTION task._actor_json(text) IS 'Internal: the {id, name, revision} object of an audit or log author; an account other than the caller is {id} only, except for Operations.';

CREATE OR REPLACE FUNCTION task._task_json(t task.task) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'status_description', task.status_description(t.status),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        -- a parent the caller may not see is left out
        'parent', CASE WHEN t.parent IS NOT NULL AND task._visible(t.owner, t.parent) THEN
            task._strip_nulls(jsonb_build_object('id', t.parent::text,
                'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent))) END,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'run_at', task._iso(t.run_at),
        'owner', (SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
                    FROM task.service s WHERE s.id = t.owner),
        -- the account directory is for Operations: the owning service sees
        -- the ids it put on the list, an account itself only
        'access', coalesce(CASE
            WHEN task.current_is_operations() THEN
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status) ORDER BY a.id)
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            WHEN task.current_account() IS NULL THEN
                (SELECT jsonb_agg(jsonb_build_object('id', task.account_text(x.account)) ORDER BY x.account)
                   FROM task.task_access x
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            ELSE
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status))
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id AND x.account = task.current_account())
            END, '[]'::jsonb),
        'audit', task._strip_nulls(jsonb_build_object(
            'created', task._stamp(t.created_at, t.created_by),
            'updated', task._stamp(t.updated_at, t.updated_by),
            'started', task._stamp(t.started_at, t.started_by),
            'completed', task._stamp(t.completed_at, t.completed_by),
            'failed', task._stamp(t.failed_at, t.failed_by),
            'rescheduled', task._stamp(t.rescheduled_at, t.rescheduled_by),
            'cancelled', task._stamp(t.cancelled_at, t.cancelled_by))),
        -- hired tasks only (code market.*): no lookup for every other task
        'marketplace', CASE WHEN t.code LIKE 'market.%' THEN task._market_json(t.owner, t.id) END
    ))
$$;
COMMENT ON FUNCTION task._task_json(task.task) IS 'Internal: a task row as the JSON Task object of seed 001, with nothing the caller may not see: no parent it may not see, an access list of ids for the owning service and of itself for an account, no account names but its own in the audit (Operations see all).';

-- task_get gains log_limit and log_offset (issue 14's inline logs, in its
-- final text here): api.tasks calls it, so the old one steps aside while the
-- view is re-read, then goes
ALTER FUNCTION task.task_get(task.task_id) RENAME TO _task_get_0_1;
CREATE OR REPLACE FUNCTION task.task_get(id task.task_id, log_limit integer DEFAULT NULL, log_offset integer DEFAULT 0)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    doc jsonb;
BEGIN
    IF task_get.log_limit IS NOT NULL THEN
        PERFORM task._check_log_page(task_get.log_limit, task_get.log_offset);
    END IF;
    t := task._visible_task(task_get.id);
    doc := task._task_json(t);
    -- inline logs (seed 003's "get a task"): only for who may read them;
    -- anyone else gets the task without the key, as if they had not asked
    IF task_get.log_limit IS NOT NULL AND task._may_read_logs(t.owner) THEN
        doc := doc || jsonb_build_object('logs', coalesce((
            SELECT jsonb_agg(task._strip_nulls(jsonb_build_object(
                       'at', task._iso(l.at), 'message', l.message,
                       'errors', l.errors, 'skips', l.skips, 'success', l.success, 'total', l.total,
                       'by', task._actor_json(l.by))) ORDER BY l.ord)
              FROM task._log_entries(t, task_get.log_limit, task_get.log_offset)
                   WITH ORDINALITY AS l(at, message, errors, skips, success, total, by, ord)), '[]'::jsonb));
    END IF;
    RETURN doc;
END
$$;
COMMENT ON FUNCTION task.task_get(task.task_id, integer, integer) IS
    'The task as a JSON Task object (seed 001): id, name, revision, status, status_description, code, queue, object, description, parent, progress, eta, parameters, result, error, run_at, owner, access, audit. With log_limit (1..1000) and log_offset, a caller that may read the log (Operations, the owning service) also gets "logs": that page of task_logs, newest first, each entry {at, message, errors, skips, success, total, by}. Not found (P0002) when missing or outside the caller''s scope.';

CREATE OR REPLACE FUNCTION task.task_logs(id task.task_id, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at timestamptz, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._check_log_page(task_logs.log_limit, task_logs.log_offset);
    t := task._visible_task(task_logs.id);
    IF NOT task._may_read_logs(t.owner) THEN
        RAISE EXCEPTION 'permission denied to read the logs of task %', task_logs.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Task logs are for Operations and the owning service; use task_get for the task itself.';
    END IF;
    RETURN QUERY SELECT * FROM task._log_entries(t, task_logs.log_limit, task_logs.log_offset);
END
$$;
COMMENT ON FUNCTION task.task_logs(task.task_id, integer, integer) IS
    'The log of a task, newest first (seed 003): worker messages with counters and one "from -> to" entry per status change, creation included. Operations and the owning service only.';

CREATE OR REPLACE FUNCTION task.task_result(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
BEGIN
    t := task._visible_task(task_result.id);
    IF t.status <> 'completed' THEN
        RAISE EXCEPTION 'task % has no result: it is %', task_result.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait until the task is completed (task_get shows its status).';
    END IF;
    IF t.resource IS NOT NULL THEN
        RETURN to_jsonb(t.resource);
    END IF;
    RETURN t.result;
END
$$;
COMMENT ON FUNCTION task.task_result(task.task_id) IS
    'The result of a completed task: its JSON value, or, for a resource result, the resource URI as a JSON string (task_get''s result field tells them apart). Visible to whoever may see the task.';

CREATE OR REPLACE FUNCTION task._account_tasks() RETURNS SETOF jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT task._task_json(t) FROM task.task t
     WHERE (t.owner, t.id) IN (SELECT a.owner, a.task_id FROM task.task_access a
                                WHERE a.account = task.current_account())
       AND NOT task.current_is_operations()
     ORDER BY t.status_at DESC, t.id DESC
$$;
COMMENT ON FUNCTION task._account_tasks() IS
    'Internal: the tasks a vendor or client caller may see, as JSON Task objects, for the HTTP view api.tasks.';

CREATE OR REPLACE VIEW api.tasks WITH (security_invoker = true) AS
SELECT t.id,
       t.name,
       t.revision,
       pg_catalog.initcap(t.status::text) AS status,
       t.code,
       t.queue,
       t.object,
       t.description,
       j.doc -> 'parent' AS parent,
       t.progress,
       j.doc ->> 'eta' AS eta,
       t.parameters,
       j.doc ->> 'result' AS result,
       t.error,
       j.doc -> 'owner' AS owner,
       j.doc -> 'access' AS access,
       j.doc -> 'audit' AS audit
  FROM (SELECT * FROM task.task x ORDER BY x.status_at DESC, x.id DESC) t
 CROSS JOIN LATERAL (SELECT task.task_get(t.id) AS doc OFFSET 0) j
-- vendors and clients read no row of task.task (90_access.sql): their
-- tasks come whole from the API, and filters apply to those only
UNION ALL
SELECT (a.doc ->> 'id')::task.task_id,
       a.doc ->> 'name',
       (a.doc ->> 'revision')::integer,
       a.doc ->> 'status',
       a.doc ->> 'code',
       a.doc ->> 'queue',
       a.doc -> 'object',
       a.doc ->> 'description',
       a.doc -> 'parent',
       (a.doc ->> 'progress')::double precision,
       a.doc ->> 'eta',
       a.doc -> 'parameters',
       a.doc ->> 'result',
       a.doc ->> 'error',
       a.doc -> 'owner',
       a.doc -> 'access',
       a.doc -> 'audit'
  FROM task._account_tasks() a(doc);
COMMENT ON VIEW api.tasks IS
$$Tasks the caller may see (seed 001 Task objects), most recent status change first. Filter with id, status (capitalised: Queued, Completed, ...), code, queue, object->>id, parent->>id; page with limit and offset. One task: GET /tasks?id=eq.TSK-... with Accept: application/vnd.pgrst.object+json (406 when none), or GET /rpc/task_get?id=... (404).$$;
COMMENT ON COLUMN api.tasks.id IS 'TSK-XXXX-YYYY-YYYY-YYYY; XXXX is the owning service.';
COMMENT ON COLUMN api.tasks.name IS 'The name of the operation.';
COMMENT ON COLUMN api.tasks.revision IS 'Bumped on every change.';
COMMENT ON COLUMN api.tasks.status IS 'Blocked, Queued, Processing, Completed, Failed, Rescheduled or Cancelled.';
COMMENT ON COLUMN api.tasks.code IS 'The workflow, prefixed with the service namespace (e.g. accounts.buyers.transfer).';
COMMENT ON COLUMN api.tasks.queue IS 'The FIFO queue, under the owning service''s namespace.';
COMMENT ON COLUMN api.tasks.object IS 'The business object the task is about, e.g. {"id": "BUY-1190-0394"}.';
COMMENT ON COLUMN api.tasks.description IS 'A description of the task.';
COMMENT ON COLUMN api.tasks.parent IS 'The parent task {id, name}, if any.';
COMMENT ON COLUMN api.tasks.progress IS 'Percent 0..100, once started.';
COMMENT ON COLUMN api.tasks.eta IS 'Estimated completion (ISO 8601, UTC).';
COMMENT ON COLUMN api.tasks.parameters IS 'Task-specific parameters.';
COMMENT ON COLUMN api.tasks.result IS 'Relative URI of the result: a resource, or the task''s JSON result (GET /rpc/task_result).';
COMMENT ON COLUMN api.tasks.error IS 'Why the last attempt failed, or why the task was cancelled.';
COMMENT ON COLUMN api.tasks.owner IS 'The owning service {id, name, revision}.';
COMMENT ON COLUMN api.tasks.access IS 'Accounts with access to the task and its result [{id, name, revision, type, status}]: all for Operations, ids for the owning service, itself for an account.';
COMMENT ON COLUMN api.tasks.audit IS 'created, updated, started, completed, failed, rescheduled, cancelled: {at, by}.';
DROP FUNCTION task._task_get_0_1(task.task_id);

-- queues, creation, schedules
CREATE OR REPLACE FUNCTION task._check_queue_namespace(owner integer, queue text, taken boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    ns text;
BEGIN
    SELECT s.namespace INTO ns FROM task.service s WHERE s.id = _check_queue_namespace.owner;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % does not exist', task.service_text(_check_queue_namespace.owner)
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    IF taken OR left(_check_queue_namespace.queue, length(ns) + 1) <> ns || '/' THEN
        RAISE EXCEPTION 'queue "%" is outside the namespace of %', _check_queue_namespace.queue,
                        task.service_text(_check_queue_namespace.owner)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Queues of %s are named %s/...', task.service_text(_check_queue_namespace.owner), ns),
                  HINT = format('Use a name such as "%s/commands".', ns);
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_queue_namespace(integer, text, boolean) IS
    'Internal: 22023 unless the queue name lies in the owning service''s namespace (or always, for a queue of another service).';

CREATE OR REPLACE FUNCTION task.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false,
    priority     integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
    q task.queue;
BEGIN
    PERFORM task._check_path('queue', task_queue_create.queue);
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

    PERFORM task._check_queue_namespace(owner_id, task_queue_create.queue);

    INSERT INTO task.queue AS x (name, owner, paused, lease, max_attempts, backoff_base, backoff_max, retention, priority)
    VALUES (task_queue_create.queue, owner_id, coalesce(task_queue_create.paused, false),
            coalesce(task_queue_create.lease, '5 minutes'),
            coalesce(task_queue_create.max_attempts, 5),
            coalesce(task_queue_create.backoff_base, '10 seconds'),
            coalesce(task_queue_create.backoff_max, '1 hour'),
            coalesce(task_queue_create.retention, '10 days'),
            coalesce(task_queue_create.priority, 0))
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
COMMENT ON FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer) IS
    'Creates a FIFO queue under the owning service''s namespace, with its worker policy and the default priority of its tasks (0). Services create their own; the operator names the owner.';

CREATE OR REPLACE FUNCTION task._queue_for_create(queue text) RETURNS task.queue
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
    IF FOUND THEN
        PERFORM task._check_queue_namespace(svc, _queue_for_create.queue, true);
    END IF;
    -- first task of a new queue: make it with the default policy
    BEGIN
        q := task.task_queue_create(_queue_for_create.queue);
    EXCEPTION WHEN duplicate_object THEN
        SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
        IF NOT task._may_write(q.owner, false) THEN
            PERFORM task._check_queue_namespace(svc, _queue_for_create.queue, true);
        END IF;
    END;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task._queue_for_create(text) IS 'Internal: resolves (or creates) the queue of a new task and checks the caller may use it.';

CREATE OR REPLACE FUNCTION task.task_create(
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
    debounce        interval DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
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

    PERFORM task._check_new_status(task_create.status);
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
        accounts := task._account_numbers(task_create.access);
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

    IF task_create.debounce IS NOT NULL AND (task_create.unique_key IS NULL OR task_create.debounce < '0') THEN
        RAISE EXCEPTION 'debounce needs a unique_key and a window of at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass unique_key => ''...'', debounce => interval ''30 seconds''.';
    END IF;

    IF task_create.idempotency_key IS NULL AND task_create.unique_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, priority)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts,
                coalesce(task_create.priority, q.priority))
        RETURNING * INTO t;
    ELSE
        LOOP
            IF task_create.unique_key IS NOT NULL THEN
                -- unique while active: an unfinished task with the key answers
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.unique_key = task_create.unique_key
                   AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
                   FOR UPDATE;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'unique_key', task_create.unique_key,
                                                     task_create.code, task_create.queue);
                    IF task_create.debounce IS NOT NULL AND t.status IN ('queued', 'rescheduled') THEN
                        -- debounce: the pending duplicate takes this call's arguments and waits again
                        UPDATE task.task x
                           SET name = task_create.name, description = task_create.description,
                               object = task_create.object, parameters = task_create.parameters,
                               eta = task_create.eta,
                               run_at = greatest(coalesce(task_create.run_at, now()), now() + task_create.debounce)
                         WHERE x.owner = t.owner AND x.id = t.id
                        RETURNING * INTO t;
                    END IF;
                    RETURN t;
                END IF;
            END IF;
            INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                        parameters, eta, run_at, ordering_key, max_attempts,
                                        idempotency_key, unique_key, priority)
            VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                    initial, task_create.code, task_create.name, task_create.queue,
                    task_create.object, task_create.description, task_create.parent,
                    task_create.parameters, task_create.eta,
                    greatest(coalesce(task_create.run_at, now()), now() + coalesce(task_create.debounce, '0')),
                    task_create.ordering_key, task_create.max_attempts,
                    task_create.idempotency_key, task_create.unique_key,
                    coalesce(task_create.priority, q.priority))
            ON CONFLICT DO NOTHING
            RETURNING * INTO t;
            EXIT WHEN FOUND;
            IF task_create.idempotency_key IS NOT NULL THEN
                -- the same request again: answer with the task it created
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.idempotency_key = task_create.idempotency_key;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'idempotency_key', task_create.idempotency_key,
                                                     task_create.code, task_create.queue);
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
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task for as long as it exists; another code or queue is 23505), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task), priority (higher is claimed first; default: the queue''s), unique_key (a repeat returns the unfinished task holding the key; once it is final the key is free), debounce (with unique_key: the task waits that long, and a repeat while it is still queued replaces its name, description, object, parameters and eta and restarts the wait).';

CREATE OR REPLACE FUNCTION task.task_schedule(name text, cron text, template jsonb) RETURNS task.schedule
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
    -- a queue of another service is not found, like one that does not exist;
    -- one of the caller's namespace not created yet is made on first use, as
    -- task_create does (_worker_queue answers it unsaved: created_at NULL)
    q := task._worker_queue(task_schedule.template->>'queue', true);
    IF q.created_at IS NULL THEN
        q := task._queue_for_create(task_schedule.template->>'queue');
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
    PERFORM task._cron_schedule(task._schedule_job(owner_id, task_schedule.name), task_schedule.cron,
                                format('SELECT task._run_schedule(%s, %L)', owner_id, task_schedule.name));
    RETURN s;
END
$$;
COMMENT ON FUNCTION task.task_schedule(text, text, jsonb) IS
    'Creates (or replaces) the recurring task name: on each tick of the pg_cron schedule cron, a task is created from template (the task_create arguments as JSON: code, queue, name, description, object, parameters, access, ordering_key, max_attempts) in a queue of the calling service (made on first use in its namespace, as task_create does), owned by it. The template is tried once at once. A tick that fails records last_error (task_schedules). Needs pg_cron in this database.';

CREATE OR REPLACE FUNCTION task._run_schedule(owner integer, name text) RETURNS task.task_id
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

-- the directory
CREATE OR REPLACE FUNCTION task.task_service_create(name text, namespace text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id integer;
BEGIN
    PERFORM task._require_system('create a service');
    PERFORM task._check_text('service name', task_service_create.name, 255, false);
    PERFORM task._check_path('namespace', task_service_create.namespace);
    -- namespaces do not nest: one service's queues would squat another's.
    -- The lock orders concurrent creations, so two cannot both pass.
    LOCK TABLE task.service IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT FROM task.service s
                WHERE left(s.namespace, length(task_service_create.namespace) + 1) = task_service_create.namespace || '/'
                   OR left(task_service_create.namespace, length(s.namespace) + 1) = s.namespace || '/') THEN
        RAISE EXCEPTION 'namespace "%" overlaps the namespace of another service', task_service_create.namespace
            USING ERRCODE = 'unique_violation',
                  HINT = 'Namespaces may not contain one another: pick one that is neither a prefix nor an extension of an existing one.';
    END IF;
    BEGIN
        INSERT INTO task.service AS s (name, namespace)
        VALUES (task_service_create.name, task_service_create.namespace)
        RETURNING s.id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'a service with this name or namespace already exists'
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Name "%s", namespace "%s".', task_service_create.name, task_service_create.namespace),
                  HINT = 'Pick another name and namespace, or use the existing service.';
    END;
    RETURN task.service_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_service_create(text, text) IS
    'Creates a service (owner of queues and tasks) and returns its id SVC-XXXX. Superuser only.';

CREATE OR REPLACE FUNCTION task.task_account_update(id text, name text DEFAULT NULL,
                                         status task.account_status DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    acc bigint;
    r regrole;
BEGIN
    PERFORM task._require_system('change an account');
    acc := task.account_number(task_account_update.id);
    PERFORM task._check_text('account name', task_account_update.name, 255, false);
    UPDATE task.account a
       SET name = coalesce(task_account_update.name, a.name),
           status = coalesce(task_account_update.status, a.status),
           revision = a.revision + 1
     WHERE a.id = acc;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- a disabled account's logins lose their group role (and with it every
    -- table grant); enabled again, they get it back
    FOR r IN SELECT l.role FROM task.login l WHERE l.account = acc LOOP
        PERFORM task._set_group(r, task._group_role(task_account_update.id));
    END LOOP;
    PERFORM task._identity_invalidate();
    RETURN true;
END
$$;
COMMENT ON FUNCTION task.task_account_update(text, text, task.account_status) IS
    'Renames an account or changes its status (Active, Disabled); false when there is no such account. A Disabled account sees nothing, and its logins lose their group role. Superuser only.';

CREATE OR REPLACE FUNCTION task._group_role(identity text) RETURNS name
    LANGUAGE sql STABLE
AS $$
    SELECT r.group_role FROM task._roles() r
     WHERE r.group_role IS NOT NULL
       AND r.account_type IS NOT DISTINCT FROM CASE
            WHEN identity LIKE 'SVC-%' THEN NULL
            ELSE (SELECT a.type::text FROM task.account a
                   WHERE a.id = task.account_number(identity) AND a.status = 'Active') END
       AND (identity LIKE 'SVC-%'
            OR EXISTS (SELECT FROM task.account a WHERE a.id = task.account_number(identity) AND a.status = 'Active'))
$$;
COMMENT ON FUNCTION task._group_role(text) IS 'Internal: the group role (task_service, task_operations, task_vendor, task_client) of a service or active account id; NULL for a disabled account.';

CREATE OR REPLACE FUNCTION task.task_maintain(max_rows integer DEFAULT 1000) RETURNS jsonb
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

    -- 4. the marketplace: escrows past their review window, dispute deadlines
    PERFORM task._market_maintain(task_maintain.max_rows);
    -- mappings whose role was dropped (roles are global: no event trigger
    -- sees DROP ROLE); they grant nothing already (src/identity.c)
    DELETE FROM task.login l
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles pr WHERE pr.oid = l.role::oid);

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
    'Housekeeping, safe to run at any time and concurrently: rescues expired leases, releases blocked tasks whose dependencies have all completed, and purges finished tasks older than their queue''s retention (0 keeps forever) with their logs, access and dependency rows; at most max_rows of each a call; removes the logins of dropped roles. Returns the counts and "more" (a batch was full: call again). System or Operations only. Call it every minute from pg_cron (task_cron_enable) or any other scheduler.';

REVOKE ALL ON FUNCTION task._act_as_service(integer), task._visible_task(task.task_id),
    task._account_tasks(), task._check_queue_namespace(integer, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._account_tasks() TO task_operations, task_service, task_vendor, task_client;

-- policies and grants (90_access.sql)
DROP POLICY task_access_list ON task.task;
DROP POLICY account_self ON task.account;
DROP POLICY task_access_self ON task.task_access;
REVOKE SELECT ON task.account, task.task, task.task_access FROM task_vendor, task_client;
GRANT SELECT ON task.task TO task_web_vendor, task_web_client;
REVOKE SELECT ON task.task_log FROM task_service;
GRANT SELECT (owner, task_id, at, message, errors, skips, success, total, by, from_status, to_status)
    ON task.task_log TO task_service;

-- data: logins of disabled accounts lose their group role; mappings of
-- dropped roles go
DELETE FROM task.login l
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.oid = l.role::oid);
SELECT task._set_group(l.role, NULL)
  FROM task.login l JOIN task.account a ON a.id = l.account
 WHERE a.status <> 'Active';
COMMENT ON COLUMN api.tasks.access IS 'Accounts with access to the task and its result [{id, name, revision, type, status}]: all for Operations, ids for the owning service, itself for an account.';

-- ---- sql/update/40_ops.sql
--
-- Operators (issue 11): workers that start before their queue exists,
-- the task_monitor role and its views, the HTTP error mapping of
-- oversized input, task_cron_enable's warnings, and the HTTP layer as an
-- extension of its own (task_http; schema api of databases created at
-- 0.1.0 is released from extension task by 99_release_api.sql, last).

-- task_dequeue on a queue not created yet in the caller's namespace waits
-- instead of failing: _worker_queue takes missing_ok
DROP FUNCTION task._worker_queue(text);
CREATE OR REPLACE FUNCTION task._worker_queue(queue text, missing_ok boolean DEFAULT false) RETURNS task.queue
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q task.queue;
    ns text;
BEGIN
    SELECT * INTO q FROM task.queue x WHERE x.name = _worker_queue.queue;
    IF FOUND AND task._may_write(q.owner, false) THEN
        RETURN q;
    END IF;
    IF FOUND AND task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to work on queue "%"', _worker_queue.queue
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s.', task.service_text(q.owner)),
                  HINT = 'Only the owning service runs workers on a queue.';
    END IF;
    -- a worker that starts before the first task: a queue not created yet
    -- in the caller's own namespace is an empty queue (its first task_create
    -- makes it), returned unsaved with the column defaults of task.queue
    -- (20_tables.sql) and no created_at
    IF NOT FOUND AND _worker_queue.missing_ok AND task.current_service() IS NOT NULL THEN
        SELECT s.namespace INTO ns FROM task.service s WHERE s.id = task.current_service();
        IF left(_worker_queue.queue, length(ns) + 1) = ns || '/' THEN
            PERFORM task._check_path('queue', _worker_queue.queue);
            q.name := _worker_queue.queue;
            q.owner := task.current_service();
            q.paused := false;
            q.lease := '5 minutes';
            q.max_attempts := 5;
            q.backoff_base := '10 seconds';
            q.backoff_max := '1 hour';
            q.retention := '10 days';
            q.priority := 0;
            q.notify_channel := '';
            RETURN q;
        END IF;
    END IF;
    RAISE EXCEPTION 'queue "%" not found', _worker_queue.queue
        USING ERRCODE = 'no_data_found',
              HINT = 'Check the name; queues of other services are reported as not found.';
END
$$;
COMMENT ON FUNCTION task._worker_queue(text, boolean) IS
    'Internal: the queue row for a worker call, after checking the caller owns it; with missing_ok, a queue not created yet in the calling service''s namespace is an empty queue (an unsaved row, created_at NULL).';
REVOKE ALL ON FUNCTION task._worker_queue(text, boolean) FROM PUBLIC;
CREATE OR REPLACE FUNCTION task.task_dequeue(
    queue          text,
    n              integer DEFAULT 1,
    lease          interval DEFAULT NULL,
    wait           interval DEFAULT '0',
    complete       task.task_id DEFAULT NULL,
    complete_token bigint DEFAULT NULL,
    result         jsonb DEFAULT NULL,
    resource       text DEFAULT NULL,
    complete_batch  task.task_id[] DEFAULT NULL,
    complete_tokens bigint[] DEFAULT NULL)
    RETURNS SETOF task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    claimed integer;
    deadline timestamptz;
    key bigint;
    seq bigint;
    next_due timestamptz;
BEGIN
    -- the one-round-trip loop: finish the previous task first
    IF task_dequeue.complete IS NOT NULL THEN
        PERFORM task._complete(task_dequeue.complete, task_dequeue.complete_token,
                               task_dequeue.result, task_dequeue.resource);
    END IF;
    -- ... or the previous batch, in one statement
    IF cardinality(task_dequeue.complete_batch) > 0 THEN
        PERFORM task._complete_many(task_dequeue.complete_batch, task_dequeue.complete_tokens);
    END IF;

    IF task_dequeue.n IS NULL OR task_dequeue.n NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'n must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Claim at most 1000 tasks a call.';
    END IF;
    IF task_dequeue.wait IS NULL OR task_dequeue.wait < '0' OR task_dequeue.wait > '1 hour' THEN
        RAISE EXCEPTION 'wait must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Wait a few seconds and loop; a long wait holds a connection.';
    END IF;
    IF task_dequeue.lease IS NOT NULL AND task_dequeue.lease <= '0' THEN
        RAISE EXCEPTION 'lease must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    q := task._worker_queue(task_dequeue.queue, missing_ok => true);
    IF q.paused THEN
        RETURN;
    END IF;

    -- a waiting call reads the queue's wake generation before it looks
    -- (see 60_wait.sql): a commit after this point wakes its sleep
    IF task_dequeue.wait > '0' THEN
        key := task._wait_key(q.name);
        seq := task._wait_seq(key);
    END IF;

    claimed := 0;
    RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
    GET DIAGNOSTICS claimed = ROW_COUNT;

    -- a short queue: also look for expired leases to take over
    IF claimed < task_dequeue.n AND task._rescue_leases(q, task_dequeue.n - claimed) > 0 THEN
        RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n - claimed, task_dequeue.lease);
        GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;

    -- nothing to do: sleep until a commit makes work for the queue, the
    -- earliest scheduled task of the queue is due (no commit announces
    -- that), or the wait is over; then claim again with a new snapshot
    -- (hence READ COMMITTED). Not preloaded: a 50 ms poll each time round.
    IF claimed = 0 AND task_dequeue.wait > '0' THEN
        PERFORM task._check_wait_isolation('task_dequeue',
            'Its snapshot would never see tasks committed after it started.',
            'Call it in READ COMMITTED (the default), or with wait => ''0''.');
        deadline := clock_timestamp() + task_dequeue.wait;
        LOOP
            SELECT min(x.run_at) INTO next_due FROM task.task x
             WHERE x.owner = q.owner AND x.queue = q.name
               AND x.status IN ('queued', 'rescheduled') AND x.run_at > clock_timestamp();
            PERFORM task._wait_sleep(key, seq, task._ms_until(least(deadline, next_due)), q.name);
            seq := task._wait_seq(key);
            IF q.created_at IS NULL THEN   -- waited on a queue not created yet: is it now?
                q := task._worker_queue(q.name, missing_ok => true);
            END IF;
            RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
            GET DIAGNOSTICS claimed = ROW_COUNT;
            EXIT WHEN claimed > 0 OR clock_timestamp() >= deadline;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Worker: claims up to n runnable tasks of the queue, higher priority first and FIFO within a priority (FOR UPDATE SKIP LOCKED), sets them processing, counts the attempt and starts the lease; each row carries lease_token for the calls that follow. With complete => id and complete_token (and result or resource) it first completes the previous task: one round trip per task; complete_batch with complete_tokens does the same for a batch, in one statement, all or nothing. A paused queue returns nothing. With wait (0..1 hour), an empty queue is waited on until a commit makes work for it (one waiter woken per runnable task; 50 ms polling when task is not in shared_preload_libraries), a scheduled task is due, or wait passes (READ COMMITTED only); asleep it holds no snapshot when called directly by a SELECT that reads no table.';

-- monitoring reads the last hour's finished tasks from task_finished_idx
-- alone: it includes their status and times (rebuilt here: on a large
-- table this takes a while, and blocks writes to task.task meanwhile)
DROP INDEX task.task_finished_idx;
CREATE INDEX task_finished_idx ON task.task (queue, status_at)
    INCLUDE (status, started_at, completed_at, failed_at)
    WHERE status IN ('completed', 'failed', 'cancelled');

-- monitoring (82_monitoring.sql): the role, the reader, its views and the
-- Prometheus text, granted to task_monitor only (as 90_access.sql does)
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'task_monitor') THEN
        CREATE ROLE task_monitor NOLOGIN;
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION task._monitor(
    OUT service text, OUT namespace text, OUT queue text,
    OUT runnable bigint, OUT scheduled bigint, OUT processing bigint,
    OUT expired_leases bigint, OUT blocked bigint,
    OUT oldest_runnable_age interval,
    OUT completed_last_minute bigint, OUT completed_last_hour bigint,
    OUT failed_last_minute bigint, OUT failed_last_hour bigint,
    OUT mean_run_time interval, OUT p95_run_time interval,
    OUT waiting_workers bigint)
    RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    WITH ready AS (
        SELECT t.queue,
               count(*) FILTER (WHERE t.run_at <= now()) AS runnable,
               count(*) FILTER (WHERE t.run_at > now()) AS scheduled,
               now() - min(t.run_at) FILTER (WHERE t.run_at <= now()) AS oldest
          FROM task.task t WHERE t.status IN ('queued', 'rescheduled') GROUP BY t.queue
    ), busy AS (
        SELECT t.queue, count(*) AS processing,
               count(*) FILTER (WHERE t.lease_until < now()) AS expired
          FROM task.task t WHERE t.status = 'processing' GROUP BY t.queue
    ), waiting_deps AS (
        SELECT t.queue, count(*) AS blocked
          FROM task.task t WHERE t.status = 'blocked' GROUP BY t.queue
    ), finished AS (
        -- queue by queue: task_finished_idx leads with the queue
        SELECT q.owner, q.name AS queue, f.completed_at, f.failed_at, f.run_time
          FROM task.queue q
         CROSS JOIN LATERAL (
               SELECT t.completed_at, t.failed_at, t.completed_at - t.started_at AS run_time
                 FROM task.task t
                WHERE t.queue = q.name AND t.status IN ('completed', 'failed')
                  AND t.status_at >= now() - interval '1 hour'
               OFFSET 0) f   -- not flattened into a join: an index range scan per queue
    ), workers AS (
        SELECT w.name AS queue, sum(w.waiters) AS waiting
          FROM task._wait_stats() w WHERE w.kind = 'queue' GROUP BY w.name
    ), per_queue AS (
        SELECT q.owner, q.name AS queue,
               coalesce(r.runnable, 0) AS runnable, coalesce(r.scheduled, 0) AS scheduled,
               coalesce(b.processing, 0) AS processing, coalesce(b.expired, 0) AS expired,
               coalesce(d.blocked, 0) AS blocked, r.oldest,
               coalesce(w.waiting, 0) AS waiting
          FROM task.queue q
          LEFT JOIN ready r ON r.queue = q.name
          LEFT JOIN busy b ON b.queue = q.name
          LEFT JOIN waiting_deps d ON d.queue = q.name
          LEFT JOIN workers w ON w.queue = q.name
    ), rates AS (
        SELECT f.owner, f.queue,
               count(*) FILTER (WHERE f.completed_at >= now() - interval '1 minute') AS c1,
               count(*) FILTER (WHERE f.completed_at IS NOT NULL) AS c60,
               count(*) FILTER (WHERE f.failed_at >= now() - interval '1 minute') AS f1,
               count(*) FILTER (WHERE f.failed_at IS NOT NULL) AS f60,
               avg(f.run_time) AS mean_run,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY f.run_time) AS p95_run
          FROM finished f
         GROUP BY GROUPING SETS ((f.owner, f.queue), (f.owner))
    ), levels AS (
        SELECT p.owner, p.queue, sum(p.runnable) AS runnable, sum(p.scheduled) AS scheduled,
               sum(p.processing) AS processing, sum(p.expired) AS expired, sum(p.blocked) AS blocked,
               max(p.oldest) AS oldest, sum(p.waiting) AS waiting
          FROM per_queue p
         GROUP BY GROUPING SETS ((p.owner, p.queue), (p.owner))
    )
    SELECT task.service_text(l.owner), s.namespace, l.queue,
           l.runnable::bigint, l.scheduled::bigint, l.processing::bigint, l.expired::bigint, l.blocked::bigint,
           l.oldest,
           coalesce(x.c1, 0), coalesce(x.c60, 0), coalesce(x.f1, 0), coalesce(x.f60, 0),
           x.mean_run, x.p95_run, l.waiting::bigint
      FROM levels l
      JOIN task.service s ON s.id = l.owner
      LEFT JOIN rates x ON x.owner = l.owner AND x.queue IS NOT DISTINCT FROM l.queue
     ORDER BY l.owner, l.queue NULLS FIRST
$$;
COMMENT ON FUNCTION task._monitor() IS
    'Internal: the monitoring figures per queue and, with queue NULL, per service (backs task.monitor_queues, task.monitor_services and monitor_prometheus).';
CREATE OR REPLACE VIEW task.monitor_queues AS
    SELECT m.service, m.namespace, m.queue, m.runnable, m.scheduled, m.processing, m.expired_leases,
           m.blocked, m.oldest_runnable_age, m.completed_last_minute, m.completed_last_hour,
           m.failed_last_minute, m.failed_last_hour, m.mean_run_time, m.p95_run_time, m.waiting_workers
      FROM task._monitor() m WHERE m.queue IS NOT NULL;
COMMENT ON VIEW task.monitor_queues IS
    'Per queue: tasks runnable now, scheduled later, processing, with an expired lease, blocked; age of the oldest runnable task; completed and failed in the last minute and hour; mean and 95th percentile run time (dequeue to completion) of the last hour''s completions; workers waiting in task_dequeue(wait => ...). For task_monitor; no task content.';
COMMENT ON COLUMN task.monitor_queues.service IS 'The owning service, SVC-XXXX.';
COMMENT ON COLUMN task.monitor_queues.queue IS 'The queue name.';
COMMENT ON COLUMN task.monitor_queues.namespace IS 'The owning service''s namespace.';
COMMENT ON COLUMN task.monitor_queues.processing IS 'Tasks being worked on now (claimed, lease running or expired).';
COMMENT ON COLUMN task.monitor_queues.blocked IS 'Tasks waiting for their dependencies or children.';
COMMENT ON COLUMN task.monitor_queues.completed_last_minute IS 'Tasks completed in the last minute.';
COMMENT ON COLUMN task.monitor_queues.completed_last_hour IS 'Tasks completed in the last hour.';
COMMENT ON COLUMN task.monitor_queues.failed_last_minute IS 'Tasks failed for good in the last minute.';
COMMENT ON COLUMN task.monitor_queues.failed_last_hour IS 'Tasks failed for good in the last hour.';
COMMENT ON COLUMN task.monitor_queues.p95_run_time IS '95th percentile of completed_at - started_at over the last hour''s completions.';
COMMENT ON COLUMN task.monitor_queues.runnable IS 'Queued or rescheduled tasks that are due: the backlog.';
COMMENT ON COLUMN task.monitor_queues.scheduled IS 'Queued or rescheduled tasks whose run_at is still ahead.';
COMMENT ON COLUMN task.monitor_queues.expired_leases IS 'Processing tasks whose lease ran out (a worker died); the next dequeue or task_maintain rescues them.';
COMMENT ON COLUMN task.monitor_queues.oldest_runnable_age IS 'How long the oldest due task has been waiting; NULL when none.';
COMMENT ON COLUMN task.monitor_queues.mean_run_time IS 'Mean of completed_at - started_at over the last hour''s completions (started_at is the last claim).';
COMMENT ON COLUMN task.monitor_queues.waiting_workers IS 'Backends sleeping in task_dequeue(wait => ...) on the queue''s wait slot now (0 unless task is preloaded; queues sharing a slot are counted together).';
CREATE OR REPLACE VIEW task.monitor_services AS
    SELECT m.service, m.namespace, m.runnable, m.scheduled, m.processing, m.expired_leases,
           m.blocked, m.oldest_runnable_age, m.completed_last_minute, m.completed_last_hour,
           m.failed_last_minute, m.failed_last_hour, m.mean_run_time, m.p95_run_time, m.waiting_workers
      FROM task._monitor() m WHERE m.queue IS NULL;
COMMENT ON VIEW task.monitor_services IS
    'task.monitor_queues rolled up per service (the percentile over all its queues'' completions). For task_monitor.';
COMMENT ON COLUMN task.monitor_services.service IS 'The service, SVC-XXXX.';
COMMENT ON COLUMN task.monitor_services.namespace IS 'The owning service''s namespace.';
COMMENT ON COLUMN task.monitor_services.processing IS 'Tasks being worked on now (claimed, lease running or expired).';
COMMENT ON COLUMN task.monitor_services.blocked IS 'Tasks waiting for their dependencies or children.';
COMMENT ON COLUMN task.monitor_services.completed_last_minute IS 'Tasks completed in the last minute.';
COMMENT ON COLUMN task.monitor_services.completed_last_hour IS 'Tasks completed in the last hour.';
COMMENT ON COLUMN task.monitor_services.failed_last_minute IS 'Tasks failed for good in the last minute.';
COMMENT ON COLUMN task.monitor_services.failed_last_hour IS 'Tasks failed for good in the last hour.';
COMMENT ON COLUMN task.monitor_services.p95_run_time IS '95th percentile of completed_at - started_at over the last hour''s completions.';
COMMENT ON COLUMN task.monitor_services.runnable IS 'Due queued or rescheduled tasks of all the service''s queues.';
COMMENT ON COLUMN task.monitor_services.scheduled IS 'Queued or rescheduled tasks whose run_at is still ahead, all queues.';
COMMENT ON COLUMN task.monitor_services.expired_leases IS 'Processing tasks whose lease ran out, all queues.';
COMMENT ON COLUMN task.monitor_services.oldest_runnable_age IS 'How long the oldest due task of any of its queues has been waiting.';
COMMENT ON COLUMN task.monitor_services.mean_run_time IS 'Mean run time over the last hour''s completions, all queues.';
COMMENT ON COLUMN task.monitor_services.waiting_workers IS 'Backends sleeping in task_dequeue(wait => ...) on its queues now.';
CREATE OR REPLACE FUNCTION task.monitor_prometheus() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
    WITH m AS (SELECT * FROM task._monitor()),
    metric(ord, name, kind, help) AS (VALUES
        (1, 'runnable', 'gauge', 'Tasks due to run (queued or rescheduled).'),
        (2, 'scheduled', 'gauge', 'Tasks queued or rescheduled for later.'),
        (3, 'processing', 'gauge', 'Tasks claimed by a worker.'),
        (4, 'expired_leases', 'gauge', 'Processing tasks whose lease ran out.'),
        (5, 'blocked', 'gauge', 'Tasks waiting on dependencies.'),
        (6, 'oldest_runnable_age_seconds', 'gauge', 'Age of the oldest due task (0 when none).'),
        (7, 'completed_last_minute', 'gauge', 'Tasks completed in the last minute.'),
        (8, 'completed_last_hour', 'gauge', 'Tasks completed in the last hour.'),
        (9, 'failed_last_minute', 'gauge', 'Tasks failed for good in the last minute.'),
        (10, 'failed_last_hour', 'gauge', 'Tasks failed for good in the last hour.'),
        (11, 'run_time_mean_seconds', 'gauge', 'Mean run time of the last hour''s completions.'),
        (12, 'run_time_p95_seconds', 'gauge', '95th percentile run time of the last hour''s completions.'),
        (13, 'waiting_workers', 'gauge', 'Workers sleeping in task_dequeue(wait => ...).')),
    level(lvl, prefix) AS (VALUES (1, 'task_queue_'), (2, 'task_service_')),
    sample AS (
        SELECT l.lvl, x.ord,
               l.prefix || x.name
               || format('{service="%s",namespace="%s"', m.service, m.namespace)
               || CASE WHEN l.lvl = 1 THEN format(',queue="%s"', replace(replace(m.queue, '\', '\\'), '"', '\"')) ELSE '' END
               || '} '
               || CASE x.ord
                    WHEN 1 THEN m.runnable::text WHEN 2 THEN m.scheduled::text
                    WHEN 3 THEN m.processing::text WHEN 4 THEN m.expired_leases::text
                    WHEN 5 THEN m.blocked::text
                    WHEN 6 THEN coalesce(round(extract(epoch FROM m.oldest_runnable_age), 3), 0)::text
                    WHEN 7 THEN m.completed_last_minute::text WHEN 8 THEN m.completed_last_hour::text
                    WHEN 9 THEN m.failed_last_minute::text WHEN 10 THEN m.failed_last_hour::text
                    WHEN 11 THEN coalesce(round(extract(epoch FROM m.mean_run_time), 3)::text, 'NaN')
                    WHEN 12 THEN coalesce(round(extract(epoch FROM m.p95_run_time), 3)::text, 'NaN')
                    WHEN 13 THEN m.waiting_workers::text END AS line,
               m.service, m.queue
          FROM m CROSS JOIN metric x
          JOIN level l ON (l.lvl = 1) = (m.queue IS NOT NULL))
    SELECT coalesce(string_agg(block, '' ORDER BY lvl, ord), '')
      FROM (SELECT l.lvl, x.ord,
                   format(E'# HELP %s%s %s\n# TYPE %s%s %s\n', l.prefix, x.name, x.help, l.prefix, x.name, x.kind)
                   || coalesce((SELECT string_agg(s.line || E'\n', '' ORDER BY s.service, s.queue)
                                  FROM sample s WHERE s.lvl = l.lvl AND s.ord = x.ord), '') AS block
              FROM level l CROSS JOIN metric x) b
$$;
COMMENT ON FUNCTION task.monitor_prometheus() IS
    'The figures of task.monitor_queues (task_queue_*) and task.monitor_services (task_service_*) in the Prometheus text exposition format (durations in seconds, NaN for a run time with no completion in the last hour). For task_monitor: e.g. a postgres_exporter custom query or a scraper that serves SELECT task.monitor_prometheus().';
REVOKE ALL ON FUNCTION task._monitor(), task.monitor_prometheus() FROM PUBLIC;
REVOKE ALL ON task.monitor_queues, task.monitor_services FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._monitor(), task.monitor_prometheus() TO task_monitor;
GRANT SELECT ON task.monitor_queues, task.monitor_services TO task_monitor;

-- HTTP: oversized input (54000) answers 413, other program limits 400
CREATE OR REPLACE FUNCTION task._http_raise(state text, message text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    code text := CASE
        WHEN state = 'P0002' THEN 'PT404'   -- no_data_found: missing, or outside the caller's scope
        WHEN state = '55000' THEN 'PT409'   -- object_not_in_prerequisite_state: wrong status, lease lost
        WHEN state = '40001' THEN 'PT409'   -- serialization_failure: a concurrent change won (revision conflict)
        WHEN state = '54000' THEN 'PT413'   -- program_limit_exceeded: input over a size limit (PostgREST: 500)
        WHEN state LIKE '54%' THEN 'PT400'  -- other program limits: the request asked too much
        ELSE state END;
BEGIN
    detail := nullif(detail, '');
    hint := nullif(hint, '');
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = detail;
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = detail, HINT = hint;
END
$$;
COMMENT ON FUNCTION task._http_raise(text, text, text, text) IS
    'Internal: re-raises an error of the SQL API for PostgREST: P0002 as PT404, 55000 and 40001 as PT409 (HTTP 404, 409), others unchanged; message, detail and hint are kept.';
-- the API functions hand program limits (54xxx) to _http_raise too
-- api.task_get gained log_limit and log_offset (a new signature: its grants again)
DROP FUNCTION api.task_get(text);
CREATE OR REPLACE FUNCTION api.task_get(id text, log_limit integer DEFAULT NULL, log_offset integer DEFAULT 0) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task.task_get(task_get.id::task.task_id, task_get.log_limit, task_get.log_offset);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_get(text, integer, integer) IS
    'Gets a task by id (seed 001 Task object; absent fields are left out). With log_limit (1..1000) and log_offset, Operations and the owning service also get "logs", that page of the task''s log. 404 when it does not exist or is outside the caller''s scope, 400 for a malformed id or log page.';
REVOKE ALL ON FUNCTION api.task_get(text, integer, integer) FROM PUBLIC;
DO $$
DECLARE
    r name;
BEGIN
    FOR r IN SELECT x.web_role FROM task._roles() x WHERE x.group_role IS NOT NULL LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION api.task_get(text, integer, integer) TO %I', r);
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION api.task_logs(id text, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at text, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY
    SELECT task._iso(l.at), l.message, l.errors, l.skips, l.success, l.total, l.by
      FROM task.task_logs(task_logs.id::task.task_id, task_logs.log_limit, task_logs.log_offset) l;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.task_logs(text, integer, integer) IS
    'Gets the log records of a task, newest first: at, message, counters errors/skips/success/total, by. Page with log_limit (1..1000, default 10) and log_offset. Operations and the owning service only (403 for an account on the access list, 404 out of scope).';
CREATE OR REPLACE FUNCTION api.task_result(id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    tid task.task_id;
    value jsonb;
    resource text;
    s text; m text; d text; h text;
BEGIN
    tid := task_result.id::task.task_id;
    value := task.task_result(tid);     -- checks visibility and status
    SELECT t.resource INTO resource FROM task.task t
     WHERE t.owner = task.task_id_owner(tid) AND t.id = tid;
    IF resource IS NOT NULL THEN
        PERFORM task._http_respond(303, resource);
    END IF;
    RETURN value;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_result(text) IS
    'Gets the result of a completed task: a JSON result answers 200 with the value; a resource result answers 303 See Other with Location: the resource URI. 404 when missing or out of scope, 409 while the task is not completed.';
CREATE OR REPLACE FUNCTION api.task_create(
    code            text,
    queue           text,
    name            text DEFAULT NULL,
    description     text DEFAULT NULL,
    object          jsonb DEFAULT NULL,
    parent          text DEFAULT NULL,
    parameters      jsonb DEFAULT NULL,
    eta             timestamptz DEFAULT NULL,
    access          text[] DEFAULT NULL,
    status          text DEFAULT 'queued',
    run_at          timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL,
    ordering_key    text DEFAULT NULL,
    max_attempts    integer DEFAULT NULL,
    depends_on      text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_create(task_create.code, task_create.queue,
                          name => task_create.name, description => task_create.description,
                          object => task_create.object, parent => task_create.parent::task.task_id,
                          parameters => task_create.parameters, eta => task_create.eta,
                          access => task_create.access,
                          status => lower(coalesce(task_create.status, 'queued'))::task.status,
                          run_at => task_create.run_at, idempotency_key => task_create.idempotency_key,
                          ordering_key => task_create.ordering_key, max_attempts => task_create.max_attempts,
                          depends_on => task_create.depends_on::task.task_id[]);
    PERFORM task._http_respond(201, '/tasks?id=eq.' || t.id::text);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[]) IS
    'Creates a task in a queue of the calling service and answers 201 with the Task object and Location: /tasks?id=eq.<id>. Body: code, queue (required); name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at, idempotency_key, ordering_key, max_attempts, depends_on. Services only (403 for accounts).';
CREATE OR REPLACE FUNCTION api.task_progress(id text, progress double precision DEFAULT NULL, eta timestamptz DEFAULT NULL,
                                  parameters jsonb DEFAULT NULL, token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_progress(task_progress.id::task.task_id, task_progress.progress,
                                              task_progress.eta, task_progress.parameters, task_progress.token));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_progress(text, double precision, timestamptz, jsonb, bigint) IS
    'Owning service: sets progress (0..100), eta and parameters of an unfinished task; answers the Task object. With token, only while that claim holds (409 otherwise).';
CREATE OR REPLACE FUNCTION api.task_log(id text, message text, errors bigint DEFAULT NULL, skips bigint DEFAULT NULL,
                             success bigint DEFAULT NULL, total bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    PERFORM task.task_log(task_log.id::task.task_id, task_log.message, task_log.errors, task_log.skips,
                          task_log.success, task_log.total);
    PERFORM task._http_respond(204, NULL);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.task_log(text, text, bigint, bigint, bigint, bigint) IS
    'Owning service: appends a log record (message, optional counters errors, skips, success, total); answers 204.';
CREATE OR REPLACE FUNCTION api.task_heartbeat(id text, token bigint, lease interval DEFAULT NULL,
                                   progress double precision DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_heartbeat(task_heartbeat.id::task.task_id, task_heartbeat.token,
                                               task_heartbeat.lease, task_heartbeat.progress));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_heartbeat(text, bigint, interval, double precision) IS
    'Worker: extends the lease of a claimed task (lease, e.g. "5 minutes", or the queue''s), optionally with progress. 409 when the lease is lost.';
CREATE OR REPLACE FUNCTION api.task_complete(id text, result jsonb DEFAULT NULL, resource text DEFAULT NULL,
                                  token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_complete(task_complete.id::task.task_id, task_complete.result,
                                              task_complete.resource, task_complete.token));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_complete(text, jsonb, text, bigint) IS
    'Worker: completes a processing task with a JSON result or a resource URI (relative); answers the Task object. 409 when it is not processing or the lease is lost.';
CREATE OR REPLACE FUNCTION api.task_fail(id text, error text, token bigint DEFAULT NULL, retry boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_fail(task_fail.id::task.task_id, task_fail.error, task_fail.token,
                                          task_fail.retry));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_fail(text, text, bigint, boolean) IS
    'Worker: reports a failed attempt; the task is rescheduled with backoff while attempts remain (and retry is true), else failed. Answers the Task object.';
CREATE OR REPLACE FUNCTION api.task_reschedule(id text, at timestamptz, token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_reschedule(task_reschedule.id::task.task_id, task_reschedule.at,
                                                task_reschedule.token));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_reschedule(text, timestamptz, bigint) IS
    'Worker: gives a claimed task back to run again at a given time (status Rescheduled). Answers the Task object.';
CREATE OR REPLACE FUNCTION api.task_cancel(id text, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_cancel(task_cancel.id::task.task_id, task_cancel.reason));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_cancel(text, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason. Answers the Task object; 409 when it is already finished.';
CREATE OR REPLACE FUNCTION api.task_retry(id text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_retry(task_retry.id::task.task_id));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_retry(text) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations). Answers the Task object; 409 unless it is failed.';
CREATE OR REPLACE FUNCTION api.task_dequeue(queue text, n integer DEFAULT 1, lease interval DEFAULT NULL,
                                 wait interval DEFAULT '0')
    RETURNS SETOF jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY
    SELECT task._task_json(t) || pg_catalog.jsonb_build_object('token', t.lease_token,
                                                               'lease_until', task._iso(t.lease_until))
      FROM task.task_dequeue(task_dequeue.queue, task_dequeue.n, task_dequeue.lease, task_dequeue.wait) t;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.task_dequeue(text, integer, interval, interval) IS
    'Worker (owning service): claims up to n runnable tasks of the queue in FIFO order and answers them as Task objects with the claim''s token and lease_until. 404 for a queue outside the caller''s scope.';

-- pg_cron: task_cron_enable warns when its job cannot connect or last failed
CREATE OR REPLACE FUNCTION task._cron_connect_problem(background_workers text, host text, listen_addresses text,
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
REVOKE ALL ON FUNCTION task._cron_connect_problem(text, text, text, text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION task.task_cron_enable(schedule text DEFAULT '* * * * *') RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
    problem text;
    last_status text;
    last_message text;
BEGIN
    PERFORM task._require_operations('schedule maintenance');
    PERFORM task._cron_check(format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                    'task-maintain:' || current_database(), task_cron_enable.schedule,
                                    'SELECT task.task_maintain()', current_database()));
    job := task._cron_schedule('task-maintain', task_cron_enable.schedule, 'SELECT task.task_maintain()');
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
COMMENT ON FUNCTION task.task_cron_enable(text) IS
    'Installs (or reschedules) the pg_cron job "task-maintain" running SELECT task.task_maintain() on the given cron schedule (default every minute); returns the pg_cron job id. Needs pg_cron installed in this database (cron.database_name); the error''s hint says what to run otherwise. Warns when the job cannot connect (listen_addresses = '''' over libpq without a socket cron.host) or its last run failed. System or Operations only.';

-- ---- sql/update/45_market_hooks.sql
--
-- The marketplace's tables and the hooks the core calls (issue 13), before
-- any fragment replaces a core function whose body calls them (SQL
-- function bodies are checked when they are created). The rest of the
-- marketplace: 60_market.sql.

--
-- The marketplace's tables (seed 004), their sequences and indexes: the
-- marketplace settings, agents, the double-entry ledger, the hired tasks
-- with their escrow, assignments, disputes, messages and artifacts.
-- Functions: 87_market.sql; grants and policies: 92_market_access.sql;
-- HTTP: 97_market_http.sql; the design: docs/MARKETPLACE.md.
--
-- Money is integer minor units (cents) of one currency. Every movement is
-- a ledger transaction (task.ledger_txn) whose entries (task.ledger_entry)
-- sum to zero; ledger_account.balance is the running sum of its entries,
-- kept in the same statement as each entry and never below zero except for
-- the funding account (money entering and leaving the marketplace).

-- ---------------------------------------------------------------- settings
CREATE TABLE task.market (
    id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
    service             integer NOT NULL REFERENCES task.service,
    queue               text NOT NULL REFERENCES task.queue,
    currency            text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    review_window       interval NOT NULL DEFAULT '1 day' CHECK (review_window >= '0'),
    tier1_window        interval NOT NULL DEFAULT '3 days' CHECK (tier1_window > '0'),
    tier2_window        interval NOT NULL DEFAULT '3 days' CHECK (tier2_window > '0'),
    tier3_window        interval NOT NULL DEFAULT '7 days' CHECK (tier3_window > '0'),
    unresponsive_after  interval NOT NULL DEFAULT '15 minutes' CHECK (unresponsive_after > '0'),
    max_artifact_bytes  integer NOT NULL DEFAULT 1048576 CHECK (max_artifact_bytes BETWEEN 1 AND 104857600)
);
COMMENT ON TABLE task.market IS 'The marketplace settings (one row, task_market_setup): the service and queue that own hired tasks, the currency and the windows.';
COMMENT ON COLUMN task.market.service IS 'The service owning every hired task (SVC-XXXX number).';
COMMENT ON COLUMN task.market.queue IS 'The queue hired tasks are created in.';
COMMENT ON COLUMN task.market.currency IS 'ISO 4217 code of the marketplace currency; amounts are integer minor units of it.';
COMMENT ON COLUMN task.market.review_window IS 'After completion, how long the client has to accept or dispute before the escrow is released automatically (0: released on completion).';
COMMENT ON COLUMN task.market.tier1_window IS 'Deadline of dispute tier 1 (the parties settle) after it opens.';
COMMENT ON COLUMN task.market.tier2_window IS 'Deadline of dispute tier 2 (a mediator proposes a split) after it opens.';
COMMENT ON COLUMN task.market.tier3_window IS 'Deadline of dispute tier 3 (operations decide, final) after it opens; past it the mediator''s proposal, or else a full refund, is applied.';
COMMENT ON COLUMN task.market.unresponsive_after IS 'An agent not seen (task_agent_heartbeat) for longer is skipped by auto-assignment.';
COMMENT ON COLUMN task.market.max_artifact_bytes IS 'Largest artifact content accepted, in bytes.';

-- ---------------------------------------------------------------- agents
CREATE TABLE task.market_agent (
    account       bigint PRIMARY KEY REFERENCES task.account ON DELETE CASCADE,
    capabilities  text[] NOT NULL,
    price         bigint NOT NULL CHECK (price >= 0),
    capacity      integer NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 10000),
    active        boolean NOT NULL DEFAULT true,
    last_seen     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX market_agent_capabilities_idx ON task.market_agent USING gin (capabilities);
COMMENT ON TABLE task.market_agent IS 'Agents: Vendor accounts with an agent profile (task_agent_register).';
COMMENT ON COLUMN task.market_agent.capabilities IS 'What the agent can be hired for (task codes: dot-separated identifiers).';
COMMENT ON COLUMN task.market_agent.price IS 'The agent''s price per task in minor units of the marketplace currency.';
COMMENT ON COLUMN task.market_agent.capacity IS 'How many unfinished tasks the agent takes at once; auto-assignment skips a full agent.';
COMMENT ON COLUMN task.market_agent.active IS 'An inactive agent is never assigned.';
COMMENT ON COLUMN task.market_agent.last_seen IS 'The agent''s last heartbeat (task_agent_heartbeat) or action.';

-- ---------------------------------------------------------------- ledger
CREATE TABLE task.ledger_account (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('funding', 'wallet', 'escrow')),
    account     bigint REFERENCES task.account,
    owner       integer,
    task_id     task.task_id,
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance     bigint NOT NULL DEFAULT 0,
    CHECK (kind = 'funding' OR balance >= 0),
    CHECK (CASE kind WHEN 'funding' THEN account IS NULL AND task_id IS NULL
                     WHEN 'wallet' THEN account IS NOT NULL AND task_id IS NULL
                     ELSE account IS NULL AND task_id IS NOT NULL AND owner IS NOT NULL END)
);
CREATE UNIQUE INDEX ledger_account_wallet_idx ON task.ledger_account (account, currency) WHERE kind = 'wallet';
CREATE UNIQUE INDEX ledger_account_escrow_idx ON task.ledger_account (task_id) WHERE kind = 'escrow';
CREATE UNIQUE INDEX ledger_account_funding_idx ON task.ledger_account (currency) WHERE kind = 'funding';
COMMENT ON TABLE task.ledger_account IS 'Ledger accounts: the funding account of a currency (deposits come from it; its balance is minus the money held in the marketplace), a wallet per account and currency, an escrow per hired task.';
COMMENT ON COLUMN task.ledger_account.balance IS 'Sum of the account''s entries, in minor units; never negative except for funding.';

CREATE TABLE task.ledger_txn (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    kind      text NOT NULL CHECK (kind IN ('deposit', 'hold', 'release', 'refund', 'tip', 'bonus', 'split')),
    owner     integer,
    task_id   task.task_id,
    by        text NOT NULL,
    memo      text
);
CREATE INDEX ledger_txn_task_idx ON task.ledger_txn (task_id) WHERE task_id IS NOT NULL;
COMMENT ON TABLE task.ledger_txn IS 'Ledger transactions: one per money movement, written in the same database transaction as its cause.';
COMMENT ON COLUMN task.ledger_txn.kind IS 'deposit (funding to wallet), hold (wallet to escrow), release (escrow to agent, rest to client), refund (escrow to client), tip and bonus (client to agent), split (a dispute decision).';
COMMENT ON COLUMN task.ledger_txn.by IS 'Who caused it (SVC-, ACC- or a role name).';

CREATE TABLE task.ledger_entry (
    txn             bigint NOT NULL REFERENCES task.ledger_txn,
    leg             smallint NOT NULL,
    ledger_account  bigint NOT NULL REFERENCES task.ledger_account,
    amount          bigint NOT NULL CHECK (amount <> 0),
    currency        text NOT NULL,
    PRIMARY KEY (txn, leg)
);
CREATE INDEX ledger_entry_account_idx ON task.ledger_entry (ledger_account);
COMMENT ON TABLE task.ledger_entry IS 'Ledger entries (legs): positive credits, negative debits; the legs of a transaction sum to zero.';

-- ---------------------------------------------------------------- hired tasks
CREATE TABLE task.market_task (
    owner           integer NOT NULL,
    task_id         task.task_id NOT NULL,
    client          bigint NOT NULL REFERENCES task.account,
    agent           bigint NOT NULL REFERENCES task.account,
    capability      text NOT NULL,
    max_price       bigint NOT NULL CHECK (max_price > 0),
    price           bigint NOT NULL CHECK (price >= 0 AND price <= max_price),
    currency        text NOT NULL,
    execution_mode  text NOT NULL CHECK (execution_mode IN ('async', 'sync')),
    escrow          text NOT NULL DEFAULT 'held'
                    CHECK (escrow IN ('held', 'review', 'disputed', 'released', 'refunded', 'settled')),
    escrow_account  bigint NOT NULL REFERENCES task.ledger_account,
    review_until    timestamptz,
    settled_at      timestamptz,
    PRIMARY KEY (owner, task_id),
    -- no cascade: a task holding money is never purged silently (the
    -- marketplace queue keeps its tasks: task_market_setup sets retention 0)
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner)
);
CREATE INDEX market_task_agent_idx ON task.market_task (agent);
CREATE INDEX market_task_client_idx ON task.market_task (client);
CREATE INDEX market_task_review_idx ON task.market_task (review_until) WHERE escrow = 'review';
COMMENT ON TABLE task.market_task IS 'Hired tasks: client, assigned agent, price and the state of the escrow.';
COMMENT ON COLUMN task.market_task.max_price IS 'What the client put in escrow at hire, in minor units.';
COMMENT ON COLUMN task.market_task.price IS 'The assigned agent''s price, paid on release; the rest of max_price goes back to the client.';
COMMENT ON COLUMN task.market_task.escrow IS 'held (task running), review (completed, awaiting acceptance until review_until), disputed, then exactly one of released, refunded, settled (a dispute decision).';
COMMENT ON COLUMN task.market_task.review_until IS 'While in review: when the escrow is released automatically (task_maintain).';

CREATE TABLE task.market_assignment (
    owner      integer NOT NULL,
    task_id    task.task_id NOT NULL,
    seq        integer NOT NULL,
    agent      bigint NOT NULL REFERENCES task.account,
    at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by         text NOT NULL,
    reason     text NOT NULL,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
COMMENT ON TABLE task.market_assignment IS 'Assignment history of each hired task: the auto-assignment at hire and every reassignment.';

-- ---------------------------------------------------------------- disputes
CREATE TABLE task.market_dispute (
    owner           integer NOT NULL,
    task_id         task.task_id NOT NULL,
    opened_by       text NOT NULL,
    reason          text NOT NULL,
    opened_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tier            smallint NOT NULL DEFAULT 1 CHECK (tier BETWEEN 1 AND 3),
    deadline        timestamptz NOT NULL,
    proposal        bigint CHECK (proposal >= 0),
    proposed_by     text,
    client_accepts  boolean NOT NULL DEFAULT false,
    agent_accepts   boolean NOT NULL DEFAULT false,
    closed_at       timestamptz,
    agent_amount    bigint,
    PRIMARY KEY (owner, task_id),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
CREATE INDEX market_dispute_open_idx ON task.market_dispute (deadline) WHERE closed_at IS NULL;
COMMENT ON TABLE task.market_dispute IS 'Disputes, one per task: tier 1 the parties settle, tier 2 a mediator (Operations) proposes a split, tier 3 Operations decide (final). The escrow stays held until it closes.';
COMMENT ON COLUMN task.market_dispute.deadline IS 'When the current tier ends: task_maintain moves an open dispute up a tier, or at tier 3 applies the default decision.';
COMMENT ON COLUMN task.market_dispute.proposal IS 'The split on the table: the agent''s share in minor units (the client gets the rest of the escrow).';
COMMENT ON COLUMN task.market_dispute.agent_amount IS 'The decided agent share once closed.';

CREATE TABLE task.market_dispute_event (
    owner      integer NOT NULL,
    task_id    task.task_id NOT NULL,
    seq        integer NOT NULL,
    at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tier       smallint NOT NULL,
    by         text NOT NULL,
    action     text NOT NULL CHECK (action IN ('open', 'propose', 'accept', 'escalate', 'decide', 'expire')),
    amount     bigint,
    note       text,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
COMMENT ON TABLE task.market_dispute_event IS 'The audit trail of each dispute: every opening, proposal, acceptance, escalation, decision and expiry.';

-- ---------------------------------------------------------------- messages and artifacts
CREATE TABLE task.market_message (
    owner      integer NOT NULL,
    task_id    task.task_id NOT NULL,
    seq        integer NOT NULL,
    at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by         text NOT NULL,
    content    text NOT NULL,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
COMMENT ON TABLE task.market_message IS 'The conversation of a hired task, visible to its client and agent (and Operations).';

CREATE TABLE task.market_artifact (
    owner          integer NOT NULL,
    task_id        task.task_id NOT NULL,
    seq            integer NOT NULL,
    at             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by             text NOT NULL,
    artifact_type  text NOT NULL CHECK (artifact_type IN
                       ('code_block', 'markdown', 'html', 'file', 'diff', 'image', 'json', 'link', 'text')),
    name           text,
    media_type     text NOT NULL,
    content        bytea NOT NULL,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
COMMENT ON TABLE task.market_artifact IS 'Structured artifacts submitted for a hired task (9 types), served with their media type.';
COMMENT ON COLUMN task.market_artifact.seq IS 'The artifact number within its task (1, 2, ...): the download is /rpc/task_artifact?id=<task>&artifact=<seq>.';
COMMENT ON COLUMN task.market_artifact.content IS 'The content: UTF-8 text, or the decoded bytes of a base64 file or image.';

-- ---------------------------------------------------------------- column comments
COMMENT ON COLUMN task.ledger_account.id IS 'Ledger account number.';
COMMENT ON COLUMN task.ledger_account.kind IS 'funding (one per currency), wallet (one per account and currency) or escrow (one per hired task).';
COMMENT ON COLUMN task.ledger_account.account IS 'The account owning a wallet (ACC number); NULL otherwise.';
COMMENT ON COLUMN task.ledger_account.owner IS 'For an escrow: the service owning its task (SVC number).';
COMMENT ON COLUMN task.ledger_account.task_id IS 'For an escrow: the hired task whose money it holds.';
COMMENT ON COLUMN task.ledger_account.currency IS 'ISO 4217 code; amounts are integer minor units of it.';
COMMENT ON COLUMN task.ledger_txn.id IS 'Transaction number.';
COMMENT ON COLUMN task.ledger_txn.at IS 'When it was written (the time of its cause).';
COMMENT ON COLUMN task.ledger_txn.owner IS 'For a task''s movement: the service owning the task.';
COMMENT ON COLUMN task.ledger_txn.task_id IS 'The hired task it belongs to, if any (deposits have none).';
COMMENT ON COLUMN task.ledger_txn.memo IS 'Free text: a tips note, a dispute decisions reason.';
COMMENT ON COLUMN task.ledger_entry.txn IS 'The transaction this leg belongs to.';
COMMENT ON COLUMN task.ledger_entry.leg IS 'Leg number within its transaction.';
COMMENT ON COLUMN task.ledger_entry.ledger_account IS 'The ledger account credited (amount > 0) or debited (amount < 0).';
COMMENT ON COLUMN task.ledger_entry.amount IS 'Minor units: positive credits, negative debits, never 0.';
COMMENT ON COLUMN task.ledger_entry.currency IS 'ISO 4217 code; the same as its ledger account''s.';
COMMENT ON COLUMN task.market.id IS 'Always true: the marketplace settings are one row.';
COMMENT ON COLUMN task.market_agent.account IS 'The Vendor account acting as the agent (ACC number).';
COMMENT ON COLUMN task.market_agent.created_at IS 'When the agent was registered.';
COMMENT ON COLUMN task.market_task.owner IS 'The service owning the hired task (the marketplace service).';
COMMENT ON COLUMN task.market_task.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_task.client IS 'The hiring client (ACC number).';
COMMENT ON COLUMN task.market_task.agent IS 'The assigned agent (ACC number).';
COMMENT ON COLUMN task.market_task.capability IS 'What the client hired for (the task''s code is market.<capability>).';
COMMENT ON COLUMN task.market_task.currency IS 'ISO 4217 code of max_price and price.';
COMMENT ON COLUMN task.market_task.execution_mode IS 'async (task_hire returns the task) or sync (task_hire_sync waits for its end).';
COMMENT ON COLUMN task.market_task.escrow_account IS 'The escrow ledger account holding max_price.';
COMMENT ON COLUMN task.market_task.settled_at IS 'When the escrow was released, refunded or settled (exactly once).';
COMMENT ON COLUMN task.market_assignment.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_assignment.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_assignment.seq IS 'Assignment number within the task (1 at hire).';
COMMENT ON COLUMN task.market_assignment.agent IS 'The agent assigned (ACC number).';
COMMENT ON COLUMN task.market_assignment.at IS 'When it was assigned.';
COMMENT ON COLUMN task.market_assignment.by IS 'Who assigned it (SVC-, ACC- or a role name).';
COMMENT ON COLUMN task.market_assignment.reason IS 'auto (at hire) or the reason given to task_reassign.';
COMMENT ON COLUMN task.market_dispute.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_dispute.task_id IS 'The disputed task.';
COMMENT ON COLUMN task.market_dispute.opened_by IS 'Who opened it (the client or the agent, ACC-...).';
COMMENT ON COLUMN task.market_dispute.reason IS 'Why it was opened.';
COMMENT ON COLUMN task.market_dispute.opened_at IS 'When it was opened.';
COMMENT ON COLUMN task.market_dispute.tier IS 'The current tier: 1 the parties, 2 a mediator, 3 Operations.';
COMMENT ON COLUMN task.market_dispute.proposed_by IS 'Who made the proposal on the table.';
COMMENT ON COLUMN task.market_dispute.client_accepts IS 'The client accepted the proposal on the table.';
COMMENT ON COLUMN task.market_dispute.agent_accepts IS 'The agent accepted the proposal on the table.';
COMMENT ON COLUMN task.market_dispute.closed_at IS 'When the dispute closed (its escrow settled).';
COMMENT ON COLUMN task.market_dispute_event.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_dispute_event.task_id IS 'The disputed task.';
COMMENT ON COLUMN task.market_dispute_event.seq IS 'Event number within the dispute.';
COMMENT ON COLUMN task.market_dispute_event.at IS 'When it happened.';
COMMENT ON COLUMN task.market_dispute_event.tier IS 'The tier it happened in.';
COMMENT ON COLUMN task.market_dispute_event.by IS 'Who acted (ACC-..., or a role name for task_maintain).';
COMMENT ON COLUMN task.market_dispute_event.action IS 'open, propose, accept, escalate, decide or expire.';
COMMENT ON COLUMN task.market_dispute_event.amount IS 'For propose and decide: the agents share in minor units.';
COMMENT ON COLUMN task.market_dispute_event.note IS 'Free text given with the action.';
COMMENT ON COLUMN task.market_message.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_message.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_message.seq IS 'Message number within the task.';
COMMENT ON COLUMN task.market_message.at IS 'When it was sent.';
COMMENT ON COLUMN task.market_message.by IS 'Who sent it (the client, the agent or Operations: ACC-...).';
COMMENT ON COLUMN task.market_message.content IS 'The message text.';
COMMENT ON COLUMN task.market_artifact.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_artifact.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_artifact.at IS 'When it was submitted.';
COMMENT ON COLUMN task.market_artifact.by IS 'The agent who submitted it (ACC-...).';
COMMENT ON COLUMN task.market_artifact.artifact_type IS 'One of code_block, markdown, html, file, diff, image, json, link, text.';
COMMENT ON COLUMN task.market_artifact.name IS 'A file name or title, optional.';
COMMENT ON COLUMN task.market_artifact.media_type IS 'The media type served with the content (Content-Type of the download).';

-- ---------------------------------------------------------------- pg_dump
SELECT pg_catalog.pg_extension_config_dump('task.market', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_agent', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_account', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_account_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_txn', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_txn_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_entry', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_task', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_assignment', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_dispute', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_dispute_event', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_message', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_artifact', '');
--
-- The marketplace's hooks into the core, defined before the core files
-- that call them (SQL function bodies are checked at creation): the
-- "marketplace" object of the JSON Task (task._task_json, 55_read.sql),
-- and the routing of task_complete / task_fail (65_worker.sql) and
-- task_cancel (70_control.sql) called by an account on a hired task. The
-- rest of the marketplace is in 87_market.sql.

-- The "marketplace" object of a task's JSON: NULL (left out) for tasks
-- not hired through the marketplace.
CREATE FUNCTION task._market_json(owner integer, id task.task_id) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'capability', m.capability,
        'execution_mode', m.execution_mode,
        'client', (SELECT pg_catalog.jsonb_build_object('id', task.account_text(a.id), 'name', a.name)
                     FROM task.account a WHERE a.id = m.client),
        'agent', (SELECT pg_catalog.jsonb_build_object('id', task.account_text(a.id), 'name', a.name)
                    FROM task.account a WHERE a.id = m.agent),
        'currency', m.currency,
        'max_price', m.max_price,
        'price', m.price,
        'escrow', pg_catalog.jsonb_build_object(
            'state', m.escrow,
            'held', (SELECT e.balance FROM task.ledger_account e WHERE e.id = m.escrow_account),
            'review_until', pg_catalog.to_char(m.review_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
        'dispute', (SELECT pg_catalog.jsonb_build_object(
                        'tier', d.tier,
                        'status', CASE WHEN d.closed_at IS NULL THEN 'open' ELSE 'closed' END,
                        'reason', d.reason,
                        'opened_by', d.opened_by,
                        'deadline', CASE WHEN d.closed_at IS NULL
                                         THEN pg_catalog.to_char(d.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
                        'proposal', d.proposal,
                        'agent_amount', d.agent_amount)
                      FROM task.market_dispute d WHERE d.owner = m.owner AND d.task_id = m.task_id)))
      FROM task.market_task m
     WHERE m.owner = _market_json.owner AND m.task_id = _market_json.id
$$;
COMMENT ON FUNCTION task._market_json(integer, task.task_id) IS
    'Internal: the marketplace part of a hired task''s JSON (capability, execution mode, client, agent, currency, prices, escrow state and amount held, dispute); NULL for other tasks.';

-- ---------------------------------------------------------------- routing of the core calls
CREATE FUNCTION task._market_hired(id task.task_id) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT FROM task.market_task m
                    WHERE m.owner = task.task_id_owner(_market_hired.id) AND m.task_id = _market_hired.id)
$$;
COMMENT ON FUNCTION task._market_hired(task.task_id) IS 'Internal: whether a task was hired through the marketplace (routes the core calls of accounts to _market_finish).';

-- task_complete and task_fail by the agent, task_cancel by the client (the
-- core functions route accounts here for hired tasks). The escrow moves in
-- the AFTER UPDATE trigger, in this transaction.
CREATE FUNCTION task._market_finish(id task.task_id, status task.status, result jsonb, reason text,
                                     resource text DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task := task._market_get(id, true);
    t task.task;
    op text := CASE status WHEN 'completed' THEN 'complete' WHEN 'failed' THEN 'fail' ELSE 'cancel' END;
BEGIN
    IF result IS NOT NULL AND resource IS NOT NULL THEN
        RAISE EXCEPTION 'a task result is either a JSON value or a resource URI, not both'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass result => a JSON value, or resource => ''/relative/uri''.';
    END IF;
    IF status = 'cancelled' AND task._market_role(m) <> 'client' THEN
        PERFORM task._market_denied(m, op, 'the hiring client, the owning service or Operations');
    ELSIF status <> 'cancelled' AND task._market_role(m) <> 'agent' THEN
        PERFORM task._market_denied(m, op, 'the assigned agent or the owning service');
    END IF;
    SELECT * INTO t FROM task.task x WHERE x.owner = m.owner AND x.id = m.task_id;
    IF t.status NOT IN ('queued', 'processing', 'rescheduled', 'blocked')
       OR (status <> 'cancelled' AND t.status = 'blocked') THEN
        RAISE EXCEPTION 'cannot % task %: it is %', op, id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s applies to an unfinished task.', initcap(op)),
                  HINT = 'Read the task again (task_get) and act on its current status.';
    END IF;
    IF status <> 'cancelled' THEN
        UPDATE task.market_agent a SET last_seen = now() WHERE a.account = m.agent;
        IF t.status <> 'processing' THEN
            UPDATE task.task x SET status = 'processing' WHERE x.owner = m.owner AND x.id = m.task_id;
        END IF;
    END IF;
    UPDATE task.task x
       SET status = _market_finish.status,
           result = CASE WHEN _market_finish.status = 'completed' THEN _market_finish.result ELSE x.result END,
           resource = CASE WHEN _market_finish.status = 'completed' THEN _market_finish.resource ELSE x.resource END,
           error = coalesce(_market_finish.reason, x.error)
     WHERE x.owner = m.owner AND x.id = m.task_id
    RETURNING * INTO t;
    IF reason IS NOT NULL THEN
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, t.status::text || ': ' || reason, task.current_actor());
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task._market_finish(task.task_id, task.status, jsonb, text, text) IS
    'Internal: task_complete / task_fail by the assigned agent (a queued task is started first) and task_cancel by the hiring client, for hired tasks; the escrow trigger releases or refunds in the same transaction.';


-- ---- sql/update/50_hotpath.sql
--
-- The hot path (issue 15): priorities per task and per queue, waits that
-- hold no snapshot while they sleep and wake one waiter per runnable task
-- (src/wait.c), fencing by default, and a stale complete_batch that fails
-- with "lease lost". See docs/QUEUE.md.

-- ---------------------------------------------------------------- priorities
-- Existing tasks and queues get priority 0: the order they were claimed in
-- (FIFO by run_at, id) is unchanged.
ALTER TABLE task.queue ADD COLUMN priority integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN task.queue.priority IS 'Priority of the queue''s new tasks that name none (task_create(priority => ...)).';

ALTER TABLE task.task ADD COLUMN priority integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN task.task.priority IS 'Claimed before tasks of lower priority of its queue (FIFO within a priority); default: the queue''s priority.';

DROP INDEX task.task_runnable_idx;
CREATE INDEX task_runnable_idx ON task.task (queue, priority DESC, run_at, id)
    WHERE status IN ('queued', 'rescheduled');

DROP FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean);
CREATE OR REPLACE FUNCTION task.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false,
    priority     integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
    q task.queue;
BEGIN
    PERFORM task._check_path('queue', task_queue_create.queue);
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

    PERFORM task._check_queue_namespace(owner_id, task_queue_create.queue);

    INSERT INTO task.queue AS x (name, owner, paused, lease, max_attempts, backoff_base, backoff_max, retention, priority)
    VALUES (task_queue_create.queue, owner_id, coalesce(task_queue_create.paused, false),
            coalesce(task_queue_create.lease, '5 minutes'),
            coalesce(task_queue_create.max_attempts, 5),
            coalesce(task_queue_create.backoff_base, '10 seconds'),
            coalesce(task_queue_create.backoff_max, '1 hour'),
            coalesce(task_queue_create.retention, '10 days'),
            coalesce(task_queue_create.priority, 0))
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
COMMENT ON FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer) IS
    'Creates a FIFO queue under the owning service''s namespace, with its worker policy and the default priority of its tasks (0). Services create their own; the operator names the owner.';

DROP FUNCTION task.task_queue_configure(text, interval, integer, interval, interval, interval, boolean);
CREATE OR REPLACE FUNCTION task.task_queue_configure(
    queue        text,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT NULL,
    priority     integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue := task._worker_queue(task_queue_configure.queue);
BEGIN
    UPDATE task.queue x
       SET lease = coalesce(task_queue_configure.lease, x.lease),
           max_attempts = coalesce(task_queue_configure.max_attempts, x.max_attempts),
           backoff_base = coalesce(task_queue_configure.backoff_base, x.backoff_base),
           backoff_max = coalesce(task_queue_configure.backoff_max, x.backoff_max),
           retention = coalesce(task_queue_configure.retention, x.retention),
           paused = coalesce(task_queue_configure.paused, x.paused),
           priority = coalesce(task_queue_configure.priority, x.priority)
     WHERE x.name = q.name
    RETURNING * INTO q;
    RETURN q;
EXCEPTION WHEN check_violation THEN
    RAISE EXCEPTION 'invalid queue policy for "%"', task_queue_configure.queue
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'lease must be positive, max_attempts 1..1000, backoff_base at least 0 and at most backoff_max, retention at least 0.',
              HINT = 'Pass only the settings to change.';
END
$$;
COMMENT ON FUNCTION task.task_queue_configure(text, interval, integer, interval, interval, interval, boolean, integer) IS
    'Changes a queue''s worker policy: lease length, max attempts, backoff base and cap, retention (0 keeps forever), paused, and the priority of new tasks that name none (existing tasks keep theirs). Owning service only.';

DROP FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean);
CREATE OR REPLACE FUNCTION task.task_create(
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
    debounce        interval DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
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

    PERFORM task._check_new_status(task_create.status);
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
        accounts := task._account_numbers(task_create.access);
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

    IF task_create.debounce IS NOT NULL AND (task_create.unique_key IS NULL OR task_create.debounce < '0') THEN
        RAISE EXCEPTION 'debounce needs a unique_key and a window of at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass unique_key => ''...'', debounce => interval ''30 seconds''.';
    END IF;

    IF task_create.idempotency_key IS NULL AND task_create.unique_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, priority)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts,
                coalesce(task_create.priority, q.priority))
        RETURNING * INTO t;
    ELSE
        LOOP
            IF task_create.unique_key IS NOT NULL THEN
                -- unique while active: an unfinished task with the key answers
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.unique_key = task_create.unique_key
                   AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
                   FOR UPDATE;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'unique_key', task_create.unique_key,
                                                     task_create.code, task_create.queue);
                    IF task_create.debounce IS NOT NULL AND t.status IN ('queued', 'rescheduled') THEN
                        -- debounce: the pending duplicate takes this call's arguments and waits again
                        UPDATE task.task x
                           SET name = task_create.name, description = task_create.description,
                               object = task_create.object, parameters = task_create.parameters,
                               eta = task_create.eta,
                               run_at = greatest(coalesce(task_create.run_at, now()), now() + task_create.debounce)
                         WHERE x.owner = t.owner AND x.id = t.id
                        RETURNING * INTO t;
                    END IF;
                    RETURN t;
                END IF;
            END IF;
            INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                        parameters, eta, run_at, ordering_key, max_attempts,
                                        idempotency_key, unique_key, priority)
            VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                    initial, task_create.code, task_create.name, task_create.queue,
                    task_create.object, task_create.description, task_create.parent,
                    task_create.parameters, task_create.eta,
                    greatest(coalesce(task_create.run_at, now()), now() + coalesce(task_create.debounce, '0')),
                    task_create.ordering_key, task_create.max_attempts,
                    task_create.idempotency_key, task_create.unique_key,
                    coalesce(task_create.priority, q.priority))
            ON CONFLICT DO NOTHING
            RETURNING * INTO t;
            EXIT WHEN FOUND;
            IF task_create.idempotency_key IS NOT NULL THEN
                -- the same request again: answer with the task it created
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.idempotency_key = task_create.idempotency_key;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'idempotency_key', task_create.idempotency_key,
                                                     task_create.code, task_create.queue);
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
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task for as long as it exists; another code or queue is 23505), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task), priority (higher is claimed first; default: the queue''s), unique_key (a repeat returns the unfinished task holding the key; once it is final the key is free), debounce (with unique_key: the task waits that long, and a repeat while it is still queued replaces its name, description, object, parameters and eta and restarts the wait).';

DROP FUNCTION task.task_create_many(text, text, jsonb[], timestamptz, text[]);
CREATE OR REPLACE FUNCTION task.task_create_many(
    code          text,
    queue         text,
    parameters    jsonb[],
    run_at        timestamptz DEFAULT NULL,
    ordering_keys text[] DEFAULT NULL,
    priority      integer DEFAULT NULL)
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
    INSERT INTO task.task AS x (owner, id, status, code, queue, parameters, run_at, ordering_key, priority)
    SELECT q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')), 'queued',
           task_create_many.code, q.name, p.v, coalesce(task_create_many.run_at, now()), p.k,
           coalesce(task_create_many.priority, q.priority)
      FROM unnest(task_create_many.parameters, task_create_many.ordering_keys) AS p(v, k)
    RETURNING x.id;
END
$$;
COMMENT ON FUNCTION task.task_create_many(text, text, jsonb[], timestamptz, text[], integer) IS
    'Bulk enqueue: creates one queued task per parameters object (up to 10000) in one statement, and returns their ids in order. Optional common run_at, one ordering key per task, and a common priority (default: the queue''s).';

CREATE OR REPLACE FUNCTION task._claim(q task.queue, n integer, lease interval) RETURNS SETOF task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    -- the real clock, read once: now() stands still for a whole transaction,
    -- so a waiting dequeue would never see tasks created while it waits,
    -- and a lease claimed late would start in the past
    at timestamptz := clock_timestamp();
BEGIN
    -- returned in claim order too
    RETURN QUERY
    WITH claimed AS (
    UPDATE task.task t
       SET status = 'processing',
           attempts = t.attempts + 1,
           lease_token = t.revision + 1,
           lease_until = at + coalesce(_claim.lease, q.lease)
     WHERE t.owner = q.owner
       AND t.id = ANY (ARRAY(
            SELECT x.id FROM task.task x
             WHERE x.owner = q.owner AND x.queue = q.name
               AND x.status IN ('queued', 'rescheduled')
               AND x.run_at <= at
               -- ordering keys: tasks of a key run one at a time, in the
               -- order they were created (ids of one queue share an owner,
               -- so they sort by creation): none while another task of the
               -- key is processing or an older one waits, even for a retry
               AND (x.ordering_key IS NULL OR NOT EXISTS (
                        SELECT FROM task.task k
                         WHERE k.owner = q.owner AND k.queue = q.name AND k.ordering_key = x.ordering_key
                           AND k.status IN ('queued', 'rescheduled', 'processing')
                           AND (k.status = 'processing' OR k.id < x.id)))
             ORDER BY x.priority DESC, x.run_at, x.id
             LIMIT _claim.n
             FOR UPDATE SKIP LOCKED))
    RETURNING t.*)
    SELECT * FROM claimed c ORDER BY c.priority DESC, c.run_at, c.id;
END
$$;
COMMENT ON FUNCTION task._claim(task.queue, integer, interval) IS 'Internal: claims up to n runnable tasks of a queue (FIFO, SKIP LOCKED).';

-- every statement of the worker path names the owner (the distribution key)
CREATE OR REPLACE FUNCTION task._rescue_leases(q task.queue, max_rows integer DEFAULT 100) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        UPDATE task.task t
           SET status = CASE WHEN t.attempts < coalesce(t.max_attempts, q.max_attempts)
                             THEN 'queued'::task.status ELSE 'failed' END,
               error = 'lease expired: the worker stopped sending heartbeats'
          FROM (SELECT x.owner, x.id FROM task.task x
                 WHERE x.owner = q.owner AND x.queue = q.name
                   AND x.status = 'processing' AND x.lease_until < clock_timestamp()
                 ORDER BY x.lease_until
                 LIMIT max_rows
                 FOR UPDATE SKIP LOCKED) e
         WHERE t.owner = e.owner AND t.id = e.id
        RETURNING t.owner, t.id, t.attempts, t.status
    LOOP
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (r.owner, r.id,
                format('lease expired during attempt %s: %s', r.attempts,
                       CASE WHEN r.status = 'failed' THEN 'no attempts left' ELSE 'queued again' END),
                task.current_actor());
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._rescue_leases(task.queue, integer) IS
    'Internal: returns tasks whose lease expired to queued (or failed when no attempts are left), logging why.';

-- ---------------------------------------------------------------- fencing by default
-- A claimed task is completed, failed or rescheduled only with its token
-- (force => true overrides); the errors of a stale worker never print the
-- live token; a stale complete_batch fails with "lease lost".
DROP FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[]);
CREATE OR REPLACE FUNCTION task._write_failed(id task.task_id, operation text, ops_allowed boolean,
                                   token bigint DEFAULT NULL, expected task.status[] DEFAULT NULL,
                                   fenced boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    t := task._visible_task(_write_failed.id);
    IF NOT task._may_write(t.owner, ops_allowed) THEN
        RAISE EXCEPTION 'permission denied to % task %', operation, _write_failed.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The task belongs to %s; the caller acts as %s.',
                                  task.service_text(t.owner), task.current_actor()),
                  HINT = CASE WHEN ops_allowed
                              THEN 'Only the owning service or an Operations account can do this.'
                              ELSE 'Only the owning service can do this.' END;
    END IF;
    -- the live token is never printed: it would let a stale worker take over
    IF token IS NOT NULL AND (t.status <> 'processing' OR t.lease_token IS DISTINCT FROM token) THEN
        RAISE EXCEPTION 'lease lost: task % is no longer claimed with token %', _write_failed.id, token
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The task is %s%s.', t.status,
                                  CASE WHEN t.status = 'processing' THEN ' under another claim' ELSE '' END),
                  HINT = 'Another worker owns the task now: drop this result and dequeue again.';
    END IF;
    -- fencing by default: a claimed task is finished with its claim's token
    IF fenced AND token IS NULL AND t.status = 'processing' AND t.lease_token IS NOT NULL THEN
        RAISE EXCEPTION 'cannot % task % without its lease token', operation, _write_failed.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The task is processing under a claim; only the worker that holds the claim finishes it.',
                  HINT = 'Pass token => the lease_token returned by task_dequeue, or force => true to override the claim.';
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
COMMENT ON FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[], boolean) IS
    'Internal: raises the precise error for a write that matched no row (not found, 42501, lease lost, token missing when fenced, wrong status).';

-- task_complete's SQL body depends on _complete: dropped first
DROP FUNCTION task.task_complete(task.task_id, jsonb, text, bigint);
DROP FUNCTION task._complete(task.task_id, bigint, jsonb, text);
CREATE OR REPLACE FUNCTION task._complete(id task.task_id, token bigint, result jsonb, resource text,
                               force boolean DEFAULT false) RETURNS task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    IF result IS NOT NULL AND resource IS NOT NULL THEN
        RAISE EXCEPTION 'a task result is either a JSON value or a resource URI, not both'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass result => a JSON value, or resource => ''/relative/uri''.';
    END IF;
    UPDATE task.task x
       SET status = 'completed', result = _complete.result, resource = _complete.resource
     WHERE x.owner = task.task_id_owner(_complete.id) AND x.id = _complete.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (_complete.force OR x.lease_token IS NOT DISTINCT FROM _complete.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_complete.id, 'complete', false, _complete.token, '{processing}',
                                   NOT _complete.force);
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task._complete(task.task_id, bigint, jsonb, text, boolean) IS 'Internal: completes a processing task, fenced by its claim''s token unless forced.';

CREATE OR REPLACE FUNCTION task.task_complete(
    id       task.task_id,
    result   jsonb DEFAULT NULL,
    resource text DEFAULT NULL,
    token    bigint DEFAULT NULL,
    force    boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    -- an account completing a hired task is its agent: the marketplace's rules
    RETURN CASE WHEN task.current_account() IS NOT NULL AND task._market_hired(id)
                THEN task._market_finish(id, 'completed', result, NULL, resource)
                ELSE task._complete(id, token, result, resource, coalesce(force, false)) END;
COMMENT ON FUNCTION task.task_complete(task.task_id, jsonb, text, bigint, boolean) IS
    'Owner only: completes a processing task with a JSON result (served at the task''s result URI) or a resource URI. Fenced: only with the token of the claim it is processing under (lease_token), unless force => true overrides the claim. The assigned agent of a hired task (marketplace) completes it without a token.';

CREATE OR REPLACE FUNCTION task._complete_many(ids task.task_id[], tokens bigint[]) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    done task.task_id[];
    missing task.task_id;
BEGIN
    IF tokens IS NOT NULL AND cardinality(tokens) <> cardinality(ids) THEN
        RAISE EXCEPTION 'complete_tokens must have one token per task of complete_batch'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the lease_token of each task, in the same order.';
    END IF;
    IF cardinality(ids) <> (SELECT count(DISTINCT u) FROM unnest(ids) u) THEN
        RAISE EXCEPTION 'complete_batch lists a task more than once'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'List each claimed task once.';
    END IF;
    -- id = ANY(...) probes the (id, owner) primary key, whatever the plan
    -- (an id carries its owner, the distribution key: task_id_owner)
    WITH c AS (
        UPDATE task.task x SET status = 'completed'
         WHERE x.id = ANY (ids)
           AND task._may_write(x.owner, false)
           AND x.status = 'processing'
           AND x.lease_token IS NOT DISTINCT FROM tokens[array_position(ids, x.id)]
        RETURNING x.id)
    SELECT array_agg(c.id) INTO done FROM c;
    IF coalesce(cardinality(done), 0) < cardinality(ids) THEN
        -- the first task of the batch this statement did not complete
        SELECT u.id INTO missing
          FROM unnest(ids) WITH ORDINALITY AS u(id, i)
         WHERE u.id <> ALL (coalesce(done, '{}'))
         ORDER BY u.i LIMIT 1;
        PERFORM task._write_failed(missing, 'complete', false,
                                   tokens[array_position(ids, missing)], '{processing}', true);
    END IF;
    RETURN cardinality(done);
END
$$;
COMMENT ON FUNCTION task._complete_many(task.task_id[], bigint[]) IS
    'Internal: completes a batch of processing tasks in one statement, all or nothing, each fenced by its claim''s token.';

DROP FUNCTION task.task_fail(task.task_id, text, bigint, boolean);
CREATE OR REPLACE FUNCTION task.task_fail(
    id    task.task_id,
    error text,
    token bigint DEFAULT NULL,
    retry boolean DEFAULT true,
    force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
    q task.queue;
BEGIN
    IF task_fail.error IS NULL THEN
        RAISE EXCEPTION 'task_fail needs an error'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say what went wrong: error => ''...''.';
    END IF;
    PERFORM task._check_text('error', task_fail.error, 8192, true);
    -- an account failing a hired task is its agent: the marketplace's rules
    IF task.current_account() IS NOT NULL AND task._market_hired(task_fail.id) THEN
        RETURN task._market_finish(task_fail.id, 'failed', NULL, task_fail.error);
    END IF;
    SELECT x.* INTO q FROM task.queue x
     WHERE x.name = (SELECT y.queue FROM task.task y
                      WHERE y.owner = task.task_id_owner(task_fail.id) AND y.id = task_fail.id);
    UPDATE task.task x
       SET status = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN 'rescheduled'::task.status ELSE 'failed' END,
           run_at = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN clock_timestamp() + task._backoff(q, x.attempts) ELSE x.run_at END,
           error = task_fail.error
     WHERE x.owner = task.task_id_owner(task_fail.id) AND x.id = task_fail.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (task_fail.force OR x.lease_token IS NOT DISTINCT FROM task_fail.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_fail.id, 'fail', false, task_fail.token, '{processing}',
                                   NOT coalesce(task_fail.force, false));
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id,
            format('attempt %s of %s failed: %s', t.attempts, coalesce(t.max_attempts, q.max_attempts), task_fail.error),
            task.current_actor());
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_fail(task.task_id, text, bigint, boolean, boolean) IS
    'Worker: reports a failed attempt. The task is rescheduled with exponential backoff and jitter while attempts remain (and retry is true), else failed for good; the error is kept on the task and in its log. Fenced: only with the token of the claim (lease_token), unless force => true.';

DROP FUNCTION task.task_reschedule(task.task_id, timestamptz, bigint);
CREATE OR REPLACE FUNCTION task.task_reschedule(id task.task_id, at timestamptz, token bigint DEFAULT NULL,
                                     force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_reschedule.at IS NULL OR NOT isfinite(task_reschedule.at) THEN
        RAISE EXCEPTION 'task_reschedule needs a finite time'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass at => now() + interval ''...''.';
    END IF;
    UPDATE task.task x
       SET status = 'rescheduled', run_at = task_reschedule.at,
           attempts = x.attempts - 1  -- not a failure: the next claim counts it again
     WHERE x.owner = task.task_id_owner(task_reschedule.id) AND x.id = task_reschedule.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (task_reschedule.force OR x.lease_token IS NOT DISTINCT FROM task_reschedule.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_reschedule.id, 'reschedule', false, task_reschedule.token, '{processing}',
                                   NOT coalesce(task_reschedule.force, false));
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_reschedule(task.task_id, timestamptz, bigint, boolean) IS
    'Worker: gives a claimed task back to run again at a given time (status rescheduled); dequeue picks it up when due. The claim does not count as an attempt. Fenced: only with the token of the claim (lease_token), unless force => true.';

REVOKE ALL ON FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[], boolean),
                       task._complete(task.task_id, bigint, jsonb, text, boolean) FROM PUBLIC;

-- Tasks processing without a token (moved there directly in 0.1.0) get one,
-- as the trigger now gives them (their revision), and a lease, so that
-- rescue applies to them.
UPDATE task.task t
   SET lease_token = t.revision,
       lease_until = coalesce(t.lease_until, pg_catalog.clock_timestamp() + q.lease)
  FROM task.queue q
 WHERE q.name = t.queue AND t.status = 'processing' AND t.lease_token IS NULL;

-- api.tasks expands task.task's columns in a subquery: it picks up priority
CREATE OR REPLACE VIEW api.tasks WITH (security_invoker = true) AS
SELECT t.id,
       t.name,
       t.revision,
       pg_catalog.initcap(t.status::text) AS status,
       t.code,
       t.queue,
       t.object,
       t.description,
       j.doc -> 'parent' AS parent,
       t.progress,
       j.doc ->> 'eta' AS eta,
       t.parameters,
       j.doc ->> 'result' AS result,
       t.error,
       j.doc -> 'owner' AS owner,
       j.doc -> 'access' AS access,
       j.doc -> 'audit' AS audit
  FROM (SELECT * FROM task.task x ORDER BY x.status_at DESC, x.id DESC) t
 CROSS JOIN LATERAL (SELECT task.task_get(t.id) AS doc OFFSET 0) j
-- vendors and clients read no row of task.task (90_access.sql): their
-- tasks come whole from the API, and filters apply to those only
UNION ALL
SELECT (a.doc ->> 'id')::task.task_id,
       a.doc ->> 'name',
       (a.doc ->> 'revision')::integer,
       a.doc ->> 'status',
       a.doc ->> 'code',
       a.doc ->> 'queue',
       a.doc -> 'object',
       a.doc ->> 'description',
       a.doc -> 'parent',
       (a.doc ->> 'progress')::double precision,
       a.doc ->> 'eta',
       a.doc -> 'parameters',
       a.doc ->> 'result',
       a.doc ->> 'error',
       a.doc -> 'owner',
       a.doc -> 'access',
       a.doc -> 'audit'
  FROM task._account_tasks() a(doc);
COMMENT ON VIEW api.tasks IS
$$Tasks the caller may see (seed 001 Task objects), most recent status change first. Filter with id, status (capitalised: Queued, Completed, ...), code, queue, object->>id, parent->>id; page with limit and offset. One task: GET /tasks?id=eq.TSK-... with Accept: application/vnd.pgrst.object+json (406 when none), or GET /rpc/task_get?id=... (404).$$;
COMMENT ON COLUMN api.tasks.id IS 'TSK-XXXX-YYYY-YYYY-YYYY; XXXX is the owning service.';
COMMENT ON COLUMN api.tasks.name IS 'The name of the operation.';
COMMENT ON COLUMN api.tasks.revision IS 'Bumped on every change.';
COMMENT ON COLUMN api.tasks.status IS 'Blocked, Queued, Processing, Completed, Failed, Rescheduled or Cancelled.';
COMMENT ON COLUMN api.tasks.code IS 'The workflow, prefixed with the service namespace (e.g. accounts.buyers.transfer).';
COMMENT ON COLUMN api.tasks.queue IS 'The FIFO queue, under the owning service''s namespace.';
COMMENT ON COLUMN api.tasks.object IS 'The business object the task is about, e.g. {"id": "BUY-1190-0394"}.';
COMMENT ON COLUMN api.tasks.description IS 'A description of the task.';
COMMENT ON COLUMN api.tasks.parent IS 'The parent task {id, name}, if any.';
COMMENT ON COLUMN api.tasks.progress IS 'Percent 0..100, once started.';
COMMENT ON COLUMN api.tasks.eta IS 'Estimated completion (ISO 8601, UTC).';
COMMENT ON COLUMN api.tasks.parameters IS 'Task-specific parameters.';
COMMENT ON COLUMN api.tasks.result IS 'Relative URI of the result: a resource, or the task''s JSON result (GET /rpc/task_result).';
COMMENT ON COLUMN api.tasks.error IS 'Why the last attempt failed, or why the task was cancelled.';
COMMENT ON COLUMN api.tasks.owner IS 'The owning service {id, name, revision}.';
COMMENT ON COLUMN api.tasks.access IS 'Accounts with access to the task and its result [{id, name, revision, type, status}]: all for Operations, ids for the owning service, itself for an account.';
COMMENT ON COLUMN api.tasks.audit IS 'created, updated, started, completed, failed, rescheduled, cancelled: {at, by}.';

-- ---------------------------------------------------------------- waits
-- src/wait.c: one waiter per runnable task, no snapshot while asleep, keys
-- per database, a waiter whose client has gone ends before it claims.
COMMENT ON FUNCTION task._wait_sleep(bigint, bigint, double precision, text, boolean) IS
    'Internal: sleeps until a commit that moved the key''s wake generation past seq signals this waiter (true) or timeout_ms pass (false), without a snapshot when nothing reads with it afterwards; ends the backend if its client has gone; one 50 ms poll when task is not preloaded.';
COMMENT ON COLUMN task.wait_stats.name IS 'The queue name or task id of the last waiter (first 63 bytes); other keys may share the slot. NULL when the last waiter was in another database.';
COMMENT ON COLUMN task.wait_stats.broadcasts IS 'Of those wakeups, the ones that found waiters and woke them: one waiter per runnable task for a queue, every waiter for a task.';

CREATE OR REPLACE FUNCTION task.task_dequeue(
    queue          text,
    n              integer DEFAULT 1,
    lease          interval DEFAULT NULL,
    wait           interval DEFAULT '0',
    complete       task.task_id DEFAULT NULL,
    complete_token bigint DEFAULT NULL,
    result         jsonb DEFAULT NULL,
    resource       text DEFAULT NULL,
    complete_batch  task.task_id[] DEFAULT NULL,
    complete_tokens bigint[] DEFAULT NULL)
    RETURNS SETOF task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    claimed integer;
    deadline timestamptz;
    key bigint;
    seq bigint;
    next_due timestamptz;
BEGIN
    -- the one-round-trip loop: finish the previous task first
    IF task_dequeue.complete IS NOT NULL THEN
        PERFORM task._complete(task_dequeue.complete, task_dequeue.complete_token,
                               task_dequeue.result, task_dequeue.resource);
    END IF;
    -- ... or the previous batch, in one statement
    IF cardinality(task_dequeue.complete_batch) > 0 THEN
        PERFORM task._complete_many(task_dequeue.complete_batch, task_dequeue.complete_tokens);
    END IF;

    IF task_dequeue.n IS NULL OR task_dequeue.n NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'n must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Claim at most 1000 tasks a call.';
    END IF;
    IF task_dequeue.wait IS NULL OR task_dequeue.wait < '0' OR task_dequeue.wait > '1 hour' THEN
        RAISE EXCEPTION 'wait must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Wait a few seconds and loop; a long wait holds a connection.';
    END IF;
    IF task_dequeue.lease IS NOT NULL AND task_dequeue.lease <= '0' THEN
        RAISE EXCEPTION 'lease must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    q := task._worker_queue(task_dequeue.queue, missing_ok => true);
    IF q.paused THEN
        RETURN;
    END IF;

    -- a waiting call reads the queue's wake generation before it looks
    -- (see 60_wait.sql): a commit after this point wakes its sleep
    IF task_dequeue.wait > '0' THEN
        key := task._wait_key(q.name);
        seq := task._wait_seq(key);
    END IF;

    claimed := 0;
    RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
    GET DIAGNOSTICS claimed = ROW_COUNT;

    -- a short queue: also look for expired leases to take over
    IF claimed < task_dequeue.n AND task._rescue_leases(q, task_dequeue.n - claimed) > 0 THEN
        RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n - claimed, task_dequeue.lease);
        GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;

    -- nothing to do: sleep until a commit makes work for the queue, the
    -- earliest scheduled task of the queue is due (no commit announces
    -- that), or the wait is over; then claim again with a new snapshot
    -- (hence READ COMMITTED). Not preloaded: a 50 ms poll each time round.
    IF claimed = 0 AND task_dequeue.wait > '0' THEN
        PERFORM task._check_wait_isolation('task_dequeue',
            'Its snapshot would never see tasks committed after it started.',
            'Call it in READ COMMITTED (the default), or with wait => ''0''.');
        deadline := clock_timestamp() + task_dequeue.wait;
        LOOP
            SELECT min(x.run_at) INTO next_due FROM task.task x
             WHERE x.owner = q.owner AND x.queue = q.name
               AND x.status IN ('queued', 'rescheduled') AND x.run_at > clock_timestamp();
            PERFORM task._wait_sleep(key, seq, task._ms_until(least(deadline, next_due)), q.name);
            seq := task._wait_seq(key);
            IF q.created_at IS NULL THEN   -- waited on a queue not created yet: is it now?
                q := task._worker_queue(q.name, missing_ok => true);
            END IF;
            RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
            GET DIAGNOSTICS claimed = ROW_COUNT;
            EXIT WHEN claimed > 0 OR clock_timestamp() >= deadline;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Worker: claims up to n runnable tasks of the queue, higher priority first and FIFO within a priority (FOR UPDATE SKIP LOCKED), sets them processing, counts the attempt and starts the lease; each row carries lease_token for the calls that follow. With complete => id and complete_token (and result or resource) it first completes the previous task: one round trip per task; complete_batch with complete_tokens does the same for a batch, in one statement, all or nothing. A paused queue returns nothing. With wait (0..1 hour), an empty queue is waited on until a commit makes work for it (one waiter woken per runnable task; 50 ms polling when task is not in shared_preload_libraries), a scheduled task is due, or wait passes (READ COMMITTED only); asleep it holds no snapshot when called directly by a SELECT that reads no table.';

-- ---------------------------------------------------------------- settling dependents

-- ---- sql/update/60_market.sql
--
-- The marketplace (issue 13): its tables, the hooks the core calls, the core
-- functions that call them, the marketplace functions, access rules and
-- HTTP layer, created exactly as the install fragments create them. Its HTTP
-- routes are in extension task_http (sql/http/market.sql).

-- (its tables and hooks: 45_market_hooks.sql, before the worker path's
-- fragment replaces the functions that call the hooks)

-- the core's changed functions (task_list gained agent =>)
CREATE OR REPLACE FUNCTION task._task_json(t task.task) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'status_description', task.status_description(t.status),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        -- a parent the caller may not see is left out
        'parent', CASE WHEN t.parent IS NOT NULL AND task._visible(t.owner, t.parent) THEN
            task._strip_nulls(jsonb_build_object('id', t.parent::text,
                'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent))) END,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'run_at', task._iso(t.run_at),
        'owner', (SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
                    FROM task.service s WHERE s.id = t.owner),
        -- the account directory is for Operations: the owning service sees
        -- the ids it put on the list, an account itself only
        'access', coalesce(CASE
            WHEN task.current_is_operations() THEN
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status) ORDER BY a.id)
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            WHEN task.current_account() IS NULL THEN
                (SELECT jsonb_agg(jsonb_build_object('id', task.account_text(x.account)) ORDER BY x.account)
                   FROM task.task_access x
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            ELSE
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status))
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id AND x.account = task.current_account())
            END, '[]'::jsonb),
        'audit', task._strip_nulls(jsonb_build_object(
            'created', task._stamp(t.created_at, t.created_by),
            'updated', task._stamp(t.updated_at, t.updated_by),
            'started', task._stamp(t.started_at, t.started_by),
            'completed', task._stamp(t.completed_at, t.completed_by),
            'failed', task._stamp(t.failed_at, t.failed_by),
            'rescheduled', task._stamp(t.rescheduled_at, t.rescheduled_by),
            'cancelled', task._stamp(t.cancelled_at, t.cancelled_by))),
        -- hired tasks only (code market.*): no lookup for every other task
        'marketplace', CASE WHEN t.code LIKE 'market.%' THEN task._market_json(t.owner, t.id) END
    ))
$$;
COMMENT ON FUNCTION task._task_json(task.task) IS 'Internal: a task row as the JSON Task object of seed 001, with nothing the caller may not see: no parent it may not see, an access list of ids for the owning service and of itself for an account, no account names but its own in the audit (Operations see all).';
DROP FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer);
CREATE OR REPLACE FUNCTION task.task_list(
    status      task.status DEFAULT NULL,
    queue       text DEFAULT NULL,
    code        text DEFAULT NULL,
    object_id   text DEFAULT NULL,
    parent      task.task_id DEFAULT NULL,
    since       timestamptz DEFAULT NULL,
    list_limit  integer DEFAULT 50,
    list_offset integer DEFAULT 0,
    agent       text DEFAULT NULL,
    submitted_within interval DEFAULT '10 days')
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    acc bigint := task.current_account();
    -- agent => ...: the hired tasks assigned to that agent, read once
    among task.task_id[] := CASE WHEN task_list.agent IS NOT NULL THEN ARRAY(
        SELECT m.task_id FROM task.market_task m WHERE m.agent = task.account_number(task_list.agent)) END;
BEGIN
    IF list_limit IS NULL OR list_limit NOT BETWEEN 1 AND 1000 OR list_offset IS NULL OR list_offset < 0 THEN
        RAISE EXCEPTION 'list_limit must be between 1 and 1000 and list_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long lists with list_offset.';
    END IF;
    IF submitted_within < '0' THEN
        RAISE EXCEPTION 'submitted_within must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a window such as interval ''30 days'', or NULL for every task.';
    END IF;

    -- The window is on created_at; a status changes after the creation, so
    -- status_at >= now() - window holds for every task in it, and says so
    -- to the (owner, status_at) index: the scan stops at the window's edge
    -- however much older history the service has.
    --
    -- One static query per kind of caller, so each gets its own plan: a
    -- service walks its (owner, status_at) index, an account starts from
    -- its access list; operations sort all tasks (an operator's view: add
    -- filters, or an index on status_at if you list everything often).
    IF task.current_is_operations() THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE task._list_match(t, task_list.status, task_list.queue, task_list.code, task_list.object_id,
                                task_list.parent, task_list.since, task_list.submitted_within, among)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF svc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE t.owner = svc
           AND task._list_match(t, task_list.status, task_list.queue, task_list.code, task_list.object_id,
                                task_list.parent, task_list.since, task_list.submitted_within, among)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF acc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE (t.owner, t.id) IN (SELECT a.owner, a.task_id FROM task.task_access a WHERE a.account = acc)
           AND task._list_match(t, task_list.status, task_list.queue, task_list.code, task_list.object_id,
                                task_list.parent, task_list.since, task_list.submitted_within, among)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'Lists the tasks the caller may see as JSON Task objects, most recent status change first, among the tasks submitted (created) within submitted_within (default 10 days, seed 002; NULL for every task). Filters: status, queue, code, object_id (object.id), parent, since (status changed at or after), agent (ACC-XXXX-YYYY: hired tasks assigned to that agent); list_limit (1..1000, default 50), list_offset.';
CREATE OR REPLACE FUNCTION task.task_complete(
    id       task.task_id,
    result   jsonb DEFAULT NULL,
    resource text DEFAULT NULL,
    token    bigint DEFAULT NULL,
    force    boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    -- an account completing a hired task is its agent: the marketplace's rules
    RETURN CASE WHEN task.current_account() IS NOT NULL AND task._market_hired(id)
                THEN task._market_finish(id, 'completed', result, NULL, resource)
                ELSE task._complete(id, token, result, resource, coalesce(force, false)) END;
COMMENT ON FUNCTION task.task_complete(task.task_id, jsonb, text, bigint, boolean) IS
    'Owner only: completes a processing task with a JSON result (served at the task''s result URI) or a resource URI. Fenced: only with the token of the claim it is processing under (lease_token), unless force => true overrides the claim. The assigned agent of a hired task (marketplace) completes it without a token.';
CREATE OR REPLACE FUNCTION task.task_fail(
    id    task.task_id,
    error text,
    token bigint DEFAULT NULL,
    retry boolean DEFAULT true,
    force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
    q task.queue;
BEGIN
    IF task_fail.error IS NULL THEN
        RAISE EXCEPTION 'task_fail needs an error'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say what went wrong: error => ''...''.';
    END IF;
    PERFORM task._check_text('error', task_fail.error, 8192, true);
    -- an account failing a hired task is its agent: the marketplace's rules
    IF task.current_account() IS NOT NULL AND task._market_hired(task_fail.id) THEN
        RETURN task._market_finish(task_fail.id, 'failed', NULL, task_fail.error);
    END IF;
    SELECT x.* INTO q FROM task.queue x
     WHERE x.name = (SELECT y.queue FROM task.task y
                      WHERE y.owner = task.task_id_owner(task_fail.id) AND y.id = task_fail.id);
    UPDATE task.task x
       SET status = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN 'rescheduled'::task.status ELSE 'failed' END,
           run_at = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN clock_timestamp() + task._backoff(q, x.attempts) ELSE x.run_at END,
           error = task_fail.error
     WHERE x.owner = task.task_id_owner(task_fail.id) AND x.id = task_fail.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (task_fail.force OR x.lease_token IS NOT DISTINCT FROM task_fail.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_fail.id, 'fail', false, task_fail.token, '{processing}',
                                   NOT coalesce(task_fail.force, false));
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id,
            format('attempt %s of %s failed: %s', t.attempts, coalesce(t.max_attempts, q.max_attempts), task_fail.error),
            task.current_actor());
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_fail(task.task_id, text, bigint, boolean, boolean) IS
    'Worker: reports a failed attempt. The task is rescheduled with exponential backoff and jitter while attempts remain (and retry is true), else failed for good; the error is kept on the task and in its log. Fenced: only with the token of the claim (lease_token), unless force => true.';
CREATE OR REPLACE FUNCTION task.task_cancel(id task.task_id, reason text DEFAULT NULL) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._check_text('cancel reason', task_cancel.reason, 8192, true);
    -- an account (not Operations) cancelling a hired task is its client: the marketplace's rules
    IF task.current_account() IS NOT NULL AND NOT task.current_is_operations() AND task._market_hired(task_cancel.id) THEN
        RETURN task._market_finish(task_cancel.id, 'cancelled', NULL, task_cancel.reason);
    END IF;
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
CREATE OR REPLACE FUNCTION task.task_retry(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._market_no_retry(task_retry.id);
    UPDATE task.task x
       SET status = 'queued', run_at = now(), attempts = 0
     WHERE x.owner = task.task_id_owner(task_retry.id) AND x.id = task_retry.id
       AND task._may_write(x.owner, true)
       AND x.status = 'failed'
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_retry.id, 'retry', true, NULL, '{failed}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_retry(task.task_id) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations).';
CREATE OR REPLACE FUNCTION task._settle_dependents() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    channel text;
BEGIN
    -- a hired task's escrow moves with its status (87_market.sql)
    IF NEW.code LIKE 'market.%' THEN
        PERFORM task._market_on_final(NEW);
    END IF;
    -- notify: the queue's channel (task_queue_notify), sent at commit. Here
    -- rather than in a trigger of its own, which measured 12% more CPU for
    -- a create and a cancel (bench/sql/notify_cpu.sql)
    SELECT q.notify_channel INTO channel FROM task.queue q WHERE q.name = NEW.queue;
    IF channel <> '' THEN
        PERFORM pg_notify(channel, jsonb_build_object('id', NEW.id::text, 'queue', NEW.queue, 'status', NEW.status)::text);
    END IF;
    -- notify end

    PERFORM FROM task.task t
     WHERE t.owner = NEW.owner AND t.status = 'blocked'
       AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                     WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
     ORDER BY t.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- a snapshot transaction cannot see a concurrent completion of another
    -- dependency, and both could commit leaving the task blocked for good
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'tasks with dependents must settle in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = format('Task %s has blocked dependents; this transaction is %s.',
                                  NEW.id, current_setting('transaction_isolation')),
                  HINT = 'Complete, fail or cancel it in READ COMMITTED (the default).';
    END IF;

    IF NEW.status = 'completed' THEN
        PERFORM task._release_ready(NEW.owner,
                                    ARRAY(SELECT d.task_id FROM task.task_dependency d
                                           WHERE d.owner = NEW.owner AND d.depends_on = NEW.id),
                                    format('released: its last dependency %s completed', NEW.id));
    ELSE
        FOR r IN
            UPDATE task.task t
               SET status = 'cancelled', error = format('dependency %s is %s', NEW.id, NEW.status)
             WHERE t.owner = NEW.owner AND t.status = 'blocked'
               AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                             WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
            RETURNING t.owner, t.id
        LOOP
            INSERT INTO task.task_log (owner, task_id, message, by)
            VALUES (r.owner, r.id, format('cancelled: dependency %s is %s', NEW.id, NEW.status),
                    task.current_actor());
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._settle_dependents() IS
    'Trigger: on a task that just completed, failed for good or was cancelled, sends its queue''s NOTIFY (task_queue_notify), releases (queued) or cancels the blocked tasks that depend on it, and moves the escrow of a hired task (task._market_on_final).';
CREATE OR REPLACE FUNCTION task.task_maintain(max_rows integer DEFAULT 1000) RETURNS jsonb
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

    -- 4. the marketplace: escrows past their review window, dispute deadlines
    PERFORM task._market_maintain(task_maintain.max_rows);
    -- mappings whose role was dropped (roles are global: no event trigger
    -- sees DROP ROLE); they grant nothing already (src/identity.c)
    DELETE FROM task.login l
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles pr WHERE pr.oid = l.role::oid);

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
    'Housekeeping, safe to run at any time and concurrently: rescues expired leases, releases blocked tasks whose dependencies have all completed, and purges finished tasks older than their queue''s retention (0 keeps forever) with their logs, access and dependency rows; at most max_rows of each a call; removes the logins of dropped roles. Returns the counts and "more" (a batch was full: call again). System or Operations only. Call it every minute from pg_cron (task_cron_enable) or any other scheduler.';

--
-- The marketplace (seed 004; docs/MARKETPLACE.md): agents and their
-- capabilities, the double-entry ledger, task_hire with auto-assignment and
-- escrow, reassignment, the escrow trigger on task.task, result
-- verification (task_accept, or release after the review window),
-- three-tier disputes, messages, artifacts, payments, and
-- task_market_check, which verifies every money invariant.
--
-- A hired task is an ordinary task of the marketplace service (its queue,
-- code "market.<capability>"), whose access list holds the hiring client
-- and the assigned agent: task_get, task_list, task_wait and the RLS
-- policies of task.task already show it to them and to nobody else. The
-- marketplace rules live here; the core calls in at three places only:
-- task_complete and task_fail called by an account (the agent) and
-- task_cancel called by a non-Operations account (the client) on a hired
-- task go to task._market_finish.
--
-- Locks: every call that moves money or changes the assignment locks the
-- task row, then its market_task row (the order the status UPDATE and its
-- AFTER trigger take them in), then ledger accounts in id order. So a
-- completion racing a cancel, a dispute racing a release, two reassigns,
-- or a tip racing a refund run one after the other, and the second sees
-- what the first did.

-- ---------------------------------------------------------------- settings and helpers
CREATE FUNCTION task._market() RETURNS task.market
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    m task.market;
BEGIN
    SELECT * INTO m FROM task.market WHERE id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the marketplace is not set up'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A superuser runs task_market_setup(service, queue) once.';
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION task._market() IS 'Internal: the marketplace settings; 55000 when task_market_setup has not run.';

CREATE FUNCTION task.task_market_setup(
    service            text,
    queue              text,
    currency           text DEFAULT 'USD',
    review_window      interval DEFAULT '1 day',
    tier1_window       interval DEFAULT '3 days',
    tier2_window       interval DEFAULT '3 days',
    tier3_window       interval DEFAULT '7 days',
    unresponsive_after interval DEFAULT '15 minutes',
    max_artifact_bytes integer DEFAULT 1048576)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer;
BEGIN
    PERFORM task._require_system('set up the marketplace');
    svc := task.service_number(task_market_setup.service);
    IF NOT EXISTS (SELECT FROM task.service s WHERE s.id = svc) THEN
        RAISE EXCEPTION 'service % does not exist', task_market_setup.service
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    IF NOT EXISTS (SELECT FROM task.queue q WHERE q.name = task_market_setup.queue AND q.owner = svc) THEN
        RAISE EXCEPTION 'queue % of service % does not exist', task_market_setup.queue, task_market_setup.service
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_queue_create() as the service.';
    END IF;
    IF task_market_setup.currency IS NULL OR task_market_setup.currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'invalid currency: "%"', task_market_setup.currency
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use an ISO 4217 code such as USD.';
    END IF;
    IF EXISTS (SELECT FROM task.market m WHERE m.currency <> task_market_setup.currency)
       AND EXISTS (SELECT FROM task.ledger_txn) THEN
        RAISE EXCEPTION 'the marketplace currency cannot change once money has moved'
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Keep the currency.';
    END IF;
    -- hired tasks hold money: their queue keeps them (retention 0)
    UPDATE task.queue q SET retention = '0' WHERE q.name = task_market_setup.queue;
    INSERT INTO task.market AS m (id, service, queue, currency, review_window, tier1_window, tier2_window,
                                  tier3_window, unresponsive_after, max_artifact_bytes)
    VALUES (true, svc, task_market_setup.queue, task_market_setup.currency, task_market_setup.review_window,
            task_market_setup.tier1_window, task_market_setup.tier2_window, task_market_setup.tier3_window,
            task_market_setup.unresponsive_after, task_market_setup.max_artifact_bytes)
    ON CONFLICT (id) DO UPDATE SET service = excluded.service, queue = excluded.queue,
        currency = excluded.currency, review_window = excluded.review_window,
        tier1_window = excluded.tier1_window, tier2_window = excluded.tier2_window,
        tier3_window = excluded.tier3_window, unresponsive_after = excluded.unresponsive_after,
        max_artifact_bytes = excluded.max_artifact_bytes;
    RETURN (SELECT to_jsonb(m) - 'id' || jsonb_build_object('service', task.service_text(m.service))
              FROM task.market m);
END
$$;
COMMENT ON FUNCTION task.task_market_setup(text, text, text, interval, interval, interval, interval, interval, integer) IS
    'Sets up (or reconfigures) the marketplace: the service and queue owning hired tasks (the queue''s retention becomes 0: tasks holding money are kept), the currency, the review window after completion (0: release on completion), the deadline of each dispute tier, when an agent counts as unresponsive, and the largest artifact. Superuser only.';

-- An amount of money from the API: a whole, positive number of minor units.
CREATE FUNCTION task._market_amount(field text, value numeric, allow_zero boolean DEFAULT false) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% is required', field
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Amounts are whole numbers of minor units of the marketplace currency (cents).';
    END IF;
    IF value <> trunc(value) THEN
        RAISE EXCEPTION '% must be a whole number of minor units, not %', field, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Amounts are integers in minor units (cents): 12.50 USD is 1250.';
    END IF;
    IF value < 0 OR (value = 0 AND NOT allow_zero) THEN
        RAISE EXCEPTION '% must be %, not %', field, CASE WHEN allow_zero THEN 'at least 0' ELSE 'positive' END, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Amounts are positive whole numbers of minor units (cents).';
    END IF;
    IF value > 1000000000000000 THEN
        RAISE EXCEPTION '% is too large: %', field, value
            USING ERRCODE = 'numeric_value_out_of_range', HINT = 'Amounts are at most 10^15 minor units.';
    END IF;
    RETURN value::bigint;
END
$$;
COMMENT ON FUNCTION task._market_amount(text, numeric, boolean) IS 'Internal: validates an amount (whole minor units, positive or, with allow_zero, at least 0) and returns it as bigint.';

-- An account id of the API (ACC-XXXX-YYYY) that must exist and be active.
CREATE FUNCTION task._market_account(id text, what text) RETURNS task.account
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a task.account;
BEGIN
    SELECT * INTO a FROM task.account x WHERE x.id = task.account_number(_market_account.id) AND x.status = 'Active';
    IF NOT FOUND THEN
        RAISE EXCEPTION '% % not found', what, _market_account.id
            USING ERRCODE = 'no_data_found', HINT = 'Check the account id (ACC-XXXX-YYYY); it must be active.';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION task._market_account(text, text) IS 'Internal: the active account of an id, or P0002.';

-- ---------------------------------------------------------------- the ledger
CREATE FUNCTION task._ledger_wallet(acc bigint, cur text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    w bigint;
BEGIN
    SELECT l.id INTO w FROM task.ledger_account l
     WHERE l.kind = 'wallet' AND l.account = _ledger_wallet.acc AND l.currency = _ledger_wallet.cur;
    IF NOT FOUND THEN
        INSERT INTO task.ledger_account AS l (kind, account, currency)
        VALUES ('wallet', _ledger_wallet.acc, _ledger_wallet.cur)
        ON CONFLICT (account, currency) WHERE kind = 'wallet' DO NOTHING
        RETURNING l.id INTO w;
        IF w IS NULL THEN
            SELECT l.id INTO w FROM task.ledger_account l
             WHERE l.kind = 'wallet' AND l.account = _ledger_wallet.acc AND l.currency = _ledger_wallet.cur;
        END IF;
    END IF;
    RETURN w;
END
$$;
COMMENT ON FUNCTION task._ledger_wallet(bigint, text) IS 'Internal: the wallet ledger account of an account in a currency, created empty when missing.';

CREATE FUNCTION task._ledger_funding(cur text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    f bigint;
BEGIN
    SELECT l.id INTO f FROM task.ledger_account l WHERE l.kind = 'funding' AND l.currency = _ledger_funding.cur;
    IF NOT FOUND THEN
        INSERT INTO task.ledger_account AS l (kind, currency) VALUES ('funding', _ledger_funding.cur)
        ON CONFLICT (currency) WHERE kind = 'funding' DO NOTHING
        RETURNING l.id INTO f;
        IF f IS NULL THEN
            SELECT l.id INTO f FROM task.ledger_account l WHERE l.kind = 'funding' AND l.currency = _ledger_funding.cur;
        END IF;
    END IF;
    RETURN f;
END
$$;
COMMENT ON FUNCTION task._ledger_funding(text) IS 'Internal: the funding ledger account of a currency (money entering the marketplace comes from it).';

-- Post one balanced transaction: legs (ledger account, amount), zero legs
-- dropped. Balances move in ledger-account id order (no deadlock between
-- two postings), each guarded so that no balance but funding goes below 0.
CREATE FUNCTION task._ledger_post(kind text, owner integer, task_id task.task_id, memo text,
                                  accounts bigint[], amounts bigint[])
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    txn bigint;
    leg record;
    n smallint := 0;
    cur text;
    bal bigint;
BEGIN
    IF cardinality(accounts) <> cardinality(amounts)
       OR (SELECT sum(a) FROM unnest(amounts) a) <> 0 THEN
        RAISE EXCEPTION 'unbalanced ledger transaction'
            USING ERRCODE = 'internal_error', DETAIL = format('Accounts %s, amounts %s.', accounts, amounts);
    END IF;
    INSERT INTO task.ledger_txn AS x (kind, owner, task_id, by, memo)
    VALUES (_ledger_post.kind, _ledger_post.owner, _ledger_post.task_id, task.current_actor(), _ledger_post.memo)
    RETURNING x.id INTO txn;
    FOR leg IN
        SELECT u.a, sum(u.v)::bigint AS v FROM unnest(accounts, amounts) AS u(a, v)
         GROUP BY u.a HAVING sum(u.v) <> 0 ORDER BY u.a
    LOOP
        UPDATE task.ledger_account l SET balance = l.balance + leg.v
         WHERE l.id = leg.a AND (l.kind = 'funding' OR l.balance + leg.v >= 0)
        RETURNING l.currency INTO cur;
        IF NOT FOUND THEN
            SELECT l.balance INTO bal FROM task.ledger_account l WHERE l.id = leg.a;
            RAISE EXCEPTION 'insufficient balance'
                USING ERRCODE = 'check_violation',
                      DETAIL = format('The payment needs %s minor units; the balance is %s.', -leg.v, bal),
                      HINT = 'Deposit more (task_market_deposit) or pay less.';
        END IF;
        n := n + 1;
        INSERT INTO task.ledger_entry (txn, leg, ledger_account, amount, currency)
        VALUES (txn, n, leg.a, leg.v, cur);
    END LOOP;
    RETURN txn;
END
$$;
COMMENT ON FUNCTION task._ledger_post(text, integer, task.task_id, text, bigint[], bigint[]) IS
    'Internal: posts one balanced ledger transaction (legs sum to zero) and moves the balances, in account id order; 23514 "insufficient balance" when a wallet would go below zero.';

CREATE FUNCTION task.task_market_deposit(account text, amount numeric, memo text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    mk task.market := task._market();
    a task.account;
    amt bigint;
    w bigint;
BEGIN
    PERFORM task._require_operations('deposit money');
    a := task._market_account(task_market_deposit.account, 'account');
    amt := task._market_amount('amount', task_market_deposit.amount);
    PERFORM task._check_text('memo', task_market_deposit.memo, 1024, false);
    w := task._ledger_wallet(a.id, mk.currency);
    PERFORM task._ledger_post('deposit', NULL, NULL, task_market_deposit.memo,
                              ARRAY[task._ledger_funding(mk.currency), w], ARRAY[-amt, amt]);
    RETURN task._market_balance_json(a.id);
END
$$;
COMMENT ON FUNCTION task.task_market_deposit(text, numeric, text) IS
    'Credits an account''s wallet with money paid into the marketplace (a ledger deposit from the funding account) and returns its balance. Amount in whole minor units. System or Operations only.';

CREATE FUNCTION task._market_balance_json(account bigint) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'account', task.account_text(_market_balance_json.account),
        'currency', mk.currency,
        'balance', coalesce((SELECT l.balance FROM task.ledger_account l
                              WHERE l.kind = 'wallet' AND l.account = _market_balance_json.account
                                AND l.currency = mk.currency), 0),
        'in_escrow', coalesce((SELECT sum(e.balance) FROM task.market_task m
                                 JOIN task.ledger_account e ON e.id = m.escrow_account
                                WHERE m.client = _market_balance_json.account), 0))
      FROM task.market mk
$$;
COMMENT ON FUNCTION task._market_balance_json(bigint) IS 'Internal: an account''s wallet balance and the money it holds in escrow.';

CREATE FUNCTION task.task_market_balance(account text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    acc bigint;
BEGIN
    PERFORM task._market();
    IF task_market_balance.account IS NULL THEN
        acc := task.current_account();
        IF acc IS NULL THEN
            RAISE EXCEPTION 'the caller has no wallet'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Wallets belong to accounts; pass account => ''ACC-...'' as Operations.';
        END IF;
    ELSE
        acc := task.account_number(task_market_balance.account);
        IF acc IS DISTINCT FROM task.current_account() AND NOT task.current_is_operations() THEN
            RAISE EXCEPTION 'account % not found', task_market_balance.account
                USING ERRCODE = 'no_data_found', HINT = 'An account sees its own wallet only.';
        END IF;
        PERFORM task._market_account(task_market_balance.account, 'account');
    END IF;
    RETURN task._market_balance_json(acc);
END
$$;
COMMENT ON FUNCTION task.task_market_balance(text) IS
    'The wallet balance of the calling account (or, for Operations, of any account) and what it holds in escrow, in minor units.';

-- ---------------------------------------------------------------- agents
CREATE FUNCTION task._market_capability(capability text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF capability IS NULL OR capability !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$'
       OR octet_length(capability) > 200 THEN
        RAISE EXCEPTION 'invalid capability: "%"', left(capability, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A capability is one or more identifiers separated by dots, at most 200 bytes.',
                  HINT = 'Use a capability such as "translation.de_en".';
    END IF;
    RETURN capability;
END
$$;
COMMENT ON FUNCTION task._market_capability(text) IS 'Internal: validates a capability name (dot-separated identifiers).';

-- Unfinished tasks assigned to an agent.
CREATE FUNCTION task._market_load(agent bigint) RETURNS integer
    LANGUAGE sql STABLE
AS $$
    SELECT count(*)::integer FROM task.market_task m
      JOIN task.task t ON t.owner = m.owner AND t.id = m.task_id
     WHERE m.agent = _market_load.agent AND t.status NOT IN ('completed', 'failed', 'cancelled')
$$;
COMMENT ON FUNCTION task._market_load(bigint) IS 'Internal: how many unfinished tasks are assigned to the agent.';

CREATE FUNCTION task._market_agent_json(a task.market_agent) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', task.account_text(a.account),
        'name', (SELECT x.name FROM task.account x WHERE x.id = a.account),
        'capabilities', to_jsonb(a.capabilities),
        'price', a.price,
        'capacity', a.capacity,
        'active', a.active,
        'load', task._market_load(a.account),
        'responsive', a.last_seen >= now() - (SELECT m.unresponsive_after FROM task.market m))
$$;
COMMENT ON FUNCTION task._market_agent_json(task.market_agent) IS 'Internal: an agent profile as JSON (id, name, capabilities, price, capacity, active, load, responsive).';

CREATE FUNCTION task.task_agent_register(
    account      text,
    capabilities text[],
    price        numeric,
    capacity     integer DEFAULT 1,
    active       boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    a task.account;
    caps text[];
    r task.market_agent;
BEGIN
    PERFORM task._require_operations('register an agent');
    PERFORM task._market();
    a := task._market_account(task_agent_register.account, 'account');
    IF a.type <> 'Vendor' THEN
        RAISE EXCEPTION 'account % is a % account, not a Vendor', task_agent_register.account, a.type
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Agents are Vendor accounts.';
    END IF;
    IF task_agent_register.capabilities IS NULL OR cardinality(task_agent_register.capabilities) NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'an agent needs 1 to 100 capabilities'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass capabilities => ARRAY[''translation.de_en''].';
    END IF;
    SELECT array_agg(DISTINCT task._market_capability(c) ORDER BY task._market_capability(c)) INTO caps
      FROM unnest(task_agent_register.capabilities) c;
    IF task_agent_register.capacity IS NULL OR task_agent_register.capacity NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'capacity must be between 1 and 10000'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'How many unfinished tasks the agent takes at once.';
    END IF;
    INSERT INTO task.market_agent AS x (account, capabilities, price, capacity, active)
    VALUES (a.id, caps, task._market_amount('price', task_agent_register.price, true),
            task_agent_register.capacity, coalesce(task_agent_register.active, true))
    ON CONFLICT (account) DO UPDATE SET capabilities = excluded.capabilities, price = excluded.price,
        capacity = excluded.capacity, active = excluded.active
    RETURNING * INTO r;
    RETURN task._market_agent_json(r);
END
$$;
COMMENT ON FUNCTION task.task_agent_register(text, text[], numeric, integer, boolean) IS
    'Makes a Vendor account an agent, or updates its profile: capabilities, price per task (minor units), capacity (unfinished tasks at once), active. System or Operations only.';

CREATE FUNCTION task.task_agent_heartbeat() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r task.market_agent;
BEGIN
    UPDATE task.market_agent a SET last_seen = now() WHERE a.account = task.current_account()
    RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the caller is not an agent'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Agents are Vendor accounts registered with task_agent_register.';
    END IF;
    RETURN task._market_agent_json(r);
END
$$;
COMMENT ON FUNCTION task.task_agent_heartbeat() IS
    'Agent: says it is alive; auto-assignment skips agents not seen for the marketplace''s unresponsive_after. Returns the agent''s profile.';

CREATE FUNCTION task.task_agents(capability text DEFAULT NULL) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF task.current_account() IS NULL AND NOT task.current_is_operations() AND task.current_service() IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT task._market_agent_json(a) FROM task.market_agent a
      JOIN task.account x ON x.id = a.account AND x.status = 'Active'
     WHERE task_agents.capability IS NULL OR a.capabilities @> ARRAY[task_agents.capability]
     ORDER BY a.price, a.account;
END
$$;
COMMENT ON FUNCTION task.task_agents(text) IS
    'The agent directory: active agents (optionally those offering a capability), cheapest first, with their price, capacity, load and whether they are responsive.';

-- The agent to assign: explicit, or the cheapest responsive agent with the
-- capability, within max_price, below its capacity (checked again after
-- locking the agent row, so two hires cannot both take its last slot).
CREATE FUNCTION task._market_pick(capability text, max_price bigint, client bigint, explicit text, exclude bigint)
    RETURNS task.market_agent
    LANGUAGE plpgsql
AS $$
DECLARE
    mk task.market := task._market();
    a task.market_agent;
    cheapest bigint;
BEGIN
    IF explicit IS NOT NULL THEN
        SELECT x.* INTO a FROM task.market_agent x JOIN task.account y ON y.id = x.account AND y.status = 'Active'
         WHERE x.account = task.account_number(explicit) AND x.active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'agent % not found', explicit
                USING ERRCODE = 'no_data_found', HINT = 'task_agents() lists the active agents.';
        END IF;
        IF NOT a.capabilities @> ARRAY[capability] THEN
            RAISE EXCEPTION 'agent % does not offer capability "%"', explicit, capability
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It offers %s.', array_to_string(a.capabilities, ', ')),
                      HINT = 'Pick an agent from task_agents(capability).';
        END IF;
        IF a.price > max_price THEN
            RAISE EXCEPTION 'agent % charges %, above max_price %', explicit, a.price, max_price
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Raise max_price or pick a cheaper agent.';
        END IF;
        IF a.account IN (client, exclude) THEN
            RAISE EXCEPTION 'agent % cannot take this task', explicit
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'An agent cannot be hired by itself, nor reassigned the task it already has.';
        END IF;
        PERFORM FROM task.market_agent x WHERE x.account = a.account FOR UPDATE;
        IF task._market_load(a.account) >= a.capacity THEN
            RAISE EXCEPTION 'agent % is at capacity (% unfinished tasks)', explicit, a.capacity
                USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Pick another agent or retry later.';
        END IF;
        RETURN a;
    END IF;

    SELECT min(x.price) INTO cheapest FROM task.market_agent x JOIN task.account y ON y.id = x.account AND y.status = 'Active'
     WHERE x.active AND x.capabilities @> ARRAY[capability];
    IF cheapest IS NULL THEN
        RAISE EXCEPTION 'no agent offers capability "%"', capability
            USING ERRCODE = 'invalid_parameter_value', HINT = 'task_agents() lists the capabilities on offer.';
    END IF;
    IF cheapest > max_price THEN
        RAISE EXCEPTION 'no agent offers capability "%" within max_price %', capability, max_price
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('The cheapest agent charges %s: raise max_price.', cheapest);
    END IF;
    FOR a IN
        SELECT x.* FROM task.market_agent x JOIN task.account y ON y.id = x.account AND y.status = 'Active'
         WHERE x.active AND x.capabilities @> ARRAY[capability] AND x.price <= max_price
           AND x.last_seen >= now() - mk.unresponsive_after
           AND x.account <> client AND x.account IS DISTINCT FROM exclude
         ORDER BY x.price, x.last_seen DESC, x.account
    LOOP
        PERFORM FROM task.market_agent x WHERE x.account = a.account FOR UPDATE;
        IF task._market_load(a.account) < a.capacity THEN
            RETURN a;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'no agent is available for capability "%"', capability
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = 'Every agent offering it within max_price is at capacity or unresponsive.',
              HINT = 'Retry later, or raise max_price to reach more agents.';
END
$$;
COMMENT ON FUNCTION task._market_pick(text, bigint, bigint, text, bigint) IS
    'Internal: the agent to assign (explicit, or the cheapest responsive one with the capability, within max_price, below capacity), its row locked; a precise error when there is none.';

-- ---------------------------------------------------------------- reading a hired task
-- The caller's part in a hired task: client, agent, operations, service
-- (the owning service or the system), or NULL (not found).
CREATE FUNCTION task._market_role(m task.market_task) RETURNS text
    LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN task.current_account() = m.client THEN 'client'
        WHEN task.current_account() = m.agent THEN 'agent'
        WHEN task.current_is_operations() THEN 'operations'
        WHEN task.current_service() = m.owner THEN 'service'
        END
$$;
COMMENT ON FUNCTION task._market_role(task.market_task) IS 'Internal: the caller''s part in a hired task (client, agent, operations, service), NULL when it may not see it.';

-- The hired task for a call: not found unless the caller has a part in it;
-- with lock, the task row and then the market_task row are locked.
CREATE FUNCTION task._market_get(id task.task_id, lock boolean) RETURNS task.market_task
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task;
BEGIN
    SELECT * INTO m FROM task.market_task x
     WHERE x.owner = task.task_id_owner(_market_get.id) AND x.task_id = _market_get.id;
    IF NOT FOUND OR task._market_role(m) IS NULL THEN
        PERFORM task._not_found(_market_get.id);
    END IF;
    IF lock THEN
        PERFORM FROM task.task t WHERE t.owner = m.owner AND t.id = m.task_id FOR UPDATE;
        SELECT * INTO m FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id FOR UPDATE;
        IF task._market_role(m) IS NULL THEN   -- reassigned away meanwhile
            PERFORM task._not_found(_market_get.id);
        END IF;
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION task._market_get(task.task_id, boolean) IS
    'Internal: the hired task if the caller has a part in it (else not found, P0002); with lock, locks the task row, then the market_task row.';

CREATE FUNCTION task._market_denied(m task.market_task, operation text, allowed text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'permission denied to % task %', operation, m.task_id
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('The caller is the task''s %s.', coalesce(task._market_role(m), 'nothing')),
              HINT = format('Only %s can do this.', allowed);
END
$$;
COMMENT ON FUNCTION task._market_denied(task.market_task, text, text) IS 'Internal: the 42501 error of a party that may see a hired task but not do this.';

CREATE FUNCTION task._market_state(m task.market_task, operation text, expected text[]) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF m.escrow <> ALL (expected) THEN
        RAISE EXCEPTION 'cannot % task %: its escrow is %', operation, m.task_id, m.escrow
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s applies while the escrow is %s.', initcap(operation), array_to_string(expected, ' or ')),
                  HINT = 'Read the task again (task_get, task_payments) and act on its current state.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._market_state(task.market_task, text, text[]) IS 'Internal: 55000 unless the escrow is in one of the expected states.';

-- ---------------------------------------------------------------- escrow settlement
-- Exactly once: each is called with the market_task row locked and moves
-- the escrow from a holding state to a final one in the same statement
-- as it posts the money.
CREATE FUNCTION task._market_settle(m task.market_task, outcome text, agent_amount bigint, memo text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    client_w bigint := task._ledger_wallet(m.client, m.currency);
    agent_w bigint := task._ledger_wallet(m.agent, m.currency);
BEGIN
    UPDATE task.market_task x SET escrow = outcome, settled_at = now(), review_until = NULL
     WHERE x.owner = m.owner AND x.task_id = m.task_id AND x.escrow IN ('held', 'review', 'disputed');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'escrow of task % was already settled', m.task_id
            USING ERRCODE = 'serialization_failure', HINT = 'Retry the call.';
    END IF;
    PERFORM task._ledger_post(CASE outcome WHEN 'released' THEN 'release' WHEN 'refunded' THEN 'refund' ELSE 'split' END,
                              m.owner, m.task_id, memo,
                              ARRAY[m.escrow_account, agent_w, client_w],
                              ARRAY[-m.max_price, agent_amount, m.max_price - agent_amount]);
END
$$;
COMMENT ON FUNCTION task._market_settle(task.market_task, text, bigint, text) IS
    'Internal: settles a held escrow exactly once: released (the agent''s price to the agent, the rest back to the client), refunded (all to the client) or settled (a dispute''s split); one ledger transaction.';

-- A hired task reaching a final status moves its escrow in the same
-- transaction: completed, to review (or released at once when the review
-- window is 0); failed or cancelled, refunded. A disputed escrow stays
-- held: the dispute decides. Called by the AFTER UPDATE trigger that
-- settles dependencies (task._settle_dependents, 75_dependencies.sql) for
-- tasks with code market.*, whoever changed the status: one trigger on the
-- hot path instead of two (a second AFTER trigger cost about 10% of a
-- task_complete's CPU, bench/market_overhead.sql).
CREATE FUNCTION task._market_on_final(t task.task) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task;
    mk task.market;
BEGIN
    SELECT * INTO m FROM task.market_task x WHERE x.owner = t.owner AND x.task_id = t.id FOR UPDATE;
    IF NOT FOUND OR m.escrow <> 'held' THEN
        RETURN;
    END IF;
    IF t.status = 'completed' THEN
        SELECT * INTO mk FROM task.market WHERE id;
        IF mk.review_window = '0' THEN
            PERFORM task._market_settle(m, 'released', m.price, 'released on completion');
        ELSE
            UPDATE task.market_task x SET escrow = 'review', review_until = now() + mk.review_window
             WHERE x.owner = m.owner AND x.task_id = m.task_id;
        END IF;
    ELSE
        PERFORM task._market_settle(m, 'refunded', 0, 'refunded: task ' || t.status::text);
    END IF;
END
$$;
COMMENT ON FUNCTION task._market_on_final(task.task) IS
    'Internal (the dependency trigger, for hired tasks): when a hired task completes, its escrow goes to review (or is released when the review window is 0); when it fails or is cancelled, the escrow is refunded; a disputed escrow is left to the dispute.';

-- A hired task's escrow is settled with its final status: it is not retried
-- (task_retry calls this).
CREATE FUNCTION task._market_no_retry(id task.task_id) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task;
BEGIN
    SELECT * INTO m FROM task.market_task x WHERE x.owner = task.task_id_owner(_market_no_retry.id) AND x.task_id = _market_no_retry.id;
    IF FOUND AND task._market_role(m) IS NOT NULL THEN
        RAISE EXCEPTION 'a hired task cannot be retried'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Task %s was hired; its escrow is %s.', _market_no_retry.id, m.escrow),
                  HINT = 'Hire again (task_hire) instead of retrying a hired task.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._market_no_retry(task.task_id) IS 'Internal (task_retry): 55000 for a hired task, whose escrow was settled when it failed.';

-- ---------------------------------------------------------------- hire
CREATE FUNCTION task.task_hire(
    capability     text,
    input          jsonb DEFAULT NULL,
    max_price      numeric DEFAULT NULL,
    execution_mode text DEFAULT 'async',
    agent          text DEFAULT NULL,
    name           text DEFAULT NULL,
    description    text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    mk task.market := task._market();
    client bigint := task.current_account();
    cap text;
    maxp bigint;
    a task.market_agent;
    t task.task;
    wallet bigint;
    bal bigint;
    escrow bigint;
BEGIN
    IF client IS NULL OR task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to hire an agent'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Clients hire: a Client or Vendor account with money in its wallet.';
    END IF;
    cap := task._market_capability(task_hire.capability);
    maxp := task._market_amount('max_price', task_hire.max_price);
    IF task_hire.execution_mode IS NULL OR task_hire.execution_mode NOT IN ('async', 'sync') THEN
        RAISE EXCEPTION 'execution_mode must be async or sync, not %', coalesce(task_hire.execution_mode, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'async returns at once; sync: CALL task_hire_sync(...), or task_wait(id) after commit.';
    END IF;
    wallet := task._ledger_wallet(client, mk.currency);
    SELECT l.balance INTO bal FROM task.ledger_account l WHERE l.id = wallet;
    IF bal < maxp THEN
        RAISE EXCEPTION 'insufficient balance: max_price % is above the balance %', maxp, bal
            USING ERRCODE = 'check_violation',
                  DETAIL = 'task_hire holds max_price in escrow from the client''s wallet.',
                  HINT = 'Deposit more (task_market_deposit) or lower max_price.';
    END IF;
    a := task._market_pick(cap, maxp, client, task_hire.agent, NULL);

    INSERT INTO task.task AS x (owner, id, status, code, name, queue, description, parameters, run_at)
    VALUES (mk.service, task.task_id_make(mk.service, nextval('task.task_serial_seq')), 'queued',
            'market.' || cap, task_hire.name, mk.queue, task_hire.description, task_hire.input, now())
    RETURNING * INTO t;
    INSERT INTO task.task_access (owner, task_id, account) VALUES (t.owner, t.id, client), (t.owner, t.id, a.account);
    INSERT INTO task.ledger_account AS l (kind, owner, task_id, currency)
    VALUES ('escrow', t.owner, t.id, mk.currency) RETURNING l.id INTO escrow;
    INSERT INTO task.market_task (owner, task_id, client, agent, capability, max_price, price, currency,
                                  execution_mode, escrow_account)
    VALUES (t.owner, t.id, client, a.account, cap, maxp, a.price, mk.currency, task_hire.execution_mode, escrow);
    INSERT INTO task.market_assignment (owner, task_id, seq, agent, by, reason)
    VALUES (t.owner, t.id, 1, a.account, task.current_actor(),
            CASE WHEN task_hire.agent IS NULL THEN 'auto-assigned' ELSE 'chosen by the client' END);
    PERFORM task._ledger_post('hold', t.owner, t.id, 'escrow for ' || cap, ARRAY[wallet, escrow], ARRAY[-maxp, maxp]);
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id, format('hired %s for %s (max_price %s %s held in escrow)',
                                  task.account_text(a.account), cap, maxp, mk.currency), task.current_actor());
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task.task_hire(text, jsonb, numeric, text, text, text, text) IS
    'Client: hires an agent for a task (seed 004 POST /tasks): validates the capability and max_price (whole minor units), holds max_price in escrow from the client''s wallet, assigns an agent (agent => ''ACC-...'', or automatically: the cheapest responsive agent with the capability, within max_price, below its capacity), creates the task in the marketplace queue, visible to the client and the agent, and returns it. execution_mode async or sync (sync: CALL task_hire_sync, or task_wait after commit). All or nothing.';

-- Sync mode: the hire must commit before the agent can see the task, so a
-- function cannot wait for it. This procedure commits the hire, then waits
-- with task_wait (wake on commit). No SET clauses: a procedure with them
-- cannot commit; every name is qualified.
CREATE PROCEDURE task.task_hire_sync(
    capability  text,
    input       jsonb,
    max_price   numeric,
    timeout     interval DEFAULT '30 seconds',
    agent       text DEFAULT NULL,
    INOUT task  jsonb DEFAULT NULL)
    LANGUAGE plpgsql
AS $$
BEGIN
    task := task.task_hire(capability, input, max_price, 'sync', agent);
    COMMIT;
    task := task.task_wait((task ->> 'id')::task.task_id, timeout);
END
$$;
COMMENT ON PROCEDURE task.task_hire_sync(text, jsonb, numeric, interval, text, jsonb) IS
    'Client, execution mode sync: CALL task_hire_sync(capability, input, max_price, timeout) hires (as task_hire), commits, then waits with task_wait until the task is final or the timeout (default 30 s) passes, and returns the task. Call it outside an explicit transaction block.';

-- ---------------------------------------------------------------- result verification
CREATE FUNCTION task.task_accept(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_accept.id, true);
BEGIN
    IF task._market_role(m) NOT IN ('client', 'operations') THEN
        PERFORM task._market_denied(m, 'accept', 'the hiring client or Operations');
    END IF;
    PERFORM task._market_state(m, 'accept', '{review}');
    PERFORM task._market_settle(m, 'released', m.price, 'result accepted');
    RETURN task.task_get(task_accept.id);
END
$$;
COMMENT ON FUNCTION task.task_accept(task.task_id) IS
    'Client: accepts the result of a completed task during its review window: the escrow is released (the agent''s price to the agent, the rest of max_price back to the client). Without it, the escrow is released when the window ends (task_maintain), unless a dispute is opened.';

-- ---------------------------------------------------------------- reassignment
CREATE FUNCTION task.task_reassign(id task.task_id, new_agent_id text DEFAULT NULL, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_reassign.id, true);
    t task.task;
    a task.market_agent;
BEGIN
    IF task._market_role(m) NOT IN ('client', 'operations') THEN
        PERFORM task._market_denied(m, 'reassign', 'the hiring client or Operations');
    END IF;
    PERFORM task._check_text('reason', task_reassign.reason, 1024, true);
    PERFORM task._market_state(m, 'reassign', '{held}');
    SELECT * INTO t FROM task.task x WHERE x.owner = m.owner AND x.id = m.task_id;
    IF t.status NOT IN ('queued', 'processing', 'rescheduled') THEN
        RAISE EXCEPTION 'cannot reassign task %: it is %', task_reassign.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only a queued or running task can move to another agent.';
    END IF;
    a := task._market_pick(m.capability, m.max_price, m.client, task_reassign.new_agent_id, m.agent);
    UPDATE task.market_task x SET agent = a.account, price = a.price
     WHERE x.owner = m.owner AND x.task_id = m.task_id;
    DELETE FROM task.task_access x WHERE x.owner = m.owner AND x.task_id = m.task_id AND x.account = m.agent;
    INSERT INTO task.task_access (owner, task_id, account) VALUES (m.owner, m.task_id, a.account)
    ON CONFLICT DO NOTHING;
    INSERT INTO task.market_assignment (owner, task_id, seq, agent, by, reason)
    SELECT m.owner, m.task_id, coalesce(max(s.seq), 0) + 1, a.account, task.current_actor(),
           coalesce(task_reassign.reason, 'reassigned')
      FROM task.market_assignment s WHERE s.owner = m.owner AND s.task_id = m.task_id;
    IF t.status = 'processing' THEN
        -- the new agent starts afresh
        UPDATE task.task x SET status = 'queued', progress = NULL WHERE x.owner = m.owner AND x.id = m.task_id;
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (m.owner, m.task_id, format('reassigned from %s to %s%s', task.account_text(m.agent),
                                      task.account_text(a.account), coalesce(': ' || task_reassign.reason, '')),
            task.current_actor());
    RETURN task.task_get(task_reassign.id);
END
$$;
COMMENT ON FUNCTION task.task_reassign(task.task_id, text, text) IS
    'Client or Operations: moves an unfinished task to another agent (new_agent_id, or the next available one automatically), e.g. when the agent is unresponsive. The new agent must offer the capability within max_price and have capacity; the escrow stays held (its price becomes the new agent''s); the old agent loses access; a running task is queued again.';

-- ---------------------------------------------------------------- disputes
CREATE FUNCTION task._market_dispute_event(m task.market_task, tier smallint, action text, amount bigint, note text)
    RETURNS void
    LANGUAGE sql
AS $$
    INSERT INTO task.market_dispute_event (owner, task_id, seq, tier, by, action, amount, note)
    SELECT m.owner, m.task_id, coalesce(max(e.seq), 0) + 1, _market_dispute_event.tier, task.current_actor(),
           _market_dispute_event.action, _market_dispute_event.amount, _market_dispute_event.note
      FROM task.market_dispute_event e WHERE e.owner = m.owner AND e.task_id = m.task_id
$$;
COMMENT ON FUNCTION task._market_dispute_event(task.market_task, smallint, text, bigint, text) IS 'Internal: appends to a dispute''s audit trail.';

CREATE FUNCTION task._market_dispute_json(m task.market_task) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'task', m.task_id::text,
        'tier', d.tier,
        'status', CASE WHEN d.closed_at IS NULL THEN 'open' ELSE 'closed' END,
        'reason', d.reason,
        'opened_by', d.opened_by,
        'deadline', CASE WHEN d.closed_at IS NULL THEN task._iso(d.deadline) END,
        'proposal', d.proposal,
        'proposed_by', d.proposed_by,
        'client_accepts', d.client_accepts,
        'agent_accepts', d.agent_accepts,
        'agent_amount', d.agent_amount,
        'client_amount', m.max_price - d.agent_amount,
        'escrow', (SELECT x.escrow FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id),
        'events', (SELECT jsonb_agg(task._strip_nulls(jsonb_build_object(
                       'tier', e.tier, 'by', e.by, 'action', e.action, 'amount', e.amount, 'note', e.note))
                       ORDER BY e.seq)
                     FROM task.market_dispute_event e WHERE e.owner = m.owner AND e.task_id = m.task_id)))
      FROM task.market_dispute d WHERE d.owner = m.owner AND d.task_id = m.task_id
$$;
COMMENT ON FUNCTION task._market_dispute_json(task.market_task) IS 'Internal: a dispute as JSON, with its audit trail.';

CREATE FUNCTION task.task_dispute(id task.task_id, reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_dispute.id, true);
    mk task.market := task._market();
BEGIN
    IF task._market_role(m) NOT IN ('client', 'agent') THEN
        PERFORM task._market_denied(m, 'dispute', 'the hiring client or the assigned agent');
    END IF;
    IF task_dispute.reason IS NULL THEN
        RAISE EXCEPTION 'a dispute needs a reason'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say what is wrong: reason => ''...''.';
    END IF;
    PERFORM task._check_text('reason', task_dispute.reason, 8192, true);
    PERFORM task._market_state(m, 'dispute', '{held,review}');
    UPDATE task.market_task x SET escrow = 'disputed', review_until = NULL
     WHERE x.owner = m.owner AND x.task_id = m.task_id;
    INSERT INTO task.market_dispute (owner, task_id, opened_by, reason, deadline)
    VALUES (m.owner, m.task_id, task.current_actor(), task_dispute.reason, now() + mk.tier1_window);
    PERFORM task._market_dispute_event(m, 1::smallint, 'open', NULL, task_dispute.reason);
    RETURN task._market_dispute_json(m);
END
$$;
COMMENT ON FUNCTION task.task_dispute(task.task_id, text) IS
    'Client or agent: opens a dispute on a task whose escrow is still held (running, or completed and in review). The escrow stays held until the dispute closes; it starts at tier 1 (the parties settle) with the tier''s deadline. Returns the dispute.';

-- Close a dispute with a split: agent_amount to the agent, the rest of the
-- escrow to the client; an unfinished task is cancelled.
CREATE FUNCTION task._market_dispute_close(m task.market_task, amount bigint, memo text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE task.market_dispute d SET closed_at = now(), agent_amount = amount
     WHERE d.owner = m.owner AND d.task_id = m.task_id;
    PERFORM task._market_settle(m, 'settled', amount, memo);
    UPDATE task.task x SET status = 'cancelled', error = 'dispute settled'
     WHERE x.owner = m.owner AND x.id = m.task_id AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled');
END
$$;
COMMENT ON FUNCTION task._market_dispute_close(task.market_task, bigint, text) IS 'Internal: closes a dispute with a split ledger transaction and cancels the task if it is unfinished.';

-- Deadlines: a tier whose deadline passed moves up; past tier 3's, the
-- mediator's proposal (or else a full refund) is applied. Called by
-- task_dispute_resolve before it acts, and by task_maintain.
CREATE FUNCTION task._market_dispute_expire(m task.market_task) RETURNS boolean
    LANGUAGE plpgsql
AS $$
DECLARE
    mk task.market := task._market();
    d task.market_dispute;
    moved boolean := false;
BEGIN
    LOOP
        SELECT * INTO d FROM task.market_dispute x WHERE x.owner = m.owner AND x.task_id = m.task_id;
        EXIT WHEN NOT FOUND OR d.closed_at IS NOT NULL OR d.deadline > now();
        moved := true;
        IF d.tier < 3 THEN
            UPDATE task.market_dispute x
               SET tier = d.tier + 1,
                   deadline = now() + CASE d.tier WHEN 1 THEN mk.tier2_window ELSE mk.tier3_window END,
                   proposal = CASE WHEN d.tier = 2 THEN d.proposal END,
                   proposed_by = CASE WHEN d.tier = 2 THEN d.proposed_by END,
                   client_accepts = false, agent_accepts = false
             WHERE x.owner = m.owner AND x.task_id = m.task_id;
            PERFORM task._market_dispute_event(m, (d.tier + 1)::smallint, 'expire', NULL,
                                               format('tier %s deadline passed', d.tier));
        ELSE
            PERFORM task._market_dispute_event(m, d.tier, 'expire', coalesce(d.proposal, 0),
                                               CASE WHEN d.proposal IS NULL THEN 'tier 3 deadline passed: full refund'
                                                    ELSE 'tier 3 deadline passed: the mediator''s proposal applies' END);
            PERFORM task._market_dispute_close(m, coalesce(d.proposal, 0), 'dispute expired');
        END IF;
    END LOOP;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION task._market_dispute_expire(task.market_task) IS
    'Internal: applies passed dispute deadlines (tier up; after tier 3, the mediator''s proposal or a full refund). Returns whether anything moved.';

CREATE FUNCTION task.task_dispute_resolve(id task.task_id, decision text, agent_amount numeric DEFAULT NULL,
                                          note text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_dispute_resolve.id, true);
    mk task.market := task._market();
    d task.market_dispute;
    part text := task._market_role(m);
    amt bigint;
BEGIN
    PERFORM task._check_text('note', task_dispute_resolve.note, 8192, true);
    IF task_dispute_resolve.decision IS NULL
       OR task_dispute_resolve.decision NOT IN ('propose', 'accept', 'escalate', 'decide') THEN
        RAISE EXCEPTION 'decision must be propose, accept, escalate or decide, not %', coalesce(task_dispute_resolve.decision, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Tier 1: a party proposes, the other accepts; tier 2: Operations propose, both parties accept; tier 3: Operations decide. Either tier escalates.';
    END IF;
    PERFORM task._market_dispute_expire(m);
    SELECT * INTO m FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id;
    SELECT * INTO d FROM task.market_dispute x WHERE x.owner = m.owner AND x.task_id = m.task_id;
    IF NOT FOUND OR d.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'task % has no open dispute', task_dispute_resolve.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = CASE WHEN FOUND THEN 'Its dispute is closed.' ELSE 'No dispute was opened.' END,
                  HINT = 'Open one with task_dispute; task_get shows the dispute.';
    END IF;
    IF task_dispute_resolve.decision IN ('propose', 'decide') THEN
        amt := task._market_amount('agent_amount', task_dispute_resolve.agent_amount, true);
        IF amt > m.max_price THEN
            RAISE EXCEPTION 'agent_amount % is above the escrow %', amt, m.max_price
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A split gives agent_amount to the agent and the rest of the escrow to the client.';
        END IF;
    END IF;

    CASE task_dispute_resolve.decision
    WHEN 'propose' THEN
        IF NOT ((d.tier = 1 AND part IN ('client', 'agent')) OR (d.tier = 2 AND part = 'operations')) THEN
            PERFORM task._market_denied(m, 'propose a split at tier ' || d.tier || ' of',
                CASE d.tier WHEN 1 THEN 'the parties (client, agent) at tier 1'
                            WHEN 2 THEN 'the mediator (Operations) at tier 2'
                            ELSE 'Operations, who decide at tier 3' END);
        END IF;
        UPDATE task.market_dispute x SET proposal = amt, proposed_by = task.current_actor(),
               client_accepts = (part = 'client'), agent_accepts = (part = 'agent')
         WHERE x.owner = m.owner AND x.task_id = m.task_id;
        PERFORM task._market_dispute_event(m, d.tier, 'propose', amt, task_dispute_resolve.note);
    WHEN 'accept' THEN
        IF d.tier = 3 OR part NOT IN ('client', 'agent') THEN
            PERFORM task._market_denied(m, 'accept a proposal of', 'the parties (client, agent) at tiers 1 and 2');
        END IF;
        IF d.proposal IS NULL THEN
            RAISE EXCEPTION 'there is no proposal to accept on task %', task_dispute_resolve.id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = CASE d.tier WHEN 1 THEN 'Propose a split: decision => ''propose'', agent_amount => ...'
                                         ELSE 'Wait for the mediator''s proposal, or escalate.' END;
        END IF;
        UPDATE task.market_dispute x
           SET client_accepts = x.client_accepts OR part = 'client', agent_accepts = x.agent_accepts OR part = 'agent'
         WHERE x.owner = m.owner AND x.task_id = m.task_id
        RETURNING * INTO d;
        PERFORM task._market_dispute_event(m, d.tier, 'accept', d.proposal, task_dispute_resolve.note);
        IF d.client_accepts AND d.agent_accepts THEN
            PERFORM task._market_dispute_close(m, d.proposal, format('dispute settled at tier %s', d.tier));
        END IF;
    WHEN 'escalate' THEN
        IF d.tier = 3 THEN
            RAISE EXCEPTION 'the dispute of task % is at tier 3 already', task_dispute_resolve.id
                USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Operations decide at tier 3: decision => ''decide''.';
        END IF;
        UPDATE task.market_dispute x
           SET tier = d.tier + 1,
               deadline = now() + CASE d.tier WHEN 1 THEN mk.tier2_window ELSE mk.tier3_window END,
               proposal = CASE WHEN d.tier = 2 THEN d.proposal END,
               proposed_by = CASE WHEN d.tier = 2 THEN d.proposed_by END,
               client_accepts = false, agent_accepts = false
         WHERE x.owner = m.owner AND x.task_id = m.task_id;
        PERFORM task._market_dispute_event(m, (d.tier + 1)::smallint, 'escalate', NULL, task_dispute_resolve.note);
    WHEN 'decide' THEN
        IF d.tier <> 3 OR part <> 'operations' THEN
            PERFORM task._market_denied(m, 'decide the dispute of', 'Operations, at tier 3');
        END IF;
        PERFORM task._market_dispute_event(m, d.tier, 'decide', amt, task_dispute_resolve.note);
        PERFORM task._market_dispute_close(m, amt, 'dispute decided by operations');
    END CASE;
    RETURN task._market_dispute_json(m);
END
$$;
COMMENT ON FUNCTION task.task_dispute_resolve(task.task_id, text, numeric, text) IS
    'Moves a dispute on. decision: propose (agent_amount: the agent''s share of the escrow; tier 1 by a party, tier 2 by the mediator, an Operations account), accept (a party accepts the proposal; when both have, the split is paid and the dispute closes), escalate (up one tier, a party or Operations), decide (tier 3, Operations, final). Each tier has a deadline: past it the dispute moves up, and past tier 3''s the mediator''s proposal or a full refund applies. Every step is in the dispute''s audit trail; every decision is one ledger transaction. Returns the dispute.';

-- ---------------------------------------------------------------- messages
CREATE FUNCTION task._market_message_json(x task.market_message) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object('seq', x.seq, 'at', task._iso(x.at), 'by', task._actor_json(x.by), 'content', x.content)
$$;
COMMENT ON FUNCTION task._market_message_json(task.market_message) IS 'Internal: a message as JSON.';

CREATE FUNCTION task.task_message(id task.task_id, content text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_message.id, false);
    r task.market_message;
BEGIN
    IF task._market_role(m) NOT IN ('client', 'agent', 'operations') THEN
        PERFORM task._market_denied(m, 'message on', 'the client, the agent or Operations');
    END IF;
    IF task_message.content IS NULL THEN
        RAISE EXCEPTION 'a message needs content'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass content => ''...''.';
    END IF;
    PERFORM task._check_text('message', task_message.content, 65536, true);
    -- numbered per task: one writer at a time
    PERFORM FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id FOR NO KEY UPDATE;
    INSERT INTO task.market_message AS x (owner, task_id, seq, by, content)
    SELECT m.owner, m.task_id, coalesce(max(s.seq), 0) + 1, task.current_actor(), task_message.content
      FROM task.market_message s WHERE s.owner = m.owner AND s.task_id = m.task_id
    RETURNING * INTO r;
    RETURN task._market_message_json(r);
END
$$;
COMMENT ON FUNCTION task.task_message(task.task_id, text) IS
    'Client, agent or Operations: adds a message (up to 64 KiB of text) to the task''s conversation, visible to both parties. Returns it with its number.';

CREATE FUNCTION task.task_messages(id task.task_id, msg_limit integer DEFAULT 50, msg_offset integer DEFAULT 0)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_messages.id, false);
BEGIN
    IF task_messages.msg_limit IS NULL OR task_messages.msg_limit NOT BETWEEN 1 AND 1000
       OR task_messages.msg_offset IS NULL OR task_messages.msg_offset < 0 THEN
        RAISE EXCEPTION 'msg_limit must be between 1 and 1000 and msg_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Page through long conversations with msg_offset.';
    END IF;
    RETURN QUERY
    SELECT task._market_message_json(x) FROM task.market_message x
     WHERE x.owner = m.owner AND x.task_id = m.task_id
     ORDER BY x.seq LIMIT task_messages.msg_limit OFFSET task_messages.msg_offset;
END
$$;
COMMENT ON FUNCTION task.task_messages(task.task_id, integer, integer) IS
    'The conversation of a hired task, oldest first (msg_limit 1..1000, default 50; msg_offset). The client, the agent, Operations and the owning service.';

-- ---------------------------------------------------------------- artifacts
CREATE FUNCTION task._market_artifact_json(x task.market_artifact) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'artifact', x.seq,
        'artifact_type', x.artifact_type,
        'name', x.name,
        'media_type', x.media_type,
        'size', octet_length(x.content),
        'at', task._iso(x.at),
        'by', task._actor_json(x.by),
        'download_url', coalesce(nullif(current_setting('task.artifact_uri_prefix', true), ''), '/rpc/task_artifact')
                        || '?id=' || x.task_id::text || '&artifact=' || x.seq))
$$;
COMMENT ON FUNCTION task._market_artifact_json(task.market_artifact) IS
    'Internal: an artifact''s metadata with its download URL (setting task.artifact_uri_prefix, default /rpc/task_artifact).';

CREATE FUNCTION task.task_artifacts_add(id task.task_id, artifacts jsonb) RETURNS SETOF jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_artifacts_add.id, false);
    mk task.market := task._market();
    e jsonb;
    i integer := 0;
    ty text;
    nm text;
    mt text;
    body bytea;
    base integer;
    batch task.market_artifact[] := '{}';
    r task.market_artifact;
BEGIN
    IF task._market_role(m) NOT IN ('client', 'agent') THEN
        PERFORM task._market_denied(m, 'add artifacts to', 'the assigned agent or the hiring client');
    END IF;
    IF task_artifacts_add.artifacts IS NULL OR jsonb_typeof(task_artifacts_add.artifacts) <> 'array'
       OR jsonb_array_length(task_artifacts_add.artifacts) = 0 THEN
        RAISE EXCEPTION 'artifacts must be a non-empty JSON array'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass [{"artifact_type": "code_block", "name": "...", "content": "..."}].';
    END IF;
    IF jsonb_array_length(task_artifacts_add.artifacts) > 50 THEN
        RAISE EXCEPTION 'too many artifacts: % in one request', jsonb_array_length(task_artifacts_add.artifacts)
            USING ERRCODE = 'program_limit_exceeded', HINT = 'Send at most 50 artifacts a request; split the rest.';
    END IF;
    -- validate every artifact before writing any
    FOR e IN SELECT x FROM jsonb_array_elements(task_artifacts_add.artifacts) x LOOP
        i := i + 1;
        IF jsonb_typeof(e) <> 'object' THEN
            RAISE EXCEPTION 'artifact % is not a JSON object', i
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Each artifact is {"artifact_type", "name", "content"}.';
        END IF;
        ty := e ->> 'artifact_type';
        IF ty IS NULL OR ty NOT IN ('code_block', 'markdown', 'html', 'file', 'diff', 'image', 'json', 'link', 'text') THEN
            RAISE EXCEPTION 'artifact %: unknown artifact_type "%"', i, left(coalesce(ty, 'null'), 40)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use one of code_block, markdown, html, file, diff, image, json, link, text.';
        END IF;
        nm := e ->> 'name';
        IF nm IS NOT NULL THEN
            PERFORM task._check_text('artifact name', nm, 255, false);
        END IF;
        IF e -> 'content' IS NULL OR (ty <> 'json' AND jsonb_typeof(e -> 'content') <> 'string') THEN
            RAISE EXCEPTION 'artifact %: content must be a string', i
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Text types carry text; file and image carry base64; json carries any JSON value.';
        END IF;
        mt := e ->> 'media_type';
        IF mt IS NOT NULL AND mt !~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$' THEN
            RAISE EXCEPTION 'artifact %: invalid media_type "%"', i, left(mt, 40)
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a media type such as image/png.';
        END IF;
        IF ty IN ('file', 'image') THEN
            BEGIN
                body := decode(e ->> 'content', 'base64');
            EXCEPTION WHEN invalid_parameter_value THEN
                RAISE EXCEPTION 'artifact %: content of a % must be base64', i, ty
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Encode the bytes in base64.';
            END;
            IF ty = 'image' AND (mt IS NULL OR mt !~ '^image/') THEN
                RAISE EXCEPTION 'artifact %: an image needs an image/* media_type', i
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass "media_type": "image/png" (or jpeg, gif, ...).';
            END IF;
        ELSIF ty = 'json' THEN
            IF jsonb_typeof(e -> 'content') = 'string' THEN
                BEGIN
                    body := convert_to(((e ->> 'content')::jsonb)::text, 'UTF8');
                EXCEPTION WHEN invalid_text_representation THEN
                    RAISE EXCEPTION 'artifact %: content of a json artifact is not valid JSON', i
                        USING ERRCODE = 'invalid_parameter_value', HINT = 'Send a JSON value, or a string holding one.';
                END;
            ELSE
                body := convert_to((e -> 'content')::text, 'UTF8');
            END IF;
        ELSE
            IF ty = 'link' AND (e ->> 'content') !~ '^https?://[^[:space:]]+$' THEN
                RAISE EXCEPTION 'artifact %: a link must be an http or https URL', i
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass "content": "https://...".';
            END IF;
            body := convert_to(e ->> 'content', 'UTF8');
        END IF;
        IF octet_length(body) > mk.max_artifact_bytes THEN
            RAISE EXCEPTION 'artifact % is too large: % bytes', i, octet_length(body)
                USING ERRCODE = 'program_limit_exceeded',
                      DETAIL = format('The limit is %s bytes.', mk.max_artifact_bytes),
                      HINT = 'Send a link to large content instead.';
        END IF;
        batch := batch || ROW(m.owner, m.task_id, i, now(), task.current_actor(), ty, nm,
                            coalesce(mt, CASE ty WHEN 'code_block' THEN 'text/plain' WHEN 'markdown' THEN 'text/markdown'
                                                 WHEN 'html' THEN 'text/html' WHEN 'file' THEN 'application/octet-stream'
                                                 WHEN 'diff' THEN 'text/x-diff' WHEN 'json' THEN 'application/json'
                                                 WHEN 'link' THEN 'text/uri-list' ELSE 'text/plain' END),
                            body)::task.market_artifact;
    END LOOP;
    -- numbered per task: one writer at a time
    PERFORM FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id FOR NO KEY UPDATE;
    SELECT coalesce(max(s.seq), 0) INTO base FROM task.market_artifact s WHERE s.owner = m.owner AND s.task_id = m.task_id;
    FOREACH r IN ARRAY batch LOOP
        r.seq := base + r.seq;
        INSERT INTO task.market_artifact VALUES (r.*);
        RETURN NEXT task._market_artifact_json(r);
    END LOOP;
END
$$;
COMMENT ON FUNCTION task.task_artifacts_add(task.task_id, jsonb) IS
    'Agent or client: adds up to 50 artifacts to a hired task in one all-or-nothing call. Each is {artifact_type, name, content, media_type}: artifact_type one of code_block, markdown, html, file, diff, image, json, link, text; content text (base64 for file and image, any JSON for json, an http(s) URL for link), at most the marketplace''s max_artifact_bytes. Returns their metadata with download URLs.';

CREATE FUNCTION task.task_artifacts(id task.task_id) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_artifacts.id, false);
BEGIN
    RETURN QUERY
    SELECT task._market_artifact_json(x) FROM task.market_artifact x
     WHERE x.owner = m.owner AND x.task_id = m.task_id ORDER BY x.seq;
END
$$;
COMMENT ON FUNCTION task.task_artifacts(task.task_id) IS
    'The artifacts of a hired task, in order: number, type, name, media type, size, author, time and download URL (content not included).';

CREATE FUNCTION task.task_artifact(id task.task_id, artifact integer)
    RETURNS TABLE (name text, media_type text, content bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_artifact.id, false);
BEGIN
    RETURN QUERY
    SELECT x.name, x.media_type, x.content FROM task.market_artifact x
     WHERE x.owner = m.owner AND x.task_id = m.task_id AND x.seq = task_artifact.artifact;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'artifact % of task % not found', task_artifact.artifact, task_artifact.id
            USING ERRCODE = 'no_data_found', HINT = 'task_artifacts(id) lists the artifacts of a task.';
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_artifact(task.task_id, integer) IS
    'One artifact''s content with its name and media type (the download behind download_url).';

-- ---------------------------------------------------------------- payments
CREATE FUNCTION task.task_payment(id task.task_id, amount numeric, kind text DEFAULT 'tip', memo text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_payment.id, true);
    amt bigint;
BEGIN
    IF task._market_role(m) <> 'client' THEN
        PERFORM task._market_denied(m, 'pay for', 'the hiring client');
    END IF;
    IF task_payment.kind IS NULL OR task_payment.kind NOT IN ('tip', 'bonus') THEN
        RAISE EXCEPTION 'kind must be tip or bonus, not %', coalesce(task_payment.kind, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Payments beyond the price are tips or bonuses.';
    END IF;
    amt := task._market_amount('amount', task_payment.amount);
    PERFORM task._check_text('memo', task_payment.memo, 1024, false);
    PERFORM task._market_state(m, 'pay for', '{held,review,disputed,released,settled}');
    PERFORM task._ledger_post(task_payment.kind, m.owner, m.task_id, task_payment.memo,
                              ARRAY[task._ledger_wallet(m.client, m.currency), task._ledger_wallet(m.agent, m.currency)],
                              ARRAY[-amt, amt]);
    RETURN task.task_payments(task_payment.id);
END
$$;
COMMENT ON FUNCTION task.task_payment(task.task_id, numeric, text, text) IS
    'Client: pays the assigned agent beyond the price (kind tip or bonus; amount in whole minor units) from its wallet, in one ledger transaction. Not for a refunded task. Returns task_payments.';

CREATE FUNCTION task.task_payments(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_payments.id, false);
BEGIN
    RETURN jsonb_build_object(
        'task', m.task_id::text,
        'currency', m.currency,
        'max_price', m.max_price,
        'price', m.price,
        'escrow', task._strip_nulls(jsonb_build_object(
            'state', m.escrow,
            'held', (SELECT e.balance FROM task.ledger_account e WHERE e.id = m.escrow_account),
            'review_until', task._iso(m.review_until))),
        'paid_to_agents', coalesce((SELECT sum(n.amount) FROM task.ledger_txn x
                                      JOIN task.ledger_entry n ON n.txn = x.id
                                      JOIN task.ledger_account l ON l.id = n.ledger_account
                                     WHERE x.task_id = m.task_id AND l.kind = 'wallet' AND l.account <> m.client
                                       AND n.amount > 0), 0),
        'returned_to_client', coalesce((SELECT sum(n.amount) FROM task.ledger_txn x
                                          JOIN task.ledger_entry n ON n.txn = x.id
                                          JOIN task.ledger_account l ON l.id = n.ledger_account
                                         WHERE x.task_id = m.task_id AND l.kind = 'wallet' AND l.account = m.client
                                           AND n.amount > 0), 0),
        'transactions', coalesce((SELECT jsonb_agg(task._strip_nulls(jsonb_build_object(
                'id', x.id, 'at', task._iso(x.at), 'kind', x.kind, 'by', x.by, 'memo', x.memo,
                'entries', (SELECT jsonb_agg(jsonb_build_object(
                                'account', CASE l.kind WHEN 'wallet' THEN task.account_text(l.account)
                                                       ELSE l.kind END,
                                'amount', n.amount) ORDER BY n.leg)
                              FROM task.ledger_entry n JOIN task.ledger_account l ON l.id = n.ledger_account
                             WHERE n.txn = x.id))) ORDER BY x.id)
            FROM task.ledger_txn x WHERE x.task_id = m.task_id), '[]'::jsonb));
END
$$;
COMMENT ON FUNCTION task.task_payments(task.task_id) IS
    'Payment status and history of a hired task: price, escrow state and amount held, what went to the agents and back to the client, and every ledger transaction with its entries (account, amount).';

-- ---------------------------------------------------------------- housekeeping
-- Called by task_maintain: releases escrows whose review window passed,
-- applies passed dispute deadlines. Returns how many tasks it moved.
CREATE FUNCTION task._market_maintain(max_rows integer) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    m task.market_task;
    n integer := 0;
BEGIN
    IF NOT EXISTS (SELECT FROM task.market WHERE id) THEN
        RETURN 0;
    END IF;
    FOR r IN
        SELECT x.owner, x.task_id FROM task.market_task x
         WHERE x.escrow = 'review' AND x.review_until <= now()
         ORDER BY x.review_until LIMIT max_rows
    LOOP
        PERFORM FROM task.task t WHERE t.owner = r.owner AND t.id = r.task_id FOR UPDATE;
        SELECT * INTO m FROM task.market_task x WHERE x.owner = r.owner AND x.task_id = r.task_id FOR UPDATE;
        IF m.escrow = 'review' AND m.review_until <= now() THEN
            PERFORM task._market_settle(m, 'released', m.price, 'review window passed');
            n := n + 1;
        END IF;
    END LOOP;
    FOR r IN
        SELECT d.owner, d.task_id FROM task.market_dispute d
         WHERE d.closed_at IS NULL AND d.deadline <= now()
         ORDER BY d.deadline LIMIT max_rows
    LOOP
        PERFORM FROM task.task t WHERE t.owner = r.owner AND t.id = r.task_id FOR UPDATE;
        SELECT * INTO m FROM task.market_task x WHERE x.owner = r.owner AND x.task_id = r.task_id FOR UPDATE;
        IF task._market_dispute_expire(m) THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._market_maintain(integer) IS
    'Internal (task_maintain): releases escrows whose review window has passed and applies passed dispute deadlines; at most max_rows of each.';

-- ---------------------------------------------------------------- invariants
CREATE FUNCTION task.task_market_check() RETURNS TABLE (invariant text, detail text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('check the ledger');
    RETURN QUERY
    -- every transaction balances, per currency
    SELECT 'transaction balances', format('txn %s sums to %s %s', n.txn, sum(n.amount), n.currency)
      FROM task.ledger_entry n GROUP BY n.txn, n.currency HAVING sum(n.amount) <> 0
    UNION ALL
    -- every transaction has legs
    SELECT 'transaction has entries', format('txn %s has no entries', x.id)
      FROM task.ledger_txn x WHERE NOT EXISTS (SELECT FROM task.ledger_entry n WHERE n.txn = x.id)
    UNION ALL
    -- the sum over all entries is zero, per currency
    SELECT 'ledger sums to zero', format('entries in %s sum to %s', n.currency, sum(n.amount))
      FROM task.ledger_entry n GROUP BY n.currency HAVING sum(n.amount) <> 0
    UNION ALL
    -- entries carry their account's currency
    SELECT 'entry currency', format('txn %s leg %s is %s on a %s account', n.txn, n.leg, n.currency, l.currency)
      FROM task.ledger_entry n JOIN task.ledger_account l ON l.id = n.ledger_account WHERE n.currency <> l.currency
    UNION ALL
    -- balances are the sums of their entries
    SELECT 'balance is the sum of entries', format('%s account %s: balance %s, entries %s', l.kind, l.id, l.balance, coalesce(s.total, 0))
      FROM task.ledger_account l
      LEFT JOIN (SELECT n.ledger_account, sum(n.amount) AS total FROM task.ledger_entry n GROUP BY 1) s ON s.ledger_account = l.id
     WHERE l.balance <> coalesce(s.total, 0)
    UNION ALL
    -- nothing but funding is negative
    SELECT 'no negative balance', format('%s account %s: %s', l.kind, l.id, l.balance)
      FROM task.ledger_account l WHERE l.kind <> 'funding' AND l.balance < 0
    UNION ALL
    -- an escrow holds max_price while held, nothing once settled
    SELECT 'escrow amount', format('task %s: escrow %s holds %s, max_price %s', m.task_id, m.escrow, l.balance, m.max_price)
      FROM task.market_task m JOIN task.ledger_account l ON l.id = m.escrow_account
     WHERE l.balance <> CASE WHEN m.escrow IN ('held', 'review', 'disputed') THEN m.max_price ELSE 0 END
    UNION ALL
    -- released, refunded or settled exactly once, and held by exactly one hold
    SELECT 'escrow settled exactly once', format('task %s: escrow %s, %s holds, %s settlements', m.task_id, m.escrow, c.holds, c.settlements)
      FROM task.market_task m
     CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE x.kind = 'hold') AS holds,
                                count(*) FILTER (WHERE x.kind IN ('release', 'refund', 'split')) AS settlements,
                                count(*) FILTER (WHERE x.kind = CASE m.escrow WHEN 'released' THEN 'release'
                                                                              WHEN 'refunded' THEN 'refund'
                                                                              WHEN 'settled' THEN 'split' END) AS matching
                           FROM task.ledger_txn x WHERE x.task_id = m.task_id) c
     WHERE c.holds <> 1
        OR c.settlements <> CASE WHEN m.escrow IN ('held', 'review', 'disputed') THEN 0 ELSE 1 END
        OR (m.escrow IN ('released', 'refunded', 'settled') AND c.matching <> 1)
    UNION ALL
    -- the escrow follows the task: a final task has no plain "held" escrow,
    -- review only after completion, a refund only after failure or cancel
    SELECT 'escrow follows the task', format('task %s is %s, escrow %s', m.task_id, t.status, m.escrow)
      FROM task.market_task m JOIN task.task t ON t.owner = m.owner AND t.id = m.task_id
     WHERE (m.escrow = 'held' AND t.status IN ('completed', 'failed', 'cancelled'))
        OR (m.escrow IN ('review', 'released') AND t.status <> 'completed')
        OR (m.escrow = 'refunded' AND t.status NOT IN ('failed', 'cancelled'))
        OR (m.escrow = 'settled' AND t.status NOT IN ('completed', 'failed', 'cancelled'))
    UNION ALL
    -- a dispute is open exactly while the escrow is disputed
    SELECT 'dispute holds the escrow', format('task %s: escrow %s, dispute %s', m.task_id, m.escrow,
                                               CASE WHEN d.task_id IS NULL THEN 'none' WHEN d.closed_at IS NULL THEN 'open' ELSE 'closed' END)
      FROM task.market_task m LEFT JOIN task.market_dispute d ON d.owner = m.owner AND d.task_id = m.task_id
     WHERE (m.escrow = 'disputed') <> (d.task_id IS NOT NULL AND d.closed_at IS NULL)
        OR (m.escrow = 'settled' AND (d.task_id IS NULL OR d.agent_amount IS NULL))
    UNION ALL
    -- the access list is exactly the client and the current agent
    SELECT 'access is client and agent', format('task %s: access %s', m.task_id,
                                                 (SELECT string_agg(task.account_text(a.account), ',' ORDER BY a.account)
                                                    FROM task.task_access a WHERE a.owner = m.owner AND a.task_id = m.task_id))
      FROM task.market_task m
     WHERE (SELECT array_agg(a.account ORDER BY a.account) FROM task.task_access a
             WHERE a.owner = m.owner AND a.task_id = m.task_id)
           IS DISTINCT FROM (SELECT array_agg(DISTINCT v ORDER BY v) FROM unnest(ARRAY[m.client, m.agent]) v)
    UNION ALL
    -- every escrow account belongs to its hired task
    SELECT 'escrow account of a hired task', format('escrow account %s (task %s) holds %s', l.id, l.task_id, l.balance)
      FROM task.ledger_account l
     WHERE l.kind = 'escrow'
       AND NOT EXISTS (SELECT FROM task.market_task m WHERE m.escrow_account = l.id AND m.task_id = l.task_id);
END
$$;
COMMENT ON FUNCTION task.task_market_check() IS
    'Verifies every money invariant and returns the violations (none when all hold): each transaction balances, the ledger sums to zero per currency, balances equal their entries, no balance but funding is negative, each escrow holds max_price until it is released, refunded or settled exactly once, the escrow follows the task status, a dispute holds it, and a hired task is visible to its client and agent only. System or Operations only.';

-- the marketplace's internal helpers: callable by nobody but the owner, as
-- 90_access.sql does for every "_" function at install
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'task'::regnamespace
           AND (p.proname LIKE '\_market%' OR p.proname LIKE '\_ledger%')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

--
-- Access to the marketplace's tables (22_market_tables.sql): grants and
-- row-level security, as 90_access.sql does for the core. The SQL API
-- (87_market.sql, SECURITY DEFINER) checks each caller itself; these rules
-- govern direct reads. Nobody but the API writes. Operations read
-- everything; the owning service reads its hired tasks and the agent
-- directory; clients and agents read nothing directly (the API serves them:
-- task_get, task_messages, task_artifacts, task_payments, task_agents,
-- task_market_balance).
-- Ledger transactions and entries: Operations only (task_payments shows a
-- task's parties theirs).

GRANT SELECT ON task.market, task.market_agent, task.ledger_account, task.ledger_txn, task.ledger_entry,
                task.market_task, task.market_assignment, task.market_dispute, task.market_dispute_event,
                task.market_message, task.market_artifact TO task_operations;

GRANT SELECT ON task.market_agent, task.market_task, task.market_assignment, task.market_dispute,
                task.market_dispute_event, task.market_message, task.market_artifact TO task_service;

-- Vendors and clients (agents and hiring clients) read through the API
-- only, as for the core tables (90_access.sql, docs/THREAT-MODEL.md): a
-- policy is a filter the caller's own conditions run before, so EXPLAIN
-- ANALYZE would show that hidden rows exist.

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['market', 'market_agent', 'ledger_account', 'ledger_txn', 'ledger_entry', 'market_task',
                             'market_assignment', 'market_dispute', 'market_dispute_event', 'market_message',
                             'market_artifact'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE task.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE task.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON task.%I FOR SELECT TO task_operations USING ((SELECT task.current_is_operations()))',
                                  t || '_operations', t);
    END LOOP;
END
$$;

CREATE POLICY market_agent_directory ON task.market_agent FOR SELECT TO task_service
    USING ((SELECT task.current_service()) IS NOT NULL);

CREATE POLICY market_task_owner ON task.market_task FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

-- the side tables of a hired task: the owning service (its client and
-- current agent read them through the API)
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['market_assignment', 'market_dispute', 'market_dispute_event', 'market_message',
                             'market_artifact'] LOOP
        EXECUTE pg_catalog.format('CREATE POLICY %I ON task.%I FOR SELECT TO task_service USING (owner = (SELECT task.current_service()))',
                                  t || '_owner', t);
    END LOOP;
END
$$;

REVOKE ALL ON task.market, task.market_agent, task.ledger_account, task.ledger_txn, task.ledger_entry,
              task.market_task, task.market_assignment, task.market_dispute, task.market_dispute_event,
              task.market_message, task.market_artifact FROM PUBLIC;

REVOKE ALL ON SEQUENCE task.ledger_account_id_seq, task.ledger_txn_id_seq FROM PUBLIC;

-- ---- sql/update/70_scaleout.sql
--
-- A node of a sharded installation (docs/SCALE-OUT.md): its number, the
-- listing a router merges, and the directory a router copies from node 0
-- to the others. A database that never ran task.node_setup is node 0, so
-- a single-node install is the first node of a cluster as it stands.
--
-- Node n draws task serials from its own block, n * 10^10 + 1 up to
-- (n + 1) * 10^10 - 1: ids stay TSK-OOOO-SSSS-SSSS-SSSS and unique across
-- nodes, and the first two digits of the serial name the node that holds
-- the task, so a router finds it from the id alone. The number lives in
-- the range of task.task_serial_seq; no table holds it.

-- ---------------------------------------------------------------- the node number
CREATE FUNCTION task.node_number() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT (greatest(s.min_value, coalesce(s.last_value, s.min_value)) / 10000000000)::integer
      FROM pg_catalog.pg_sequences s
     WHERE s.schemaname = 'task' AND s.sequencename = 'task_serial_seq'
$$;
COMMENT ON FUNCTION task.node_number() IS
    'The number of this node in a sharded installation (0 to 99): the first two digits of the serial of every task id it hands out. 0 on a database that never ran task.node_setup.';

CREATE FUNCTION task.node_setup(number integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    lo bigint := node_setup.number::bigint * 10000000000 + 1;
    hi bigint := node_setup.number::bigint * 10000000000 + 9999999999;
    last bigint;
BEGIN
    PERFORM task._require_system('set up a node');
    IF node_setup.number IS NULL OR node_setup.number NOT BETWEEN 0 AND 99 THEN
        RAISE EXCEPTION 'a node number is between 0 and 99'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Number the nodes of a cluster 0, 1, 2, ... in the order the router lists them.';
    END IF;
    SELECT s.last_value INTO last FROM pg_catalog.pg_sequences s
     WHERE s.schemaname = 'task' AND s.sequencename = 'task_serial_seq';
    IF last IS NOT NULL AND last NOT BETWEEN lo AND hi AND EXISTS (SELECT FROM task.task) THEN
        RAISE EXCEPTION 'this database already holds tasks of node %', last / 10000000000
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its last task serial is %s; node %s hands out %s to %s.', last, node_setup.number, lo, hi),
                  HINT = 'Give a database that holds tasks the number it already has (task.node_number()), or set up an empty one.';
    END IF;
    EXECUTE format('ALTER SEQUENCE task.task_serial_seq MINVALUE %s MAXVALUE %s START WITH %s', lo, hi, lo)
        || CASE WHEN last IS NULL OR last NOT BETWEEN lo AND hi THEN format(' RESTART WITH %s', lo) ELSE '' END;
    RETURN node_setup.number;
END
$$;
COMMENT ON FUNCTION task.node_setup(integer) IS
    'Makes this database node NUMBER (0 to 99) of a sharded installation: its task serials come from NUMBER * 10^10 + 1 on, so task ids stay unique across nodes and name their node. Refused when the database holds tasks of another number. Run it again after restoring a node from pg_dump. Superuser only.';

-- ---------------------------------------------------------------- listing
-- One node's part of a router's task_list: the caller's first
-- list_limit + list_offset tasks, as task_list answers them, with the keys
-- the router merges on (status_at DESC, id DESC, the order of task_list).
CREATE FUNCTION task.node_list(
    status      task.status DEFAULT NULL,
    queue       text DEFAULT NULL,
    code        text DEFAULT NULL,
    object_id   text DEFAULT NULL,
    parent      task.task_id DEFAULT NULL,
    since       timestamptz DEFAULT NULL,
    list_limit  integer DEFAULT 50,
    list_offset integer DEFAULT 0)
    RETURNS TABLE (status_at timestamptz, id task.task_id, task jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    want bigint;
    got bigint := 0;
    page integer;
    n bigint;
BEGIN
    IF list_limit IS NULL OR list_limit NOT BETWEEN 1 AND 1000 OR list_offset IS NULL OR list_offset < 0 THEN
        -- the API's own error
        PERFORM task.task_list(list_limit => node_list.list_limit, list_offset => node_list.list_offset);
    END IF;
    want := node_list.list_limit::bigint + node_list.list_offset;
    -- task_list pages at most 1000 rows; a STABLE function sees one snapshot
    LOOP
        page := least(1000, want - got)::integer;
        RETURN QUERY
        SELECT t.status_at, t.id, l.j
          FROM task.task_list(node_list.status, node_list.queue, node_list.code, node_list.object_id,
                              node_list.parent, node_list.since, page, got::integer) AS l(j)
          JOIN task.task t ON t.id = (l.j->>'id')::task.task_id AND t.owner = task.task_id_owner((l.j->>'id')::task.task_id);
        GET DIAGNOSTICS n = ROW_COUNT;
        got := got + n;
        EXIT WHEN n < page OR got >= want;
    END LOOP;
END
$$;
COMMENT ON FUNCTION task.node_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer) IS
    'One node''s part of a router''s task_list: the first list_limit + list_offset tasks task_list gives the caller here, with status_at and id, the keys the router merges on. Same arguments, errors and visibility as task_list.';

-- ---------------------------------------------------------------- the directory
-- Services, accounts, logins and queues are defined on node 0 and copied
-- to the other nodes by the router (task_router.directory_sync): export
-- there, apply here. Logins travel by role name (a role is created on
-- every node by the operator; oids differ between nodes).
CREATE FUNCTION task._node_directory() RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('export the directory');
    RETURN jsonb_build_object(
        'node', task.node_number(),
        'services', coalesce((SELECT jsonb_agg(to_jsonb(s) ORDER BY s.id) FROM task.service s), '[]'),
        'accounts', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.id) FROM task.account a), '[]'),
        'logins', coalesce((SELECT jsonb_agg(jsonb_build_object('role', l.role::text,
                                'identity', coalesce(task.service_text(l.service), task.account_text(l.account)))
                              ORDER BY l.role::text) FROM task.login l), '[]'),
        'queues', coalesce((SELECT jsonb_agg(to_jsonb(q) ORDER BY q.name) FROM task.queue q), '[]'));
END
$$;
COMMENT ON FUNCTION task._node_directory() IS
    'Internal: the directory of this node (services, accounts, logins by role name, queues) as JSON, for task_router.directory_sync. Superuser only.';

CREATE FUNCTION task._node_directory_apply(directory jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    l record;
    changed integer := 0;
    n integer;
BEGIN
    PERFORM task._require_system('apply a directory');
    INSERT INTO task.service AS x
    SELECT * FROM jsonb_populate_recordset(NULL::task.service, directory->'services')
    ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, namespace = excluded.namespace, revision = excluded.revision, created_at = excluded.created_at
     WHERE (x.*) IS DISTINCT FROM (excluded.*);
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    PERFORM setval('task.service_id_seq', s.id) FROM (SELECT max(id) AS id FROM task.service) s WHERE s.id IS NOT NULL;

    INSERT INTO task.account AS x
    SELECT * FROM jsonb_populate_recordset(NULL::task.account, directory->'accounts')
    ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, type = excluded.type, status = excluded.status, revision = excluded.revision,
           created_at = excluded.created_at
     WHERE (x.*) IS DISTINCT FROM (excluded.*);
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    PERFORM setval('task.account_id_seq', a.id) FROM (SELECT max(id) AS id FROM task.account) a WHERE a.id IS NOT NULL AND a.id > 0;

    INSERT INTO task.queue AS x
    SELECT * FROM jsonb_populate_recordset(NULL::task.queue, directory->'queues')
    ON CONFLICT (name) DO UPDATE
       SET owner = excluded.owner, paused = excluded.paused, lease = excluded.lease,
           max_attempts = excluded.max_attempts, backoff_base = excluded.backoff_base,
           backoff_max = excluded.backoff_max, retention = excluded.retention, created_at = excluded.created_at
     WHERE (x.*) IS DISTINCT FROM (excluded.*);
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;

    -- logins: grant what is new or different, revoke what node 0 no longer has
    FOR l IN
        SELECT d.role, d.identity
          FROM jsonb_to_recordset(directory->'logins') AS d(role text, identity text)
         WHERE NOT EXISTS (SELECT FROM task.login x
                            WHERE x.role::text = d.role
                              AND coalesce(task.service_text(x.service), task.account_text(x.account)) = d.identity)
    LOOP
        IF to_regrole(l.role) IS NULL THEN
            RAISE EXCEPTION 'role % does not exist on node %', l.role, task.node_number()
                USING ERRCODE = 'undefined_object',
                      HINT = 'Create every login role on every node and on the router, then run task_router.directory_sync() again.';
        END IF;
        PERFORM task.task_login_grant(l.role::regrole, l.identity);
        changed := changed + 1;
    END LOOP;
    FOR l IN
        SELECT x.role FROM task.login x
         WHERE NOT EXISTS (SELECT FROM jsonb_to_recordset(directory->'logins') AS d(role text) WHERE d.role = x.role::text)
    LOOP
        PERFORM task.task_login_revoke(l.role);
        changed := changed + 1;
    END LOOP;
    RETURN jsonb_build_object('node', task.node_number(), 'changed', changed);
END
$$;
COMMENT ON FUNCTION task._node_directory_apply(jsonb) IS
    'Internal: makes this node''s services, accounts, logins and queues those of a directory exported by task._node_directory on node 0 (inserts and updates; logins no longer there are revoked). Returns the node number and how many rows changed. Superuser only.';

REVOKE ALL ON FUNCTION task._node_directory() FROM PUBLIC;

REVOKE ALL ON FUNCTION task._node_directory_apply(jsonb) FROM PUBLIC;

-- ---- sql/update/80_features.sql
--
-- Features of issue 14 that do not touch the claim path: status
-- descriptions and run_at in the task JSON, the 10-day listing window,
-- inline logs in task_get, access list changes, unique-while-active keys
-- and debounce, task_wait_many, per-queue NOTIFY on final statuses, bulk
-- operations, reschedule without consuming an attempt, schedules in a new
-- queue of the caller's namespace. See docs/FEATURES.md.

-- ---------------------------------------------------------------- tables
ALTER TABLE task.task ADD COLUMN unique_key text;
COMMENT ON COLUMN task.task.idempotency_key IS 'Request key (task_create(idempotency_key => ...)): a repeat returns this task for as long as it exists.';
COMMENT ON COLUMN task.task.unique_key IS 'Unique-while-active key (task_create(unique_key => ...)): no second unfinished task of the service has it.';
CREATE UNIQUE INDEX task_unique_active_idx ON task.task (owner, unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('blocked', 'queued', 'processing', 'rescheduled');

-- ---------------------------------------------------------------- the task JSON
CREATE OR REPLACE FUNCTION task.status_description(status task.status) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE status
        WHEN 'blocked' THEN 'Task is blocked until the tasks it depends on complete or it is unblocked'
        WHEN 'queued' THEN 'Task request received and is being queued for processing'
        WHEN 'processing' THEN 'Task is being processed'
        WHEN 'completed' THEN 'Task completed successfully; its result is available'
        WHEN 'failed' THEN 'Task failed; see its error'
        WHEN 'rescheduled' THEN 'Task is waiting to run again at its scheduled time (run_at)'
        WHEN 'cancelled' THEN 'Task was cancelled'
    END;
COMMENT ON FUNCTION task.status_description(task.status) IS
    'A sentence describing a status, as in the status_description field of the JSON Task object.';

CREATE OR REPLACE FUNCTION task._task_json(t task.task) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'status_description', task.status_description(t.status),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        -- a parent the caller may not see is left out
        'parent', CASE WHEN t.parent IS NOT NULL AND task._visible(t.owner, t.parent) THEN
            task._strip_nulls(jsonb_build_object('id', t.parent::text,
                'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent))) END,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'run_at', task._iso(t.run_at),
        'owner', (SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
                    FROM task.service s WHERE s.id = t.owner),
        -- the account directory is for Operations: the owning service sees
        -- the ids it put on the list, an account itself only
        'access', coalesce(CASE
            WHEN task.current_is_operations() THEN
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status) ORDER BY a.id)
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            WHEN task.current_account() IS NULL THEN
                (SELECT jsonb_agg(jsonb_build_object('id', task.account_text(x.account)) ORDER BY x.account)
                   FROM task.task_access x
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            ELSE
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status))
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id AND x.account = task.current_account())
            END, '[]'::jsonb),
        'audit', task._strip_nulls(jsonb_build_object(
            'created', task._stamp(t.created_at, t.created_by),
            'updated', task._stamp(t.updated_at, t.updated_by),
            'started', task._stamp(t.started_at, t.started_by),
            'completed', task._stamp(t.completed_at, t.completed_by),
            'failed', task._stamp(t.failed_at, t.failed_by),
            'rescheduled', task._stamp(t.rescheduled_at, t.rescheduled_by),
            'cancelled', task._stamp(t.cancelled_at, t.cancelled_by))),
        -- hired tasks only (code market.*): no lookup for every other task
        'marketplace', CASE WHEN t.code LIKE 'market.%' THEN task._market_json(t.owner, t.id) END
    ))
$$;
COMMENT ON FUNCTION task._task_json(task.task) IS 'Internal: a task row as the JSON Task object of seed 001, with nothing the caller may not see: no parent it may not see, an access list of ids for the owning service and of itself for an account, no account names but its own in the audit (Operations see all).';

-- ---------------------------------------------------------------- reads
CREATE OR REPLACE FUNCTION task._check_log_page(log_limit integer, log_offset integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF log_limit IS NULL OR log_limit NOT BETWEEN 1 AND 1000 OR log_offset IS NULL OR log_offset < 0 THEN
        RAISE EXCEPTION 'log_limit must be between 1 and 1000 and log_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long logs with log_offset.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_log_page(integer, integer) IS 'Internal: the 22023 error of a log page out of range (log_limit 1..1000, log_offset at least 0).';

CREATE OR REPLACE FUNCTION task._log_entries(t task.task, log_limit integer, log_offset integer)
    RETURNS TABLE (at timestamptz, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
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
COMMENT ON FUNCTION task._log_entries(task.task, integer, integer) IS
    'Internal: one page of a task''s log, newest first (stored entries and those derived from the audit columns); the caller checks who may read it.';

CREATE OR REPLACE FUNCTION task._may_read_logs(owner integer) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(task.current_is_operations() OR _may_read_logs.owner = task.current_service(), false)
$$;
COMMENT ON FUNCTION task._may_read_logs(integer) IS 'Internal: whether the caller may read the logs of a task of this owner (Operations, the owning service).';

-- task_get with log_limit and log_offset (the old one was replaced by
-- 30_sidechan.sql, which needed the final text already)
CREATE OR REPLACE FUNCTION task.task_get(id task.task_id, log_limit integer DEFAULT NULL, log_offset integer DEFAULT 0)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    doc jsonb;
BEGIN
    IF task_get.log_limit IS NOT NULL THEN
        PERFORM task._check_log_page(task_get.log_limit, task_get.log_offset);
    END IF;
    t := task._visible_task(task_get.id);
    doc := task._task_json(t);
    -- inline logs (seed 003's "get a task"): only for who may read them;
    -- anyone else gets the task without the key, as if they had not asked
    IF task_get.log_limit IS NOT NULL AND task._may_read_logs(t.owner) THEN
        doc := doc || jsonb_build_object('logs', coalesce((
            SELECT jsonb_agg(task._strip_nulls(jsonb_build_object(
                       'at', task._iso(l.at), 'message', l.message,
                       'errors', l.errors, 'skips', l.skips, 'success', l.success, 'total', l.total,
                       'by', task._actor_json(l.by))) ORDER BY l.ord)
              FROM task._log_entries(t, task_get.log_limit, task_get.log_offset)
                   WITH ORDINALITY AS l(at, message, errors, skips, success, total, by, ord)), '[]'::jsonb));
    END IF;
    RETURN doc;
END
$$;
COMMENT ON FUNCTION task.task_get(task.task_id, integer, integer) IS
    'The task as a JSON Task object (seed 001): id, name, revision, status, status_description, code, queue, object, description, parent, progress, eta, parameters, result, error, run_at, owner, access, audit. With log_limit (1..1000) and log_offset, a caller that may read the log (Operations, the owning service) also gets "logs": that page of task_logs, newest first, each entry {at, message, errors, skips, success, total, by}. Not found (P0002) when missing or outside the caller''s scope.';

CREATE OR REPLACE FUNCTION task.task_logs(id task.task_id, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at timestamptz, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._check_log_page(task_logs.log_limit, task_logs.log_offset);
    t := task._visible_task(task_logs.id);
    IF NOT task._may_read_logs(t.owner) THEN
        RAISE EXCEPTION 'permission denied to read the logs of task %', task_logs.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Task logs are for Operations and the owning service; use task_get for the task itself.';
    END IF;
    RETURN QUERY SELECT * FROM task._log_entries(t, task_logs.log_limit, task_logs.log_offset);
END
$$;
COMMENT ON FUNCTION task.task_logs(task.task_id, integer, integer) IS
    'The log of a task, newest first (seed 003): worker messages with counters and one "from -> to" entry per status change, creation included. Operations and the owning service only.';

DROP FUNCTION IF EXISTS task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer);
CREATE OR REPLACE FUNCTION task._list_match(t task.task, status task.status, queue text, code text, object_id text,
                                 parent task.task_id, since timestamptz, submitted_within interval,
                                 among task.task_id[])
    RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT (_list_match.status IS NULL OR t.status = _list_match.status)
       AND (_list_match.queue IS NULL OR t.queue = _list_match.queue)
       AND (_list_match.code IS NULL OR t.code = _list_match.code)
       AND (_list_match.object_id IS NULL OR t.object->>'id' = _list_match.object_id)
       AND (_list_match.parent IS NULL OR t.parent = _list_match.parent)
       AND (_list_match.since IS NULL OR t.status_at >= _list_match.since)
       AND (_list_match.submitted_within IS NULL OR (t.created_at >= now() - _list_match.submitted_within
                                                     AND t.status_at >= now() - _list_match.submitted_within))
       AND (_list_match.among IS NULL OR t.id = ANY (_list_match.among))
$$;
COMMENT ON FUNCTION task._list_match(task.task, task.status, text, text, text, task.task_id, timestamptz, interval, task.task_id[]) IS
    'Internal: whether a task passes task_list''s filters (inlined into its queries); among: only these ids (NULL: any).';
REVOKE ALL ON FUNCTION task._list_match(task.task, task.status, text, text, text, task.task_id, timestamptz, interval, task.task_id[]) FROM PUBLIC;
CREATE OR REPLACE FUNCTION task.task_list(
    status      task.status DEFAULT NULL,
    queue       text DEFAULT NULL,
    code        text DEFAULT NULL,
    object_id   text DEFAULT NULL,
    parent      task.task_id DEFAULT NULL,
    since       timestamptz DEFAULT NULL,
    list_limit  integer DEFAULT 50,
    list_offset integer DEFAULT 0,
    agent       text DEFAULT NULL,
    submitted_within interval DEFAULT '10 days')
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    acc bigint := task.current_account();
    -- agent => ...: the hired tasks assigned to that agent, read once
    among task.task_id[] := CASE WHEN task_list.agent IS NOT NULL THEN ARRAY(
        SELECT m.task_id FROM task.market_task m WHERE m.agent = task.account_number(task_list.agent)) END;
BEGIN
    IF list_limit IS NULL OR list_limit NOT BETWEEN 1 AND 1000 OR list_offset IS NULL OR list_offset < 0 THEN
        RAISE EXCEPTION 'list_limit must be between 1 and 1000 and list_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long lists with list_offset.';
    END IF;
    IF submitted_within < '0' THEN
        RAISE EXCEPTION 'submitted_within must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a window such as interval ''30 days'', or NULL for every task.';
    END IF;

    -- The window is on created_at; a status changes after the creation, so
    -- status_at >= now() - window holds for every task in it, and says so
    -- to the (owner, status_at) index: the scan stops at the window's edge
    -- however much older history the service has.
    --
    -- One static query per kind of caller, so each gets its own plan: a
    -- service walks its (owner, status_at) index, an account starts from
    -- its access list; operations sort all tasks (an operator's view: add
    -- filters, or an index on status_at if you list everything often).
    IF task.current_is_operations() THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE task._list_match(t, task_list.status, task_list.queue, task_list.code, task_list.object_id,
                                task_list.parent, task_list.since, task_list.submitted_within, among)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF svc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE t.owner = svc
           AND task._list_match(t, task_list.status, task_list.queue, task_list.code, task_list.object_id,
                                task_list.parent, task_list.since, task_list.submitted_within, among)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF acc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE (t.owner, t.id) IN (SELECT a.owner, a.task_id FROM task.task_access a WHERE a.account = acc)
           AND task._list_match(t, task_list.status, task_list.queue, task_list.code, task_list.object_id,
                                task_list.parent, task_list.since, task_list.submitted_within, among)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'Lists the tasks the caller may see as JSON Task objects, most recent status change first, among the tasks submitted (created) within submitted_within (default 10 days, seed 002; NULL for every task). Filters: status, queue, code, object_id (object.id), parent, since (status changed at or after), agent (ACC-XXXX-YYYY: hired tasks assigned to that agent); list_limit (1..1000, default 50), list_offset.';

-- ---------------------------------------------------------------- create
CREATE OR REPLACE FUNCTION task._account_numbers(access text[]) RETURNS bigint[]
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    accounts bigint[];
BEGIN
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

CREATE OR REPLACE FUNCTION task._check_same_request(t task.task, key_name text, key text, code text, queue text)
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

DROP FUNCTION IF EXISTS task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean);
CREATE OR REPLACE FUNCTION task.task_create(
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
    debounce        interval DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
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

    PERFORM task._check_new_status(task_create.status);
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
        accounts := task._account_numbers(task_create.access);
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

    IF task_create.debounce IS NOT NULL AND (task_create.unique_key IS NULL OR task_create.debounce < '0') THEN
        RAISE EXCEPTION 'debounce needs a unique_key and a window of at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass unique_key => ''...'', debounce => interval ''30 seconds''.';
    END IF;

    IF task_create.idempotency_key IS NULL AND task_create.unique_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, priority)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts,
                coalesce(task_create.priority, q.priority))
        RETURNING * INTO t;
    ELSE
        LOOP
            IF task_create.unique_key IS NOT NULL THEN
                -- unique while active: an unfinished task with the key answers
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.unique_key = task_create.unique_key
                   AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
                   FOR UPDATE;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'unique_key', task_create.unique_key,
                                                     task_create.code, task_create.queue);
                    IF task_create.debounce IS NOT NULL AND t.status IN ('queued', 'rescheduled') THEN
                        -- debounce: the pending duplicate takes this call's arguments and waits again
                        UPDATE task.task x
                           SET name = task_create.name, description = task_create.description,
                               object = task_create.object, parameters = task_create.parameters,
                               eta = task_create.eta,
                               run_at = greatest(coalesce(task_create.run_at, now()), now() + task_create.debounce)
                         WHERE x.owner = t.owner AND x.id = t.id
                        RETURNING * INTO t;
                    END IF;
                    RETURN t;
                END IF;
            END IF;
            INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                        parameters, eta, run_at, ordering_key, max_attempts,
                                        idempotency_key, unique_key, priority)
            VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                    initial, task_create.code, task_create.name, task_create.queue,
                    task_create.object, task_create.description, task_create.parent,
                    task_create.parameters, task_create.eta,
                    greatest(coalesce(task_create.run_at, now()), now() + coalesce(task_create.debounce, '0')),
                    task_create.ordering_key, task_create.max_attempts,
                    task_create.idempotency_key, task_create.unique_key,
                    coalesce(task_create.priority, q.priority))
            ON CONFLICT DO NOTHING
            RETURNING * INTO t;
            EXIT WHEN FOUND;
            IF task_create.idempotency_key IS NOT NULL THEN
                -- the same request again: answer with the task it created
                SELECT * INTO t FROM task.task x
                 WHERE x.owner = q.owner AND x.idempotency_key = task_create.idempotency_key;
                IF FOUND THEN
                    PERFORM task._check_same_request(t, 'idempotency_key', task_create.idempotency_key,
                                                     task_create.code, task_create.queue);
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
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task for as long as it exists; another code or queue is 23505), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task), priority (higher is claimed first; default: the queue''s), unique_key (a repeat returns the unfinished task holding the key; once it is final the key is free), debounce (with unique_key: the task waits that long, and a repeat while it is still queued replaces its name, description, object, parameters and eta and restarts the wait).';

-- ---------------------------------------------------------------- access list changes
CREATE OR REPLACE FUNCTION task._access_change(id task.task_id, accounts text[], adding boolean) RETURNS jsonb
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
    wanted bigint[];
    changed bigint[];
    operation text := CASE WHEN adding THEN 'add to the access list of' ELSE 'remove from the access list of' END;
BEGIN
    IF accounts IS NULL OR cardinality(accounts) = 0 THEN
        RAISE EXCEPTION 'no accounts given'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass accounts => ARRAY[''ACC-XXXX-YYYY'', ...].';
    END IF;
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(_access_change.id) AND x.id = _access_change.id
       AND task._may_write(x.owner, true)
       FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_access_change.id, operation, true);
    END IF;
    wanted := task._account_numbers(accounts);
    IF adding THEN
        WITH ins AS (
            INSERT INTO task.task_access (owner, task_id, account)
            SELECT t.owner, t.id, n FROM unnest(wanted) n
            ON CONFLICT DO NOTHING
            RETURNING account)
        SELECT array_agg(account ORDER BY account) INTO changed FROM ins;
    ELSE
        WITH del AS (
            DELETE FROM task.task_access a
             WHERE a.owner = t.owner AND a.task_id = t.id AND a.account = ANY (wanted)
            RETURNING account)
        SELECT array_agg(account ORDER BY account) INTO changed FROM del;
    END IF;
    IF changed IS NOT NULL THEN
        -- an update without new values: the trigger bumps the revision and stamps updated
        UPDATE task.task x SET status = x.status
         WHERE x.owner = t.owner AND x.id = t.id
        RETURNING * INTO t;
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id,
                format('access %s: %s', CASE WHEN adding THEN 'added' ELSE 'removed' END,
                       (SELECT string_agg(task.account_text(n), ', ' ORDER BY n) FROM unnest(changed) n)),
                task.current_actor());
    END IF;
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task._access_change(task.task_id, text[], boolean) IS
    'Internal: adds or removes accounts of a task''s access list, bumping its revision and logging the change.';

CREATE OR REPLACE FUNCTION task.task_access_add(id task.task_id, accounts text[]) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    RETURN task._access_change(id, accounts, true);
COMMENT ON FUNCTION task.task_access_add(task.task_id, text[]) IS
    'Gives accounts (ACC-XXXX-YYYY ids) access to a task and its result; returns the task as task_get does. Owning service or Operations; audited (revision, updated, a log entry). Accounts already in are left as they are.';

CREATE OR REPLACE FUNCTION task.task_access_remove(id task.task_id, accounts text[]) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    RETURN task._access_change(id, accounts, false);
COMMENT ON FUNCTION task.task_access_remove(task.task_id, text[]) IS
    'Takes accounts (ACC-XXXX-YYYY ids) off a task''s access list; returns the task as task_get does. Owning service or Operations; audited (revision, updated, a log entry). Accounts not in the list are ignored.';

-- ---------------------------------------------------------------- worker, schedules
CREATE OR REPLACE FUNCTION task.task_reschedule(id task.task_id, at timestamptz, token bigint DEFAULT NULL,
                                     force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_reschedule.at IS NULL OR NOT isfinite(task_reschedule.at) THEN
        RAISE EXCEPTION 'task_reschedule needs a finite time'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass at => now() + interval ''...''.';
    END IF;
    UPDATE task.task x
       SET status = 'rescheduled', run_at = task_reschedule.at,
           attempts = x.attempts - 1  -- not a failure: the next claim counts it again
     WHERE x.owner = task.task_id_owner(task_reschedule.id) AND x.id = task_reschedule.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (task_reschedule.force OR x.lease_token IS NOT DISTINCT FROM task_reschedule.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_reschedule.id, 'reschedule', false, task_reschedule.token, '{processing}',
                                   NOT coalesce(task_reschedule.force, false));
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_reschedule(task.task_id, timestamptz, bigint, boolean) IS
    'Worker: gives a claimed task back to run again at a given time (status rescheduled); dequeue picks it up when due. The claim does not count as an attempt. Fenced: only with the token of the claim (lease_token), unless force => true.';

CREATE OR REPLACE FUNCTION task.task_schedule(name text, cron text, template jsonb) RETURNS task.schedule
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
    -- a queue of another service is not found, like one that does not exist;
    -- one of the caller's namespace not created yet is made on first use, as
    -- task_create does (_worker_queue answers it unsaved: created_at NULL)
    q := task._worker_queue(task_schedule.template->>'queue', true);
    IF q.created_at IS NULL THEN
        q := task._queue_for_create(task_schedule.template->>'queue');
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
    PERFORM task._cron_schedule(task._schedule_job(owner_id, task_schedule.name), task_schedule.cron,
                                format('SELECT task._run_schedule(%s, %L)', owner_id, task_schedule.name));
    RETURN s;
END
$$;
COMMENT ON FUNCTION task.task_schedule(text, text, jsonb) IS
    'Creates (or replaces) the recurring task name: on each tick of the pg_cron schedule cron, a task is created from template (the task_create arguments as JSON: code, queue, name, description, object, parameters, access, ordering_key, max_attempts) in a queue of the calling service (made on first use in its namespace, as task_create does), owned by it. The template is tried once at once. A tick that fails records last_error (task_schedules). Needs pg_cron in this database.';

REVOKE ALL ON FUNCTION task._check_log_page(integer, integer), task._log_entries(task.task, integer, integer),
    task._may_read_logs(integer), task._account_numbers(text[]),
    task._check_same_request(task.task, text, text, text, text),
    task._access_change(task.task_id, text[], boolean) FROM PUBLIC;

-- ---------------------------------------------------------------- bulk operations
CREATE OR REPLACE FUNCTION task.task_bulk(
    action          text,
    queue           text DEFAULT NULL,
    code            text DEFAULT NULL,
    status          task.status DEFAULT NULL,
    older_than      interval DEFAULT NULL,
    ordering_key    text DEFAULT NULL,
    idempotency_key text DEFAULT NULL,
    run_at          timestamptz DEFAULT NULL,
    reason          text DEFAULT NULL,
    batch_size      integer DEFAULT 1000,
    OUT changed     bigint,
    OUT more        boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    applies task.status[] := CASE task_bulk.action
        WHEN 'cancel' THEN '{blocked,queued,processing,rescheduled}'
        WHEN 'retry' THEN '{failed}'
        WHEN 'reschedule' THEN '{queued,rescheduled}'
        WHEN 'delete' THEN '{blocked,queued,rescheduled,completed,failed,cancelled}'
        WHEN 'purge' THEN '{completed,failed,cancelled}' END::task.status[];
    victims task.task_id[];
    n bigint;
BEGIN
    IF applies IS NULL THEN
        RAISE EXCEPTION 'unknown bulk action: "%"', left(task_bulk.action, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use cancel, retry, reschedule, delete or purge.';
    END IF;
    IF task_bulk.status IS NOT NULL AND task_bulk.status <> ALL (applies) THEN
        RAISE EXCEPTION 'cannot % tasks that are %', task_bulk.action, task_bulk.status
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s applies to tasks that are %s.', initcap(task_bulk.action),
                                  array_to_string(applies, ', ')),
                  HINT = 'Leave status out to act on every status the action applies to.';
    END IF;
    IF (task_bulk.action = 'reschedule') <> (task_bulk.run_at IS NOT NULL) OR NOT isfinite(task_bulk.run_at) THEN
        RAISE EXCEPTION 'run_at goes with reschedule, and only with it'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'task_bulk(''reschedule'', ..., run_at => now() + interval ''1 hour'').';
    END IF;
    IF task_bulk.batch_size IS NULL OR task_bulk.batch_size NOT BETWEEN 1 AND 10000 OR task_bulk.older_than < '0' THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 10000 and older_than at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep batches small and call again while "more" is true.';
    END IF;
    PERFORM task._check_text('cancel reason', task_bulk.reason, 8192, true);
    IF svc IS NULL AND NOT task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to % tasks in bulk', task_bulk.action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Bulk operations are for the owning service and Operations.';
    END IF;

    -- the batch, locked in id order (one more row tells whether more remain);
    -- a task that a blocked task waits for is never deleted (as in task_maintain)
    SELECT array_agg(v.id ORDER BY v.id) INTO victims
      FROM (SELECT x.id FROM task.task x
             WHERE (svc IS NULL OR x.owner = svc)
               AND x.status = ANY (applies)
               AND (task_bulk.status IS NULL OR x.status = task_bulk.status)
               AND (task_bulk.queue IS NULL OR x.queue = task_bulk.queue)
               AND (task_bulk.code IS NULL OR x.code = task_bulk.code)
               AND (task_bulk.older_than IS NULL OR x.status_at < now() - task_bulk.older_than)
               AND (task_bulk.ordering_key IS NULL OR x.ordering_key = task_bulk.ordering_key)
               AND (task_bulk.idempotency_key IS NULL OR x.idempotency_key = task_bulk.idempotency_key)
               AND (task_bulk.action NOT IN ('delete', 'purge') OR NOT EXISTS (
                        SELECT FROM task.task_dependency d
                          JOIN task.task b ON b.owner = d.owner AND b.id = d.task_id
                         WHERE d.owner = x.owner AND d.depends_on = x.id AND b.status = 'blocked'))
             ORDER BY x.id
             LIMIT task_bulk.batch_size + 1
             FOR UPDATE) v;
    more := coalesce(cardinality(victims), 0) > task_bulk.batch_size;
    victims := victims[1:task_bulk.batch_size];

    CASE task_bulk.action
    WHEN 'cancel' THEN
        UPDATE task.task x SET status = 'cancelled', error = coalesce(task_bulk.reason, x.error)
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
        IF task_bulk.reason IS NOT NULL THEN
            INSERT INTO task.task_log (owner, task_id, message, by)
            SELECT task.task_id_owner(v), v, 'cancelled: ' || task_bulk.reason, task.current_actor()
              FROM unnest(victims) v;
        END IF;
    WHEN 'retry' THEN
        UPDATE task.task x SET status = 'queued', run_at = now(), attempts = 0
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    WHEN 'reschedule' THEN
        UPDATE task.task x SET run_at = task_bulk.run_at
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
        -- delete, purge: with their logs and the dependency rows naming them
        -- (access rows and their own dependency rows go by cascade)
        DELETE FROM task.task_log l
         WHERE l.task_id = ANY (victims) AND l.owner = task.task_id_owner(l.task_id);
        DELETE FROM task.task_dependency d
         WHERE d.depends_on = ANY (victims) AND d.owner = task.task_id_owner(d.depends_on);
        DELETE FROM task.task x
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    END CASE;
    changed := n;
END
$$;
COMMENT ON FUNCTION task.task_bulk(text, text, text, task.status, interval, text, text, timestamptz, text, integer) IS
    'Bulk operation, one batch per call: action cancel (unfinished tasks; optional reason), retry (failed), reschedule (queued or rescheduled tasks, to run_at), delete (any task not processing, with its log) or purge (finished tasks, with their log) over the tasks matching queue, code, status, older_than (last status change before now() - older_than), ordering_key and idempotency_key. At most batch_size (1..10000, default 1000) tasks, all or nothing; returns changed and more (call again while true). The owning service (its own tasks) and Operations (all); tasks a blocked task waits for are not deleted.';

-- ---------------------------------------------------------------- notifications
CREATE OR REPLACE FUNCTION task.task_wait_many(ids task.task_id[], timeout interval DEFAULT '30 seconds') RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    watch task.task_id;
    seq bigint;
    deadline timestamptz;
    n_found integer;
    pending task.task_id;
    doc jsonb;
BEGIN
    IF task_wait_many.ids IS NULL OR cardinality(task_wait_many.ids) NOT BETWEEN 1 AND 1000
       OR array_position(task_wait_many.ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'task_wait_many takes 1 to 1000 task ids'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass ids => ARRAY[...]::task.task_id[], without NULLs.';
    END IF;
    IF task_wait_many.timeout IS NULL OR task_wait_many.timeout < '0' OR task_wait_many.timeout > '1 hour' THEN
        RAISE EXCEPTION 'timeout must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Wait a few seconds and call again; a long wait holds a connection.';
    END IF;
    deadline := clock_timestamp() + task_wait_many.timeout;
    watch := task_wait_many.ids[1];
    LOOP
        seq := task._wait_seq(task._wait_key(watch));
        -- a new snapshot each time round (READ COMMITTED)
        SELECT count(t.id), (array_agg(i.id ORDER BY i.ord) FILTER (
                   WHERE t.status NOT IN ('completed', 'failed', 'cancelled')))[1],
               jsonb_agg(task._task_json(t) ORDER BY i.ord)
          INTO n_found, pending, doc
          FROM (SELECT u.id, min(u.ord) AS ord
                  FROM unnest(task_wait_many.ids) WITH ORDINALITY AS u(id, ord) GROUP BY u.id) i
          LEFT JOIN task.task t
            ON t.owner = task.task_id_owner(i.id) AND t.id = i.id AND task._visible(t.owner, t.id);
        IF n_found < (SELECT count(DISTINCT u) FROM unnest(task_wait_many.ids) u) THEN
            PERFORM task._not_found((SELECT i FROM unnest(task_wait_many.ids) i
                                      WHERE NOT EXISTS (SELECT FROM task.task t
                                                         WHERE t.owner = task.task_id_owner(i) AND t.id = i
                                                           AND task._visible(t.owner, t.id))
                                      LIMIT 1));
        END IF;
        EXIT WHEN pending IS NULL OR clock_timestamp() >= deadline;
        IF pending <> watch THEN
            -- the watched task is final: watch the next one, and look again first
            watch := pending;
            CONTINUE;
        END IF;
        PERFORM task._check_wait_isolation('task_wait_many',
            'Its snapshot would never see the tasks change after it started.',
            'Call it in READ COMMITTED (the default), or read the tasks with task_get.');
        PERFORM task._wait_sleep(task._wait_key(watch), seq, task._ms_until(deadline), watch::text, true);
    END LOOP;
    RETURN doc;
END
$$;
COMMENT ON FUNCTION task.task_wait_many(task.task_id[], interval) IS
    'Waits until ALL the given tasks (1..1000 ids) are completed, failed or cancelled, or the timeout (0..1 hour, default 30 s) passes, and returns them as a JSON array of Task objects in the order given (repeated ids once). Wakes on the commits that finish them when task is in shared_preload_libraries, else polls every 50 ms. READ COMMITTED only. Not found (P0002) when one is missing or outside the caller''s scope.';

ALTER TABLE task.queue ADD COLUMN notify_channel text NOT NULL DEFAULT '' CHECK (notify_channel = '' OR notify_channel ~ '^[a-z_][a-z0-9_]{0,62}$');
COMMENT ON COLUMN task.queue.notify_channel IS 'NOTIFY channel of the queue''s final transitions (task_queue_notify); empty: none.';

CREATE OR REPLACE FUNCTION task.task_queue_notify(queue text, channel text) RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue := task._worker_queue(task_queue_notify.queue);
BEGIN
    IF task_queue_notify.channel <> '' AND task_queue_notify.channel !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid notify channel: "%"', left(task_queue_notify.channel, 70)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A channel is 1 to 63 lower-case letters, digits and "_", not starting with a digit.',
                  HINT = 'LISTEN to the same name, e.g. task_done.';
    END IF;
    UPDATE task.queue x SET notify_channel = coalesce(task_queue_notify.channel, '')
     WHERE x.name = q.name
    RETURNING * INTO q;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task.task_queue_notify(text, text) IS
    'Sends NOTIFY channel, payload {"id", "queue", "status"}, at the commit of each transaction that brings a task of the queue to completed, failed or cancelled; NULL (or '''') turns it off. Owning service only. Any role that can connect may LISTEN: the payload names the task, not its content.';

-- the NOTIFY is sent by the trigger on final transitions
CREATE OR REPLACE FUNCTION task._settle_dependents() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    channel text;
BEGIN
    -- a hired task's escrow moves with its status (87_market.sql)
    IF NEW.code LIKE 'market.%' THEN
        PERFORM task._market_on_final(NEW);
    END IF;
    -- notify: the queue's channel (task_queue_notify), sent at commit. Here
    -- rather than in a trigger of its own, which measured 12% more CPU for
    -- a create and a cancel (bench/sql/notify_cpu.sql)
    SELECT q.notify_channel INTO channel FROM task.queue q WHERE q.name = NEW.queue;
    IF channel <> '' THEN
        PERFORM pg_notify(channel, jsonb_build_object('id', NEW.id::text, 'queue', NEW.queue, 'status', NEW.status)::text);
    END IF;
    -- notify end

    PERFORM FROM task.task t
     WHERE t.owner = NEW.owner AND t.status = 'blocked'
       AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                     WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
     ORDER BY t.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- a snapshot transaction cannot see a concurrent completion of another
    -- dependency, and both could commit leaving the task blocked for good
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'tasks with dependents must settle in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = format('Task %s has blocked dependents; this transaction is %s.',
                                  NEW.id, current_setting('transaction_isolation')),
                  HINT = 'Complete, fail or cancel it in READ COMMITTED (the default).';
    END IF;

    IF NEW.status = 'completed' THEN
        PERFORM task._release_ready(NEW.owner,
                                    ARRAY(SELECT d.task_id FROM task.task_dependency d
                                           WHERE d.owner = NEW.owner AND d.depends_on = NEW.id),
                                    format('released: its last dependency %s completed', NEW.id));
    ELSE
        FOR r IN
            UPDATE task.task t
               SET status = 'cancelled', error = format('dependency %s is %s', NEW.id, NEW.status)
             WHERE t.owner = NEW.owner AND t.status = 'blocked'
               AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                             WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
            RETURNING t.owner, t.id
        LOOP
            INSERT INTO task.task_log (owner, task_id, message, by)
            VALUES (r.owner, r.id, format('cancelled: dependency %s is %s', NEW.id, NEW.status),
                    task.current_actor());
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._settle_dependents() IS
    'Trigger: on a task that just completed, failed for good or was cancelled, sends its queue''s NOTIFY (task_queue_notify), releases (queued) or cancels the blocked tasks that depend on it, and moves the escrow of a hired task (task._market_on_final).';

-- api.task_get(id) of a database created at 0.1.0 keeps its signature (it is
-- released from the extension by 99_release_api.sql and still works: log_limit
-- is new in task_http's api.task_get).

-- ---- sql/update/99_release_api.sql
--
-- Last of all: fragments before this one may still replace api.* objects.
--
-- The HTTP schema is its own extension now, task_http, installed in the
-- schema the operator names (sql/http/api.sql): a fresh install of task has
-- no schema api. A database created at 0.1.0 has api inside extension task:
-- the update brings its objects up to date (above, and 10_names.sql) and
-- then releases them from the extension, so PostgREST keeps working with
-- them as they are, and extension task is what a fresh install is. They
-- are plain objects from now on: to manage them as task_http (and get its
-- later updates), DROP SCHEMA api CASCADE; CREATE SCHEMA api; CREATE
-- EXTENSION task_http SCHEMA api; (docs/OPERATIONS.md, "Upgrading").
ALTER EXTENSION task DROP VIEW api.tasks;
ALTER EXTENSION task DROP FUNCTION api.task_get(text, integer, integer);
ALTER EXTENSION task DROP FUNCTION api.task_logs(text, integer, integer);
ALTER EXTENSION task DROP FUNCTION api.task_result(text);
ALTER EXTENSION task DROP FUNCTION api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[]);
ALTER EXTENSION task DROP FUNCTION api.task_progress(text, double precision, timestamptz, jsonb, bigint);
ALTER EXTENSION task DROP FUNCTION api.task_log(text, text, bigint, bigint, bigint, bigint);
ALTER EXTENSION task DROP FUNCTION api.task_heartbeat(text, bigint, interval, double precision);
ALTER EXTENSION task DROP FUNCTION api.task_complete(text, jsonb, text, bigint);
ALTER EXTENSION task DROP FUNCTION api.task_fail(text, text, bigint, boolean);
ALTER EXTENSION task DROP FUNCTION api.task_reschedule(text, timestamptz, bigint);
ALTER EXTENSION task DROP FUNCTION api.task_cancel(text, text);
ALTER EXTENSION task DROP FUNCTION api.task_retry(text);
ALTER EXTENSION task DROP FUNCTION api.task_dequeue(text, integer, interval, interval);
ALTER EXTENSION task DROP SCHEMA api;
