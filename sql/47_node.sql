\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- A node of a sharded installation (docs/SCALE-OUT.md): its number, the
-- listing a router merges, and the directory a router copies from node 0
-- to the others. A database that never ran task.node_setup is node 0, so
-- a single-node install is the first node of a cluster as it stands.
--
-- Node n draws task serials from its own block, n * 10^10 + 1 up to
-- (n + 1) * 10^10 - 1: ids stay TSK-OOOO-SSSS-SSSS-SSSS and unique across
-- nodes, and the first two digits of the serial name the node that holds
-- the task, so a router finds it from the id alone. The number lives in
-- the range of task.task_serial_seq; no table holds it.

-- ---------------------------------------------------------------- the node number
CREATE FUNCTION task.node_number() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT (greatest(s.min_value, coalesce(s.last_value, s.min_value)) / 10000000000)::integer
      FROM pg_catalog.pg_sequences s
     WHERE s.schemaname = 'task' AND s.sequencename = 'task_serial_seq'
$$;
COMMENT ON FUNCTION task.node_number() IS
    'The number of this node in a sharded installation (0 to 99): the first two digits of the serial of every task id it hands out. 0 on a database that never ran task.node_setup.';

CREATE FUNCTION task.node_setup(number integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    lo bigint := node_setup.number::bigint * 10000000000 + 1;
    hi bigint := node_setup.number::bigint * 10000000000 + 9999999999;
    last bigint;
BEGIN
    PERFORM task._require_system('set up a node');
    IF node_setup.number IS NULL OR node_setup.number NOT BETWEEN 0 AND 99 THEN
        RAISE EXCEPTION 'a node number is between 0 and 99'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Number the nodes of a cluster 0, 1, 2, ... in the order the router lists them.';
    END IF;
    SELECT s.last_value INTO last FROM pg_catalog.pg_sequences s
     WHERE s.schemaname = 'task' AND s.sequencename = 'task_serial_seq';
    IF last IS NOT NULL AND last NOT BETWEEN lo AND hi AND EXISTS (SELECT FROM task.task) THEN
        RAISE EXCEPTION 'this database already holds tasks of node %', last / 10000000000
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its last task serial is %s; node %s hands out %s to %s.', last, node_setup.number, lo, hi),
                  HINT = 'Give a database that holds tasks the number it already has (task.node_number()), or set up an empty one.';
    END IF;
    EXECUTE format('ALTER SEQUENCE task.task_serial_seq MINVALUE %s MAXVALUE %s START WITH %s', lo, hi, lo)
        || CASE WHEN last IS NULL OR last NOT BETWEEN lo AND hi THEN format(' RESTART WITH %s', lo) ELSE '' END;
    RETURN node_setup.number;
END
$$;
COMMENT ON FUNCTION task.node_setup(integer) IS
    'Makes this database node NUMBER (0 to 99) of a sharded installation: its task serials come from NUMBER * 10^10 + 1 on, so task ids stay unique across nodes and name their node. Refused when the database holds tasks of another number. Run it again after restoring a node from pg_dump. Superuser only.';

-- ---------------------------------------------------------------- listing
-- One node's part of a router's task_list: the caller's first
-- list_limit + list_offset tasks, as task_list answers them, with the keys
-- the router merges on (status_at DESC, id DESC, the order of task_list).
CREATE FUNCTION task.node_list(
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
    RETURNS TABLE (status_at timestamptz, id task.task_id, task jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    want bigint;
    got bigint := 0;
    page integer;
    n bigint;
BEGIN
    IF list_limit IS NULL OR list_limit NOT BETWEEN 1 AND 1000 OR list_offset IS NULL OR list_offset < 0 THEN
        -- the API's own error
        PERFORM task.task_list(list_limit => node_list.list_limit, list_offset => node_list.list_offset);
    END IF;
    want := node_list.list_limit::bigint + node_list.list_offset;
    -- task_list pages at most 1000 rows; a STABLE function sees one snapshot
    LOOP
        page := least(1000, want - got)::integer;
        RETURN QUERY
        SELECT t.status_at, t.id, l.j
          FROM task.task_list(node_list.status, node_list.queue, node_list.code, node_list.object_id,
                              node_list.parent, node_list.since, page, got::integer,
                              node_list.agent, node_list.submitted_within) AS l(j)
          JOIN task.task t ON t.id = (l.j->>'id')::task.task_id AND t.owner = task.task_id_owner((l.j->>'id')::task.task_id);
        GET DIAGNOSTICS n = ROW_COUNT;
        got := got + n;
        EXIT WHEN n < page OR got >= want;
    END LOOP;
END
$$;
COMMENT ON FUNCTION task.node_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer, text, interval) IS
    'One node''s part of a router''s task_list: the first list_limit + list_offset tasks task_list gives the caller here, with status_at and id, the keys the router merges on. Same arguments, errors and visibility as task_list.';

-- ---------------------------------------------------------------- the directory
-- Services, accounts, logins and queues are defined on node 0 and copied
-- to the other nodes by the router (task_router.directory_sync): export
-- there, apply here. Logins travel by role name (a role is created on
-- every node by the operator; oids differ between nodes).
CREATE FUNCTION task._node_directory() RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('export the directory');
    RETURN jsonb_build_object(
        'node', task.node_number(),
        'services', coalesce((SELECT jsonb_agg(to_jsonb(s) ORDER BY s.id) FROM task.service s), '[]'),
        'accounts', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.id) FROM task.account a), '[]'),
        'logins', coalesce((SELECT jsonb_agg(jsonb_build_object('role', l.role::text,
                                'identity', coalesce(task.service_text(l.service), task.account_text(l.account)))
                              ORDER BY l.role::text) FROM task.login l), '[]'),
        'queues', coalesce((SELECT jsonb_agg(to_jsonb(q) ORDER BY q.name) FROM task.queue q), '[]'));
