\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Identity: which service or account the caller acts as.
--
-- Decided in C (src/identity.c) from the role in effect at the outer level
-- (the login, or the role chosen with SET ROLE) looked up in task.login.
-- No setting a session can change takes part. SECURITY DEFINER functions
-- do not change the answer. An unmapped superuser is "system" (the
-- operator); any other unmapped role is "none" and can do nothing.

CREATE FUNCTION task.current_actor() RETURNS text
    AS 'MODULE_PATHNAME', 'task_current_actor' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_actor() IS
    'The caller as recorded in audit and logs: SVC-XXXX, ACC-XXXX-YYYY, or the role name of an unmapped role.';

CREATE FUNCTION task.current_kind() RETURNS text
    AS 'MODULE_PATHNAME', 'task_current_kind' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_kind() IS
    'What the caller is: service, account, system (an unmapped superuser) or none.';

CREATE FUNCTION task.current_service() RETURNS integer
    AS 'MODULE_PATHNAME', 'task_current_service' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_service() IS 'The number of the service the caller acts as, or NULL.';

CREATE FUNCTION task.current_account() RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_current_account' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_account() IS 'The number of the active account the caller acts as, or NULL.';

CREATE FUNCTION task.current_is_operations() RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_current_is_operations' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_is_operations() IS
    'True for an active Operations account and for the system (an unmapped superuser).';

CREATE FUNCTION task._identity_invalidate() RETURNS void
    AS 'MODULE_PATHNAME', 'task_identity_invalidate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._identity_invalidate() IS 'Internal: forget the identity cached for this transaction.';

CREATE FUNCTION task._check_text(field text, value text, max_bytes integer, multiline boolean)
    RETURNS text AS 'MODULE_PATHNAME', 'task_check_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._check_text(text, text, integer, boolean) IS
    'Internal: the text rules of the task trigger (length, no control characters, not blank).';

-- ---------------------------------------------------------------- text ids
CREATE FUNCTION task.service_text(id integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'SVC-' OPERATOR(pg_catalog.||) pg_catalog.lpad(id::text, 4, '0');
COMMENT ON FUNCTION task.service_text(integer) IS 'The text id SVC-XXXX of a service number.';

CREATE FUNCTION task.account_text(id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'ACC-' OPERATOR(pg_catalog.||) pg_catalog.lpad((id OPERATOR(pg_catalog./) 10000)::text, 4, '0')
           OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) pg_catalog.lpad((id OPERATOR(pg_catalog.%) 10000)::text, 4, '0');
COMMENT ON FUNCTION task.account_text(bigint) IS 'The text id ACC-XXXX-YYYY of an account number.';

CREATE FUNCTION task.service_number(id text) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF id !~ '^SVC-[0-9]{4}$' THEN
        RAISE EXCEPTION 'invalid service id: "%"', left(id, 40)
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = 'A service id has the form SVC-XXXX, four decimal digits.',
                  HINT = 'Use an id such as SVC-0001.';
    END IF;
    RETURN substr(id, 5)::integer;
END
$$;
COMMENT ON FUNCTION task.service_number(text) IS 'The number of a service text id SVC-XXXX; 22P02 when malformed.';

CREATE FUNCTION task.account_number(id text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF id !~ '^ACC-[0-9]{4}-[0-9]{4}$' THEN
        RAISE EXCEPTION 'invalid account id: "%"', left(id, 40)
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = 'An account id has the form ACC-XXXX-YYYY, two groups of four decimal digits.',
                  HINT = 'Use an id such as ACC-0000-0001.';
    END IF;
    RETURN (substr(id, 5, 4) || substr(id, 10, 4))::bigint;
END
$$;
COMMENT ON FUNCTION task.account_number(text) IS 'The number of an account text id ACC-XXXX-YYYY; 22P02 when malformed.';

-- ---------------------------------------------------------------- checks
CREATE FUNCTION task._require_system(what text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF task.current_kind() <> 'system' THEN
        RAISE EXCEPTION 'permission denied to %', what
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Services, accounts and logins are managed by a superuser that is not mapped to a service or account.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._require_system(text) IS 'Internal: 42501 unless the caller is the system (an unmapped superuser).';

-- ---------------------------------------------------------------- management
CREATE FUNCTION task.task_service_create(name text, namespace text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id integer;
BEGIN
    PERFORM task._require_system('create a service');
    PERFORM task._check_text('service name', task_service_create.name, 255, false);
    IF task_service_create.namespace IS NULL
       OR task_service_create.namespace !~ '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$'
       OR octet_length(task_service_create.namespace) > 200 THEN
        RAISE EXCEPTION 'invalid service namespace: "%"', left(task_service_create.namespace, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A namespace is one or more segments of letters, digits, "_", "-" or "." separated by single slashes, at most 200 bytes.',
                  HINT = 'Use a namespace such as "marketplace/platform"; the service''s queues are named <namespace>/...';
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

CREATE FUNCTION task.task_account_create(name text, type task.account_type,
                                         status task.account_status DEFAULT 'Active')
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM task._require_system('create an account');
    PERFORM task._check_text('account name', task_account_create.name, 255, false);
    IF task_account_create.type IS NULL THEN
        RAISE EXCEPTION 'an account needs a type'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use Operations, Vendor or Client.';
    END IF;
    INSERT INTO task.account AS a (name, type, status)
    VALUES (task_account_create.name, task_account_create.type, coalesce(task_account_create.status, 'Active'))
    RETURNING a.id INTO new_id;
    RETURN task.account_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_account_create(text, task.account_type, task.account_status) IS
    'Creates an account (Operations, Vendor or Client) and returns its id ACC-XXXX-YYYY. Superuser only.';

CREATE FUNCTION task.task_login_grant(role regrole, identity text) RETURNS void
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
    IF task_login_grant.role::text LIKE 'task\_web\_%' OR task_login_grant.role::text IN
           ('task_operations', 'task_service', 'task_vendor', 'task_client') THEN
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

CREATE FUNCTION task.task_login_revoke(role regrole) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('unmap a login');
    DELETE FROM task.login l WHERE l.role = task_login_revoke.role;
    PERFORM task._set_group(task_login_revoke.role, NULL);
    PERFORM task._identity_invalidate();
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION task.task_login_revoke(regrole) IS 'Removes the mapping of a database role. Superuser only.';

CREATE FUNCTION task.task_whoami() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'kind', task.current_kind(),
        'id', task.current_actor(),
        'name', coalesce((SELECT s.name FROM task.service s WHERE s.id = task.current_service()),
                         (SELECT a.name FROM task.account a WHERE a.id = task.current_account())),
        'operations', task.current_is_operations())
$$;
COMMENT ON FUNCTION task.task_whoami() IS 'Who the caller acts as: kind, id, name, and whether it has operations rights.';
