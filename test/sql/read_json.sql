-- The read path rewritten for speed (issue 16, docs/PERFORMANCE.md
-- "Reading tasks") answers exactly as before: the JSON Task object of
-- every task in the database, as every kind of caller, equals the one the
-- SQL functions of 0.2.0 before the rewrite built (copied below into
-- pg_temp as the reference); task._strip_nulls (C) drops top-level nulls
-- only.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

-- ---------------------------------------------------------------- _strip_nulls
SELECT task._strip_nulls('{"a": null, "b": 1, "c": {"d": null}, "e": [null], "f": "x"}') AS stripped,
       task._strip_nulls('{}') AS empty,
       task._strip_nulls('{"a": null}') AS all_null,
       task._strip_nulls('{"a": 1, "b": {"c": null}}') AS nothing_to_strip;
\set ON_ERROR_STOP 0
SELECT task._strip_nulls('[1, null]');
SELECT task._strip_nulls('null');
\set ON_ERROR_STOP 1

-- ---------------------------------------------------------------- the reference
CREATE FUNCTION pg_temp.strip_nulls_ref(obj jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT
AS $$
    SELECT coalesce(pg_catalog.jsonb_object_agg(e.key, e.value), '{}'::jsonb)
      FROM pg_catalog.jsonb_each(obj) e
     WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'null'
$$;
CREATE FUNCTION pg_temp.actor_json_ref(actor text) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN actor ~ '^SVC-[0-9]{4}$' THEN
            (SELECT jsonb_build_object('id', actor, 'name', s.name, 'revision', s.revision)
               FROM task.service s WHERE s.id = task.service_number(actor))
        WHEN actor ~ '^ACC-[0-9]{4}-[0-9]{4}$' THEN
            CASE WHEN task.current_is_operations() OR task.account_number(actor) = task.current_account()
                 THEN (SELECT jsonb_build_object('id', actor, 'name', a.name, 'revision', a.revision)
                         FROM task.account a WHERE a.id = task.account_number(actor))
                 ELSE jsonb_build_object('id', actor) END
        ELSE jsonb_build_object('name', actor)
        END
$$;
CREATE FUNCTION pg_temp.stamp_ref(at timestamptz, by text) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN at IS NOT NULL
        THEN jsonb_build_object('at', task._iso(at), 'by', pg_temp.actor_json_ref(by)) END
$$;
CREATE FUNCTION pg_temp.visible_ref(owner integer, id task.task_id) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(task.current_is_operations()
        OR visible_ref.owner = task.current_service()
        OR EXISTS (SELECT FROM task.task_access a
                    WHERE a.owner = visible_ref.owner AND a.task_id = visible_ref.id
                      AND a.account = task.current_account()), false)
$$;
CREATE FUNCTION pg_temp.task_json_ref(t task.task) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_temp.strip_nulls_ref(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'status_description', task.status_description(t.status),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        -- a parent the caller may not see is left out
        'parent', CASE WHEN t.parent IS NOT NULL AND pg_temp.visible_ref(t.owner, t.parent) THEN
            pg_temp.strip_nulls_ref(jsonb_build_object('id', t.parent::text,
                'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent))) END,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'run_at', task._iso(t.run_at),
        'owner', (SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
                    FROM task.service s WHERE s.id = t.owner),
        -- the account directory is for Operations: the owning service sees
        -- the ids it put on the list, an account itself only
        'access', coalesce(CASE
            WHEN task.current_is_operations() THEN
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status) ORDER BY a.id)
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            WHEN task.current_account() IS NULL THEN
                (SELECT jsonb_agg(jsonb_build_object('id', task.account_text(x.account)) ORDER BY x.account)
                   FROM task.task_access x
                  WHERE x.owner = t.owner AND x.task_id = t.id)
            ELSE
                (SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status))
                   FROM task.task_access x JOIN task.account a ON a.id = x.account
                  WHERE x.owner = t.owner AND x.task_id = t.id AND x.account = task.current_account())
            END, '[]'::jsonb),
        'audit', pg_temp.strip_nulls_ref(jsonb_build_object(
            'created', pg_temp.stamp_ref(t.created_at, t.created_by),
            'updated', pg_temp.stamp_ref(t.updated_at, t.updated_by),
            'started', pg_temp.stamp_ref(t.started_at, t.started_by),
            'completed', pg_temp.stamp_ref(t.completed_at, t.completed_by),
            'failed', pg_temp.stamp_ref(t.failed_at, t.failed_by),
            'rescheduled', pg_temp.stamp_ref(t.rescheduled_at, t.rescheduled_by),
            'cancelled', pg_temp.stamp_ref(t.cancelled_at, t.cancelled_by))),
        -- who holds it now: for the owning service and Operations only
        'worker', CASE WHEN t.status = 'processing' AND t.worker_pid IS NOT NULL AND task._may_read_logs(t.owner) THEN
            pg_temp.strip_nulls_ref(jsonb_build_object('name', t.worker_name, 'address', host(t.worker_addr), 'pid', t.worker_pid,
                                                 'since', task._iso(t.started_at))) END,
        -- hired tasks only (code market.*): no lookup for every other task
        'marketplace', CASE WHEN t.code LIKE 'market.%' THEN task._market_json(t.owner, t.id) END
    ))
