\echo Use "CREATE EXTENSION task_router CASCADE" to load this file. \quit
--
-- task_router: the public API of task over several nodes, with PL/Proxy
-- (docs/SCALE-OUT.md). Installed in a router database that does NOT have
-- the task extension; its script is sql/10_types.sql and sql/20_tables.sql
-- of task (the types, and tables that stay empty, so that the row types
-- the API returns are the shard's by construction) followed by
-- sql/router/*.sql.
--
-- This file: the nodes, queue placement, the PL/Proxy cluster "task", and
-- the routing functions. A task's node is the first two digits of its
-- serial (task.node_setup on the node); a queue's node is a row of
-- task_router.queue_node (a queue without one lives on node 0).

CREATE SCHEMA task_router;
COMMENT ON SCHEMA task_router IS 'The router''s nodes, queue placement and operations (task_router extension).';

-- ---------------------------------------------------------------- nodes
CREATE SEQUENCE task_router.config_version;
COMMENT ON SEQUENCE task_router.config_version IS 'Bumped by every change of task_router.node: PL/Proxy reloads the cluster when it grows.';

CREATE TABLE task_router.node (
    number   integer PRIMARY KEY CHECK (number BETWEEN 0 AND 99),
    connstr  text NOT NULL CHECK (connstr !~ '(^|\s)(user|password)\s*='),
    version  bigint NOT NULL DEFAULT pg_catalog.nextval('task_router.config_version')
);
COMMENT ON TABLE task_router.node IS 'The nodes of the cluster, numbered 0, 1, 2, ... as task.node_setup numbered them. Node 0 also holds the directory.';
COMMENT ON COLUMN task_router.node.connstr IS 'libpq connect string without user or password: PL/Proxy connects as the calling role (user=current_user); passwords come from ~/.pgpass or trust on a private network.';
COMMENT ON COLUMN task_router.node.version IS 'Configuration version of this row (task_router.config_version).';

-- ---------------------------------------------------------------- queues
CREATE TABLE task_router.queue_node (
    queue          text PRIMARY KEY,
    owner          integer NOT NULL,
    node           integer NOT NULL REFERENCES task_router.node,
    draining_from  integer REFERENCES task_router.node,
    CHECK (draining_from <> node)
);
CREATE INDEX queue_node_owner_idx ON task_router.queue_node (owner);
COMMENT ON TABLE task_router.queue_node IS 'Where each queue lives: its tasks are created and dequeued there. Set by task_queue_create through the router, changed by task_router.queue_move.';
COMMENT ON COLUMN task_router.queue_node.owner IS 'The owning service number (SVC-XXXX), for placing its next queue beside it.';
COMMENT ON COLUMN task_router.queue_node.draining_from IS 'While a queue moves: the node it left, still dequeued first while it holds runnable tasks of the queue (task_router.queue_move_finish clears it).';

SELECT pg_catalog.pg_extension_config_dump('task_router.node', '');

SELECT pg_catalog.pg_extension_config_dump('task_router.queue_node', '');

SELECT pg_catalog.pg_extension_config_dump('task_router.config_version', '');

-- the nodes are readable by every caller (PL/Proxy reads them as the
-- caller); where each queue lives, with its owner, is not: the functions
-- that route by it run as the extension's owner
GRANT USAGE ON SCHEMA task_router TO PUBLIC;
GRANT SELECT ON task_router.node TO PUBLIC;

-- ---------------------------------------------------------------- the PL/Proxy cluster "task"
-- Cluster configuration functions (PL/Proxy's config API): the partitions
-- are the nodes in number order, mapped by modulus, so any node count works.
-- Cluster "task_admin" is the same nodes, for the router's own node-level
-- calls: PL/Proxy refuses a call to a cluster from inside a call to it
-- (a routing function that asks a node where to route).
CREATE SCHEMA IF NOT EXISTS plproxy;
GRANT USAGE ON SCHEMA plproxy TO PUBLIC;

CREATE FUNCTION plproxy.get_cluster_version(cluster_name text) RETURNS integer
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF cluster_name NOT IN ('task', 'task_admin') THEN
        RAISE EXCEPTION 'unknown cluster "%"', cluster_name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN (SELECT coalesce(max(n.version), 0) FROM task_router.node n);
END
$$;
COMMENT ON FUNCTION plproxy.get_cluster_version(text) IS 'PL/Proxy: the configuration version of cluster "task" (task_router.node).';

CREATE FUNCTION plproxy.get_cluster_partitions(cluster_name text) RETURNS SETOF text
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF cluster_name NOT IN ('task', 'task_admin') THEN
        RAISE EXCEPTION 'unknown cluster "%"', cluster_name USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT FROM task_router.node) THEN
        RAISE EXCEPTION 'the router has no nodes'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add node 0 with task_router.node_add().';
    END IF;
    RETURN QUERY SELECT n.connstr FROM task_router.node n ORDER BY n.number;
END
$$;
COMMENT ON FUNCTION plproxy.get_cluster_partitions(text) IS 'PL/Proxy: the connect strings of the nodes of cluster "task", in number order.';

CREATE FUNCTION plproxy.get_cluster_config(cluster_name text, OUT key text, OUT val text) RETURNS SETOF record
    LANGUAGE sql STABLE
AS $$
    SELECT 'modular_mapping', '1'
$$;
COMMENT ON FUNCTION plproxy.get_cluster_config(text) IS 'PL/Proxy: partition = node number modulo node count (no power-of-two rule).';

-- ---------------------------------------------------------------- routing
CREATE FUNCTION task_router.node_of_task(id task.task_id) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce((task.task_id_serial(id) / 10000000000)::integer, 0);
COMMENT ON FUNCTION task_router.node_of_task(task.task_id) IS
    'The node that holds a task: the first two digits of its serial. An id of no node is sent to a node that answers "not found", as a single node does.';

CREATE FUNCTION task_router.node_of_queue(queue text) RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN coalesce((SELECT q.node FROM task_router.queue_node q WHERE q.queue = node_of_queue.queue), 0);
COMMENT ON FUNCTION task_router.node_of_queue(text) IS
    'The node a queue lives on (node 0 for a queue the router did not place; an unknown queue gets its "does not exist" there).';

CREATE FUNCTION task_router._refuse_crossing(what text, id task.task_id, queue text, queue_node integer) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RAISE EXCEPTION '% % is on node %, queue % on node %', what, id, task_router.node_of_task(id), queue, queue_node
        USING ERRCODE = 'feature_not_supported',
              DETAIL = 'A task, its parent and the tasks it depends on are settled on one node.',
              HINT = 'Create the task in a queue of that node, or place the queues whose tasks depend on each other on one node (task_router.queue_move).';
END
$$;
COMMENT ON FUNCTION task_router._refuse_crossing(text, task.task_id, text, integer) IS 'Internal: the error for a parent or dependency on another node than the queue.';

CREATE FUNCTION task_router.node_for_create(queue text, parent task.task_id, depends_on task.task_id[]) RETURNS integer
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    n integer := task_router.node_of_queue(queue);
    d task.task_id;
BEGIN
    -- a parent or dependency of another known node cannot be settled
    -- here; an id of no node falls through to "not found" on n
    IF parent IS NOT NULL AND task_router.node_of_task(parent) <> n
       AND EXISTS (SELECT FROM task_router.node x WHERE x.number = task_router.node_of_task(parent)) THEN
        PERFORM task_router._refuse_crossing('parent', parent, queue, n);
    END IF;
    FOREACH d IN ARRAY coalesce(depends_on, '{}') LOOP
        -- (a NULL among them: the node refuses it, 22004)
        IF d IS NOT NULL AND task_router.node_of_task(d) <> n
           AND EXISTS (SELECT FROM task_router.node x WHERE x.number = task_router.node_of_task(d)) THEN
            PERFORM task_router._refuse_crossing('dependency', d, queue, n);
        END IF;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task_router.node_for_create(text, task.task_id, task.task_id[]) IS
    'Where task_create goes: the queue''s node; 0A000 when its parent or a task it depends on is on another node.';

CREATE FUNCTION task_router.node_for_dequeue(queue text, complete task.task_id, complete_batch task.task_id[])
    RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q task_router.queue_node;
    c integer;
BEGIN
    SELECT * INTO q FROM task_router.queue_node x WHERE x.queue = node_for_dequeue.queue;
    IF NOT FOUND THEN
        q.node := 0;
    END IF;
    -- a call that also completes goes where the completed tasks are: the
    -- queue's node, or the node it is moving from
    IF complete IS NOT NULL THEN
        c := task_router.node_of_task(complete);
    END IF;
    IF cardinality(complete_batch) > 0 THEN
        -- (NULLs among them left to the node, which refuses them: 22004)
        IF c IS NULL THEN
            c := (SELECT task_router.node_of_task(b) FROM unnest(complete_batch) b WHERE b IS NOT NULL LIMIT 1);
        END IF;
        IF EXISTS (SELECT FROM unnest(complete_batch) b WHERE b IS NOT NULL AND task_router.node_of_task(b) <> c) THEN
            RAISE EXCEPTION 'the tasks to complete are on more than one node'
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Complete the tasks of each node in calls of their own (task_complete).';
        END IF;
    END IF;
    IF c IS NOT NULL THEN
        IF c = q.node OR c = q.draining_from THEN
            RETURN c;
        ELSIF EXISTS (SELECT FROM task_router.node x WHERE x.number = c) THEN
            RAISE EXCEPTION 'task % is on node %, queue % on node %', coalesce(complete, complete_batch[1]), c, queue, q.node
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Complete it with task_complete, then dequeue.';
        END IF;
        RETURN q.node;
    END IF;
    -- a moving queue: its old node first, while it has runnable tasks
    IF q.draining_from IS NOT NULL AND task_router._runnable_on(q.draining_from, queue) THEN
        RETURN q.draining_from;
    END IF;
    RETURN q.node;
END
$$;
COMMENT ON FUNCTION task_router.node_for_dequeue(text, task.task_id, task.task_id[]) IS
    'Where task_dequeue goes: the queue''s node (while the queue moves, the node it left as long as that has runnable tasks of it), or the node of the tasks it completes.';

-- ---------------------------------------------------------------- node-level helpers (PL/Proxy)
-- These run as the owner of the extension (a superuser) when called from
-- the SECURITY DEFINER operations below: directory copies and checks
-- only, never a caller's API call.
CREATE FUNCTION task_router._on_node_runnable(node integer, queue text) RETURNS boolean
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT EXISTS (SELECT FROM task.task t WHERE t.queue = queue AND t.status IN ('queued', 'rescheduled')
                                           AND t.run_at <= pg_catalog.now());
$$;
COMMENT ON FUNCTION task_router._on_node_runnable(integer, text) IS 'Internal: does a node hold runnable tasks of a queue (PL/Proxy, superuser).';

CREATE FUNCTION task_router._runnable_on(node integer, queue text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    RETURN task_router._on_node_runnable(node, queue);
COMMENT ON FUNCTION task_router._runnable_on(integer, text) IS 'Internal: _on_node_runnable as the extension owner.';

CREATE FUNCTION task_router._drained(queue text, node integer) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    RETURN EXISTS (SELECT FROM task_router.queue_node q WHERE q.queue = _drained.queue AND q.draining_from = _drained.node)
           AND NOT task_router._runnable_on(node, queue);
COMMENT ON FUNCTION task_router._drained(text, integer) IS
    'Internal: is node the one a moving queue left, with no runnable task of it there (task_dequeue then does not wait on it).';

CREATE FUNCTION task_router._on_node_unfinished(node integer, queue text) RETURNS bigint
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT (SELECT count(*) FROM task.task t WHERE t.queue = queue AND t.status IN ('blocked', 'queued', 'rescheduled', 'processing'))
         + (SELECT count(*) FROM task.schedule s WHERE s.template->>'queue' = queue);
$$;
COMMENT ON FUNCTION task_router._on_node_unfinished(integer, text) IS 'Internal: unfinished tasks and schedules of a queue on a node (PL/Proxy, superuser).';

CREATE FUNCTION task_router._on_node_number(node integer) RETURNS integer
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT task.node_number();
$$;
COMMENT ON FUNCTION task_router._on_node_number(integer) IS 'Internal: the number a node says it has (PL/Proxy).';

CREATE FUNCTION task_router._on_node_directory(node integer) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT task._node_directory();
$$;
COMMENT ON FUNCTION task_router._on_node_directory(integer) IS 'Internal: a node''s directory (PL/Proxy, superuser).';

CREATE FUNCTION task_router._on_node_directory_apply(node integer, directory jsonb) RETURNS jsonb
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT task._node_directory_apply(directory);
$$;
COMMENT ON FUNCTION task_router._on_node_directory_apply(integer, jsonb) IS 'Internal: applies a directory on a node (PL/Proxy, superuser).';

CREATE FUNCTION task_router._on_node_queue_owner(node integer, queue text) RETURNS integer
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT (SELECT q.owner FROM task.queue q WHERE q.name = queue);
$$;
CREATE FUNCTION task_router._on_node_has_role(node integer, role text) RETURNS boolean
    LANGUAGE plproxy
AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = role);
$$;
COMMENT ON FUNCTION task_router._on_node_has_role(integer, text) IS 'Internal: whether a role of that name exists on a node (PL/Proxy, superuser).';

COMMENT ON FUNCTION task_router._on_node_queue_owner(integer, text) IS 'Internal: the owner of a queue on a node, NULL when it has none of that name (PL/Proxy, superuser).';
