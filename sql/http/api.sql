\echo Use "CREATE SCHEMA api; CREATE EXTENSION task_http SCHEMA api" to load this file. \quit
--
-- task_http: the HTTP layer of task, exposed by PostgREST, in the schema
-- the operator chooses (CREATE EXTENSION task_http SCHEMA <name>; the
-- schema must exist; set PostgREST's db-schemas to it). Requires task.
-- Built by make into sql/task_http--<version>.sql, @extschema@ standing for
-- that schema.
--
-- The HTTP layer: the HTTP schema (here: `api`), exposed by PostgREST (db-schemas = "api",
-- db-extra-search-path = "task" for the task_id operators). The README's
-- "HTTP (PostgREST)" section and docs/postgrest.conf tell how to run it.
--
--   GET  /tasks                  the view tasks (filters, order, limit/offset;
--                                Accept: application/vnd.pgrst.object+json for one)
--   GET  /rpc/task_get?id=       one task; 404 when missing or out of scope
--   GET  /rpc/task_logs?id=      its log (Operations and the owning service)
--   GET  /rpc/task_result?id=    200 with a JSON result, 303 + Location for a resource
--   POST /rpc/task_create        201 + Location (services)
--   POST /rpc/task_progress, task_log, task_heartbeat, task_complete, task_fail,
--        task_reschedule, task_cancel, task_retry, task_dequeue
--   POST /rpc/task_create_many   201 with the new ids (services)
--   POST /rpc/task_unblock, task_access_add, task_access_remove, task_bulk,
--        task_wait_many, task_queue_create (201), task_queue_configure,
--        task_queue_notify, task_queue_archive, task_schedule (201), task_unschedule
--   GET  /rpc/task_schedules, task_whoami
--   (market.sql: the marketplace routes and GET /rpc/task_list)
--
-- Who the caller is comes from the web role PostgREST switches to and the
-- JWT claim "task_identity" (src/identity.c): nothing here decides identity.
-- The view is security_invoker, so row-level security on task.task picks
-- the rows; names of services and accounts come from task_get (SECURITY
-- DEFINER, by id, re-checking visibility), so nothing outside the caller's
-- scope can be read through it. The functions are SECURITY DEFINER wrappers
-- of the SQL API that translate its errors into HTTP statuses. A function
-- that answers the Task object makes its JSON in a statement after the
-- call's (t := task.task_...(); RETURN task._task_json(t)): read in the
-- call's own statement, a hired task's marketplace rows (the escrow the
-- call moved) were as before the call.
--
COMMENT ON SCHEMA @extschema@ IS
    'Task API over HTTP (PostgREST): tasks, their logs and results, and the worker operations of seed 000.';

-- The Task object (seed 001) as columns. Scalar fields come from the row
-- (so filters on id, status, code, queue use them directly); the fields
-- that carry names of services and accounts (parent, owner, access,
-- audit) and the formatted eta and result come from task_get, one call per
-- row returned. Default order: most recent status change first. The rows
-- are sorted before task_get runs, so a page (limit) costs one call per
-- task on it; filters on the row's columns are pushed below the sort.
-- An explicit order=... sorts after task_get, i.e. calls it for every
-- matching row: fine for a caller's own tasks, costly for an operator
-- listing everything unfiltered.
CREATE VIEW @extschema@.tasks WITH (security_invoker = true) AS
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
       j.doc -> 'audit' AS audit,
       j.doc ->> 'status_description' AS status_description,
       j.doc ->> 'run_at' AS run_at
  FROM (SELECT * FROM task.task x
         -- services and Operations only: for anyone else row-level security
         -- lets no row through, but as a filter on the scan, which with a
         -- condition of the request's (?code=eq....) read every task of
         -- every tenant, archived ones too. This condition names no column,
         -- so it is evaluated once, before the scan, which does not run.
         WHERE (SELECT task.current_service() IS NOT NULL OR task.current_is_operations())
         ORDER BY x.status_at DESC, x.id DESC) t
 CROSS JOIN LATERAL (SELECT task.task_get(t.id) AS doc OFFSET 0) j
-- vendors and clients read no row of task.task (90_access.sql): their
-- tasks come from the API, as rows of the same columns, sorted and
-- filtered before task_get makes them whole: a page (limit) costs one
-- task_get a task on it here too (the whole Task objects of every task on
-- the account's list took 7 s for 100,000 tasks, whatever the limit)
UNION ALL
SELECT t.id,
       t.name,
       t.revision,
       pg_catalog.initcap(t.status::text),
       t.code,
       t.queue,
       t.object,
       t.description,
       j.doc -> 'parent',
       t.progress,
       j.doc ->> 'eta',
       t.parameters,
       j.doc ->> 'result',
       t.error,
       j.doc -> 'owner',
       j.doc -> 'access',
       j.doc -> 'audit',
       j.doc ->> 'status_description',
       j.doc ->> 'run_at'
  FROM (SELECT * FROM task._account_tasks() x ORDER BY x.status_at DESC, x.id DESC) t
 CROSS JOIN LATERAL (SELECT task.task_get(t.id) AS doc OFFSET 0) j;
COMMENT ON VIEW @extschema@.tasks IS
$$Tasks the caller may see (seed 001 Task objects), most recent status change first. Filter with id, status (capitalised: Queued, Completed, ...), code, queue, object->>id, parent->>id; page with limit and offset. One task: GET /tasks?id=eq.TSK-... with Accept: application/vnd.pgrst.object+json (406 when none), or GET /rpc/task_get?id=... (404).$$;
COMMENT ON COLUMN @extschema@.tasks.id IS 'TSK-XXXX-YYYY-YYYY-YYYY; XXXX is the owning service.';
COMMENT ON COLUMN @extschema@.tasks.name IS 'The name of the operation.';
COMMENT ON COLUMN @extschema@.tasks.revision IS 'Bumped on every change.';
COMMENT ON COLUMN @extschema@.tasks.status IS 'Blocked, Queued, Processing, Completed, Failed, Rescheduled or Cancelled.';
COMMENT ON COLUMN @extschema@.tasks.code IS 'The workflow, prefixed with the service namespace (e.g. accounts.buyers.transfer).';
COMMENT ON COLUMN @extschema@.tasks.queue IS 'The FIFO queue, under the owning service''s namespace.';
COMMENT ON COLUMN @extschema@.tasks.object IS 'The business object the task is about, e.g. {"id": "BUY-1190-0394"}.';
COMMENT ON COLUMN @extschema@.tasks.description IS 'A description of the task.';
COMMENT ON COLUMN @extschema@.tasks.parent IS 'The parent task {id, name}, if any.';
COMMENT ON COLUMN @extschema@.tasks.progress IS 'Percent 0..100, once started.';
COMMENT ON COLUMN @extschema@.tasks.eta IS 'Estimated completion (ISO 8601, UTC).';
COMMENT ON COLUMN @extschema@.tasks.parameters IS 'Task-specific parameters.';
COMMENT ON COLUMN @extschema@.tasks.result IS 'Relative URI of the result: a resource, or the task''s JSON result (GET /rpc/task_result).';
COMMENT ON COLUMN @extschema@.tasks.error IS 'Why the last attempt failed, or why the task was cancelled.';
COMMENT ON COLUMN @extschema@.tasks.owner IS 'The owning service {id, name, revision}.';
COMMENT ON COLUMN @extschema@.tasks.access IS 'Accounts with access to the task and its result [{id, name, revision, type, status}]: all for Operations, ids for the owning service, itself for an account.';
COMMENT ON COLUMN @extschema@.tasks.audit IS 'created, updated, started, completed, failed, rescheduled, cancelled: {at, by}.';
COMMENT ON COLUMN @extschema@.tasks.status_description IS 'What the status means for this task, in words (seed 002''s description of the status).';
COMMENT ON COLUMN @extschema@.tasks.run_at IS 'When the task becomes (or became) runnable (ISO 8601, UTC; seed 003''s trigger time).';

CREATE FUNCTION @extschema@.task_get(id text, log_limit integer DEFAULT NULL, log_offset integer DEFAULT 0) RETURNS jsonb
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
COMMENT ON FUNCTION @extschema@.task_get(text, integer, integer) IS
    'Gets a task by id (seed 001 Task object; absent fields are left out). With log_limit (1..1000) and log_offset, Operations and the owning service also get "logs", that page of the task''s log. 404 when it does not exist or is outside the caller''s scope, 400 for a malformed id or log page.';

CREATE FUNCTION @extschema@.task_logs(id text, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
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
COMMENT ON FUNCTION @extschema@.task_logs(text, integer, integer) IS
    'Gets the log records of a task, newest first: at, message, counters errors/skips/success/total, by. Page with log_limit (1..1000, default 10) and log_offset. Operations and the owning service only (403 for an account on the access list, 404 out of scope).';

CREATE FUNCTION @extschema@.task_result(id text) RETURNS jsonb
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
COMMENT ON FUNCTION @extschema@.task_result(text) IS
    'Gets the result of a completed task: a JSON result answers 200 with the value; a resource result answers 303 See Other with Location: the resource URI. 404 when missing or out of scope, 409 while the task is not completed.';

CREATE FUNCTION @extschema@.task_create(
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
    depends_on      text[] DEFAULT NULL,
    blocks_parent   boolean DEFAULT false,
    priority        integer DEFAULT NULL,
    unique_key      text DEFAULT NULL,
    debounce        interval DEFAULT NULL,
    max_run_time    interval DEFAULT NULL)
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
                          status => task._enum_arg('status', lower(coalesce(task_create.status, 'queued')), 'task.status',
                                                    ' (in any case)', '{queued,blocked}')::task.status,
                          run_at => task_create.run_at, idempotency_key => task_create.idempotency_key,
                          ordering_key => task_create.ordering_key, max_attempts => task_create.max_attempts,
                          depends_on => task_create.depends_on::task.task_id[],
                          blocks_parent => coalesce(task_create.blocks_parent, false),
                          priority => task_create.priority, unique_key => task_create.unique_key,
                          debounce => task_create.debounce, max_run_time => task_create.max_run_time);
    PERFORM task._http_respond(201, '/tasks?id=eq.' || t.id::text);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[], boolean, integer, text, interval, interval) IS
    'Creates a task in a queue of the calling service and answers 201 with the Task object and Location: /tasks?id=eq.<id>. Body: code, queue (required); name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at, idempotency_key, ordering_key, max_attempts, depends_on, blocks_parent, priority, unique_key (a repeat answers the unfinished task holding the key), debounce (with unique_key: the task waits that long, and a repeat while it is queued replaces it and restarts the wait), max_run_time (the hard limit of one attempt). Services only (403 for accounts).';

CREATE FUNCTION @extschema@.task_progress(id text, progress double precision DEFAULT NULL, eta timestamptz DEFAULT NULL,
                                  parameters jsonb DEFAULT NULL, token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_progress(task_progress.id::task.task_id, task_progress.progress,
                            task_progress.eta, task_progress.parameters, task_progress.token);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_progress(text, double precision, timestamptz, jsonb, bigint) IS
    'Owning service: sets progress (0..100), eta and parameters of an unfinished task; answers the Task object. With token, only while that claim holds (409 otherwise).';

CREATE FUNCTION @extschema@.task_log(id text, message text, errors bigint DEFAULT NULL, skips bigint DEFAULT NULL,
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
COMMENT ON FUNCTION @extschema@.task_log(text, text, bigint, bigint, bigint, bigint) IS
    'Owning service: appends a log record (message, optional counters errors, skips, success, total); answers 204.';

CREATE FUNCTION @extschema@.task_heartbeat(id text, token bigint, lease interval DEFAULT NULL,
                                   progress double precision DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_heartbeat(task_heartbeat.id::task.task_id, task_heartbeat.token,
                             task_heartbeat.lease, task_heartbeat.progress);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_heartbeat(text, bigint, interval, double precision) IS
    'Worker: extends the lease of a claimed task (lease, e.g. "5 minutes", or the queue''s), optionally with progress. 409 when the lease is lost.';

CREATE FUNCTION @extschema@.task_complete(id text, result jsonb DEFAULT NULL, resource text DEFAULT NULL,
                                  token bigint DEFAULT NULL, force boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_complete(task_complete.id::task.task_id, task_complete.result,
                            task_complete.resource, task_complete.token,
                            coalesce(task_complete.force, false));
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_complete(text, jsonb, text, bigint, boolean) IS
    'Worker: completes a processing task with a JSON result or a resource URI (relative); answers the Task object. 409 when it is not processing or the lease is lost. force => true completes it without the claim''s token (the owning service, for a worker that died).';

CREATE FUNCTION @extschema@.task_fail(id text, error text, token bigint DEFAULT NULL, retry boolean DEFAULT true,
                              force boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_fail(task_fail.id::task.task_id, task_fail.error, task_fail.token,
                        task_fail.retry, coalesce(task_fail.force, false));
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_fail(text, text, bigint, boolean, boolean) IS
    'Worker: reports a failed attempt; the task is rescheduled with backoff while attempts remain (and retry is true), else failed. Answers the Task object. force => true without the claim''s token.';

CREATE FUNCTION @extschema@.task_reschedule(id text, at timestamptz, token bigint DEFAULT NULL, force boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_reschedule(task_reschedule.id::task.task_id, task_reschedule.at,
                              task_reschedule.token, coalesce(task_reschedule.force, false));
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_reschedule(text, timestamptz, bigint, boolean) IS
    'Worker: gives a claimed task back to run again at a given time (status Rescheduled), without using up an attempt. Answers the Task object. force => true without the claim''s token.';

CREATE FUNCTION @extschema@.task_cancel(id text, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_cancel(task_cancel.id::task.task_id, task_cancel.reason);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_cancel(text, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason. Answers the Task object; 409 when it is already finished.';

CREATE FUNCTION @extschema@.task_retry(id text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_retry(task_retry.id::task.task_id);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_retry(text) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations). Answers the Task object; 409 unless it is failed.';

-- The claim: each task comes with the fencing token the calls that follow need.
CREATE FUNCTION @extschema@.task_dequeue(queue text, n integer DEFAULT 1, lease interval DEFAULT NULL,
                                 wait interval DEFAULT '0', complete text DEFAULT NULL,
                                 complete_token bigint DEFAULT NULL, result jsonb DEFAULT NULL,
                                 resource text DEFAULT NULL, complete_batch text[] DEFAULT NULL,
                                 complete_tokens bigint[] DEFAULT NULL)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    claimed task.task[];
    s text; m text; d text; h text;
BEGIN
    -- the claim first, in a statement that reads no table, then the JSON in
    -- a statement of its own: a waiting claim then sleeps without a
    -- snapshot (src/wait.c), as a direct call does
    claimed := ARRAY(SELECT t FROM task.task_dequeue(task_dequeue.queue, task_dequeue.n, task_dequeue.lease, task_dequeue.wait,
                                                      task_dequeue.complete::task.task_id, task_dequeue.complete_token,
                                                      task_dequeue.result, task_dequeue.resource,
                                                      task_dequeue.complete_batch::task.task_id[],
                                                      task_dequeue.complete_tokens) t);
    RETURN QUERY
    SELECT task._task_json(claimed[i]) || pg_catalog.jsonb_build_object('token', (claimed[i]).lease_token,
                                                                        'lease_until', task._iso((claimed[i]).lease_until))
      FROM pg_catalog.generate_subscripts(claimed, 1) AS i
     ORDER BY i;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_dequeue(text, integer, interval, interval, text, bigint, jsonb, text, text[], bigint[]) IS
    'Worker (owning service): claims up to n runnable tasks of the queue in FIFO order and answers them as Task objects with the claim''s token and lease_until. Higher priority first. It may first complete the previous task in the same transaction (one round trip per task): complete (id) with complete_token and result or resource; or complete_batch with complete_tokens, all or nothing. 404 for a queue outside the caller''s scope, 409 when a completion''s lease is lost (nothing is claimed then).';

-- ---------------------------------------------------------------- 0.2.0 routes
-- Bulk enqueue: the ids of the new tasks, in order.
CREATE FUNCTION @extschema@.task_create_many(code text, queue text, parameters jsonb[], run_at timestamptz DEFAULT NULL,
                                     ordering_keys text[] DEFAULT NULL, priority integer DEFAULT NULL,
                                     max_run_time interval DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY
    SELECT i::text FROM task.task_create_many(task_create_many.code, task_create_many.queue, task_create_many.parameters,
                                               task_create_many.run_at, task_create_many.ordering_keys,
                                               task_create_many.priority, task_create_many.max_run_time) i;
    PERFORM task._http_respond(201, NULL);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_create_many(text, text, jsonb[], timestamptz, text[], integer, interval) IS
    'Bulk enqueue (services): one queued task per parameters object (up to 10000) in one statement; answers 201 with their ids in order. Optional common run_at, one ordering key per task (ordering_keys), a common priority and max_run_time.';

CREATE FUNCTION @extschema@.task_unblock(id text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_unblock(task_unblock.id::task.task_id);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_unblock(text) IS
    'Owning service: queues a blocked task now, whatever it was waiting for. Answers the Task object; 409 unless it is blocked.';

-- The access list after creation: the task as task_get answers it.
CREATE FUNCTION @extschema@.task_access_add(id text, accounts text[])
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task.task_access_add(task_access_add.id::task.task_id, task_access_add.accounts);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_access_add(text, text[]) IS
    'Owning service or Operations: gives accounts (ACC-XXXX-YYYY ids) access to a task and its result, audited; answers the Task object. 403 for accounts, 404 out of scope.';

CREATE FUNCTION @extschema@.task_access_remove(id text, accounts text[])
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task.task_access_remove(task_access_remove.id::task.task_id, task_access_remove.accounts);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_access_remove(text, text[]) IS
    'Owning service or Operations: takes accounts off a task''s access list, audited; answers the Task object. 403 for accounts, 404 out of scope.';

-- Bulk operations by filter, one batch per call: {"changed": n, "more": bool}.
CREATE FUNCTION @extschema@.task_bulk(action text, queue text DEFAULT NULL, code text DEFAULT NULL, status text DEFAULT NULL,
                              older_than interval DEFAULT NULL, ordering_key text DEFAULT NULL,
                              idempotency_key text DEFAULT NULL, run_at timestamptz DEFAULT NULL,
                              reason text DEFAULT NULL, batch_size integer DEFAULT 1000)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    s text; m text; d text; h text;
BEGIN
    r := task.task_bulk(task_bulk.action, task_bulk.queue, task_bulk.code, task._enum_arg('status', lower(task_bulk.status), 'task.status',
                                                                                   ' (in any case)')::task.status,
                        task_bulk.older_than, task_bulk.ordering_key, task_bulk.idempotency_key,
                        task_bulk.run_at, task_bulk.reason, task_bulk.batch_size);
    RETURN pg_catalog.jsonb_build_object('changed', r.changed, 'more', r.more);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_bulk(text, text, text, text, interval, text, text, timestamptz, text, integer) IS
    'Operations and the owning service: one batch (batch_size, default 1000) of action cancel, retry, reschedule (to run_at), delete or purge over the tasks matching queue, code, status, older_than, ordering_key, idempotency_key; answers {"changed": n, "more": true while matching tasks remain}. 400 for an unknown action or a status it cannot apply to, 403 for accounts.';

-- Waits: POST, since they wait.
CREATE FUNCTION @extschema@.task_wait_many(ids text[], timeout interval DEFAULT '30 seconds')
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task.task_wait_many(task_wait_many.ids::task.task_id[], task_wait_many.timeout);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_wait_many(text[], interval) IS
    'Waits until all the given tasks (1..1000 ids) are completed, failed or cancelled, or the timeout (0..1 hour, default 30 s) passes, and answers them as an array of Task objects in the order given. POST, since it waits. 404 when one is missing or out of scope.';

-- Queues of the calling service: the queue as JSON, its owner as SVC-XXXX,
-- times in ISO 8601 UTC as in the Task object.
CREATE FUNCTION @extschema@.task_queue_create(queue text, owner text DEFAULT NULL, lease interval DEFAULT NULL,
                                      max_attempts integer DEFAULT NULL, backoff_base interval DEFAULT NULL,
                                      backoff_max interval DEFAULT NULL, retention interval DEFAULT NULL,
                                      paused boolean DEFAULT false, priority integer DEFAULT NULL,
                                      max_run_time interval DEFAULT NULL,
                                      max_processing integer DEFAULT NULL, key_concurrency integer DEFAULT NULL,
                                      rate_limit integer DEFAULT NULL, rate_interval interval DEFAULT NULL,
                                      fair_share boolean DEFAULT false, key_rate_limit integer DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue;
    s text; m text; d text; h text;
BEGIN
    q := task.task_queue_create(task_queue_create.queue, task_queue_create.owner, task_queue_create.lease,
                                task_queue_create.max_attempts, task_queue_create.backoff_base,
                                task_queue_create.backoff_max, task_queue_create.retention,
                                coalesce(task_queue_create.paused, false), task_queue_create.priority,
                                task_queue_create.max_run_time,
                                task_queue_create.max_processing, task_queue_create.key_concurrency,
                                task_queue_create.rate_limit, task_queue_create.rate_interval,
                                coalesce(task_queue_create.fair_share, false), task_queue_create.key_rate_limit);
    PERFORM task._http_respond(201, NULL);
    RETURN pg_catalog.to_jsonb(q) || pg_catalog.jsonb_build_object('owner', task.service_text(q.owner), 'created_at', task._iso(q.created_at));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS
    'Creates a queue under the calling service''s namespace (Operations name the owner, SVC-XXXX) with its worker policy, the maximum run time of one attempt (max_run_time) and claim-time limits (max_processing, key_concurrency, rate_limit and key_rate_limit per rate_interval, fair_share); answers 201 with the queue. 409 when the name is taken.';

CREATE FUNCTION @extschema@.task_queue_configure(queue text, lease interval DEFAULT NULL, max_attempts integer DEFAULT NULL,
                                         backoff_base interval DEFAULT NULL, backoff_max interval DEFAULT NULL,
                                         retention interval DEFAULT NULL, paused boolean DEFAULT NULL,
                                         priority integer DEFAULT NULL, max_run_time interval DEFAULT NULL,
                                         max_processing integer DEFAULT NULL, key_concurrency integer DEFAULT NULL,
                                         rate_limit integer DEFAULT NULL, rate_interval interval DEFAULT NULL,
                                         fair_share boolean DEFAULT NULL, key_rate_limit integer DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue;
    s text; m text; d text; h text;
BEGIN
    q := task.task_queue_configure(task_queue_configure.queue, task_queue_configure.lease,
                                   task_queue_configure.max_attempts, task_queue_configure.backoff_base,
                                   task_queue_configure.backoff_max, task_queue_configure.retention,
                                   task_queue_configure.paused, task_queue_configure.priority,
                                   task_queue_configure.max_run_time,
                                   task_queue_configure.max_processing, task_queue_configure.key_concurrency,
                                   task_queue_configure.rate_limit, task_queue_configure.rate_interval,
                                   task_queue_configure.fair_share, task_queue_configure.key_rate_limit);
    RETURN pg_catalog.to_jsonb(q) || pg_catalog.jsonb_build_object('owner', task.service_text(q.owner), 'created_at', task._iso(q.created_at));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_queue_configure(text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS
    'Owning service: changes a queue''s worker policy (lease, max_attempts, backoff_base, backoff_max, retention, paused, priority, max_run_time) and claim-time limits (max_processing, key_concurrency, rate_limit, key_rate_limit, rate_interval, fair_share; 0 removes a limit; absent ones are kept) and answers the queue. 404 out of scope.';

CREATE FUNCTION @extschema@.task_queue_notify(queue text, channel text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue;
    s text; m text; d text; h text;
BEGIN
    q := task.task_queue_notify(task_queue_notify.queue, task_queue_notify.channel);
    RETURN pg_catalog.to_jsonb(q) || pg_catalog.jsonb_build_object('owner', task.service_text(q.owner), 'created_at', task._iso(q.created_at));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_queue_notify(text, text) IS
    'Owning service: NOTIFY channel, payload {"id", "queue", "status"}, when a task of the queue reaches completed, failed or cancelled; null or "" turns it off. Answers the queue. For database clients that LISTEN (PostgREST does not relay notifications).';

-- Long history: finished tasks of the queue move to the monthly history
-- tables archive_after they finished (83_history.sql of the task extension).
CREATE FUNCTION @extschema@.task_queue_archive(queue text, archive_after interval)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue;
    s text; m text; d text; h text;
BEGIN
    q := task.task_queue_archive(task_queue_archive.queue, task_queue_archive.archive_after);
    RETURN pg_catalog.to_jsonb(q) || pg_catalog.jsonb_build_object('owner', task.service_text(q.owner), 'created_at', task._iso(q.created_at));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_queue_archive(text, interval) IS
    'Owning service: finished tasks of the queue move to the monthly history tables archive_after they finished (0 turns it off), read as before and dropped by month past the retention. Answers the queue. 404 out of scope.';

-- Recurring tasks (pg_cron) of the calling service.
CREATE FUNCTION @extschema@.task_schedule(name text, cron text, template jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    x task.schedule;
    s text; m text; d text; h text;
BEGIN
    x := task.task_schedule(task_schedule.name, task_schedule.cron, task_schedule.template);
    PERFORM task._http_respond(201, NULL);
    RETURN pg_catalog.to_jsonb(x) || pg_catalog.jsonb_build_object('owner', task.service_text(x.owner), 'created_at', task._iso(x.created_at),
                                                   'last_run_at', task._iso(x.last_run_at), 'last_error_at', task._iso(x.last_error_at));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_schedule(text, text, jsonb) IS
    'Service: creates (or replaces) the recurring task name on the pg_cron schedule cron, from template (task_create''s arguments as JSON); answers 201 with the schedule. Needs pg_cron in the database.';

CREATE FUNCTION @extschema@.task_schedules()
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY
    SELECT pg_catalog.to_jsonb(x) || pg_catalog.jsonb_build_object('owner', task.service_text(x.owner), 'created_at', task._iso(x.created_at),
                                                   'last_run_at', task._iso(x.last_run_at), 'last_error_at', task._iso(x.last_error_at))
      FROM task.task_schedules() x;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_schedules() IS
    'The recurring tasks the caller may see (a service its own, Operations all), with their last run, last task and last error.';

CREATE FUNCTION @extschema@.task_unschedule(name text, owner text DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task.task_unschedule(task_unschedule.name, task_unschedule.owner);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_unschedule(text, text) IS
    'Removes a recurring task and its pg_cron job; false when there was none. A service its own; Operations name the owner (SVC-XXXX).';

CREATE FUNCTION @extschema@.task_whoami()
    RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT task.task_whoami()
$$;
COMMENT ON FUNCTION @extschema@.task_whoami() IS
    'Who the token makes the caller: kind, id, name, and whether it has operations rights.';

-- The web roles only: PUBLIC, logins and task_web_anon get nothing here.
-- Every web role with an identity (task._roles()) gets the schema, the view
-- and every function: reads are filtered by row-level security and the
-- visibility rule; what each kind may write is checked by the SQL API
-- (accounts get 403 from it), so granting all web roles keeps one error path.
-- Only this extension's own objects: the schema may hold others.
DO $$
DECLARE
    r name;
    f regprocedure;
BEGIN
    FOR f IN SELECT d.objid::regprocedure FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
                AND d.refclassid = 'pg_catalog.pg_extension'::regclass
                AND d.refobjid = (SELECT x.oid FROM pg_catalog.pg_extension x WHERE x.extname = 'task_http') LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        FOR r IN SELECT x.web_role FROM task._roles() x WHERE x.group_role IS NOT NULL LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f, r);
        END LOOP;
    END LOOP;
    REVOKE ALL ON @extschema@.tasks FROM PUBLIC;
    FOR r IN SELECT x.web_role FROM task._roles() x WHERE x.group_role IS NOT NULL LOOP
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA @extschema@ TO %I', r);
        EXECUTE pg_catalog.format('GRANT SELECT ON @extschema@.tasks TO %I', r);
    END LOOP;
END
$$;
