\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The directory: services, accounts and the logins that act as them
-- (superuser only), task_whoami, and the group-role membership that goes
-- with a login.

-- ---------------------------------------------------------------- services and accounts
CREATE FUNCTION task.task_service_create(name text, namespace text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id integer;
BEGIN
    PERFORM task._require_system('create a service');
    IF task_service_create.name IS NULL THEN
        RAISE EXCEPTION 'a service needs a name'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass name => ''...'' and namespace => ''...''.';
    END IF;
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
    -- a duplicate is refused before the insert takes a number from the
    -- sequence: there are 9999, and a number is never given twice
    IF EXISTS (SELECT FROM task.service s
                WHERE s.name = task_service_create.name OR s.namespace = task_service_create.namespace) THEN
        RAISE EXCEPTION 'a service with this name or namespace already exists'
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Name "%s", namespace "%s".', task_service_create.name, task_service_create.namespace),
                  HINT = 'Pick another name and namespace, or use the existing service.';
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
    WHEN sequence_generator_limit_exceeded THEN
        RAISE EXCEPTION 'too many services'
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'Service numbers are SVC-0001 to SVC-9999, and every one has been given.',
                  HINT = 'A service number is never reused; spread the services over more databases (docs/SCALE-OUT.md).';
    END;
    RETURN task.service_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_service_create(text, text) IS
    'Creates a service (owner of queues and tasks) and returns its id SVC-XXXX. Superuser only.';

-- A cap on the tasks a service has processing at once, across all its
-- queues (checked by the claim, 65_worker.sql). The operator sets it for
-- any service, a service for itself. Its queues carry the flag
-- service_capped, so the claim of a queue of an uncapped service reads
-- nothing more.
CREATE FUNCTION task.task_service_configure(service text, max_processing integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    svc integer := task.service_number(task_service_configure.service);
    cap integer := task_service_configure.max_processing;
BEGIN
    IF task.current_kind() <> 'system' AND svc IS DISTINCT FROM task.current_service() THEN
        RAISE EXCEPTION 'permission denied to configure service %', task_service_configure.service
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'A service configures itself; the operator configures any service.';
    END IF;
    IF task_service_configure.max_processing IS NULL
       OR task_service_configure.max_processing NOT BETWEEN 0 AND 1000000 THEN
        RAISE EXCEPTION 'max_processing must be between 0 and 1000000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the cap, or 0 to remove it.';
    END IF;
    UPDATE task.service s SET max_processing = cap WHERE s.id = svc;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % does not exist', task_service_configure.service
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    UPDATE task.queue q SET service_capped = (cap > 0)
     WHERE q.owner = svc AND q.service_capped <> (cap > 0);
    RETURN cap;
END
$$;
COMMENT ON FUNCTION task.task_service_configure(text, integer) IS
    'Caps the tasks of a service processing at once across all its queues (max_processing; 0 removes the cap) and returns it (0: none). Claims beyond the cap return nothing. The operator configures any service, a service itself.';

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
    IF task_account_create.name IS NULL THEN
        RAISE EXCEPTION 'an account needs a name'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass name => ''...'' and type => Operations, Vendor or Client.';
    END IF;
    PERFORM task._check_text('account name', task_account_create.name, 255, false);
    IF task_account_create.type IS NULL THEN
        RAISE EXCEPTION 'an account needs a type'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use Operations, Vendor or Client.';
    END IF;
    BEGIN
        INSERT INTO task.account AS a (name, type, status)
        VALUES (task_account_create.name, task_account_create.type, coalesce(task_account_create.status, 'Active'))
        RETURNING a.id INTO new_id;
    EXCEPTION WHEN sequence_generator_limit_exceeded THEN
        RAISE EXCEPTION 'too many accounts'
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'Account numbers are ACC-0000-0001 to ACC-9999-9999, and every one has been given.',
                  HINT = 'An account number is never reused; spread the accounts over more databases (docs/SCALE-OUT.md).';
    END;
    RETURN task.account_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_account_create(text, task.account_type, task.account_status) IS
    'Creates an account (Operations, Vendor or Client) and returns its id ACC-XXXX-YYYY. Superuser only.';

-- The type and status written as quoted literals resolve here, checked
-- (22023 with the accepted values) rather than by the enums' input
-- functions (a bare 22P02).
CREATE FUNCTION task.task_account_create(name text, type text, status text DEFAULT 'Active')
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('create an account');
    RETURN task.task_account_create(
        task_account_create.name,
        task._enum_arg('type', task_account_create.type, 'task.account_type', ' (capitalised as written)')::task.account_type,
        task._enum_arg('status', task_account_create.status, 'task.account_status', ' (capitalised as written)')::task.account_status);
END
$$;
COMMENT ON FUNCTION task.task_account_create(text, text, text) IS
    'The same for a type and status written as text (as quoted literals are): an unknown one is refused (22023) with the accepted values. Superuser only.';

CREATE FUNCTION task.task_account_update(id text, name text DEFAULT NULL,
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

-- ---------------------------------------------------------------- logins
CREATE FUNCTION task.task_login_grant(role regrole, identity text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    svc integer;
    acc bigint;
BEGIN
    PERFORM task._require_system('map a login');
    IF task_login_grant.role IS NULL OR task_login_grant.identity IS NULL THEN
        RAISE EXCEPTION 'task_login_grant needs a role and an identity'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass the login role and SVC-XXXX or ACC-XXXX-YYYY.';
    END IF;
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
    'Maps a database role to the service (SVC-XXXX) or account (ACC-XXXX-YYYY) it acts as, and makes it a member of the matching group role (task_service, task_operations, task_vendor or task_client); the mapping counts only while that membership holds. Services and Operations may then also read the tables directly under row-level security; vendors and clients read through the API only. Superuser only.';

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

-- The login role named as text (a quoted literal, as callers write it,
-- resolves here rather than in the regrole input function): a role that
-- does not exist is refused with a hint instead of the cast's bare 42704.
CREATE FUNCTION task._login_role(role text) RETURNS regrole
    LANGUAGE plpgsql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r regrole;
BEGIN
    IF _login_role.role IS NULL THEN
        RETURN NULL;
    END IF;
    r := pg_catalog.to_regrole(_login_role.role);
    IF r IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', _login_role.role
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the login role first: CREATE ROLE name LOGIN (a name with capitals or spaces is written in double quotes).';
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION task._login_role(text) IS
    'Internal: the role of a login named as text; 42704 with a hint when there is none.';

CREATE FUNCTION task.task_login_grant(role text, identity text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('map a login');
    PERFORM task.task_login_grant(task._login_role(task_login_grant.role), task_login_grant.identity);
END
$$;
COMMENT ON FUNCTION task.task_login_grant(text, text) IS
    'The same for a role named as text (as a quoted literal is): a role that does not exist is refused (42704) with a hint. Superuser only.';

CREATE FUNCTION task.task_login_revoke(role text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('unmap a login');
    RETURN task.task_login_revoke(task._login_role(task_login_revoke.role));
END
$$;
COMMENT ON FUNCTION task.task_login_revoke(text) IS
    'The same for a role named as text (as a quoted literal is): a role that does not exist is refused (42704) with a hint. Superuser only.';

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

-- ---------------------------------------------------------------- group roles
-- The group role that goes with an identity: task_login_grant makes a login
-- a member of it (and of no other), task_login_revoke of none. A disabled
-- account has none. The login lookup (src/identity.c) honours a mapping
-- only while its role is a member of this group role.
CREATE FUNCTION task._group_role(identity text) RETURNS name
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

CREATE FUNCTION task._set_group(role regrole, grp name) RETURNS void
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
    -- already a direct member (an account renamed, a login granted again):
    -- nothing to do, and no NOTICE "is already a member"
    IF grp IS NOT NULL AND NOT EXISTS (
            SELECT FROM pg_auth_members m
             WHERE m.member = role::oid AND m.roleid = (SELECT oid FROM pg_roles WHERE rolname = grp)) THEN
        EXECUTE format('GRANT %I TO %s', grp, role);
    END IF;
END
$$;
COMMENT ON FUNCTION task._set_group(regrole, name) IS 'Internal: makes a role a direct member of exactly one task group role (or none).';