$$;
-- every task, compared as the caller in effect (SECURITY DEFINER reads
-- every row and may call the internal functions; the identity stays the
-- caller's)
CREATE FUNCTION pg_temp.differences(OUT tasks bigint, OUT different bigint) RETURNS record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT count(*), count(*) FILTER (WHERE task._task_json(t) IS DISTINCT FROM pg_temp.task_json_ref(t))
      FROM task.task t
$$;
GRANT EXECUTE ON FUNCTION pg_temp.differences() TO PUBLIC;

-- ---------------------------------------------------------------- the tasks
-- ids of their own, and the sequences restored at the end, so the tests
-- that run later (and do not pin their ids) see no difference
SELECT s.last_value AS svc_seq, s.is_called AS svc_called FROM task.service_id_seq s \gset
SELECT s.last_value AS acc_seq, s.is_called AS acc_called FROM task.account_id_seq s \gset
SELECT s.last_value AS task_seq, s.is_called AS task_called FROM task.task_serial_seq s \gset
SELECT setval('task.service_id_seq', 250) AS _, setval('task.account_id_seq', 2500000) AS _,
       setval('task.task_serial_seq', 2500000) AS _ \gset
SELECT task_service_create('read-json-a', 'rdj/a') AS svc \gset
SELECT task_service_create('read-json-b', 'rdj/b') AS other \gset
SELECT task_account_create('Read Json Ops', 'Operations') AS ops \gset
SELECT task_account_create('Read Json Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('Read Json Client', 'Client') AS client \gset
CREATE ROLE regress_rdj_svc LOGIN;
CREATE ROLE regress_rdj_other LOGIN;
CREATE ROLE regress_rdj_ops LOGIN;
CREATE ROLE regress_rdj_vendor LOGIN;
CREATE ROLE regress_rdj_client LOGIN;
SELECT task_login_grant('regress_rdj_svc', :'svc'), task_login_grant('regress_rdj_other', :'other'),
       task_login_grant('regress_rdj_ops', :'ops'), task_login_grant('regress_rdj_vendor', :'vendor'),
       task_login_grant('regress_rdj_client', :'client') \gset

SET ROLE regress_rdj_svc;
SELECT id AS parent FROM task_create('rdj.parent', 'rdj/a/q', name => 'parent', status => 'blocked') \gset
SELECT id AS child FROM task_create('rdj.child', 'rdj/a/q', name => 'child', parent => :'parent',
    object => '{"id": "o-1", "kind": null}', parameters => '{"a": null, "b": {"c": null}}',
    access => ARRAY[:'client', :'vendor', :'ops']) \gset
SELECT id AS shared_parent FROM task_create('rdj.parent', 'rdj/a/p', name => 'shared parent', access => ARRAY[:'client']) \gset
SELECT id AS shared_child FROM task_create('rdj.child', 'rdj/a/p', parent => :'shared_parent', access => ARRAY[:'client']) \gset
SELECT id AS done FROM task_create('rdj.work', 'rdj/a/w', access => ARRAY[:'client']) \gset
SELECT id AS uri FROM task_create('rdj.work', 'rdj/a/w', access => ARRAY[:'vendor']) \gset
SELECT id AS held FROM task_create('rdj.work', 'rdj/a/w', access => ARRAY[:'client']) \gset
SELECT count(*) AS claimed FROM task_dequeue('rdj/a/w', 3) d \gset
SELECT status FROM task_complete(:'done', result => '{"rows": 1, "none": null}', token => (SELECT lease_token FROM task.task WHERE id = :'done'));
SELECT status FROM task_complete(:'uri', resource => '/files/1', token => (SELECT lease_token FROM task.task WHERE id = :'uri'));
SELECT status FROM task_progress(:'held', 0.5, eta => now() + interval '1 hour', token => (SELECT lease_token FROM task.task WHERE id = :'held'));
SELECT id AS failed FROM task_create('rdj.fail', 'rdj/a/f', access => ARRAY[:'client']) \gset
SELECT count(*) FROM task_dequeue('rdj/a/f');
SELECT status FROM task_fail(:'failed', 'broken', token => (SELECT lease_token FROM task.task WHERE id = :'failed'), retry => false);
RESET ROLE;
SET ROLE regress_rdj_ops;
SELECT status FROM task_cancel(:'child', 'stopped by operations');
RESET ROLE;

-- ---------------------------------------------------------------- as every caller
SELECT 'system' AS caller, tasks > 0 AS some, different FROM pg_temp.differences();
SET ROLE regress_rdj_svc;
SELECT 'owning service' AS caller, tasks > 0 AS some, different FROM pg_temp.differences();
SET ROLE regress_rdj_other;
SELECT 'other service' AS caller, tasks > 0 AS some, different FROM pg_temp.differences();
SET ROLE regress_rdj_ops;
SELECT 'operations' AS caller, tasks > 0 AS some, different FROM pg_temp.differences();
SET ROLE regress_rdj_vendor;
SELECT 'vendor' AS caller, tasks > 0 AS some, different FROM pg_temp.differences();
SET ROLE regress_rdj_client;
SELECT 'client' AS caller, tasks > 0 AS some, different FROM pg_temp.differences();
-- and through the API: the same documents
SELECT task_get(:'held') = (SELECT j FROM task_list(status => 'processing', queue => 'rdj/a/w') j) AS get_and_list_agree,
       task_get(:'shared_child') #>> '{parent,name}' AS parent_name,
       task_get(:'held') ? 'worker' AS worker_shown_to_client;
RESET ROLE;
SET ROLE regress_rdj_svc;
SELECT task_get(:'held') #> '{worker}' ?& ARRAY['name', 'pid', 'since'] AS worker_shown_to_owner,
       task_get(:'child') -> 'parameters' AS nested_nulls_kept,
       task_get(:'done') ->> 'result' LIKE '%/' || :'done' || '/result' AS result_uri;
RESET ROLE;
-- the URI prefixes are relative paths: a trailing "/" made result URIs
-- with "//", a scheme and host made them absolute; both are refused
SET task.result_uri_prefix = '/api/v2/tasks';
SELECT task_get(:'done') ->> 'result' = '/api/v2/tasks/' || :'done' || '/result' AS prefixed;
\set ON_ERROR_STOP 0
SET task.result_uri_prefix = '/api/v2/tasks/';
SET task.result_uri_prefix = 'https://evil.example';
SET task.result_uri_prefix = '/api/../tasks';
SET task.artifact_uri_prefix = '/rpc/task_artifact?x=1';
\set ON_ERROR_STOP 1
SHOW task.result_uri_prefix;
SET task.result_uri_prefix = '';
SELECT task_get(:'done') ->> 'result' LIKE '/public/v1/system/tasks/%' AS empty_is_the_default;
RESET task.result_uri_prefix;

DROP OWNED BY regress_rdj_svc, regress_rdj_other, regress_rdj_ops, regress_rdj_vendor, regress_rdj_client;
DROP ROLE regress_rdj_svc, regress_rdj_other, regress_rdj_ops, regress_rdj_vendor, regress_rdj_client;
SELECT setval('task.service_id_seq', :svc_seq, :'svc_called') AS _,
       setval('task.account_id_seq', :acc_seq, :'acc_called') AS _,
       setval('task.task_serial_seq', :task_seq, :'task_called') AS _ \gset
