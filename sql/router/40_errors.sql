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

CREATE FUNCTION task_router._reraise(state text, message text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    which text;
BEGIN
    -- an empty detail or hint (PG_EXCEPTION_DETAIL of an error without one) is none
    detail := nullif(detail, '');
    hint := nullif(hint, '');
    IF message ~ '^\S+\(\d+\): \[[^]]*\] REMOTE ERROR: ' THEN
        -- a node's own error
        message := regexp_replace(message, '^\S+\(\d+\): \[[^]]*\] REMOTE ERROR: ', '');
        detail := nullif(regexp_replace(detail, '^Remote detail: ', ''), '');
        hint := nullif(regexp_replace(hint, '^Remote hint: ', ''), '');
    ELSIF state LIKE '08%' OR (state = 'XX000' AND message ~ '^PL/Proxy function \S+\(\d+\): \[[^]]*\] ') THEN
        -- the connection to a node failed (PL/Proxy reports it as XX000
        -- with libpq's text, which names the node's host or socket and port)
        SELECT string_agg(n.number::text, ', ' ORDER BY n.number) INTO which
          FROM task_router.node n
         WHERE strpos(message, substring(n.connstr FROM 'port=(\d+)')) > 0
           AND strpos(message, substring(n.connstr FROM 'host=(\S+)')) > 0;
        state := '08006';
        message := format('node %s cannot be reached: %s', coalesce(which, '?'),
                          regexp_replace(message, '^PL/Proxy function \S+\(\d+\): \[[^]]*\] (PQ\w+: )?', ''));
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
COMMENT ON FUNCTION task_router._reraise(text, text, text, text) IS
    'Internal: raises an error as a node raised it, without PL/Proxy''s prefixes; a failed connection to a node as 08006 "node N cannot be reached: ..." with a hint.';

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
BEGIN
    %s
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_message = MESSAGE_TEXT,
                            e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
    PERFORM task_router._reraise(e_state, e_message, e_detail, e_hint);
END
$body$
$f$, f.proname, f.args, f.result, body);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION task.%I(%s) IS %L', f.proname, f.ident, f.comment);
    END LOOP;
END
$do$;
