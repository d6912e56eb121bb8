\unset ECHO
-- Access control as a matrix (issue 4, seed 000's access table): each kind
-- of caller x each API operation and each direct statement on every table
-- of schema task, with the outcome it must have.
--
-- Seed 000: create -- services only; list, get, result -- operations,
-- services, vendors, clients (on the task's access list); logs --
-- operations and the owning service; progress, complete, status -- the
-- owning service only; cancel and retry -- the owner or operations (our
-- extension). Seed 003: a task outside the caller's scope is "not found"
-- (P0002), never "forbidden"; a visible task the caller may not change is
-- 42501. Directly, RLS filters rows (a count) where a SELECT grant exists,
-- and 42501 is "permission denied" where it does not; nobody may INSERT or
-- DELETE, and only a service may UPDATE, its own tasks. Vendors and
-- clients read through the API only (issue 16): no grant on task.task,
-- task.account or task.task_access; a disabled account's login
-- has no group role, hence no grant at all. Another service's queue is
-- answered as a name outside the caller's namespace (22023).
--
-- Callers (SET SESSION AUTHORIZATION, so identity is the login's):
--   ops       a login mapped to an Operations account
--   svc       the owning service (SVC-0100)
--   other     another service (SVC-0101)
--   vendor    a Vendor account on the access list
--   client    a Client account on the access list
--   stranger  a Client account not on it (on the list of SVC-0101's task)
--   unmapped  a login with no mapping, granted every group role by hand
--             (the grants give it table access, yet RLS shows it nothing)
--   disabled  a login mapped to a Disabled Client account on the list
--   public    a fresh role with nothing (what PUBLIC holds)
--
-- Ids are pinned (services 100-101, accounts 0100-000N, tasks from serial
-- 1000001), so the counts hold whatever other tests left behind.
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_ROLLBACK 1
\set ON_ERROR_STOP true

SET search_path = public, task;

-- the id sequences as this test found them, restored at the end so the
-- tests that run later (and do not pin their ids) see no difference
SELECT s.last_value AS svc_seq, s.is_called AS svc_called FROM task.service_id_seq s \gset
SELECT s.last_value AS acc_seq, s.is_called AS acc_called FROM task.account_id_seq s \gset
SELECT s.last_value AS task_seq, s.is_called AS task_called FROM task.task_serial_seq s \gset

BEGIN;
SELECT setval('task.service_id_seq', 99) AS _, setval('task.account_id_seq', 1000000) AS _,
       setval('task.task_serial_seq', 1000000) AS _ \gset
SELECT plan(410);

-- ------------------------------------------------------------ callers
SELECT task.task_service_create('regaccess-main', 'regaccess/main') AS svc \gset
SELECT task.task_service_create('regaccess-other', 'regaccess/other') AS other \gset
SELECT task.task_account_create('Regaccess Backoffice', 'Operations') AS ops \gset
SELECT task.task_account_create('Regaccess Vendor', 'Vendor') AS vendor \gset
SELECT task.task_account_create('Regaccess Client', 'Client') AS client \gset
SELECT task.task_account_create('Regaccess Stranger', 'Client') AS stranger \gset
SELECT task.task_account_create('Regaccess Disabled', 'Client', 'Disabled') AS disabled \gset

CREATE ROLE regress_access_ops LOGIN;
CREATE ROLE regress_access_svc LOGIN;
CREATE ROLE regress_access_other LOGIN;
CREATE ROLE regress_access_vendor LOGIN;
CREATE ROLE regress_access_client LOGIN;
CREATE ROLE regress_access_stranger LOGIN;
CREATE ROLE regress_access_unmapped LOGIN;
CREATE ROLE regress_access_disabled LOGIN;
CREATE ROLE regress_access_public;
SELECT task.task_login_grant('regress_access_ops', :'ops'),
       task.task_login_grant('regress_access_svc', :'svc'),
       task.task_login_grant('regress_access_other', :'other'),
       task.task_login_grant('regress_access_vendor', :'vendor'),
       task.task_login_grant('regress_access_client', :'client'),
       task.task_login_grant('regress_access_stranger', :'stranger'),
       task.task_login_grant('regress_access_disabled', :'disabled') \gset
GRANT task_operations, task_service, task_vendor, task_client TO regress_access_unmapped;

-- ------------------------------------------------------------ fixtures
-- One task per operation, in the state where the operation would succeed,
-- so a refusal is about the caller and nothing else. Every task of SVC-0100
-- but "dq" and "dep" has vendor, client and disabled on its access list.
-- A fixture "name:who" is that caller's own target (ops cancels and
-- retries its own task, so the service still finds its target queued).
CREATE TEMP TABLE fx (name text PRIMARY KEY, id task.task_id NOT NULL);
GRANT SELECT, INSERT ON fx TO PUBLIC;

SET SESSION AUTHORIZATION regress_access_svc;
INSERT INTO fx SELECT 'done', (task.task_create('matrix.done', 'regaccess/main/q',
    access => ARRAY[:'vendor', :'client', :'disabled'])).id;
SELECT count(*) AS _ FROM task.task_dequeue('regaccess/main/q') \gset
SELECT task.task_complete(id, result => '{"answer": 42}',
                          token => (SELECT t.lease_token FROM task.task t WHERE t.id = fx.id)) AS _ FROM fx WHERE name = 'done' \gset
INSERT INTO fx SELECT n, (task.task_create('matrix.' || replace(n, ':', '_'), 'regaccess/main/q',
    access => ARRAY[:'vendor', :'client', :'disabled'])).id
  FROM unnest(ARRAY['progress', 'complete', 'retry', 'retry:ops']) WITH ORDINALITY u(n, i) ORDER BY i;
SELECT count(*) AS _ FROM task.task_dequeue('regaccess/main/q', 4) \gset
SELECT count(task.task_fail(id, 'matrix failure', retry => false,
                            token => (SELECT t.lease_token FROM task.task t WHERE t.id = fx.id))) AS _ FROM fx WHERE name LIKE 'retry%' \gset
INSERT INTO fx SELECT n, (task.task_create('matrix.' || replace(n, ':', '_'), 'regaccess/main/q',
    access => ARRAY[:'vendor', :'client', :'disabled'])).id
  FROM unnest(ARRAY['cancel', 'cancel:ops']) WITH ORDINALITY u(n, i) ORDER BY i;
INSERT INTO fx SELECT 'dep', (task.task_create('matrix.dep', 'regaccess/main/q')).id;
INSERT INTO fx SELECT 'blocked', (task.task_create('matrix.blocked', 'regaccess/main/q',
    depends_on => ARRAY[(SELECT id FROM fx WHERE name = 'dep')],
    access => ARRAY[:'vendor', :'client', :'disabled'])).id;
INSERT INTO fx SELECT 'dq', (task.task_create('matrix.dq', 'regaccess/main/dq')).id;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_access_other;
INSERT INTO fx SELECT 'other', (task.task_create('matrix.other', 'regaccess/other/q',
    access => ARRAY[:'stranger'])).id;
RESET SESSION AUTHORIZATION;

SELECT is((SELECT array_agg(t.status::text || ' ' || f.name ORDER BY f.id)
             FROM fx f JOIN task.task t ON t.id OPERATOR(task.=) f.id),
          ARRAY['completed done', 'processing progress', 'processing complete', 'failed retry',
                'failed retry:ops', 'queued cancel', 'queued cancel:ops', 'queued dep',
                'blocked blocked', 'queued dq', 'queued other'],
                                        'fixtures: each task is in the state its operation needs');

-- ------------------------------------------------------------ the matrix
-- A cell is "ok" (lives_ok), a SQLSTATE (throws_ok) or "=N", a row count (is).
-- In the statements, {name} is the fixture (the caller's own "name:who"
-- when there is one). Rows run in this order, callers in the order below.
CREATE TEMP TABLE matrix (
    ord      integer PRIMARY KEY,
    kind     text NOT NULL,       -- api, table
    op       text NOT NULL,
    sql      text NOT NULL,
    ops      text, svc text, other text, vendor text, client text,
    stranger text, unmapped text, disabled text, public text);
GRANT SELECT ON matrix TO PUBLIC;

INSERT INTO matrix VALUES
--   ord kind   op                                     statement
--                                      ops       svc       other     vendor    client    stranger  unmapped  disabled  public
    (1, 'api', 'task_create in a queue of SVC-0100',
     $$SELECT task.task_create('matrix.created', 'regaccess/main/q')$$,
                                       '42501',  'ok',     '22023',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (2, 'api', 'task_create in a queue of SVC-0101',
     $$SELECT task.task_create('matrix.created', 'regaccess/other/q')$$,
                                       '42501',  '22023',  'ok',     '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (3, 'api', 'task_get',
     $$SELECT task.task_get({done})$$,
                                       'ok',     'ok',     'P0002',  'ok',     'ok',     'P0002',  'P0002',  'P0002',  'P0002'),
    (4, 'api', 'task_list (count)',
     $$SELECT count(*) FROM task.task_list(list_limit => 1000) j
        WHERE j->'owner'->>'id' IN ('SVC-0100', 'SVC-0101')$$,
                                       '=12',    '=11',    '=2',     '=8',     '=8',     '=1',     '=0',     '=0',     '=0'),
    (5, 'api', 'task_result',
     $$SELECT task.task_result({done})$$,
                                       'ok',     'ok',     'P0002',  'ok',     'ok',     'P0002',  'P0002',  'P0002',  'P0002'),
    (6, 'api', 'task_logs',
     $$SELECT task.task_logs({done})$$,
                                       'ok',     'ok',     'P0002',  '42501',  '42501',  'P0002',  'P0002',  'P0002',  'P0002'),
    (7, 'api', 'task_progress',
     $$SELECT task.task_progress({progress}, progress => 50)$$,
                                       '42501',  'ok',     'P0002',  '42501',  '42501',  'P0002',  'P0002',  'P0002',  'P0002'),
    (8, 'api', 'task_complete',
     $$SELECT task.task_complete({complete}, result => '{"done": true}', force => true)$$,
                                       '42501',  'ok',     'P0002',  '42501',  '42501',  'P0002',  'P0002',  'P0002',  'P0002'),
    (9, 'api', 'task_cancel',
     $$SELECT task.task_cancel({cancel}, reason => 'matrix')$$,
                                       'ok',     'ok',     'P0002',  '42501',  '42501',  'P0002',  'P0002',  'P0002',  'P0002'),
    (10, 'api', 'task_dequeue (count)',
     $$SELECT count(*) FROM task.task_dequeue('regaccess/main/dq')$$,
                                       '42501',  '=1',     'P0002',  'P0002',  'P0002',  'P0002',  'P0002',  'P0002',  'P0002'),
    (11, 'api', 'task_retry',
     $$SELECT task.task_retry({retry})$$,
                                       'ok',     'ok',     'P0002',  '42501',  '42501',  'P0002',  'P0002',  'P0002',  'P0002'),
    (12, 'api', 'task_unblock',
     $$SELECT task.task_unblock({blocked})$$,
                                       '42501',  'ok',     'P0002',  '42501',  '42501',  'P0002',  'P0002',  'P0002',  'P0002'),

-- task.service
    (20, 'table', 'SELECT task.service (count)',
     $$SELECT count(*) FROM task.service WHERE id BETWEEN 100 AND 101$$,
                                       '=2',     '=1',     '=1',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (21, 'table', 'INSERT task.service',
     $$INSERT INTO task.service (name, namespace) VALUES ('regaccess-evil', 'regaccess/evil')$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (22, 'table', 'UPDATE task.service',
     $$UPDATE task.service SET namespace = 'regaccess' WHERE id = 100$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (23, 'table', 'DELETE task.service',
     $$DELETE FROM task.service WHERE id = 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.account
    (30, 'table', 'SELECT task.account (count)',
     $$SELECT count(*) FROM task.account WHERE id BETWEEN 1000001 AND 1000005$$,
                                       '=5',     '42501',  '42501',  '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (31, 'table', 'INSERT task.account',
     $$INSERT INTO task.account (name, type) VALUES ('Regaccess Evil', 'Operations')$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (32, 'table', 'UPDATE task.account',
     $$UPDATE task.account SET type = 'Operations', status = 'Active' WHERE id BETWEEN 1000001 AND 1000005$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (33, 'table', 'DELETE task.account',
     $$DELETE FROM task.account WHERE id = 1000001$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.login
    (40, 'table', 'SELECT task.login (count)',
     $$SELECT count(*) FROM task.login WHERE role::text LIKE 'regress\_access\_%'$$,
                                       '=7',     '42501',  '42501',  '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (41, 'table', 'INSERT task.login',
     $$INSERT INTO task.login (role, account) VALUES (current_user::regrole, 1000001)$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (42, 'table', 'UPDATE task.login',
     $$UPDATE task.login SET account = 1000001, service = NULL WHERE role = current_user::regrole$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (43, 'table', 'DELETE task.login',
     $$DELETE FROM task.login WHERE role::text LIKE 'regress\_access\_%'$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.queue
    (50, 'table', 'SELECT task.queue (count)',
     $$SELECT count(*) FROM task.queue WHERE owner BETWEEN 100 AND 101$$,
                                       '=3',     '=2',     '=1',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (51, 'table', 'INSERT task.queue',
     $$INSERT INTO task.queue (name, owner) VALUES ('regaccess/main/evil', 100)$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (52, 'table', 'UPDATE task.queue',
     $$UPDATE task.queue SET paused = true WHERE owner BETWEEN 100 AND 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (53, 'table', 'DELETE task.queue',
     $$DELETE FROM task.queue WHERE owner BETWEEN 100 AND 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.task: a service may update its own tasks (some columns), and no other
    (60, 'table', 'SELECT task.task (count)',
     $$SELECT count(*) FROM task.task WHERE owner BETWEEN 100 AND 101$$,
                                       '=11',    '=10',    '=1',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (61, 'table', 'INSERT task.task',
     $$INSERT INTO task.task (owner, id, code, queue) VALUES (100, 'TSK-0100-0000-0999-0001', 'matrix.evil', 'regaccess/main/q')$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (62, 'table', 'UPDATE task.task (count)',
     $$WITH u AS (UPDATE task.task SET description = 'updated directly' WHERE id = {cancel} RETURNING 1)
       SELECT count(*) FROM u$$,
                                       '42501',  '=1',     '=0',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (63, 'table', 'DELETE task.task',
     $$DELETE FROM task.task WHERE owner BETWEEN 100 AND 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.task_access
    (70, 'table', 'SELECT task.task_access (count)',
     $$SELECT count(*) FROM task.task_access WHERE owner BETWEEN 100 AND 101$$,
                                       '=25',    '=24',    '=1',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (71, 'table', 'INSERT task.task_access',
     $$INSERT INTO task.task_access (owner, task_id, account) VALUES (100, {done}, 1000004)$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (72, 'table', 'UPDATE task.task_access',
     $$UPDATE task.task_access SET account = 1000004 WHERE owner = 100$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (73, 'table', 'DELETE task.task_access',
     $$DELETE FROM task.task_access WHERE owner BETWEEN 100 AND 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.task_log
    (80, 'table', 'SELECT task.task_log (count)',
     $$SELECT count(*) FROM task.task_log WHERE owner BETWEEN 100 AND 101$$,
                                       '=4',     '=4',     '=0',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (81, 'table', 'INSERT task.task_log',
     $$INSERT INTO task.task_log (owner, task_id, message) VALUES (100, {done}, 'forged entry')$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (82, 'table', 'UPDATE task.task_log',
     $$UPDATE task.task_log SET message = 'rewritten' WHERE owner BETWEEN 100 AND 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (83, 'table', 'DELETE task.task_log',
     $$DELETE FROM task.task_log WHERE owner BETWEEN 100 AND 101$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
-- task.task_dependency
    (90, 'table', 'SELECT task.task_dependency (count)',
     $$SELECT count(*) FROM task.task_dependency WHERE owner BETWEEN 100 AND 101$$,
                                       '=1',     '=1',     '=0',     '42501',  '42501',  '42501',  '=0',     '42501',  '42501'),
    (91, 'table', 'INSERT task.task_dependency',
     $$INSERT INTO task.task_dependency (owner, task_id, depends_on) VALUES (100, {cancel}, {dep})$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (92, 'table', 'UPDATE task.task_dependency',
     $$UPDATE task.task_dependency SET depends_on = {done} WHERE owner = 100$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501'),
    (93, 'table', 'DELETE task.task_dependency',
     $$DELETE FROM task.task_dependency WHERE owner = 100$$,
                                       '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501',  '42501');

-- Runs the cells of one kind for the current caller `who`: lives_ok,
-- throws_ok or is(count), as the cell says. Not SECURITY DEFINER: every
-- statement runs as the caller.
CREATE FUNCTION pg_temp.cells(who text, kind text) RETURNS SETOF text
    LANGUAGE plpgsql
AS $$
DECLARE
    m record;
    f record;
    want text;
    q text;
    have text;
    n bigint;
    descr text;
BEGIN
    FOR m IN SELECT * FROM matrix x WHERE x.kind = cells.kind ORDER BY x.ord LOOP
        want := to_jsonb(m) ->> who;
        q := m.sql;
        -- the caller's own fixture first, then the shared one
        FOR f IN SELECT x.name, x.id FROM fx x ORDER BY x.name LIKE '%:%' DESC, x.name LOOP
            IF f.name LIKE '%:' || who THEN
                q := replace(q, '{' || split_part(f.name, ':', 1) || '}', quote_literal(f.id::text));
            ELSIF f.name NOT LIKE '%:%' THEN
                q := replace(q, '{' || f.name || '}', quote_literal(f.id::text));
            END IF;
        END LOOP;
        descr := format('%s: %s -> %s', who, m.op,
                        CASE WHEN want LIKE '=%' THEN substr(want, 2) || ' rows' ELSE want END);
        IF want = 'ok' THEN
            RETURN NEXT lives_ok(q, descr);
        ELSIF want ~ '^=[0-9]+$' THEN
            BEGIN
                EXECUTE q INTO n;
                have := n::text;
            EXCEPTION WHEN OTHERS THEN
                have := SQLSTATE || ': ' || SQLERRM;
            END;
            RETURN NEXT is(have, substr(want, 2), descr);
        ELSE
            RETURN NEXT throws_ok(q, want, NULL, descr);
        END IF;
    END LOOP;
END
$$;

-- Who each caller is, before anything else.
CREATE FUNCTION pg_temp.whoami() RETURNS text LANGUAGE sql
    RETURN (task.task_whoami()->>'kind') || ' ' || (task.task_whoami()->>'id');

-- ------------------------------------------------------------ direct statements
-- First, while the fixtures are as set up: the counts are what RLS shows.
SET SESSION AUTHORIZATION regress_access_ops;
SELECT is(pg_temp.whoami(), 'account ACC-0100-0001', 'ops acts as its Operations account');
SELECT pg_temp.cells('ops', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_svc;
SELECT is(pg_temp.whoami(), 'service SVC-0100', 'svc acts as the owning service');
SELECT pg_temp.cells('svc', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_other;
SELECT is(pg_temp.whoami(), 'service SVC-0101', 'other acts as the other service');
SELECT pg_temp.cells('other', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_vendor;
SELECT is(pg_temp.whoami(), 'account ACC-0100-0002', 'vendor acts as its Vendor account');
SELECT pg_temp.cells('vendor', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_client;
SELECT is(pg_temp.whoami(), 'account ACC-0100-0003', 'client acts as its Client account');
SELECT pg_temp.cells('client', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_stranger;
SELECT is(pg_temp.whoami(), 'account ACC-0100-0004', 'stranger acts as its Client account');
SELECT pg_temp.cells('stranger', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_unmapped;
SELECT is(pg_temp.whoami(), 'none regress_access_unmapped', 'unmapped is nobody, whatever its groups');
SELECT pg_temp.cells('unmapped', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_disabled;
SELECT is(pg_temp.whoami(), 'none ACC-0100-0005', 'disabled is nobody (its account is Disabled)');
SELECT pg_temp.cells('disabled', 'table');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_public;
SELECT is(pg_temp.whoami(), 'none regress_access_public', 'public is nobody');
SELECT pg_temp.cells('public', 'table');
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ the API
-- Refusals first: the callers allowed to change a task come last, so
-- every refusal above was tried on a task in the right state.
SET SESSION AUTHORIZATION regress_access_public;
SELECT pg_temp.cells('public', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_unmapped;
SELECT pg_temp.cells('unmapped', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_disabled;
SELECT pg_temp.cells('disabled', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_stranger;
SELECT pg_temp.cells('stranger', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_client;
SELECT pg_temp.cells('client', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_vendor;
SELECT pg_temp.cells('vendor', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_other;
SELECT pg_temp.cells('other', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_ops;
SELECT pg_temp.cells('ops', 'api');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_access_svc;
SELECT pg_temp.cells('svc', 'api');
RESET SESSION AUTHORIZATION;

-- ------------------------------------------------------------ after
-- The allowed calls took effect; the refused ones changed nothing.
SELECT is((SELECT array_agg(t.status::text || ' ' || f.name ORDER BY f.id)
             FROM fx f JOIN task.task t ON t.id OPERATOR(task.=) f.id),
          ARRAY['completed done', 'processing progress', 'completed complete', 'queued retry',
                'queued retry:ops', 'cancelled cancel', 'cancelled cancel:ops', 'queued dep',
                'queued blocked', 'processing dq', 'queued other'],
                                        'after: each allowed call took effect');
SELECT is((SELECT array_agg(concat_ws(' ', f.name, t.progress, t.description, t.result::text,
                                      t.updated_by) ORDER BY f.id)
             FROM fx f JOIN task.task t ON t.id OPERATOR(task.=) f.id
            WHERE f.name IN ('progress', 'complete', 'cancel', 'cancel:ops', 'retry:ops')),
          ARRAY['progress 50 SVC-0100', 'complete 100 {"done": true} SVC-0100', 'retry:ops ACC-0100-0001',
                'cancel updated directly SVC-0100', 'cancel:ops ACC-0100-0001'],
                                        'after: written by the callers allowed to, and by no other');
SELECT is((SELECT count(*) FROM task.task WHERE owner BETWEEN 100 AND 101 AND code = 'matrix.created'), 2::bigint,
                                        'after: the two permitted creations, and no other');
SELECT is((SELECT count(*) FROM task.task_access WHERE owner BETWEEN 100 AND 101), 25::bigint,
                                        'after: the access lists are unchanged');

SELECT * FROM finish();
ROLLBACK;
SELECT setval('task.service_id_seq', :svc_seq, :'svc_called') AS _,
       setval('task.account_id_seq', :acc_seq, :'acc_called') AS _,
       setval('task.task_serial_seq', :task_seq, :'task_called') AS _ \gset
