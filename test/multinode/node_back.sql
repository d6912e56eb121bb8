-- Node 1 is back: its tasks are there, and the directory catches up.
SELECT mn_ok(task_router.directory_sync() = '{"synced": [1], "missed": []}', 'directory_sync reaches node 1 again');
SET ROLE mn_svc_b;
SELECT mn_ok(count(*) = 2, 'node 1''s tasks are still there (b/one and b/wait)') FROM task.task_list() j;
SELECT mn_ok((task.task_create('back', 'b/two')).queue = 'b/two', 'a queue created while node 1 was down works there');
RESET ROLE;

-- Which node an 08006 names when libpq's message does not name the node's
-- connect string as written: a host name that does not resolve (no port in
-- the message), a host of a list, no port in the connect string. A routed
-- call names the node it was routed to; a listing, the node the message's
-- host and port match.
SELECT mn_ok(task_router._node_in_message(format('connection to server on socket "%s/.s.PGSQL.%s" failed: No such file or directory',
                 substring(connstr FROM 'host=(\S+)'), substring(connstr FROM 'port=(\d+)'))) = '1', 'a unix socket names its node')
  FROM task_router.node WHERE number = 1;
BEGIN;
UPDATE task_router.node SET connstr = 'host=n1a.invalid,n1b.invalid port=5433,5434 dbname=task' WHERE number = 1;
UPDATE task_router.node SET connstr = 'hostaddr=10.9.8.7 dbname=task' WHERE number = 0;
SELECT mn_ok(task_router._node_in_message('could not translate host name "n1b.invalid" to address: Name or service not known') = '1', 'a host name of a list, no port');
SELECT mn_ok(task_router._node_in_message('connection to server at "n1a.invalid" (10.1.1.1), port 5434 failed: Connection refused') = '1', 'a host and a port of their lists');
SELECT mn_ok(task_router._node_in_message('connection to server at "n1a.invalid" (10.1.1.1), port 5999 failed: Connection refused') IS NULL, 'another port is another server');
SELECT mn_ok(task_router._node_in_message('connection to server at "10.9.8.7", port 5432 failed: Connection refused') = '0', 'hostaddr, and 5432 when the connect string names no port');
ROLLBACK;
-- a routed call to node 1 whose host name does not resolve (.invalid never does)
BEGIN;
UPDATE task_router.node SET connstr = 'host=n1.invalid port=5432 dbname=task connect_timeout=5', version = nextval('task_router.config_version') WHERE number = 1;
SET LOCAL ROLE mn_svc_b;
SELECT mn_try($$SELECT task.task_get('TSK-0002-0100-0000-0001')$$) AS "the error, for the log";
SELECT mn_ok(mn_try($$SELECT task.task_get('TSK-0002-0100-0000-0001')$$) ~ '^08006 node 1 cannot be reached: could not translate host name "n1.invalid"', 'a host name that does not resolve: the node routed to');
SELECT mn_ok(mn_try($$SELECT task.task_get('TSK-0002-9700-0000-0001')$$) ~ '^08006 node 1 cannot be reached: ', 'an id of no node: the node PL/Proxy maps it to (97 mod 2)');
ROLLBACK;

-- A node ends the router's session to it (a restart, pg_terminate_backend):
-- a call on that connection before PL/Proxy notices (it checks connections
-- idle 2 s or more) fails with 08006 naming the node, without PL/Proxy's
-- prefix, with a hint; the next call reconnects.
CREATE FUNCTION mn_end_sessions(node integer, role text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'task_admin';
    RUN ON node;
    SELECT count(pg_terminate_backend(a.pid, 5000))::integer FROM pg_stat_activity a WHERE a.usename = role;
$$;
CREATE FUNCTION mn_try_hint(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ' ' || SQLERRM || ' HINT: ' || h;
END
$$;
DO $$
DECLARE
    got text;
    id task.task_id;
BEGIN
    SET ROLE mn_svc_b;
    id := (SELECT (j->>'id')::task.task_id FROM task.task_list() j WHERE task_router.node_of_task((j->>'id')::task.task_id) = 1 LIMIT 1);
    FOR i IN 1..3 LOOP
        SET ROLE mn_svc_b;
        PERFORM task.task_get(id);           -- the router's session to node 1, as mn_svc_b
        RESET ROLE;
        PERFORM mn_end_sessions(1, 'mn_svc_b');
        SET ROLE mn_svc_b;
        got := mn_try_hint(format('SELECT task.task_get(%L)', id));
        EXIT WHEN got <> 'ok';               -- (PL/Proxy dropped it first: this machine stalled 2 s)
    END LOOP;
    RAISE NOTICE 'the error, for the log: %', got;
    PERFORM mn_ok(got ~ '^08006 node 1 closed the connection: terminating connection due to administrator command HINT: The node restarted', 'a session the node ended: 08006 naming the node, with a hint');
    PERFORM mn_ok(task.task_get(id)->>'id' = id::text, 'the next call reconnects');
    RESET ROLE;
END
$$;
