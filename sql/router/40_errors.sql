\echo Use "CREATE EXTENSION task_router CASCADE" to load this file. \quit
--
-- The callers' API: task.task_X for every task_router.task_X, with the
-- same arguments, defaults, result and comment, that calls it and re-raises
-- a node's error as the node raised it. PL/Proxy passes a remote error on
-- with its SQLSTATE, detail and hint, but prefixes the message with
-- "function(nargs): [database] REMOTE ERROR: " and the detail and hint with
-- "Remote detail: " and "Remote hint: "; these wrappers take the prefixes
-- off, so an error through the router reads exactly as on one node. A
-- failed connection to a node (a node down; PL/Proxy raises it as XX000)
-- becomes 08006 "node N cannot be reached: <libpq's message>", with a hint.
-- The wrappers are made by the DO block below from the catalog, so they
-- cannot drift from the functions they wrap.

-- Which node a failed connection was to. libpq names the server it could
-- not reach: 'connection to server on socket "DIR/.s.PGSQL.PORT" failed',
-- 'connection to server at "HOST" (ADDRESS), port PORT failed', 'could
-- not translate host name "HOST" to address'; a node matches when that
-- host is one of its connect string's hosts (host= or hostaddr=, a list
-- allowed) and the port, when libpq gave one, is one of its ports (5432
-- when it names none). NULL when no node matches.
CREATE FUNCTION task_router._node_in_message(message text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH said AS (
        SELECT coalesce(substring(message FROM 'on socket "(.*)/\.s\.PGSQL\.\d+"'),
                        substring(message FROM 'to server at "([^"]*)"'),
                        substring(message FROM 'host name "([^"]*)"')) AS host,
               coalesce(substring(message FROM 'on socket ".*/\.s\.PGSQL\.(\d+)"'),
                        substring(message FROM 'to server at "[^"]*"(?: \([^)]*\))?, port (\d+)')) AS port
    )
    SELECT string_agg(n.number::text, ', ' ORDER BY n.number)
      FROM task_router.node n, said
     WHERE said.host = ANY (string_to_array(coalesce(substring(n.connstr FROM '(?:^|\s)host\s*=\s*(\S+)'), '') || ','
                                            || coalesce(substring(n.connstr FROM '(?:^|\s)hostaddr\s*=\s*(\S+)'), ''), ','))
       AND (said.port IS NULL
            OR said.port = ANY (string_to_array(coalesce(substring(n.connstr FROM '(?:^|\s)port\s*=\s*(\S+)'), '5432'), ',')))
$$;
COMMENT ON FUNCTION task_router._node_in_message(text) IS
    'Internal: the node(s) whose connect string names the server a libpq connection error names, or NULL.';

CREATE FUNCTION task_router._reraise(state text, message text, detail text, hint text, node integer DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    which text;
BEGIN
    -- an empty detail or hint (PG_EXCEPTION_DETAIL of an error without one) is none
    detail := nullif(detail, '');
    -- an id of no node went where PL/Proxy maps it: its number modulo the node count
    IF node IS NOT NULL AND NOT EXISTS (SELECT FROM task_router.node x WHERE x.number = node) THEN
        node := node % nullif((SELECT count(*) FROM task_router.node), 0);
    END IF;
    hint := nullif(hint, '');
    IF message ~ '^\S+\(\d+\): \[[^]]*\] REMOTE ERROR: ' THEN
        -- a node's own error
        message := regexp_replace(message, '^\S+\(\d+\): \[[^]]*\] REMOTE ERROR: ', '');
        detail := nullif(regexp_replace(detail, '^Remote detail: ', ''), '');
        hint := nullif(regexp_replace(hint, '^Remote hint: ', ''), '');
    ELSIF message ~ '^\S+\(\d+\): \[[^]]*\] REMOTE FATAL: ' THEN
        -- the node ended the session (a restart or shutdown: 57P01, ...):
        -- PL/Proxy drops that connection and opens a new one on the next call
        state := '08006';
        message := format('%s closed the connection: %s', coalesce('node ' || node, 'a node'),
                          regexp_replace(message, '^\S+\(\d+\): \[[^]]*\] REMOTE FATAL: ', ''));
        detail := NULL;
        hint := 'The node restarted or is shutting down; once it is up a new call opens a new connection. A write cut off this way may or may not have committed there: read before retrying it, or retry it with the same idempotency_key.';
    ELSIF state LIKE '08%' OR (state = 'XX000' AND message ~ '^PL/Proxy function \S+\(\d+\): \[[^]]*\] ') THEN
        -- the connection to a node failed (PL/Proxy reports it as XX000
        -- with libpq's text, which names the node's host or socket and port)
        which := coalesce(node::text, task_router._node_in_message(message));
        state := '08006';
        message := format('%s cannot be reached: %s', coalesce('node ' || which, 'a node'),
                          rtrim(regexp_replace(message, '^PL/Proxy function \S+\(\d+\): \[[^]]*\] (PQ\w+: )?', ''), E'\n '));
        detail := NULL;
        hint := 'Calls for its tasks and queues, and listings, fail until it is back; calls for other nodes keep working.';
    END IF;
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, HINT = hint;
    END IF;
    RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail, HINT = hint;
END
$$;
COMMENT ON FUNCTION task_router._reraise(text, text, text, text, integer) IS
    'Internal: raises an error as a node raised it, without PL/Proxy''s prefixes; a failed or closed connection to a node as 08006 "node N cannot be reached: ..." or "node N closed the connection: ..." with a hint (N: the node the call was routed to, when the wrapper knows it, else the node libpq''s message names).';

DO $do$
DECLARE
    f record;
    call text;
    body text;
BEGIN
    FOR f IN
        SELECT p.oid, p.proname, p.proretset, p.prorettype,
               pg_catalog.pg_get_function_arguments(p.oid) AS args,
               pg_catalog.pg_get_function_identity_arguments(p.oid) AS ident,
               pg_catalog.pg_get_function_result(p.oid) AS result,
               p.pronargs, pg_catalog.obj_description(p.oid, 'pg_proc') AS comment,
               -- the node a call goes to, when one: PL/Proxy's RUN ON (or a
               -- "-- routed to:" line of a PL/pgSQL router), not ALL
               nullif(pg_catalog.substring(p.prosrc, '(?:RUN ON|-- routed to:)\s+([^;]+);'), 'ALL') AS route,
               (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.name), ', ' ORDER BY a.n)
                  FROM ROWS FROM (pg_catalog.unnest(p.proargnames), pg_catalog.unnest(p.proargmodes)) WITH ORDINALITY a(name, mode, n)
                 WHERE a.mode = 'o') AS outs
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'task_router'::regnamespace AND p.proname LIKE 'task\_%'
         ORDER BY p.proname
    LOOP
        call := pg_catalog.format('task_router.%I(%s)', f.proname,
                    (SELECT pg_catalog.string_agg('$' || i, ', ' ORDER BY i) FROM pg_catalog.generate_series(1, f.pronargs) i));
        body := CASE
            WHEN f.proretset THEN 'RETURN QUERY SELECT * FROM ' || call || ';'
            WHEN f.outs IS NOT NULL THEN 'SELECT * INTO ' || f.outs || ' FROM ' || call || ';'
            WHEN f.prorettype = 'pg_catalog.void'::pg_catalog.regtype THEN 'PERFORM ' || call || ';'
            ELSE 'RETURN ' || call || ';' END;
        EXECUTE pg_catalog.format($f$
CREATE FUNCTION task.%I(%s) RETURNS %s
    LANGUAGE plpgsql
AS $body$
DECLARE
    e_state text;
    e_message text;
    e_detail text;
    e_hint text;
    e_node integer;
BEGIN
    %s
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT,
                            e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;%s
    PERFORM task_router._reraise(e_state, e_message, e_detail, e_hint, e_node);
END
$body$
$f$, f.proname, f.args, f.result, body,
   CASE WHEN f.route IS NOT NULL THEN pg_catalog.format($n$
    IF e_state LIKE '08%%' OR e_state = 'XX000' OR e_message ~ '^\S+\(\d+\): \[[^]]*\] REMOTE FATAL: ' THEN
        -- a lost node: the one this call was routed to
        BEGIN
            e_node := %s;
        EXCEPTION WHEN OTHERS THEN
            e_node := NULL;
        END;
    END IF;$n$, f.route) ELSE '' END);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION task.%I(%s) IS %L', f.proname, f.ident, f.comment);
    END LOOP;
END
$do$;
