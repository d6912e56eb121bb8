-- Attacks on access control that must fail (issue 4): forging identity
-- with settings and roles, hijacking the API through search_path, SQL text
-- in every input, guessing another tenant's task ids, escalating through
-- direct table access, the management functions and the internal ones.
-- (Web roles and JWT claims: access_web_roles.sql.)
--
-- Callers act with SET SESSION AUTHORIZATION, so SET ROLE attempts are
-- checked against the login itself. Ids are pinned (services 120-121,
-- accounts 0120-000N, tasks from serial 1200001), so ids in the output are
-- the same in every run.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the id sequences as this test found them, restored at the end so the
-- tests that run later (and do not pin their ids) see no difference
SELECT s.last_value AS svc_seq, s.is_called AS svc_called FROM task.service_id_seq s \gset
SELECT s.last_value AS acc_seq, s.is_called AS acc_called FROM task.account_id_seq s \gset
SELECT s.last_value AS task_seq, s.is_called AS task_called FROM task.task_serial_seq s \gset
SELECT setval('task.service_id_seq', 119) AS _, setval('task.account_id_seq', 1200000) AS _,
       setval('task.task_serial_seq', 1200000) AS _ \gset

SELECT task_service_create('regattack-a', 'regattack/a') AS svc \gset
SELECT task_service_create('regattack-b', 'regattack/b') AS other \gset
SELECT task_account_create('Regattack Backoffice', 'Operations') AS ops \gset
SELECT task_account_create('Regattack Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('Regattack Client A', 'Client') AS client \gset
SELECT task_account_create('Regattack Client B', 'Client') AS client_b \gset
SELECT :'svc' AS svc, :'other' AS other, :'ops' AS ops, :'vendor' AS vendor,
       :'client' AS client, :'client_b' AS client_b;
CREATE ROLE regress_attack_svc LOGIN;
CREATE ROLE regress_attack_other LOGIN;
CREATE ROLE regress_attack_ops LOGIN;
CREATE ROLE regress_attack_vendor LOGIN;
CREATE ROLE regress_attack_client LOGIN;
CREATE ROLE regress_attack_client_b LOGIN;
CREATE ROLE regress_attack_nobody LOGIN;
SELECT task_login_grant('regress_attack_svc', :'svc'), task_login_grant('regress_attack_other', :'other'),
       task_login_grant('regress_attack_ops', :'ops'), task_login_grant('regress_attack_vendor', :'vendor'),
       task_login_grant('regress_attack_client', :'client'),
       task_login_grant('regress_attack_client_b', :'client_b') \gset

-- Two tenants whose task ids interleave: A's tasks (client A and the
-- vendor on the list) and B's (client B), created alternately, so each of
-- A's ids has B's ids as sequential neighbours.
SET SESSION AUTHORIZATION regress_attack_svc;
SELECT id AS a1 FROM task_create('attack.a', 'regattack/a/q', description => 'tenant A, first',
                                 access => ARRAY[:'client', :'vendor']) \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_attack_other;
SELECT id AS b1 FROM task_create('attack.b', 'regattack/b/q', description => 'tenant B secret, first',
                                 access => ARRAY[:'client_b']) \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_attack_svc;
SELECT id AS a2 FROM task_create('attack.a', 'regattack/a/q', description => 'tenant A, second',
                                 access => ARRAY[:'client', :'vendor']) \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_attack_other;
SELECT id AS b2 FROM task_create('attack.b', 'regattack/b/q', description => 'tenant B secret, second',
                                 access => ARRAY[:'client_b']) \gset
RESET SESSION AUTHORIZATION;
SELECT :'a1' AS a1, :'b1' AS b1, :'a2' AS a2, :'b2' AS b2;

