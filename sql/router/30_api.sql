\echo Use "CREATE EXTENSION task_router CASCADE" to load this file. \quit
--
-- The public API of task, routed: task_router.task_* here, with the same
-- names, arguments and defaults as the single-node functions, and the
-- callers' task.task_* made from them in sql/router/40_errors.sql. Each is
-- a PL/Proxy function (or a thin SQL or PL/pgSQL one over PL/Proxy
-- functions) that runs the node's own function as the CALLER: PL/Proxy
-- connects with user=current_user, so identity, row-level security and
-- audit are the node's. None of these is SECURITY DEFINER.
--
--   by task id (its node):  task_get, task_logs, task_result, task_wait,
--                           task_complete, task_heartbeat, task_progress,
--                           task_log, task_fail, task_reschedule,
--                           task_cancel, task_retry, task_unblock,
--                           task_access_add, task_access_remove
--   by task ids (their nodes, one after the other): task_wait_many
--   by queue (its node):    task_create, task_create_many, task_dequeue,
--                           task_schedule
--   every node:             task_list (merged), task_schedules,
--                           task_unschedule, task_bulk (summed)
--   node 0, then copied:    task_service_create, task_account_create,
--                           task_login_grant, task_login_revoke,
--                           task_queue_create, task_queue_configure,
--                           task_queue_notify, task_queue_archive
--   node 0:                 task_whoami
-- Not routed (run them on each node): task_maintain, task_cron_enable,
-- task_cron_disable; nor the marketplace (87_market.sql: task_hire and the
-- calls after it), which runs on one node: connect to it directly.

-- ---------------------------------------------------------------- by task id
CREATE FUNCTION task_router.task_get(id task.task_id, log_limit integer DEFAULT NULL, log_offset integer DEFAULT 0) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_get;
$$;
COMMENT ON FUNCTION task_router.task_get(task.task_id, integer, integer) IS 'Routed to the task''s node: see task_get of the task extension.';

