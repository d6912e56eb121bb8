-- Web roles (issue 4): under PostgREST the authenticator switches to one of
-- the extension's web roles (task_web_operations, task_web_service,
-- task_web_vendor, task_web_client) and sets request.jwt.claims from a
-- verified JWT; the claim "task_identity" names the service or account.
-- The claim counts only under a web role, and only when it names an
-- existing, active service or account of that web role's kind; anything
-- else is nobody. A connection serves many requests: the answer must not
-- change with how many came before.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the HTTP layer, where vendors and clients read their tasks (dropped at the end)
CREATE SCHEMA api;
CREATE EXTENSION task_http SCHEMA api;
-- the id sequences as this test found them, restored at the end so the
-- tests that run later (and do not pin their ids) see no difference
SELECT s.last_value AS svc_seq, s.is_called AS svc_called FROM task.service_id_seq s \gset
SELECT s.last_value AS acc_seq, s.is_called AS acc_called FROM task.account_id_seq s \gset
SELECT s.last_value AS task_seq, s.is_called AS task_called FROM task.task_serial_seq s \gset
SELECT setval('task.service_id_seq', 139) AS _, setval('task.account_id_seq', 1400000) AS _,
       setval('task.task_serial_seq', 1400000) AS _ \gset

SELECT task_service_create('regweb-svc', 'regweb/svc') AS svc,
       task_account_create('Regweb Backoffice', 'Operations') AS ops,
       task_account_create('Regweb Vendor', 'Vendor') AS vendor,
       task_account_create('Regweb Client', 'Client') AS client,
       task_account_create('Regweb Client Off', 'Client', 'Disabled') AS client_off,
       task_account_create('Regweb Backoffice Off', 'Operations', 'Disabled') AS ops_off \gset
SELECT :'svc' AS svc, :'ops' AS ops, :'vendor' AS vendor, :'client' AS client,
       :'client_off' AS client_off, :'ops_off' AS ops_off;
SELECT id AS t1 FROM task_create('web.t', (task_queue_create('regweb/svc/q', owner => :'svc')).name,
                                 access => ARRAY[:'client', :'vendor', :'client_off']) \gset
-- PostgREST's authenticator: a login that may switch to the web roles and
-- holds nothing itself
CREATE ROLE regress_web_authenticator LOGIN NOINHERIT;
GRANT task_web_operations, task_web_service, task_web_vendor, task_web_client, task_web_anon
   TO regress_web_authenticator;