-- ============================================================ settings
-- Identity comes from task.login, looked up by the login role: no setting
-- a session can change takes part, whatever its name.
SET SESSION AUTHORIZATION regress_attack_client;
SELECT task_whoami() AS before;
-- the extension reserves the prefix "task": no such setting can be made up
\set ON_ERROR_STOP 0
SELECT set_config('task.account', :'ops', false);
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('task.service', :'svc', false);
\echo :LAST_ERROR_SQLSTATE
SET task.identity = 'ACC-0120-0001';
\echo :LAST_ERROR_SQLSTATE
-- and settings under any other name are ignored
SELECT set_config('request.jwt.claims', format('{"task_identity": "%s"}', :'svc'), false) AS _ \gset
SELECT set_config('request.jwt.claim.task_identity', :'ops', false) AS _ \gset
SELECT set_config('request.jwt.claim.role', 'task_web_operations', false) AS _ \gset
SELECT set_config('app.account', :'ops', false) AS _ \gset
SELECT task_whoami() AS after_settings;
SELECT count(*) AS listed FROM task_list();
SELECT count(*) AS rows_seen FROM task.task WHERE owner BETWEEN 120 AND 121;
-- the same inside one transaction, claims set locally as PostgREST does
BEGIN;
SELECT set_config('request.jwt.claims', format('{"task_identity": "%s", "role": "task_web_operations"}', :'ops'), true) AS _ \gset
SELECT task_whoami()->>'id' AS id_in_transaction, count(*) AS rows_seen
  FROM task.task WHERE owner BETWEEN 120 AND 121;
COMMIT;
RESET ALL;
SET search_path = task, public;

-- a login cannot become a web role, a group role it is not in, another login
\set ON_ERROR_STOP 0
SET ROLE task_web_service;
\echo :LAST_ERROR_SQLSTATE
SET ROLE task_web_operations;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('role', 'task_web_client', false);
\echo :LAST_ERROR_SQLSTATE
SET ROLE task_operations;
\echo :LAST_ERROR_SQLSTATE
SET ROLE regress_attack_svc;
\echo :LAST_ERROR_SQLSTATE
GRANT task_operations TO regress_attack_client;
\echo :LAST_ERROR_SQLSTATE
GRANT task_web_operations TO regress_attack_client;
\echo :LAST_ERROR_SQLSTATE
-- its own group role is allowed, and is nobody: identity is per login
SET ROLE task_client;
SELECT task_whoami()->>'kind' AS as_group_role, count(*) AS rows_seen
  FROM task.task WHERE owner BETWEEN 120 AND 121;
RESET ROLE;
SELECT task_whoami()->>'id' AS still;
RESET SESSION AUTHORIZATION;

-- a role granted nothing fares no better
SET SESSION AUTHORIZATION regress_attack_nobody;
\set ON_ERROR_STOP 0
SET ROLE task_web_service;
\echo :LAST_ERROR_SQLSTATE
SET ROLE task_web_client;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('request.jwt.claims', format('{"task_identity": "%s"}', :'svc'), false) AS _ \gset
SELECT task_whoami() AS nobody;
SELECT count(*) AS listed FROM task_list();
RESET ALL;
SET search_path = task, public;
RESET SESSION AUTHORIZATION;

-- ============================================================ search_path
-- The attacker (a service, then a client) may create objects in a schema
-- of its own and in pg_temp, and puts them first in its search_path: an
-- "=" for text and for integers, jsonb functions and operators, now(),
-- nextval(), functions named like the API. Each records that it ran (and
-- as whom) in a marker table. The API's functions pin their search_path,
-- so none of it runs inside them: results are as without the attack.
CREATE SCHEMA regress_attack_evil;
GRANT USAGE, CREATE ON SCHEMA regress_attack_evil TO regress_attack_svc, regress_attack_client;
CREATE TABLE regress_attack_evil.called (what text, by_user name DEFAULT current_user);
GRANT INSERT ON regress_attack_evil.called TO PUBLIC;
-- what PostgreSQL 14 and older let anyone do: functions in public
CREATE FUNCTION public.task_create(code text, queue text) RETURNS task.task
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('public.task_create');
    RAISE EXCEPTION 'hijacked: public.task_create';
END
$$;
CREATE FUNCTION public.task_queue_create(queue text) RETURNS task.queue
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('public.task_queue_create');
    RAISE EXCEPTION 'hijacked: public.task_queue_create';
END
$$;
CREATE FUNCTION public.current_service() RETURNS integer
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('public.current_service');
    RETURN 121;