CREATE FUNCTION task_router.task_logs(id task.task_id, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at timestamptz, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_logs;
$$;
COMMENT ON FUNCTION task_router.task_logs(task.task_id, integer, integer) IS 'Routed to the task''s node: see task_logs of the task extension.';

CREATE FUNCTION task_router.task_result(id task.task_id) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_result;
$$;
COMMENT ON FUNCTION task_router.task_result(task.task_id) IS 'Routed to the task''s node: see task_result of the task extension.';

CREATE FUNCTION task_router.task_wait(id task.task_id, timeout interval DEFAULT '30 seconds') RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_wait;
$$;
COMMENT ON FUNCTION task_router.task_wait(task.task_id, interval) IS 'Routed to the task''s node, where it sleeps until the task settles: see task_wait of the task extension.';

CREATE FUNCTION task_router.task_complete(
    id       task.task_id,
    result   jsonb DEFAULT NULL,
    resource text DEFAULT NULL,
    token    bigint DEFAULT NULL,
    force    boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_complete;
$$;
COMMENT ON FUNCTION task_router.task_complete(task.task_id, jsonb, text, bigint, boolean) IS 'Routed to the task''s node: see task_complete of the task extension.';

CREATE FUNCTION task_router.task_heartbeat(
    id       task.task_id,
    token    bigint,
    lease    interval DEFAULT NULL,
    progress double precision DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_heartbeat;
$$;
COMMENT ON FUNCTION task_router.task_heartbeat(task.task_id, bigint, interval, double precision) IS 'Routed to the task''s node: see task_heartbeat of the task extension.';

CREATE FUNCTION task_router.task_progress(
    id         task.task_id,
    progress   double precision DEFAULT NULL,
    eta        timestamptz DEFAULT NULL,
    parameters jsonb DEFAULT NULL,
    token      bigint DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_progress;
$$;
COMMENT ON FUNCTION task_router.task_progress(task.task_id, double precision, timestamptz, jsonb, bigint) IS 'Routed to the task''s node: see task_progress of the task extension.';

CREATE FUNCTION task_router.task_log(
    id      task.task_id,
    message text,
    errors  bigint DEFAULT NULL,
    skips   bigint DEFAULT NULL,
    success bigint DEFAULT NULL,
    total   bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_log;
$$;
COMMENT ON FUNCTION task_router.task_log(task.task_id, text, bigint, bigint, bigint, bigint) IS 'Routed to the task''s node: see task_log of the task extension.';

CREATE FUNCTION task_router.task_fail(
    id    task.task_id,
    error text,
    token bigint DEFAULT NULL,
    retry boolean DEFAULT true,
    force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_fail;
$$;
COMMENT ON FUNCTION task_router.task_fail(task.task_id, text, bigint, boolean, boolean) IS 'Routed to the task''s node: see task_fail of the task extension.';

CREATE FUNCTION task_router.task_reschedule(id task.task_id, at timestamptz, token bigint DEFAULT NULL, force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_reschedule;
$$;
COMMENT ON FUNCTION task_router.task_reschedule(task.task_id, timestamptz, bigint, boolean) IS 'Routed to the task''s node: see task_reschedule of the task extension.';

CREATE FUNCTION task_router.task_cancel(id task.task_id, reason text DEFAULT NULL) RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_cancel;
$$;
COMMENT ON FUNCTION task_router.task_cancel(task.task_id, text) IS 'Routed to the task''s node: see task_cancel of the task extension.';

CREATE FUNCTION task_router.task_retry(id task.task_id) RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_retry;
$$;
COMMENT ON FUNCTION task_router.task_retry(task.task_id) IS 'Routed to the task''s node: see task_retry of the task extension.';

CREATE FUNCTION task_router.task_unblock(id task.task_id) RETURNS task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_unblock;
$$;
COMMENT ON FUNCTION task_router.task_unblock(task.task_id) IS 'Routed to the task''s node: see task_unblock of the task extension.';

CREATE FUNCTION task_router.task_access_add(id task.task_id, accounts text[]) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_access_add;
$$;
COMMENT ON FUNCTION task_router.task_access_add(task.task_id, text[]) IS 'Routed to the task''s node: see task_access_add of the task extension.';

CREATE FUNCTION task_router.task_access_remove(id task.task_id, accounts text[]) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_task(id);
    TARGET task.task_access_remove;
$$;
COMMENT ON FUNCTION task_router.task_access_remove(task.task_id, text[]) IS 'Routed to the task''s node: see task_access_remove of the task extension.';

-- Tasks of several nodes: first every node's share without waiting (a
-- task missing on a later node is "not found" at once, as on one node,
-- not after the earlier nodes' wait; a timeout out of bounds is passed
-- as given, so the first node refuses it first, as one node does), then
-- each node's share waits there in turn, within what is left of the
-- timeout, and the answers are put back in the order asked (repeated ids
-- once), as task_wait_many answers on one node.
CREATE FUNCTION task_router._wait_many_on(node integer, ids task.task_id[], timeout interval) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON node;
    SELECT task.task_wait_many(ids, timeout);
$$;
COMMENT ON FUNCTION task_router._wait_many_on(integer, task.task_id[], interval) IS 'Internal: task_wait_many on one node, as the caller.';

CREATE FUNCTION task_router.task_wait_many(ids task.task_id[], timeout interval DEFAULT '30 seconds') RETURNS jsonb
    LANGUAGE plpgsql
AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    nodes integer[] := ARRAY(SELECT DISTINCT task_router.node_of_task(i) FROM unnest(ids) i ORDER BY 1);
    n integer;
    got jsonb := '{}';
    pass interval;
BEGIN
    IF cardinality(nodes) < 2 OR cardinality(ids) > 1000 OR array_ndims(ids) <> 1 THEN
        -- one node (or none, or more ids than task_wait_many takes, or not
        -- one dimension: the first node answers the API's own error, which
        -- each node's share alone would not raise)
        RETURN task_router._wait_many_on(coalesce(nodes[1], 0), ids, timeout);
    END IF;
    FOREACH pass IN ARRAY ARRAY[CASE WHEN timeout BETWEEN interval '0' AND interval '1 hour' THEN interval '0' ELSE timeout END,
                                timeout] LOOP
        got := '{}';
        FOREACH n IN ARRAY nodes LOOP
            -- the waiting pass: the first node checks the timeout as given,
            -- the others get what is left
            SELECT got || coalesce(pg_catalog.jsonb_object_agg(e->>'id', e), '{}') INTO got
              FROM pg_catalog.jsonb_array_elements(task_router._wait_many_on(n,
                       ARRAY(SELECT i FROM unnest(ids) i WHERE task_router.node_of_task(i) = n),
                       CASE WHEN pass IS DISTINCT FROM timeout THEN pass
                            WHEN n = nodes[1] THEN timeout
                            ELSE greatest(deadline - clock_timestamp(), interval '0') END)) e;
        END LOOP;
    END LOOP;
    RETURN (SELECT pg_catalog.jsonb_agg(got -> x.id ORDER BY x.first)
              FROM (SELECT i::text AS id, min(o) AS first FROM unnest(ids) WITH ORDINALITY u(i, o) GROUP BY i::text) x);
END
$$;
COMMENT ON FUNCTION task_router.task_wait_many(task.task_id[], interval) IS
    'Reads the tasks on their nodes at once (a missing one is not found without a wait), then waits on their nodes, one node after the other within the timeout, and answers them in the order given: see task_wait_many of the task extension.';

-- ---------------------------------------------------------------- by queue
CREATE FUNCTION task_router.task_create(
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
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_for_create(queue, parent, depends_on);
    TARGET task.task_create;
$$;
COMMENT ON FUNCTION task_router.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean, integer, text, interval, interval) IS
    'Routed to the queue''s node: see task_create of the task extension. A parent or dependency on another node is refused (0A000).';

CREATE FUNCTION task_router.task_create_many(
    code          text,
    queue         text,
    parameters    jsonb[],
    run_at        timestamptz DEFAULT NULL,
    ordering_keys text[] DEFAULT NULL,
    priority      integer DEFAULT NULL,
    max_run_time  interval DEFAULT NULL)
    RETURNS SETOF task.task_id
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_queue(queue);
    TARGET task.task_create_many;
$$;
COMMENT ON FUNCTION task_router.task_create_many(text, text, jsonb[], timestamptz, text[], integer, interval) IS 'Routed to the queue''s node: see task_create_many of the task extension.';

CREATE FUNCTION task_router._dequeue_on(
    node           integer,
    queue          text,
    n              integer,
    lease          interval,
    wait           interval,
    complete       task.task_id,
    complete_token bigint,
    result         jsonb,
    resource       text,
    complete_batch  task.task_id[],
    complete_tokens bigint[])
    RETURNS SETOF task.task
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON node;
    SELECT * FROM task.task_dequeue(queue, n, lease, wait, complete, complete_token, result, resource, complete_batch, complete_tokens);
$$;
COMMENT ON FUNCTION task_router._dequeue_on(integer, text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Internal: task_dequeue on one node, as the caller.';

CREATE FUNCTION task_router.task_dequeue(
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
    LANGUAGE plpgsql
AS $$
DECLARE
    -- routed to: task_router.node_for_dequeue(queue, complete, complete_batch);
    target integer := task_router.node_for_dequeue(queue, complete, complete_batch);
BEGIN
    -- completing tasks of the node a moving queue left, when that node has
    -- no runnable task of it any more: the call completes them there and
    -- returns at once instead of waiting where no new task of the queue
    -- arrives (the next dequeue, completing nothing, waits on its new node)
    IF wait > interval '0' AND (complete IS NOT NULL OR cardinality(complete_batch) > 0)
       AND task_router._drained(queue, target) THEN
        wait := interval '0';
    END IF;
    RETURN QUERY SELECT * FROM task_router._dequeue_on(target, queue, n, lease, wait, complete, complete_token, result, resource,
                                                       complete_batch, complete_tokens);
END
$$;
COMMENT ON FUNCTION task_router.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Routed to the queue''s node, where a wait sleeps until a commit there makes work: see task_dequeue of the task extension. Tasks completed in the same call must be on that node (or, while the queue moves, on the node it left: with no runnable task left there, such a call returns without waiting).';

CREATE FUNCTION task_router.task_schedule(name text, cron text, template jsonb) RETURNS task.schedule
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON task_router.node_of_queue(template->>'queue');
    TARGET task.task_schedule;
$$;
COMMENT ON FUNCTION task_router.task_schedule(text, text, jsonb) IS 'Routed to the node of the template''s queue, whose pg_cron runs it: see task_schedule of the task extension.';

-- ---------------------------------------------------------------- every node
CREATE FUNCTION task_router._list(
    status      task.status,
    queue       text,
    code        text,
    object_id   text,
    parent      task.task_id,
    since       timestamptz,
    list_limit  integer,
    list_offset integer,
    agent       text,
    submitted_within interval)
    RETURNS TABLE (status_at timestamptz, id task.task_id, task jsonb)
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON ALL;
    TARGET task.node_list;
$$;
COMMENT ON FUNCTION task_router._list(task.status, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'Internal: every node''s first list_limit + list_offset tasks of the caller (task.node_list), in parallel.';

CREATE FUNCTION task_router.task_list(
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
    LANGUAGE sql STABLE
AS $$
    SELECT l.task
      FROM task_router._list(status, queue, code, object_id, parent, since, list_limit, list_offset, agent, submitted_within) l
     ORDER BY l.status_at DESC, l.id DESC
     -- out-of-range paging must still reach the nodes, which raise task_list's error
     LIMIT CASE WHEN list_limit BETWEEN 1 AND 1000 THEN list_limit END
     OFFSET greatest(list_offset, 0)
$$;
COMMENT ON FUNCTION task_router.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'Every node''s tasks merged in task_list''s order (newest status change first, then id), paged by list_limit and list_offset: see task_list of the task extension. Needs every node up.';

-- a status written as text (task_list(text, ...) of the task extension):
-- one task.status has is listed as above; any other is refused by node 0's
-- task_list(text, ...), whose error (22023 and its hint) reaches the caller
CREATE FUNCTION task_router._list_refused(status text) RETURNS SETOF jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_list;
$$;
COMMENT ON FUNCTION task_router._list_refused(text) IS 'Internal: node 0''s task_list(text, ...), for its error on a status task.status does not have.';

CREATE FUNCTION task_router.task_list(
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
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF $1 IS NOT NULL AND NOT $1 = ANY (enum_range(NULL::task.status)::text[]) THEN
        RETURN QUERY SELECT * FROM task_router._list_refused($1);
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM task_router.task_list($1::task.status, $2, $3, $4, $5, $6, $7, $8, $9, $10);
END
$$;
COMMENT ON FUNCTION task_router.task_list(text, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'The same for a status written as text: see task_list(text, ...) of the task extension.';

-- One batch on every node (batch_size each), as the caller: the counts
-- summed, more while any node has more. Each node commits its own batch.
CREATE FUNCTION task_router._bulk(action text, queue text, code text, status task.status, older_than interval,
                                  ordering_key text, idempotency_key text, run_at timestamptz, reason text,
                                  batch_size integer)
    RETURNS TABLE (changed bigint, more boolean)
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON ALL;
    TARGET task.task_bulk;
$$;
COMMENT ON FUNCTION task_router._bulk(text, text, text, task.status, interval, text, text, timestamptz, text, integer) IS
    'Internal: task_bulk on every node, in parallel.';

-- Every node, as the caller, before a call that writes on every node: a
-- node that cannot be reached fails the call before any node is sent it
-- (PL/Proxy sends a call at once on a connection it holds, while it opens
-- the others: without this, a node down failed the call after the nodes
-- already connected had committed their part)
CREATE FUNCTION task_router._reach_all() RETURNS SETOF integer
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON ALL;
    SELECT 1;
$$;
COMMENT ON FUNCTION task_router._reach_all() IS 'Internal: connects to every node as the caller (08006 when one cannot be reached), before a call that writes on every node.';

CREATE FUNCTION task_router.task_bulk(
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
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM task_router._reach_all();
    SELECT coalesce(sum(b.changed), 0)::bigint, coalesce(bool_or(b.more), false) INTO changed, more
      FROM task_router._bulk(action, queue, code, status, older_than, ordering_key, idempotency_key, run_at,
                             reason, batch_size) b;
END
$$;
COMMENT ON FUNCTION task_router.task_bulk(text, text, text, task.status, interval, text, text, timestamptz, text, integer) IS
    'One batch on every node (batch_size per node): changed is the sum, more is true while any node has more; each node commits its own batch. See task_bulk of the task extension.';

CREATE FUNCTION task_router.task_schedules() RETURNS SETOF task.schedule
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON ALL;
    TARGET task.task_schedules;
$$;
COMMENT ON FUNCTION task_router.task_schedules() IS 'Every node''s schedules the caller may see: see task_schedules of the task extension.';

CREATE FUNCTION task_router._unschedule(name text, owner text) RETURNS SETOF boolean
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON ALL;
    TARGET task.task_unschedule;
$$;
COMMENT ON FUNCTION task_router._unschedule(text, text) IS 'Internal: task_unschedule on every node.';

CREATE FUNCTION task_router.task_unschedule(name text, owner text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM task_router._reach_all();
    RETURN (SELECT coalesce(bool_or(u), false) FROM task_router._unschedule(name, owner) u);
END
$$;
COMMENT ON FUNCTION task_router.task_unschedule(text, text) IS 'Removes the schedule on whichever node holds it: see task_unschedule of the task extension.';

-- ---------------------------------------------------------------- node 0
CREATE FUNCTION task_router.task_whoami() RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_whoami;
$$;
COMMENT ON FUNCTION task_router.task_whoami() IS 'Answered by node 0: see task_whoami of the task extension.';

-- ---------------------------------------------------------------- the directory: node 0, then every node
-- The caller's call runs on node 0 (its checks and errors are the node's);
-- then task_router.directory_sync copies the directory to the other nodes.
CREATE FUNCTION task_router._service_create(name text, namespace text) RETURNS text
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_service_create;
$$;
COMMENT ON FUNCTION task_router._service_create(text, text) IS 'Internal: task_service_create on node 0.';

CREATE FUNCTION task_router.task_service_create(name text, namespace text) RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    r text := task_router._service_create(name, namespace);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_service_create(text, text) IS 'Created on node 0 and copied to every node: see task_service_create of the task extension.';

CREATE FUNCTION task_router._service_configure(service text, max_processing integer) RETURNS integer
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_service_configure;
$$;
COMMENT ON FUNCTION task_router._service_configure(text, integer) IS 'Internal: task_service_configure on node 0.';

CREATE FUNCTION task_router.task_service_configure(service text, max_processing integer) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r integer := task_router._service_configure(service, max_processing);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_service_configure(text, integer) IS
    'Configured on node 0 and copied to every node: see task_service_configure of the task extension. The cap holds on each node (a node counts the service''s tasks processing there).';

-- the type and status travel as text: node 0's task_account_create(text,
-- text, text) checks them (22023 with its hint for an unknown one)
CREATE FUNCTION task_router._account_create(name text, type text, status text) RETURNS text
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_account_create;
$$;
COMMENT ON FUNCTION task_router._account_create(text, text, text) IS 'Internal: task_account_create on node 0.';

-- the type and status as text, as quoted literals resolve
CREATE FUNCTION task_router.task_account_create(name text, type text, status text DEFAULT 'Active')
    RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    r text := task_router._account_create(name, type, status);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_account_create(text, text, text) IS 'Created on node 0 and copied to every node: see task_account_create(text, text, text) of the task extension.';

CREATE FUNCTION task_router.task_account_create(name text, type task.account_type,
                                         status task.account_status DEFAULT 'Active')
    RETURNS text
    LANGUAGE sql
AS $$
    SELECT task_router.task_account_create(name, type::text, status::text);
$$;
COMMENT ON FUNCTION task_router.task_account_create(text, task.account_type, task.account_status) IS 'Created on node 0 and copied to every node: see task_account_create of the task extension.';

CREATE FUNCTION task_router._login_grant(role text, identity text) RETURNS void
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    SELECT task.task_login_grant(role::regrole, identity);
$$;
COMMENT ON FUNCTION task_router._login_grant(text, text) IS 'Internal: task_login_grant on node 0 (the role travels by name).';

CREATE FUNCTION task_router.task_login_grant(role regrole, identity text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    n integer;
    present boolean;
BEGIN
    -- a node gets the directory in one transaction: a mapping whose role it
    -- lacks would stop every later copy to it, so first the role on every
    -- node reachable (a superuser's call; node 0 refuses anyone else's)
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        FOR n IN SELECT x.number FROM task_router.node x ORDER BY x.number LOOP
            BEGIN
                present := task_router._on_node_has_role(n, role::text);
            EXCEPTION WHEN OTHERS THEN
                present := NULL;  -- down: the copy below names it, directory_sync catches it up
            END;
            IF present IS FALSE THEN
                RAISE EXCEPTION 'role "%" does not exist on node %', role, n
                    USING ERRCODE = 'undefined_object',
                          HINT = 'Create the login role on every node and on the router first (docs/SCALE-OUT.md, "Roles are per server").';
            END IF;
        END LOOP;
    END IF;
    PERFORM task_router._login_grant(role::text, identity);
    PERFORM task_router.directory_sync();
END
$$;
COMMENT ON FUNCTION task_router.task_login_grant(regrole, text) IS 'Mapped on node 0 and copied to every node; refused (42704) when the role is missing on a node that answers: see task_login_grant of the task extension.';

-- The role named as text, as a quoted literal is (as task._login_role):
-- a role missing on the router is refused with a hint, not the regrole
-- cast's bare 42704.
CREATE FUNCTION task_router._login_role(role text) RETURNS regrole
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r regrole;
BEGIN
    IF role IS NULL THEN
        RETURN NULL;
    END IF;
    r := pg_catalog.to_regrole(role);
    IF r IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', role
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create the login role on the router and on every node first: CREATE ROLE name LOGIN (docs/SCALE-OUT.md, "Roles are per server").';
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router._login_role(text) IS 'Internal: the role of a login named as text; 42704 with a hint when the router has none.';

CREATE FUNCTION task_router.task_login_grant(role text, identity text) RETURNS void
    LANGUAGE sql
AS $$
    SELECT task_router.task_login_grant(task_router._login_role(role), identity);
$$;
COMMENT ON FUNCTION task_router.task_login_grant(text, text) IS 'The same for a role named as text (as a quoted literal is): a role missing on the router is refused (42704) with a hint.';

CREATE FUNCTION task_router._login_revoke(role text) RETURNS boolean
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    SELECT task.task_login_revoke(role::regrole);
$$;
COMMENT ON FUNCTION task_router._login_revoke(text) IS 'Internal: task_login_revoke on node 0 (the role travels by name).';

CREATE FUNCTION task_router.task_login_revoke(role regrole) RETURNS boolean
    LANGUAGE plpgsql
AS $$
DECLARE
    r boolean := task_router._login_revoke(role::text);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_login_revoke(regrole) IS 'Unmapped on node 0 and on every node: see task_login_revoke of the task extension.';

CREATE FUNCTION task_router.task_login_revoke(role text) RETURNS boolean
    LANGUAGE sql
AS $$
    SELECT task_router.task_login_revoke(task_router._login_role(role));
$$;
COMMENT ON FUNCTION task_router.task_login_revoke(text) IS 'The same for a role named as text (as a quoted literal is): a role missing on the router is refused (42704) with a hint.';

CREATE FUNCTION task_router._queue_create(
    queue text, owner text, lease interval, max_attempts integer, backoff_base interval,
    backoff_max interval, retention interval, paused boolean, priority integer, max_run_time interval,
    max_processing integer, key_concurrency integer, rate_limit integer, rate_interval interval,
    fair_share boolean, key_rate_limit integer)
    RETURNS task.queue
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_queue_create;
$$;
COMMENT ON FUNCTION task_router._queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS 'Internal: task_queue_create on node 0.';

CREATE FUNCTION task_router.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false,
    priority     integer DEFAULT NULL,
    max_run_time interval DEFAULT NULL,
    max_processing  integer DEFAULT NULL,
    key_concurrency integer DEFAULT NULL,
    rate_limit      integer DEFAULT NULL,
    rate_interval   interval DEFAULT NULL,
    fair_share      boolean DEFAULT false,
    key_rate_limit  integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    r task.queue := task_router._queue_create(queue, owner, lease, max_attempts, backoff_base, backoff_max, retention, paused,
                                              priority, max_run_time, max_processing, key_concurrency, rate_limit, rate_interval, fair_share,
                                              key_rate_limit);
BEGIN
    PERFORM task_router._place(r.name);
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS
    'Created on node 0, placed on a node (beside its service''s other queues, else on the node with the fewest) and copied to every node: see task_queue_create of the task extension.';

CREATE FUNCTION task_router._queue_configure(
    queue text, lease interval, max_attempts integer, backoff_base interval,
    backoff_max interval, retention interval, paused boolean, priority integer, max_run_time interval,
    max_processing integer, key_concurrency integer, rate_limit integer, rate_interval interval,
    fair_share boolean, key_rate_limit integer)
    RETURNS task.queue
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_queue_configure;
$$;
COMMENT ON FUNCTION task_router._queue_configure(text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS 'Internal: task_queue_configure on node 0.';

CREATE FUNCTION task_router.task_queue_configure(
    queue        text,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT NULL,
    priority     integer DEFAULT NULL,
    max_run_time interval DEFAULT NULL,
    max_processing  integer DEFAULT NULL,
    key_concurrency integer DEFAULT NULL,
    rate_limit      integer DEFAULT NULL,
    rate_interval   interval DEFAULT NULL,
    fair_share      boolean DEFAULT NULL,
    key_rate_limit  integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    r task.queue := task_router._queue_configure(queue, lease, max_attempts, backoff_base, backoff_max, retention, paused,
                                                 priority, max_run_time, max_processing, key_concurrency, rate_limit, rate_interval, fair_share,
                                              key_rate_limit);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_queue_configure(text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS
    'Configured on node 0 and copied to every node (the queue''s node included): see task_queue_configure of the task extension.';

CREATE FUNCTION task_router._queue_notify(queue text, channel text)
    RETURNS task.queue
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_queue_notify;
$$;
COMMENT ON FUNCTION task_router._queue_notify(text, text) IS 'Internal: task_queue_notify on node 0.';

CREATE FUNCTION task_router.task_queue_notify(queue text, channel text)
    RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    r task.queue := task_router._queue_notify(queue, channel);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_queue_notify(text, text) IS
    'Set on node 0 and copied to every node, so the queue''s node sends the NOTIFY (LISTEN on that node): see task_queue_notify of the task extension.';

CREATE FUNCTION task_router._queue_archive(queue text, archive_after interval)
    RETURNS task.queue
    LANGUAGE plproxy
AS $$
    CLUSTER 'task';
    RUN ON 0;
    TARGET task.task_queue_archive;
$$;
COMMENT ON FUNCTION task_router._queue_archive(text, interval) IS 'Internal: task_queue_archive on node 0.';

CREATE FUNCTION task_router.task_queue_archive(queue text, archive_after interval)
    RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    r task.queue := task_router._queue_archive(queue, archive_after);
BEGIN
    PERFORM task_router.directory_sync();
    RETURN r;
END
$$;
COMMENT ON FUNCTION task_router.task_queue_archive(text, interval) IS
    'Set on node 0 and copied to every node, whose task_maintain archives the queue''s tasks it holds: see task_queue_archive of the task extension.';

GRANT USAGE ON SCHEMA task TO PUBLIC;