-- who a web role is with given claims, as PostgREST asks: role and claims
-- set for the transaction
CREATE FUNCTION pg_temp.as_web(r text, claims text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    who jsonb;
    seen bigint;
    sees text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    PERFORM set_config('request.jwt.claims', claims, true);
    who := task.task_whoami();
    BEGIN
        -- through the HTTP view: vendors and clients read no row of
        -- task.task directly (issue 16), the view serves every kind
        SELECT count(*) INTO seen FROM api.tasks t WHERE t.owner->>'id' = 'SVC-0140';
        sees := 'sees ' || seen;
    EXCEPTION WHEN insufficient_privilege THEN
        sees := 'no table access';
    END;
    RESET ROLE;
    PERFORM set_config('request.jwt.claims', '', true);
    RETURN concat_ws(' ', who->>'kind', who->>'id', CASE WHEN (who->>'operations')::boolean THEN 'operations' END,
                     sees);
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE;
END
$$;
CREATE TEMP TABLE claims (ord serial, label text, claims text);
GRANT SELECT ON claims TO PUBLIC;
INSERT INTO claims (label, claims) VALUES
    ('the service',            format('{"task_identity": "%s"}', :'svc')),
    ('operations',             format('{"task_identity": "%s", "role": "task_web_operations"}', :'ops')),
    ('operations, disabled',   format('{"task_identity": "%s"}', :'ops_off')),
    ('the vendor',             format('{"task_identity": "%s"}', :'vendor')),
    ('the client',             format('{"task_identity": "%s"}', :'client')),
    ('the client, disabled',   format('{"task_identity": "%s"}', :'client_off')),
    ('no such service',        '{"task_identity": "SVC-9999"}'),
    ('no such account',        '{"task_identity": "ACC-9999-9999"}'),
    ('lower case',             format('{"task_identity": "%s"}', lower(:'svc'))),
    ('leading space',          format('{"task_identity": " %s"}', :'svc')),
    ('trailing newline',       format('{"task_identity": "%s\n"}', :'client')),
    ('short',                  '{"task_identity": "SVC-140"}'),
    ('SQL after it',           format('{"task_identity": "%s'' OR ''1''=''1"}', :'client')),
    ('a number',               '{"task_identity": 140}'),
    ('an array',               format('{"task_identity": ["%s"]}', :'client')),
    ('an object',              format('{"task_identity": {"id": "%s"}}', :'client')),
    ('null',                   '{"task_identity": null}'),
    ('no claim',               '{"sub": "someone"}'),
    ('other claim names',      format('{"sub": "%s", "task.account": "%s", "account": "%s"}', :'ops', :'ops', :'ops')),
    ('not an object',          format('["%s"]', :'ops')),
    ('a JSON string',          format('"%s"', :'ops')),
    ('empty',                  ''),
    ('not JSON',               '{task_identity: ops}');

SET SESSION AUTHORIZATION regress_web_authenticator;
-- the authenticator itself is nobody, whatever the claims
SELECT c.label, pg_temp.as_web('regress_web_authenticator', c.claims) AS authenticator
  FROM claims c WHERE c.ord <= 5 ORDER BY c.ord;
-- each web role with each claim: only the claims of its own kind count
SELECT c.label,
       pg_temp.as_web('task_web_operations', c.claims) AS web_operations,
       pg_temp.as_web('task_web_service', c.claims) AS web_service,
       pg_temp.as_web('task_web_vendor', c.claims) AS web_vendor,
       pg_temp.as_web('task_web_client', c.claims) AS web_client,
       pg_temp.as_web('task_web_anon', c.claims) AS web_anon
  FROM claims c ORDER BY c.ord;

-- one connection, many requests (each its own transaction), as PostgREST
-- serves them: every one answers the same
SELECT pg_temp.as_web('task_web_client', claims) AS request_1 FROM claims WHERE label = 'the client';
SELECT pg_temp.as_web('task_web_vendor', claims) AS request_2 FROM claims WHERE label = 'the vendor';
SELECT pg_temp.as_web('task_web_operations', claims) AS request_3 FROM claims WHERE label = 'operations';
SELECT pg_temp.as_web('task_web_service', claims) AS request_4 FROM claims WHERE label = 'the service';
SELECT pg_temp.as_web('task_web_client', claims) AS request_5 FROM claims WHERE label = 'the client';

-- the API under a web role, as PostgREST calls it
\set ON_ERROR_ROLLBACK on
BEGIN;
SET LOCAL ROLE task_web_client;
SELECT set_config('request.jwt.claims', (SELECT claims FROM claims WHERE label = 'the client'), true) AS _ \gset
SELECT task_get(:'t1')->>'status' AS client_get, (SELECT count(*) FROM task_list()) AS client_listed;
\set ON_ERROR_STOP 0
SELECT task_create('web.t', 'regweb/svc/q');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SET LOCAL ROLE task_web_client;
SELECT set_config('request.jwt.claims', (SELECT claims FROM claims WHERE label = 'the service'), true) AS _ \gset
\set ON_ERROR_STOP 0
SELECT task_get(:'t1');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('web.t', 'regweb/svc/q');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SET LOCAL ROLE task_web_service;
SELECT set_config('request.jwt.claims', (SELECT claims FROM claims WHERE label = 'the service'), true) AS _ \gset
SELECT status, created_by FROM task_create('web.t', 'regweb/svc/q');
-- claims changed within the transaction: the identity follows
SELECT set_config('request.jwt.claims', (SELECT claims FROM claims WHERE label = 'the client'), true) AS _ \gset
SELECT task_whoami()->>'kind' AS kind_after_change, (SELECT count(*) FROM task.task WHERE owner = 140) AS rows_seen;
ROLLBACK;
\set ON_ERROR_ROLLBACK off
RESET SESSION AUTHORIZATION;

-- cleanup
DROP TABLE claims;
DROP FUNCTION pg_temp.as_web(text, text);
DROP ROLE regress_web_authenticator;
DROP EXTENSION task_http;
DROP SCHEMA api;
SELECT setval('task.service_id_seq', :svc_seq, :'svc_called') AS _,
       setval('task.account_id_seq', :acc_seq, :'acc_called') AS _,
       setval('task.task_serial_seq', :task_seq, :'task_called') AS _ \gset