END
$$;

SET SESSION AUTHORIZATION regress_attack_svc;
CREATE FUNCTION regress_attack_evil.text_eq(a text, b text) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('= (text, text)');
    RETURN true;
END
$$;
CREATE OPERATOR regress_attack_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_attack_evil.text_eq);
CREATE FUNCTION regress_attack_evil.int_eq(a integer, b integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('= (integer, integer)');
    RETURN true;
END
$$;
CREATE OPERATOR regress_attack_evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = regress_attack_evil.int_eq);
CREATE FUNCTION regress_attack_evil.jsonb_field(j jsonb, k text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('->> (jsonb, text)');
    RETURN 'SVC-0121';
END
$$;
CREATE OPERATOR regress_attack_evil.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = regress_attack_evil.jsonb_field);
CREATE FUNCTION regress_attack_evil.jsonb_typeof(j jsonb) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('jsonb_typeof(jsonb)');
    RETURN 'null';
END
$$;
CREATE FUNCTION regress_attack_evil.jsonb_build_object(VARIADIC args text[]) RETURNS jsonb
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('jsonb_build_object(text[])');
    RETURN '{"hijacked": true}';
END
$$;
CREATE FUNCTION regress_attack_evil.now() RETURNS timestamptz
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('now()');
    RETURN '2000-01-01';
END
$$;
CREATE FUNCTION regress_attack_evil.nextval(s regclass) RETURNS bigint
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('nextval(regclass)');
    RETURN 1;
END
$$;
CREATE FUNCTION regress_attack_evil.current_setting(name text, missing_ok boolean) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('current_setting(text, boolean)');
    RETURN 'http://evil.example';
END
$$;
CREATE FUNCTION regress_attack_evil.task_id_owner(id task.task_id) RETURNS integer
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('task_id_owner(task_id)');
    RETURN 121;
