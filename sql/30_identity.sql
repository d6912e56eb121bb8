\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Identity and scope: who the caller acts as, and the one rule of what it
-- may see and change.
--
-- Identity is decided in C (src/identity.c) from the role in effect at the
-- outer level (the login, or the role chosen with SET ROLE) looked up in
-- task.login, or for a web role from the verified JWT claims. No setting a
-- session can change takes part. SECURITY DEFINER functions do not change
-- the answer. An unmapped superuser is "system" (the operator); any other
-- unmapped role is "none" and can do nothing.
--
-- Internal helpers (names starting with "_") carry no SET search_path: they
-- only run inside the API's SECURITY DEFINER functions, whose fixed
-- search_path they inherit (PUBLIC cannot execute them), and a SET clause
-- would cost a settings save/restore per call and block SQL inlining.
--
-- Every API function checks the caller itself: a task outside the caller's
-- scope is "not found" (P0002), a visible task the caller may not change is
-- 42501. Writes are a single guarded UPDATE; only when it misses does
-- _write_failed look at why.

-- ---------------------------------------------------------------- identity
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

CREATE FUNCTION task._roles(OUT kind text, OUT group_role name, OUT web_role name, OUT account_type text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'task_roles' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._roles() IS
    'Internal: the extension''s roles, the one list of their names (src/identity.c): per kind of caller its group role, its web role and the account type it stands for; kind anon is the web role without identity.';

CREATE FUNCTION task._identity_invalidate() RETURNS void
    AS 'MODULE_PATHNAME', 'task_identity_invalidate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._identity_invalidate() IS 'Internal: forget the identity cached for this transaction.';

-- An identity is kept across the transactions of a session while nothing it
-- was read from changes (src/identity.c): a change of a login, an account
-- or a service tells every backend, at commit, to look it up again.
CREATE FUNCTION task._identity_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_identity_changed' LANGUAGE C;
COMMENT ON FUNCTION task._identity_changed() IS
    'Internal: statement trigger of task.login, task.account and task.service; at commit every backend forgets the identity it kept.';
CREATE TRIGGER login_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task.login
    FOR EACH STATEMENT EXECUTE FUNCTION task._identity_changed();
CREATE TRIGGER account_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task.account
    FOR EACH STATEMENT EXECUTE FUNCTION task._identity_changed();
CREATE TRIGGER service_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task.service
    FOR EACH STATEMENT EXECUTE FUNCTION task._identity_changed();

CREATE FUNCTION task._act_as_service(service integer) RETURNS void
    AS 'MODULE_PATHNAME', 'task_act_as_service' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._act_as_service(integer) IS
    'Internal, for task._run_schedule only: the caller acts as this service until the transaction ends (NULL: stop). Only the extension''s owner can call it.';

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

-- ---------------------------------------------------------------- who may do what
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

CREATE FUNCTION task._require_operations(what text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF NOT task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to %', what
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = CASE WHEN what LIKE '%maintenance%'
                              THEN 'Housekeeping is run by the system (an unmapped superuser) or an Operations account.'
                              ELSE format('Only an Operations account or the system (an unmapped superuser) can %s.', what) END;
    END IF;
END
$$;
COMMENT ON FUNCTION task._require_operations(text) IS
    'Internal: 42501 unless the caller is the system or an active Operations account.';

-- May the caller see this task? Operations see all, a service its own,
-- an account the tasks whose access list holds it.
CREATE FUNCTION task._visible(owner integer, id task.task_id) RETURNS boolean
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- PL/pgSQL, not SQL: a SQL function with a subquery is never inlined,
    -- so each query calling it parsed and planned it again; here the
    -- first test is a simple expression and the lookup a cached plan.
    -- A NULL identity means "no", never "unknown".
    IF task.current_is_operations() OR _visible.owner = task.current_service() THEN
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT FROM task.task_access a
                    WHERE a.owner = _visible.owner AND a.task_id = _visible.id
                      AND a.account = task.current_account());
END
$$;
COMMENT ON FUNCTION task._visible(integer, task.task_id) IS 'Internal: whether the caller may see the task.';

-- May the caller change this task? The owning service and the system;
-- operations accounts too where ops_allowed (cancel, retry).
-- C (src/identity.c, task_may_write): the same rule serves the writes of
-- src/hotpath.c that run without a statement.
CREATE FUNCTION task._may_write(owner integer, ops_allowed boolean) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_may_write_sql' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task._may_write(integer, boolean) IS 'Internal: whether the caller may change a task of this owner.';

CREATE FUNCTION task._not_found(id task.task_id) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    -- no id at all is the caller's mistake, not a task to look for
    IF id IS NULL THEN
        RAISE EXCEPTION 'task id must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the id of a task, TSK-XXXX-XXXX-XXXX-XXXX (task_create and task_list return them).';
    END IF;
    RAISE EXCEPTION 'task % not found', id
        USING ERRCODE = 'no_data_found',
              HINT = 'Check the id; tasks outside your scope are reported as not found.';
END
$$;
COMMENT ON FUNCTION task._not_found(task.task_id) IS 'Internal: the not-found error (P0002), the same for missing and out-of-scope tasks; 22004 for a NULL id.';

-- The one rule for a task named by id: its row when the caller may see
-- it, else "not found". Visibility is decided from the id before the row
-- is read, so an id of another tenant and one never issued take the same
-- path, in the same time, to the same error.
CREATE FUNCTION task._visible_task(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    t task.task;
BEGIN
    IF task._visible(task.task_id_owner(_visible_task.id), _visible_task.id) THEN
        -- live first: a task being worked on or waited for is there, and only
        -- a miss reads the primary keys of the history months (83_history.sql);
        -- both statements see the caller's snapshot
        SELECT * INTO t FROM ONLY task.task x
         WHERE x.owner = task.task_id_owner(_visible_task.id) AND x.id = _visible_task.id;
        IF NOT FOUND THEN
            SELECT * INTO t FROM task.task x
             WHERE x.owner = task.task_id_owner(_visible_task.id) AND x.id = _visible_task.id;
        END IF;
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

-- A guarded write matched no row: say why, most specific reason first.
CREATE FUNCTION task._write_failed(id task.task_id, operation text, ops_allowed boolean,
                                   token bigint DEFAULT NULL, expected task.status[] DEFAULT NULL,
                                   fenced boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
    run_limit interval;
    archived boolean;
    pending text;
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
    -- this claim ended without another claim: say how (the worker stops)
    IF token IS NOT NULL AND t.lease_token = token THEN
        IF t.status = 'cancelled' THEN
            RAISE EXCEPTION 'task % was cancelled', _write_failed.id
                USING ERRCODE = '55T01',
                      DETAIL = 'The task was cancelled during the claim with this token; its result is not wanted.',
                      HINT = 'Stop working on it and drop its result, then dequeue the next task.';
        END IF;
        run_limit := task._run_limit(t, (SELECT q.max_run_time FROM task.queue q WHERE q.name = t.queue));
        IF (t.status = 'processing' AND t.started_at + run_limit <= clock_timestamp())
           OR (t.status <> 'processing' AND t.error LIKE 'maximum run time exceeded:%') THEN
            RAISE EXCEPTION 'lease lost: task % ran past its maximum run time', _write_failed.id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = CASE WHEN t.status = 'processing'
                              THEN format('An attempt may run for %s; lease rescue takes the task back.',
                                          task._seconds_text(run_limit))
                              ELSE format('The task is %s: %s.', t.status, t.error) END,
                      HINT = 'Stop working on it and drop its result: lease rescue fails or retries the attempt.';
        END IF;
    END IF;
    -- a task in the history tables (83_history.sql) is read-only
    archived := NOT EXISTS (SELECT FROM ONLY task.task x WHERE x.owner = t.owner AND x.id = t.id);
    -- a stale token: every such answer is "lease lost" (docs/WORKERS.md,
    -- "Leases, fencing and rescue"), also for an archived task; the detail
    -- says what the task is now, which the owning service may read anyway.
    -- The live token is never printed: it would let a stale worker take over.
    IF token IS NOT NULL AND (t.status <> 'processing' OR t.lease_token IS DISTINCT FROM token) THEN
        -- not lost but not there yet: the claim that made this token (it
        -- stamps the next revision in the token's low 31 bits) is in a
        -- prepared transaction that has not committed; only the row's xmax
        -- and pg_prepared_xacts (readable by every role) are read, never
        -- the uncommitted row
        IF NOT archived AND t.status IN ('queued', 'rescheduled')
           AND (token & 2147483647) = ((t.revision::bigint + 1) & 2147483647) THEN
            SELECT p.gid INTO pending
              FROM ONLY task.task x
              JOIN pg_catalog.pg_prepared_xacts p ON p.transaction OPERATOR(pg_catalog.=) x.xmax
             WHERE x.owner = t.owner AND x.id = t.id;
            IF FOUND THEN
                RAISE EXCEPTION 'cannot % task %: its claim is not committed yet', operation, _write_failed.id
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          DETAIL = format('The claim of that token is in prepared transaction %s; until it commits, the task is %s.',
                                          pg_catalog.quote_literal(pending), t.status),
                          HINT = 'Commit the prepared transaction (COMMIT PREPARED), then call again; ROLLBACK PREPARED undoes the claim.';
            END IF;
        END IF;
        RAISE EXCEPTION 'lease lost: task % is no longer claimed with that token', _write_failed.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = CASE
                           WHEN t.status = 'processing' THEN 'The task is processing under another claim.'
                           WHEN t.lease_token = token AND t.status IN ('queued', 'failed')
                                AND t.error LIKE 'lease expired%'
                           THEN format('The lease of that claim expired and lease rescue %s.',
                                       CASE WHEN t.status = 'failed' THEN 'failed the task: no attempts were left'
                                            ELSE 'queued the task again' END)
                           WHEN t.lease_token = token
                           THEN format('The claim of that token has ended: the task is %s.', t.status)
                           ELSE format('The task is %s.', t.status) END
                           || CASE WHEN archived THEN ' It has moved to the history tables of its queue.' ELSE '' END,
                  HINT = CASE
                         WHEN t.status = 'processing'
                         THEN 'Another worker owns the task now: drop this result and dequeue again.'
                         WHEN t.lease_token = token AND t.status = 'completed'
                         THEN 'Nothing is left to do for this claim: do not retry the call; dequeue the next task.'
                         WHEN t.status = 'failed' AND NOT archived
                         THEN 'The task is finished (failed): drop this result and do not retry the call (task_retry queues the task again); dequeue the next task.'
                         WHEN t.status IN ('completed', 'failed', 'cancelled')
                         THEN format('The task is finished (%s): drop this result and do not retry the call; dequeue the next task.', t.status)
                         ELSE 'The claim ended and the task waits to be claimed again: drop this result and dequeue again.' END;
    END IF;
    IF archived THEN
        RAISE EXCEPTION 'cannot % task %: it is archived', operation, _write_failed.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The task is %s and has moved to the history tables of its queue.', t.status),
                  HINT = 'Archived tasks are read-only; they go when their month passes the queue''s retention.';
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
    'Internal: raises the precise error for a write that matched no row (not found, 42501, cancelled during the claim (55T01), lease lost (any stale token; also past the maximum run time), a claim in a prepared transaction not committed yet, archived, token missing when fenced, wrong status).';
