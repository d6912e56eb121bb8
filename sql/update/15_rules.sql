\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
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
            ELSE (SELECT a.type::text FROM task.account a WHERE a.id = task.account_number(identity)) END
$$;
COMMENT ON FUNCTION task._group_role(text) IS 'Internal: the group role (task_service, task_operations, task_vendor, task_client) of a service or account id.';

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
    blocks_parent   boolean DEFAULT false)
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