END
$$;
-- pg_temp: tables and a type named like the extension's, and functions
CREATE TEMP TABLE task (id text, owner integer);
CREATE TEMP TABLE login (role regrole, service integer, account bigint);
INSERT INTO pg_temp.login VALUES ('regress_attack_svc', NULL, 1200001);
CREATE TEMP TABLE queue (name text, owner integer);
CREATE TYPE pg_temp.status AS ENUM ('queued', 'evil');
CREATE FUNCTION pg_temp.task_create(code text, queue text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_attack_evil.called (what) VALUES ('pg_temp.task_create');
    RAISE EXCEPTION 'hijacked: pg_temp.task_create';
END
$$;

-- the attack is live in the attacker's own statements
SET search_path = pg_temp, regress_attack_evil, public, task, pg_catalog;
SELECT 'a' = 'b' AS evil_text_eq, 1 = 2 AS evil_int_eq, '{}'::jsonb ->> 'x' AS evil_arrow;
RESET SESSION AUTHORIZATION;
SELECT what, by_user FROM regress_attack_evil.called ORDER BY what;
DELETE FROM regress_attack_evil.called;
SET SESSION AUTHORIZATION regress_attack_svc;

-- and absent from every API call, schema-qualified as clients must call it
SET search_path = pg_temp, regress_attack_evil, public, task, pg_catalog;
SELECT id AS a3, status, created_by, run_at > '2001-01-01' AS real_now,
       task.task_id_owner(id) OPERATOR(pg_catalog.=) 120 AS own_id
  FROM task.task_create('attack.hijack', 'regattack/a/hijack', description => 'created under attack',
                        parameters => '{"k": "v"}', access => ARRAY[:'client']) \gset
SELECT :'status' AS status, :'created_by' AS created_by, :'real_now' AS real_now, :'own_id' AS own_id;
SELECT j OPERATOR(pg_catalog.->>) 'status' AS status, j OPERATOR(pg_catalog.->) 'parameters' AS parameters,
       j OPERATOR(pg_catalog.->) 'owner' OPERATOR(pg_catalog.->>) 'id' AS owner,
       j OPERATOR(pg_catalog.->) 'access' OPERATOR(pg_catalog.->) 0 OPERATOR(pg_catalog.->>) 'id' AS access
  FROM task.task_get(:'a3') j;
SELECT pg_catalog.count(*) AS listed FROM task.task_list();
SELECT pg_catalog.count(*) AS other_tenant_visible FROM task.task_list() j
 WHERE (j OPERATOR(pg_catalog.->) 'owner' OPERATOR(pg_catalog.->>) 'id') OPERATOR(pg_catalog.<>) 'SVC-0120';
SELECT status, attempts FROM task.task_dequeue('regattack/a/hijack');
SELECT status, progress FROM task.task_progress(:'a3', progress => 40);
SELECT status FROM task.task_complete(:'a3', result => '{"r": 1}', token => (SELECT lease_token FROM task.task WHERE id = :'a3'));
SELECT task.task_result(:'a3') AS result;
SELECT pg_catalog.count(*) AS log_entries FROM task.task_logs(:'a3');
SELECT task.task_whoami() OPERATOR(pg_catalog.->>) 'id' AS whoami,
       task.current_service() AS current_service, task.current_kind() AS current_kind;
-- a direct UPDATE runs the C trigger and its saved log INSERT under this search_path
UPDATE task.task SET status = 'cancelled' WHERE id OPERATOR(task.=) :'a2';
SELECT pg_catalog.count(*) AS rows_seen FROM task.task WHERE owner OPERATOR(pg_catalog.=) 120;
\set ON_ERROR_STOP 0
SELECT task.task_get(:'b1');
\echo :LAST_ERROR_SQLSTATE
SET search_path = task, public;
RESET SESSION AUTHORIZATION;
-- not one of the attacker's objects ran
SELECT count(*) AS hijacked_calls FROM regress_attack_evil.called;

-- a client with the same search_path, reading
SET SESSION AUTHORIZATION regress_attack_client;
SET search_path = pg_temp, regress_attack_evil, public, task, pg_catalog;
SELECT pg_catalog.count(*) AS listed FROM task.task_list();
SELECT task.task_get(:'a3') OPERATOR(pg_catalog.->>) 'status' AS status;
SELECT pg_catalog.count(*) AS rows_seen FROM task.task WHERE owner OPERATOR(pg_catalog.=) 121;
SET search_path = task, public;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS hijacked_calls FROM regress_attack_evil.called;

-- RLS filters before any function of the caller sees a row: a cheap,
-- non-leakproof function in the WHERE clause never sees tenant B's rows
CREATE FUNCTION regress_attack_evil.leak(d text) RETURNS boolean
    LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    IF d LIKE '%secret%' THEN
        RAISE NOTICE 'leaked: %', d;
    END IF;
    RETURN true;
END
$$;
SET SESSION AUTHORIZATION regress_attack_client;
SELECT count(*) AS rows_seen FROM task.task t WHERE regress_attack_evil.leak(t.description);
RESET SESSION AUTHORIZATION;

-- ============================================================ SQL text in inputs
-- Stored verbatim, never executed; the format rules reject it where they apply.
CREATE TABLE regress_attack_evil.injected (x int);
GRANT INSERT ON regress_attack_evil.injected TO PUBLIC;
SET SESSION AUTHORIZATION regress_attack_svc;
\set ON_ERROR_STOP 0
SELECT task.task_create($$x'); INSERT INTO regress_attack_evil.injected VALUES (1); --$$, 'regattack/a/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.code; DROP TABLE task.task', 'regattack/a/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.q', $$regattack/a/q'; DELETE FROM task.task; --$$);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.q', 'regattack/a/q', access => ARRAY[$$ACC-0120-0003' OR '1'='1$$]);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.q', 'regattack/a/q', parent => $$TSK-0121-0000-0120-0002' OR '1'='1$$);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_get($$TSK-0120-0000-0120-0001'; DELETE FROM task.task; --$$);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_queue_create($$regattack/a/x'); DROP TABLE task.task; --$$);
\echo :LAST_ERROR_SQLSTATE
SELECT id AS inj FROM task.task_create('attack.inject', 'regattack/a/q',
    name => $$Robert'); DROP TABLE task.task; --$$,
    description => $$'; INSERT INTO regress_attack_evil.injected VALUES (2); --$$,
    object => '{"id": "1 OR 1=1", "type": "x\"; DROP TABLE task.task; --"}',
    parameters => $${"sql": "'); DELETE FROM task.task; --", "k'; --": "$1 || chr(39)"}$$,
    idempotency_key => $$k'); DROP TABLE task.task; --$$,
    ordering_key => $$o' OR '1'='1$$) \gset
