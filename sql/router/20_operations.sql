\echo Use "CREATE EXTENSION task_router CASCADE" to load this file. \quit
--
-- Operations of the router: adding a node, copying the directory from
-- node 0 to the others, placing and moving queues. Node-level work runs
-- as the owner of the extension (a superuser, SECURITY DEFINER); the API
-- calls of sql/router/30_api.sql run as their caller.

-- ---------------------------------------------------------------- node errors
CREATE FUNCTION task_router._remote_text(message text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    RETURN rtrim(regexp_replace(message, '^(PL/Proxy function )?\S+\(\d+\): \[[^]]*\] (REMOTE ERROR: |PQ\w+: )?', ''), E'\n ');
COMMENT ON FUNCTION task_router._remote_text(text) IS
    'Internal: a PL/Proxy error message without its prefix (function, database, REMOTE ERROR or the libpq call) and trailing newlines, for the operations'' own errors.';

-- ---------------------------------------------------------------- the directory
CREATE FUNCTION task_router.directory_sync() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb;
    n integer;
    done jsonb := '[]';
    missed jsonb := '[]';
BEGIN
    d := task_router._on_node_directory(0);
    FOR n IN SELECT x.number FROM task_router.node x WHERE x.number > 0 ORDER BY x.number LOOP
        BEGIN
            PERFORM task_router._on_node_directory_apply(n, d);
            done := done || to_jsonb(n);
        EXCEPTION WHEN OTHERS THEN
            missed := missed || to_jsonb(n);
            RAISE WARNING 'node % did not get the directory: %', n, task_router._remote_text(SQLERRM)
                USING HINT = 'Run SELECT task_router.directory_sync() when the node is back; until then it answers with the definitions it had.';
        END;
    END LOOP;
    RETURN jsonb_build_object('synced', done, 'missed', missed);
END
$$;
COMMENT ON FUNCTION task_router.directory_sync() IS
    'Copies services, accounts, logins and queues from node 0 to every other node (idempotent). A node that cannot be reached is skipped with a warning and listed under "missed": run it again when the node is back. Called by every directory change made through the router.';

-- ---------------------------------------------------------------- nodes
CREATE FUNCTION task_router.node_add(connstr text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := (SELECT count(*) FROM task_router.node);
    says integer;
    e_state text;
    e_message text;
BEGIN
    IF node_add.connstr IS NULL OR node_add.connstr ~* '^\s*postgres(ql)?://' OR node_add.connstr ~ '(^|\s)(user|password)\s*=' THEN
        RAISE EXCEPTION 'a node''s connect string must be key=value pairs without user or password'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Write it as ''host=... port=... dbname=...'': PL/Proxy connects as the calling role (user=current_user), with passwords from ~/.pgpass or trust.';
    END IF;
    INSERT INTO task_router.node (number, connstr) VALUES (n, node_add.connstr);
    BEGIN
        says := task_router._on_node_number(n);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT;
        IF e_message ~ ' REMOTE ERROR: ' THEN
            -- it answered, without task (or without task.node_number)
            RAISE EXCEPTION 'the database at "%" has no task extension', node_add.connstr
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = task_router._remote_text(e_message),
                      HINT = format('Run CREATE EXTENSION task CASCADE; SELECT task.node_setup(%s); there first.', n);
        END IF;
        RAISE EXCEPTION 'node % cannot be reached: %', n, task_router._remote_text(e_message)
            USING ERRCODE = 'connection_failure',
                  HINT = 'Check the connect string, that the server runs and accepts the router (pg_hba.conf), and that the calling role exists there.';
    END;
    IF says IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'the database at "%" is node %, not node %', node_add.connstr, says, n
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT task.node_setup(%s) there first.', n);
    END IF;
    IF n > 0 THEN
        BEGIN
            PERFORM task_router._on_node_directory_apply(n, task_router._on_node_directory(0));
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e_message = MESSAGE_TEXT;
            RAISE EXCEPTION 'node % did not get the directory: %', n,
                      task_router._remote_text(e_message)
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Create every login role of the directory on the new node (docs/SCALE-OUT.md, "Roles are per server") and check that node 0 is up, then add it again.';
        END;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task_router.node_add(text) IS
    'Adds the next node (number = current node count) at a libpq connect string without user or password. The database must have the task extension and have run task.node_setup(number); it gets the directory of node 0. Owner of the router only.';

-- ---------------------------------------------------------------- queues
CREATE FUNCTION task_router._place(queue text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    svc integer := task_router._on_node_queue_owner(0, queue);
    n integer;
BEGIN
    IF svc IS NULL THEN
        RETURN NULL;  -- no such queue on node 0
    END IF;
    -- a queue made on node 0 directly that holds tasks already stays
    -- there: placing it elsewhere would strand them (anyone may call this:
    -- task_queue_create, which runs as its caller, does)
    IF NOT EXISTS (SELECT FROM task_router.queue_node q WHERE q.queue = _place.queue)
       AND task_router._on_node_unfinished(0, queue) > 0 THEN
        RETURN 0;
    END IF;
    -- beside the service's other queues; a new service's first queue on
    -- the node with the fewest queues
    SELECT q.node INTO n FROM task_router.queue_node q WHERE q.owner = svc ORDER BY q.queue LIMIT 1;
    IF n IS NULL THEN
        SELECT x.number INTO n FROM task_router.node x
          LEFT JOIN task_router.queue_node q ON q.node = x.number
         GROUP BY x.number ORDER BY count(q.queue), x.number LIMIT 1;
    END IF;
    INSERT INTO task_router.queue_node (queue, owner, node) VALUES (_place.queue, svc, n)
    ON CONFLICT ON CONSTRAINT queue_node_pkey DO NOTHING;
    RETURN task_router.node_of_queue(queue);
END
$$;
COMMENT ON FUNCTION task_router._place(text) IS
    'Internal: gives a queue that exists on node 0 and has no place yet its node: that of its service''s other queues, else the node with the fewest queues.';

CREATE FUNCTION task_router.queue_move(queue text, node integer) RETURNS task_router.queue_node
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q task_router.queue_node;
BEGIN
    SELECT * INTO q FROM task_router.queue_node x WHERE x.queue = queue_move.queue FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue % has no place on this router', queue_move.queue
            USING ERRCODE = 'no_data_found', HINT = 'Create queues through the router (task_queue_create).';
    END IF;
    IF q.draining_from IS NOT NULL THEN
        RAISE EXCEPTION 'queue % is still moving from node %', queue_move.queue, q.draining_from
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Finish that move first: SELECT task_router.queue_move_finish(queue).';
    END IF;
    IF NOT EXISTS (SELECT FROM task_router.node x WHERE x.number = queue_move.node) THEN
        RAISE EXCEPTION 'node % is not a node of this router', queue_move.node
            USING ERRCODE = 'no_data_found', HINT = 'Add it with task_router.node_add().';
    END IF;
    IF q.node = queue_move.node THEN
        RETURN q;
    END IF;
    UPDATE task_router.queue_node x SET node = queue_move.node, draining_from = q.node
     WHERE x.queue = queue_move.queue RETURNING * INTO q;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task_router.queue_move(text, integer) IS
    'Starts moving a queue to another node: new tasks are created there at once; dequeues take the runnable tasks left on the old node first; tasks are never copied (their ids name their node). Finish with queue_move_finish once the old node has no unfinished task of the queue. Owner of the router only.';

CREATE FUNCTION task_router.queue_move_finish(queue text) RETURNS task_router.queue_node
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q task_router.queue_node;
    left_over bigint;
    e_message text;
BEGIN
    SELECT * INTO q FROM task_router.queue_node x WHERE x.queue = queue_move_finish.queue FOR UPDATE;
    IF NOT FOUND OR q.draining_from IS NULL THEN
        RAISE EXCEPTION 'queue % is not moving', queue_move_finish.queue
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Start a move with task_router.queue_move().';
    END IF;
    BEGIN
        left_over := task_router._on_node_unfinished(q.draining_from, queue_move_finish.queue);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e_message = MESSAGE_TEXT;
        RAISE EXCEPTION 'node % cannot be reached: %', q.draining_from,
                  task_router._remote_text(e_message)
            USING ERRCODE = 'connection_failure',
                  HINT = 'The move finishes once that node is back and holds no unfinished task or schedule of the queue; dequeues keep going to the new node meanwhile.';
    END;
    IF left_over > 0 THEN
        RAISE EXCEPTION 'node % still holds % unfinished tasks or schedules of queue %', q.draining_from, left_over, queue_move_finish.queue
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Let workers drain them (dequeues still reach them), cancel them, or unschedule and schedule again; then call this again.';
    END IF;
    UPDATE task_router.queue_node x SET draining_from = NULL WHERE x.queue = queue_move_finish.queue RETURNING * INTO q;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task_router.queue_move_finish(text) IS
    'Ends a queue move once the node it left holds no blocked, queued, rescheduled or processing task and no schedule of it. Finished tasks stay on the old node and are still found by id. Owner of the router only.';

REVOKE ALL ON FUNCTION task_router.node_add(text) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router.queue_move(text, integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router.queue_move_finish(text) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router._on_node_runnable(integer, text) FROM PUBLIC;
-- (whether another tenant's queue has work: only node_for_dequeue asks)
REVOKE ALL ON FUNCTION task_router._runnable_on(integer, text) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router._on_node_unfinished(integer, text) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router._on_node_number(integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router._on_node_directory(integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router._on_node_directory_apply(integer, jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION task_router._on_node_queue_owner(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task_router._on_node_has_role(integer, text) FROM PUBLIC;