END
$$;
COMMENT ON FUNCTION task._node_directory() IS
    'Internal: the directory of this node (services, accounts, logins by role name, queues) as JSON, for task_router.directory_sync. Superuser only.';

CREATE FUNCTION task._node_directory_apply(directory jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    l record;
    changed integer := 0;
    n integer;
BEGIN
    PERFORM task._require_system('apply a directory');
    INSERT INTO task.service AS x
    SELECT * FROM jsonb_populate_recordset(NULL::task.service, directory->'services')
    ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, namespace = excluded.namespace, revision = excluded.revision, created_at = excluded.created_at,
           max_processing = excluded.max_processing
     WHERE (x.*) IS DISTINCT FROM (excluded.*);
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    PERFORM setval('task.service_id_seq', s.id) FROM (SELECT max(id) AS id FROM task.service) s WHERE s.id IS NOT NULL;

    INSERT INTO task.account AS x
    SELECT * FROM jsonb_populate_recordset(NULL::task.account, directory->'accounts')
    ON CONFLICT (id) DO UPDATE
       SET name = excluded.name, type = excluded.type, status = excluded.status, revision = excluded.revision,
           created_at = excluded.created_at
     WHERE (x.*) IS DISTINCT FROM (excluded.*);
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    PERFORM setval('task.account_id_seq', a.id) FROM (SELECT max(id) AS id FROM task.account) a WHERE a.id IS NOT NULL AND a.id > 0;

    INSERT INTO task.queue AS x
    SELECT * FROM jsonb_populate_recordset(NULL::task.queue, directory->'queues')
    ON CONFLICT (name) DO UPDATE
       SET owner = excluded.owner, paused = excluded.paused, lease = excluded.lease,
           max_attempts = excluded.max_attempts, backoff_base = excluded.backoff_base,
           backoff_max = excluded.backoff_max, retention = excluded.retention, created_at = excluded.created_at,
           priority = excluded.priority, notify_channel = excluded.notify_channel,
           archive_after = excluded.archive_after, max_run_time = excluded.max_run_time,
           max_processing = excluded.max_processing, key_concurrency = excluded.key_concurrency,
           rate_limit = excluded.rate_limit, rate_interval = excluded.rate_interval,
           fair_share = excluded.fair_share, service_capped = excluded.service_capped,
           key_rate_limit = excluded.key_rate_limit
     WHERE (x.*) IS DISTINCT FROM (excluded.*);
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;

    -- logins: grant what is new or different, revoke what node 0 no longer has
    FOR l IN
        SELECT d.role, d.identity
          FROM jsonb_to_recordset(directory->'logins') AS d(role text, identity text)
         WHERE NOT EXISTS (SELECT FROM task.login x
                            WHERE x.role::text = d.role
                              AND coalesce(task.service_text(x.service), task.account_text(x.account)) = d.identity)
    LOOP
        IF to_regrole(l.role) IS NULL THEN
            RAISE EXCEPTION 'role % does not exist on node %', l.role, task.node_number()
                USING ERRCODE = 'undefined_object',
                      HINT = 'Create every login role on every node and on the router, then run task_router.directory_sync() again.';
        END IF;
        PERFORM task.task_login_grant(l.role::regrole, l.identity);
        changed := changed + 1;
    END LOOP;
    FOR l IN
        SELECT x.role FROM task.login x
         WHERE NOT EXISTS (SELECT FROM jsonb_to_recordset(directory->'logins') AS d(role text) WHERE d.role = x.role::text)
    LOOP
        PERFORM task.task_login_revoke(l.role);
        changed := changed + 1;
    END LOOP;
    RETURN jsonb_build_object('node', task.node_number(), 'changed', changed);
END
$$;
COMMENT ON FUNCTION task._node_directory_apply(jsonb) IS
    'Internal: makes this node''s services, accounts, logins and queues those of a directory exported by task._node_directory on node 0 (inserts and updates; logins no longer there are revoked). Returns the node number and how many rows changed. Superuser only.';

REVOKE ALL ON FUNCTION task._node_directory() FROM PUBLIC;

REVOKE ALL ON FUNCTION task._node_directory_apply(jsonb) FROM PUBLIC;
