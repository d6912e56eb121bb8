\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Reading tasks: the JSON Task object, task_get, task_list, task_logs,
-- task_result. Visibility is decided by task._visible (30_identity.sql).

-- ---------------------------------------------------------------- the JSON Task object
-- STABLE, not IMMUTABLE: to_char is stable, and a SQL function is inlined
-- only when its body is no more volatile than its marking says
CREATE FUNCTION task._iso(at timestamptz) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
COMMENT ON FUNCTION task._iso(timestamptz) IS 'Internal: ISO 8601 in UTC with milliseconds, as in seed 001.';

CREATE FUNCTION task._actor_json(actor text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'task_actor_json' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._actor_json(text) IS 'Internal: the {id, name, revision} object of an audit or log author (a service, an account), read once per snapshot (a statement''s, or the transaction''s under REPEATABLE READ); an account other than the caller is {id} only, except for Operations; another author is {name}.';

CREATE FUNCTION task._stamp(at timestamptz, by text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN at IS NOT NULL
        THEN jsonb_build_object('at', task._iso(at), 'by', task._actor_json(by)) END
$$;
COMMENT ON FUNCTION task._stamp(timestamptz, text) IS 'Internal: one audit entry {at, by}.';

CREATE FUNCTION task._strip_nulls(obj jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'task_strip_nulls' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._strip_nulls(jsonb) IS 'Internal: drops the top-level keys whose value is null (nested values are kept as they are).';

CREATE FUNCTION task._result_uri(t task.task) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(t.resource,
        CASE WHEN t.result IS NOT NULL THEN
            coalesce(nullif(current_setting('task.result_uri_prefix', true), ''), '/public/v1/system/tasks')
            || '/' || t.id::text || '/result' END)
$$;
COMMENT ON FUNCTION task._result_uri(task.task) IS
    'Internal: the result field of a task: the resource URI, or the URI of its JSON result endpoint.';

-- What each status means, in words (seed 002's "description" of a status).
-- Not STRICT (a CASE keeps a strict function from being inlined); NULL
-- still gives NULL.
CREATE FUNCTION task.status_description(status task.status) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
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

-- The task as JSON, in the shape of seed 001's FULL EXAMPLE.
CREATE FUNCTION task._task_json(t task.task) RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    ops boolean := task.current_is_operations();
    me bigint := task.current_account();
    acc jsonb;
    own jsonb;
    par jsonb;
BEGIN
    -- the account directory is for Operations: the owning service sees
    -- the ids it put on the list, an account itself only. (Each lookup is
    -- a statement of its own, and the JSON below a simple expression: a
    -- subquery in it would start every branch's plan for every task.)
    SELECT coalesce(jsonb_agg(CASE WHEN ops OR me IS NOT NULL THEN
                jsonb_build_object('id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                                   'type', a.type, 'status', a.status)
              ELSE jsonb_build_object('id', task.account_text(x.account)) END ORDER BY x.account), '[]'::jsonb)
      INTO acc
      FROM task.task_access x LEFT JOIN task.account a ON a.id = x.account AND (ops OR me IS NOT NULL)
     WHERE x.owner = t.owner AND x.task_id = t.id AND (ops OR me IS NULL OR x.account = me)
       AND (a.id IS NOT NULL OR NOT (ops OR me IS NOT NULL));
    SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
      INTO own FROM task.service s WHERE s.id = t.owner;
    -- a parent the caller may not see is left out
    IF t.parent IS NOT NULL AND task._visible(t.owner, t.parent) THEN
        par := task._strip_nulls(jsonb_build_object('id', t.parent::text,
                   'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent)));
    END IF;
    RETURN task._strip_nulls(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'status_description', task.status_description(t.status),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        'parent', par,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'run_at', task._iso(t.run_at),
        'owner', own,
        'access', acc,
        'audit', task._strip_nulls(jsonb_build_object(
            'created', task._stamp(t.created_at, t.created_by),
            'updated', task._stamp(t.updated_at, t.updated_by),
            'started', task._stamp(t.started_at, t.started_by),
            'completed', task._stamp(t.completed_at, t.completed_by),
            'failed', task._stamp(t.failed_at, t.failed_by),
            'rescheduled', task._stamp(t.rescheduled_at, t.rescheduled_by),
            'cancelled', task._stamp(t.cancelled_at, t.cancelled_by))),
        -- who holds it now: for the owning service and Operations only
        'worker', CASE WHEN t.status = 'processing' AND t.worker_pid IS NOT NULL AND task._may_read_logs(t.owner) THEN
            task._strip_nulls(jsonb_build_object('name', t.worker_name, 'address', host(t.worker_addr), 'pid', t.worker_pid,
                                                 'since', task._iso(t.started_at))) END,
        -- hired tasks only (code market.*): no lookup for every other task
        'marketplace', CASE WHEN t.code LIKE 'market.%' THEN task._market_json(t.owner, t.id) END
    ));
END
$$;
COMMENT ON FUNCTION task._task_json(task.task) IS 'Internal: a task row as the JSON Task object of seed 001, with nothing the caller may not see: no parent it may not see, an access list of ids for the owning service and of itself for an account, no account names but its own in the audit, the worker holding a processing task for the owning service only (Operations see all).';

-- ---------------------------------------------------------------- reads
CREATE FUNCTION task._check_log_page(log_limit integer, log_offset integer) RETURNS void
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

-- The log page of a task the caller may read (checked by the callers):
-- stored entries plus three derived from the audit columns (the trigger
-- stores no row for them, see src/transition.c): the creation, the first
-- claim while no later claim has stored it, and the completion. A task is
-- created blocked exactly when it is blocked or has a stored entry leaving
-- blocked. Newest first.
CREATE FUNCTION task._log_entries(t task.task, log_limit integer, log_offset integer)
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

-- May the caller read the task's log? Operations and the owning service.
CREATE FUNCTION task._may_read_logs(owner integer) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(task.current_is_operations() OR _may_read_logs.owner = task.current_service(), false)
$$;
COMMENT ON FUNCTION task._may_read_logs(integer) IS 'Internal: whether the caller may read the logs of a task of this owner (Operations, the owning service).';

CREATE FUNCTION task.task_get(id task.task_id, log_limit integer DEFAULT NULL, log_offset integer DEFAULT 0)
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
    'The task as a JSON Task object (seed 001): id, name, revision, status, status_description, code, queue, object, description, parent, progress, eta, parameters, result, error, run_at, owner, access, audit; while processing, for Operations and the owning service, worker {name, address, pid, since}: the session holding the claim. With log_limit (1..1000) and log_offset, a caller that may read the log (Operations, the owning service) also gets "logs": that page of task_logs, newest first, each entry {at, message, errors, skips, success, total, by}. Not found (P0002) when missing or outside the caller''s scope.';

-- The filters of task_list, written once. A plain SQL function, so the
-- planner inlines it into each of task_list's three queries: the window on
-- status_at still reaches the (owner, status_at) index.
CREATE FUNCTION task._list_match(t task.task, status task.status, queue text, code text, object_id text,
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

CREATE FUNCTION task.task_list(
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
    IF submitted_within < '0' OR submitted_within > '36525 days' THEN
        RAISE EXCEPTION 'submitted_within must be between 0 and 100 years'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a window such as interval ''30 days'', or NULL for every task.';
    END IF;
    -- the children of a parent the caller may not see are listed as those
    -- of a parent that does not exist: none (a child visible to a client
    -- would otherwise confirm the hidden parent's id)
    IF task_list.parent IS NOT NULL
       AND NOT task._visible(task.task_id_owner(task_list.parent), task_list.parent) THEN
        RETURN;
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

-- The status written as a quoted literal (task_list(status => 'Completed'),
-- as the Task object spells it) resolves here, checked: 22023 with the
-- values to use, not the enum's bare 22P02. Its status has no default, so
-- a call that names none still resolves to the function above.
CREATE FUNCTION task.task_list(
    status      text,
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
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT j FROM task.task_list(
        task._enum_arg('status', $1, 'task.status', ' (lower case in SQL; the Task object capitalises them)')::task.status,
        $2, $3, $4, $5, $6, $7, $8, $9, $10) j
$$;
COMMENT ON FUNCTION task.task_list(text, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'The same for a status written as text (as a quoted literal is): an unknown one, e.g. the Task object''s Completed, is refused (22023) with the values to use.';

-- The tasks of a vendor or client caller, for the HTTP view api.tasks
-- (vendors and clients read no row of task.task directly, 90_access.sql):
-- JSON Task objects, most recent status change first; nothing for others.
CREATE FUNCTION task._account_tasks()
    RETURNS TABLE (id task.task_id, status_at timestamptz, name text, revision integer, status task.status,
                   code text, queue text, object jsonb, description text, progress double precision,
                   parameters jsonb, error text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT t.id, t.status_at, t.name, t.revision, t.status, t.code, t.queue, t.object, t.description,
           t.progress, t.parameters, t.error
      FROM task.task t
     WHERE (t.owner, t.id) IN (SELECT a.owner, a.task_id FROM task.task_access a
                                WHERE a.account = task.current_account())
       AND NOT task.current_is_operations()
$$;
COMMENT ON FUNCTION task._account_tasks() IS
    'Internal: the tasks a vendor or client caller may see, for the HTTP view api.tasks: the fields of the Task object that are columns (as task_get shows them to the caller) and status_at; the view sorts them, then makes each one of a page whole with task_get.';

CREATE FUNCTION task.task_logs(id task.task_id, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
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

CREATE FUNCTION task.task_result(id task.task_id) RETURNS jsonb
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
                  HINT = CASE t.status
                         WHEN 'failed' THEN 'A failed task has no result: read its error (task_get), or retry it (task_retry) and wait again.'
                         WHEN 'cancelled' THEN 'A cancelled task never completes: read why (task_get), and create it again if it is still wanted.'
                         ELSE 'Wait until the task is completed (task_wait; task_get shows its status).' END;
    END IF;
    IF t.resource IS NOT NULL THEN
        RETURN to_jsonb(t.resource);
    END IF;
    RETURN t.result;
END
$$;
COMMENT ON FUNCTION task.task_result(task.task_id) IS
    'The result of a completed task: its JSON value, or, for a resource result, the resource URI as a JSON string (task_get''s result field tells them apart). Visible to whoever may see the task.';