SELECT task.task_log(:'inj', $$log'); INSERT INTO regress_attack_evil.injected VALUES (3); --$$);
SELECT j->>'name' AS name, j->>'description' AS description, j->'object' AS object, j->'parameters' AS parameters
  FROM task.task_get(:'inj') j;
SELECT idempotency_key, ordering_key FROM task.task WHERE id = :'inj';
SELECT message FROM task.task_logs(:'inj') WHERE message LIKE 'log%';
-- filters are values, not SQL
SELECT count(*) AS by_object_id FROM task.task_list(object_id => '1 OR 1=1');
SELECT count(*) AS by_injected_filter FROM task.task_list(object_id => $$x' OR '1'='1$$);
SELECT count(*) AS by_injected_queue FROM task.task_list(queue => $$x' OR '1'='1$$);
SELECT count(*) AS by_injected_code FROM task.task_list(code => $$attack.a' OR 'x'='x$$);
SELECT status FROM task.task_cancel(:'inj', reason => $$'); UPDATE task.task SET owner = 121; --$$);
RESET SESSION AUTHORIZATION;
SELECT count(*) AS injected_rows FROM regress_attack_evil.injected;
SELECT count(*) AS tasks_of_a FROM task.task WHERE owner = 120;

-- ============================================================ guessing ids
-- Client A knows its own ids and guesses their neighbours: tenant B's ids
-- (the same serial with B's prefix, serials one off with either prefix)
-- are not found, exactly as an id that exists nowhere.
SET SESSION AUTHORIZATION regress_attack_client;
SELECT task.task_get(:'a1')->>'description' AS own_task;
CREATE TEMP TABLE guesses AS
SELECT g::task.task_id AS id FROM unnest(ARRAY[
    :'b1', :'b2',                                            -- B's actual ids
    'TSK-0121-0000-0120-0001', 'TSK-0121-0000-0120-0003',    -- B's prefix, A's serials
    'TSK-0120-0000-0120-0002', 'TSK-0120-0000-0120-0004',    -- A's prefix, B's serials
    'TSK-0121-0000-0120-0000', 'TSK-0121-0000-0120-0005',
    'TSK-0120-9999-9999-9999'                                -- exists nowhere
    ]) g;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SELECT g.id,
       pg_temp.try(format('SELECT task.task_get(%L)', g.id)) AS get,
       pg_temp.try(format('SELECT task.task_result(%L)', g.id)) = pg_temp.try(format('SELECT task.task_get(%L)', g.id)) AS result_same,
       pg_temp.try(format('SELECT task.task_logs(%L)', g.id)) = pg_temp.try(format('SELECT task.task_get(%L)', g.id)) AS logs_same,
       pg_temp.try(format('SELECT task.task_cancel(%L)', g.id)) = pg_temp.try(format('SELECT task.task_get(%L)', g.id)) AS cancel_same
  FROM guesses g ORDER BY g.id;
SELECT count(*) AS rows_seen FROM task.task t WHERE t.id IN (SELECT id FROM guesses);
SELECT count(*) AS access_rows_seen FROM task.task_access a WHERE a.task_id IN (SELECT id FROM guesses);
SELECT count(*) AS listed_of_b FROM task.task_list() j WHERE j->'owner'->>'id' = 'SVC-0121';
DROP TABLE guesses;
RESET SESSION AUTHORIZATION;

-- ============================================================ escalation
-- a vendor on the access list: reads, never writes
SET SESSION AUTHORIZATION regress_attack_vendor;
SELECT task.task_get(:'a1')->>'status' AS vendor_reads;
\set ON_ERROR_STOP 0
SELECT task.task_create('attack.vendor', 'regattack/a/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.vendor', 'regattack/vendor/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_queue_create('regattack/a/vendor');
\echo :LAST_ERROR_SQLSTATE
UPDATE task.task SET description = 'by the vendor' WHERE id = :'a1';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO task.task_access (owner, task_id, account) VALUES (121, :'b1', 1200002);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_cancel(:'a1');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- a service: another service's tasks are invisible to its UPDATE
SET SESSION AUTHORIZATION regress_attack_svc;
UPDATE task.task SET description = 'by service A', progress = 99 WHERE id = :'b1';
UPDATE task.task SET description = 'by service A' WHERE owner = 121;
\set ON_ERROR_STOP 0
SELECT task.task_queue_create('regattack/b/mine', owner => :'other');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_queue_configure('regattack/b/q', paused => true);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_dequeue('regattack/b/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.child', 'regattack/a/q', parent => :'b1');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_create('attack.dep', 'regattack/a/q', depends_on => ARRAY[:'b1'::task.task_id]);
\echo :LAST_ERROR_SQLSTATE
-- and on its own tasks, only the columns granted: not the identity, the
-- owner, the queue, the audit stamps, the worker's lease or the revision
UPDATE task.task SET created_by = 'SVC-0121' WHERE id = :'a1';
\echo :LAST_ERROR_SQLSTATE
UPDATE task.task SET lease_token = 1, lease_until = now() + interval '1 day' WHERE id = :'a1';
\echo :LAST_ERROR_SQLSTATE
SELECT col, pg_temp.try(format('UPDATE task.task SET %I = %I WHERE id = %L', col, col, :'a1')) AS outcome
  FROM unnest(ARRAY['owner', 'id', 'revision', 'code', 'queue', 'parent', 'run_at', 'attempts',
                    'max_attempts', 'lease_token', 'lease_until', 'ordering_key', 'idempotency_key',
                    'status_at', 'created_at', 'created_by', 'updated_at', 'updated_by',
                    'started_at', 'started_by', 'completed_at', 'completed_by', 'failed_at', 'failed_by',
                    'rescheduled_at', 'rescheduled_by', 'cancelled_at', 'cancelled_by']) col;
-- the granted ones work, audited as the service
UPDATE task.task SET description = 'edited directly' WHERE id = :'a1';
SELECT description, updated_by, revision FROM task.task WHERE id = :'a1';
RESET SESSION AUTHORIZATION;
SELECT description, progress FROM task.task WHERE id IN (:'b1', :'b2') ORDER BY id;
-- even the table owner cannot rewrite the audit: the trigger refuses
\set ON_ERROR_STOP 0
UPDATE task.task SET created_by = 'SVC-0121' WHERE id = :'a1';
\echo :LAST_ERROR_SQLSTATE

-- ============================================================ management
-- only the system (an unmapped superuser) maps logins and creates services
-- and accounts; internal functions are the API's alone
SET SESSION AUTHORIZATION regress_attack_ops;
\set ON_ERROR_STOP 0
SELECT task.task_login_grant('regress_attack_client', :'ops');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_login_revoke('regress_attack_client');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_service_create('regattack-evil', 'regattack/evil');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_account_create('Regattack Evil', 'Operations');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_attack_client;
\set ON_ERROR_STOP 0
SELECT task.task_login_grant('regress_attack_client', :'ops');
\echo :LAST_ERROR_SQLSTATE
SELECT task._set_group('regress_attack_client', 'task_operations');
\echo :LAST_ERROR_SQLSTATE
SELECT task._visible(121, :'b1');
\echo :LAST_ERROR_SQLSTATE
SELECT task._identity_invalidate();
\echo :LAST_ERROR_SQLSTATE
SELECT task._task_json(t) FROM task.task t LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
SELECT task_whoami()->>'id' AS still_client;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_attack_nobody;
\set ON_ERROR_STOP 0
SELECT task.task_login_grant('regress_attack_nobody', :'ops');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
-- the system cannot map the extension's own roles either
\set ON_ERROR_STOP 0
SELECT task.task_login_grant('task_web_operations', :'ops');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_login_grant('task_web_client', :'client');
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_login_grant('task_operations', :'ops');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS extension_roles_mapped FROM task.login
 WHERE role::text LIKE 'task\_%';

-- ============================================================ a real login
-- SET SESSION AUTHORIZATION works above only because this session was
-- authenticated as a superuser; connected as the client itself, neither
-- it nor SET ROLE to a web role is allowed.
DROP TABLE pg_temp.task, pg_temp.login, pg_temp.queue;
DROP TYPE pg_temp.status;
DROP FUNCTION pg_temp.task_create(text, text), pg_temp.try(text);
SELECT current_user AS superuser \gset
\c - regress_attack_client
SELECT session_user, task.task_whoami()->>'id' AS id;
\set ON_ERROR_STOP 0
SET SESSION AUTHORIZATION regress_attack_ops;
\echo :LAST_ERROR_SQLSTATE
SET ROLE task_web_operations;
\echo :LAST_ERROR_SQLSTATE
SELECT session_user, task.task_whoami()->>'id' AS id;
\c - :superuser
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

-- ============================================================ the trigger on a table of one's own
-- The transition trigger writes task logs as the tables' owner and wakes
-- queues: attached to a temporary copy of task.task's columns it forged
-- another tenant's log (and, with columns of other types, crashed the
-- server). Nobody but the owner may attach it, and it refuses any table
-- but the extension's own, even attached by a superuser.
SET ROLE regress_attack_nobody;
CREATE TEMP TABLE forged (owner integer, id task.task_id, status task.status, code text, queue text);
\set ON_ERROR_STOP 0
CREATE TRIGGER forged BEFORE INSERT OR UPDATE ON forged FOR EACH ROW EXECUTE FUNCTION task.task_transition();
\set ON_ERROR_STOP 1
DROP TABLE forged;
RESET ROLE;
CREATE TEMP TABLE forged (LIKE task.task);
CREATE TRIGGER forged BEFORE INSERT OR UPDATE ON forged FOR EACH ROW EXECUTE FUNCTION task.task_transition();
\set ON_ERROR_STOP 0
INSERT INTO forged (owner, id, status, code, queue) VALUES (1, 'TSK-0001-0000-0000-0001', 'queued', 'c.x', 'q');
\set ON_ERROR_STOP 1
DROP TABLE forged;

-- ============================================================ locks no tenant may take
-- The extension's locks were advisory locks on secret keys, but a held key
-- shows in pg_locks and anyone could take it: another tenant's limited
-- queue gave up its claims, archiving stopped for everyone. Archiving's is
-- a lock of a table that no tenant may lock; the claim lock was the lock of
-- the queue's (service's) row and is now a lock in a space no SQL function
-- takes (features_limits_race (j)): neither row may be locked either.
SET ROLE regress_attack_other;
BEGIN;
\set ON_ERROR_STOP 0
SELECT FROM task.queue FOR NO KEY UPDATE NOWAIT;
ROLLBACK;
BEGIN;
SELECT FROM task.service FOR NO KEY UPDATE NOWAIT;
ROLLBACK;
BEGIN;
LOCK TABLE task.maintenance_run IN SHARE UPDATE EXCLUSIVE MODE NOWAIT;
ROLLBACK;
\set ON_ERROR_STOP 1
RESET ROLE;

-- ============================================================ prepared transactions
-- A tenant that may PREPARE TRANSACTION (max_prepared_transactions > 0)
-- keeps prepared transactions as long as it likes: they outlive its
-- session. A queue's claim mark is unused while a prepared transaction
-- that wrote to it is open (its rows appear at COMMIT PREPARED, in any
-- backend). An entry holds four; the fifth open at once found no room and,
-- until stop 27, switched off the mark of every queue of the cluster: all
-- tenants' claims searched their queues from the beginning, under the
-- snapshot the prepared transactions hold back (docs/QUEUE.md, W6). Now
-- only the full entry is unused, until they have ended.
SET SESSION AUTHORIZATION regress_attack_other;
SELECT count(*) AS made FROM task_create('attack.b', 'regattack/b/marked');
SELECT count(*) AS claimed FROM task_dequeue('regattack/b/marked');
RESET SESSION AUTHORIZATION;
SELECT m.empty IS NOT NULL AS b_mark_in_use FROM task._mark_peek(121, 'regattack/b/marked') m;
SET SESSION AUTHORIZATION regress_attack_svc;
SELECT count(*) AS made FROM task_create('attack.a', 'regattack/a/prepared');
BEGIN; SELECT count(*) AS made FROM task_create('attack.a', 'regattack/a/prepared'); PREPARE TRANSACTION 'regattack_p1';
BEGIN; SELECT count(*) AS made FROM task_create('attack.a', 'regattack/a/prepared'); PREPARE TRANSACTION 'regattack_p2';
BEGIN; SELECT count(*) AS made FROM task_create('attack.a', 'regattack/a/prepared'); PREPARE TRANSACTION 'regattack_p3';
BEGIN; SELECT count(*) AS made FROM task_create('attack.a', 'regattack/a/prepared'); PREPARE TRANSACTION 'regattack_p4';
BEGIN; SELECT count(*) AS made FROM task_create('attack.a', 'regattack/a/prepared'); PREPARE TRANSACTION 'regattack_p5';
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_attack_other;
SELECT count(*) AS made FROM task_create('attack.b', 'regattack/b/marked');
SELECT count(*) AS claimed FROM task_dequeue('regattack/b/marked');
RESET SESSION AUTHORIZATION;
SELECT m.empty IS NOT NULL AS b_mark_in_use FROM task._mark_peek(121, 'regattack/b/marked') m;
SELECT m.empty IS NOT NULL AS a_mark_in_use FROM task._mark_peek(120, 'regattack/a/prepared') m;
ROLLBACK PREPARED 'regattack_p1';
ROLLBACK PREPARED 'regattack_p2';
ROLLBACK PREPARED 'regattack_p3';
ROLLBACK PREPARED 'regattack_p4';
ROLLBACK PREPARED 'regattack_p5';
-- once they have ended, a claim of A's queue keeps its mark again
SET SESSION AUTHORIZATION regress_attack_svc;
SELECT count(*) AS claimed FROM task_dequeue('regattack/a/prepared');
RESET SESSION AUTHORIZATION;
SELECT m.empty IS NOT NULL AS a_mark_in_use FROM task._mark_peek(120, 'regattack/a/prepared') m;
-- A tenant cannot tell which wait slot and claim mark entry another
-- tenant's queue has (its key modulo task.wait_slots): the key is seeded
-- with a random number drawn at server start. It was the database oid
-- and a constant, the same hash as hashtextextended: any role computed it
-- in SQL and named a queue of its own on the same entry, whose claims
-- then took the entry from the other queue at every turn, and whose one
-- prepared transaction kept the other queue without its mark.
SET SESSION AUTHORIZATION regress_attack_svc;
SELECT hashtextextended('regattack/b/marked',
                        x'7461736b2d717565'::bigint
                        # ((SELECT oid::bigint FROM pg_database WHERE datname = current_database()) << 32)) AS guessed_key \gset
RESET SESSION AUTHORIZATION;
SELECT task._wait_key('regattack/b/marked'::text) <> :guessed_key AS key_not_guessed;

-- ============================================================ cleanup
SET client_min_messages = warning;
SELECT count(task.task_login_revoke(r::regrole)) AS revoked
  FROM unnest(ARRAY['regress_attack_svc', 'regress_attack_other', 'regress_attack_ops', 'regress_attack_vendor',
                    'regress_attack_client', 'regress_attack_client_b']) r;
DROP FUNCTION public.task_create(text, text), public.task_queue_create(text), public.current_service();
DROP OWNED BY regress_attack_svc, regress_attack_client;
DROP SCHEMA regress_attack_evil CASCADE;
DROP ROLE regress_attack_svc, regress_attack_other, regress_attack_ops, regress_attack_vendor,
          regress_attack_client, regress_attack_client_b, regress_attack_nobody;
SELECT setval('task.service_id_seq', :svc_seq, :'svc_called') AS _,
       setval('task.account_id_seq', :acc_seq, :'acc_called') AS _,
       setval('task.task_serial_seq', :task_seq, :'task_called') AS _ \gset
