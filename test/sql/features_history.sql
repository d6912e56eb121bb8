-- Long history (issue 14, sql/83_history.sql): a queue's finished tasks move,
-- archive_after after they finished, to the history tables of their month;
-- every read answers for an archived task exactly as it did live (same
-- JSON, same visibility, same "not found"); archived tasks are read-only;
-- retention drops a whole month once it is past every queue's retention.
-- The month tables are named after the current date: only their kind is
-- printed.
\set VERBOSITY default
\set SHOW_CONTEXT never
-- A database of its own: history tables, even once dropped, leave task.task
-- marked as a parent (relhassubclass) until an ANALYZE, which would change
-- the plans and statistics the later tests of the shared database print.
CREATE DATABASE regress_history;
\c regress_history
SET client_min_messages = warning;
CREATE EXTENSION task CASCADE;
RESET client_min_messages;
SET search_path = task, public;
SELECT task_service_create('hist-svc', 'hs') AS svc \gset
SELECT task_service_create('hist-other', 'ho') AS other \gset
SELECT task_account_create('hist client', 'Client') AS cli \gset
SELECT task_account_create('hist stranger', 'Client') AS stranger \gset
SELECT task_account_create('hist ops', 'Operations') AS ops \gset
CREATE ROLE hs_svc; CREATE ROLE hs_other; CREATE ROLE hs_cli; CREATE ROLE hs_stranger; CREATE ROLE hs_ops;
SELECT task_login_grant('hs_svc', :'svc'), task_login_grant('hs_other', :'other'),
       task_login_grant('hs_cli', :'cli'), task_login_grant('hs_stranger', :'stranger'),
       task_login_grant('hs_ops', :'ops');
-- where a task's row is: live (task.task itself) or in a history table
CREATE FUNCTION pg_temp.place(id task.task_id) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT CASE WHEN t.tableoid = 'task.task'::regclass THEN 'live'
                                 WHEN t.tableoid::regclass::text ~ '^(task\.)?task_[0-9]{6}$' THEN 'history'
                                 ELSE t.tableoid::regclass::text END
                       FROM task.task t WHERE t.id = place.id), 'gone')
$$;

-- ------------------------------------------------------------ the setting
SET ROLE hs_svc;
SELECT name, archive_after, retention FROM task_queue_create('hs/q', retention => '1000 days');
SELECT name, archive_after FROM task_queue_archive('hs/q', '1 day');
\set ON_ERROR_STOP 0
SELECT task_queue_archive('hs/q', '-1 day');
SELECT task_queue_archive('hs/q', NULL);
RESET ROLE;
SET ROLE hs_other;
-- another service's queue is not found
SELECT task_queue_archive('hs/q', '1 day');
\set ON_ERROR_STOP 1
RESET ROLE;

-- ------------------------------------------------------------ tasks of every kind
SET ROLE hs_svc;
SELECT id AS a FROM task_create('hs.a', 'hs/q', name => 'completed', access => ARRAY[:'cli'],
                                parameters => '{"n": 1}', idempotency_key => 'key-a') \gset
SELECT id AS b FROM task_create('hs.b', 'hs/q', name => 'failed', access => ARRAY[:'cli'], max_attempts => 1) \gset
SELECT id AS c FROM task_create('hs.c', 'hs/q', name => 'cancelled') \gset
SELECT id AS p FROM task_create('hs.p', 'hs/q', name => 'parent of a live task') \gset
SELECT id AS kid FROM task_create('hs.kid', 'hs/q', parent => :'p', run_at => now() + interval '1 hour') \gset
SELECT id AS d FROM task_create('hs.d', 'hs/q', name => 'a dependency') \gset
SELECT id AS waits FROM task_create('hs.waits', 'hs/q', depends_on => ARRAY[:'d']::task_id[]) \gset
SELECT id AS young FROM task_create('hs.young', 'hs/q', name => 'finished an hour ago') \gset
SELECT count(*) AS claimed FROM task_dequeue('hs/q', 3);
SELECT task_log(:'a', 'halfway', success => 5, total => 10) IS NOT NULL AS logged;
SELECT status FROM task_complete(:'a', result => '{"ok": true}', force => true);
SELECT status FROM task_fail(:'b', 'boom', force => true);
SELECT status FROM task_cancel(:'c', 'not needed');
SELECT count(*) AS cancelled FROM (SELECT task_cancel(x) FROM unnest(ARRAY[:'p', :'d', :'young']::task_id[]) x) y;
RESET ROLE;
-- they finished 40 days ago (an hour ago for young): status_at is stamped by
-- the transition trigger, so turn it off
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '40 days' WHERE id IN (:'a', :'b', :'c', :'p', :'d');
UPDATE task.task SET status_at = now() - interval '1 hour' WHERE id = :'young';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;

-- what every reader sees while they are live
SET ROLE hs_svc;
SELECT task_get(:'a', log_limit => 10) AS svc_a, task_get(:'b') AS svc_b, task_get(:'c') AS svc_c \gset
SELECT json_agg(l ORDER BY l.at, l.message) AS svc_logs FROM task_logs(:'a') l \gset
SELECT json_agg(x) AS svc_list FROM task_list(submitted_within => NULL, queue => 'hs/q') x \gset
RESET ROLE;
SET ROLE hs_cli;
SELECT task_get(:'a') AS cli_a, task_result(:'a') AS cli_result \gset
SELECT json_agg(x) AS cli_list FROM task_list(submitted_within => NULL) x \gset
SELECT json_agg(x) AS cli_view FROM task._account_tasks() x \gset
RESET ROLE;
SET ROLE hs_ops;
SELECT task_get(:'a', log_limit => 10) AS ops_a \gset
RESET ROLE;

-- ------------------------------------------------------------ archive
SELECT task_maintain() - 'leases_rescued' - 'released' AS maintained;
-- a, b, c moved; p (parent of a live task) and d (a dependency) stay live,
-- young is not a day old yet
SELECT code, pg_temp.place(id) FROM task.task WHERE queue = 'hs/q' ORDER BY code;
SELECT count(*) FILTER (WHERE tableoid = 'task.task_access'::regclass) AS live_access,
       count(*) FILTER (WHERE tableoid <> 'task.task_access'::regclass) AS archived_access
  FROM task.task_access WHERE task_id IN (:'a', :'b');
SELECT count(*) FILTER (WHERE tableoid = 'task.task_log'::regclass) AS live_log,
       count(*) FILTER (WHERE tableoid <> 'task.task_log'::regclass) AS archived_log
  FROM task.task_log WHERE task_id IN (:'a', :'b', :'c');
-- nothing more to move
SELECT task_maintain()->'archived' AS archived_again;
-- the history tables are read through their parents only: no grant, row
-- security on as on every table of the extension
SELECT tableoid::regclass::text AS month FROM task.task WHERE id = :'a' \gset
SELECT count(*) AS history_tables, bool_and(c.relrowsecurity AND c.relforcerowsecurity) AS row_security,
       bool_and(c.relacl IS NULL) AS no_grants
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent IN ('task.task'::regclass, 'task.task_access'::regclass, 'task.task_log'::regclass);
SET ROLE hs_svc;
SELECT has_table_privilege(:'month', 'SELECT') AS service_reads_month_directly;
RESET ROLE;

-- ------------------------------------------------------------ reads answer as before
SET ROLE hs_svc;
SELECT task_get(:'a', log_limit => 10) = :'svc_a' AS get_a, task_get(:'b') = :'svc_b' AS get_b,
       task_get(:'c') = :'svc_c' AS get_c;
SELECT json_agg(l ORDER BY l.at, l.message)::jsonb = :'svc_logs' AS logs FROM task_logs(:'a') l;
SELECT json_agg(x)::jsonb = :'svc_list' AS list FROM task_list(submitted_within => NULL, queue => 'hs/q') x;
SELECT task_get(:'a')->'access' AS access_ids, task_get(:'a')->>'result' AS result_uri;
RESET ROLE;
SET ROLE hs_cli;
SELECT task_get(:'a') = :'cli_a' AS get_a, task_result(:'a') = :'cli_result' AS result;
SELECT json_agg(x)::jsonb = :'cli_list' AS list FROM task_list(submitted_within => NULL) x;
SELECT json_agg(x)::jsonb = :'cli_view' AS http_view FROM task._account_tasks() x;
\set ON_ERROR_STOP 0
-- the client is not on c's access list, and may not read logs: as before
SELECT task_get(:'c');
SELECT task_logs(:'a');
\set ON_ERROR_STOP 1
RESET ROLE;
SET ROLE hs_ops;
SELECT task_get(:'a', log_limit => 10) = :'ops_a' AS get_a;
RESET ROLE;
-- a stranger and another service: not found, as for a task that never was
SET ROLE hs_stranger;
\set ON_ERROR_STOP 0
SELECT task_get(:'a');
SELECT task_result(:'a');
\set ON_ERROR_STOP 1
SELECT count(*) AS listed FROM task_list(submitted_within => NULL);
RESET ROLE;
SET ROLE hs_other;
\set ON_ERROR_STOP 0
SELECT task_get(:'a');
SELECT task_logs(:'a');
\set ON_ERROR_STOP 1
RESET ROLE;

-- ------------------------------------------------------------ archived tasks are read-only
-- (the token of b's claim, which force => true failed: a stale worker's)
SELECT lease_token AS btok FROM task.task WHERE id = :'b' \gset
SET ROLE hs_svc;
\set ON_ERROR_STOP 0
SELECT task_retry(:'b');
-- a stale token is lease lost, archived or not (it was "it is failed")
SELECT task_complete(:'b', token => :btok);
SELECT task_access_add(:'a', ARRAY[:'stranger']);
SELECT task_access_remove(:'a', ARRAY[:'cli']);
SELECT task_create('hs.child', 'hs/q', parent => :'a');
\set ON_ERROR_STOP 1
-- bulk operations act on live tasks only: b is not retried, c not purged
SELECT task_bulk('retry', queue => 'hs/q', status => 'failed') AS bulk_retry;
SELECT task_bulk('purge', queue => 'hs/q', code => 'hs.c') AS bulk_purge;
-- an archived task's idempotency key is free again, as after a purge
SELECT id <> :'a' AS new_task, status FROM task_create('hs.a', 'hs/q', idempotency_key => 'key-a');
RESET ROLE;
SET ROLE hs_other;
\set ON_ERROR_STOP 0
-- another service still gets "not found", not "archived"
SELECT task_retry(:'b');
\set ON_ERROR_STOP 1
RESET ROLE;
-- even direct statements pass over archived rows
UPDATE task.task SET name = 'changed' WHERE id = :'a';
DELETE FROM task.task WHERE id = :'a';
DELETE FROM task.task_access WHERE task_id = :'a';
DELETE FROM task.task_log WHERE task_id = :'a';
SELECT name, pg_temp.place(id) FROM task.task WHERE id = :'a';
SELECT count(*) AS access_rows FROM task.task_access WHERE task_id = :'a';

-- ------------------------------------------------------------ the worker path never reads history
-- statements naming an unfinished status leave the history tables out (their
-- CHECK constraints); a lookup by id alone reads each month's primary key
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || line || E'\n'; END LOOP;
    RETURN CASE WHEN plan ~ 'task_[0-9]{6}' THEN 'reads history' ELSE 'live only' END;
END $$;
SELECT pg_temp.plan($$SELECT id FROM task.task WHERE queue = 'hs/q' AND status IN ('queued', 'rescheduled')
                       ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED$$) AS claim,
       pg_temp.plan($$UPDATE task.task SET status = 'completed' WHERE id = 'TSK-0001-0000-0000-0001'
                       AND owner = 1 AND status = 'processing'$$) AS complete,
       pg_temp.plan($$SELECT * FROM task.task WHERE id = 'TSK-0001-0000-0000-0001'$$) AS get;

-- ------------------------------------------------------------ retention: drop a whole month
-- 60 days: the month of a, b, c is kept
SELECT name, retention FROM task_queue_configure('hs/q', retention => '60 days') \gset
SELECT task_maintain()->'months_dropped' AS dropped;
SELECT pg_temp.place(:'a') AS a;
-- 0 keeps forever
SELECT name, retention FROM task_queue_configure('hs/q', retention => '0') \gset
SELECT task_maintain()->'months_dropped' AS dropped;
-- 30 days: every task of the month is past it; its three tables go
SELECT name, retention FROM task_queue_configure('hs/q', retention => '30 days') \gset
SELECT task_maintain() - 'leases_rescued' - 'released' AS maintained;
SELECT pg_temp.place(:'a') AS a, pg_temp.place(:'b') AS b, pg_temp.place(:'p') AS p;
SELECT count(*) AS history_tables FROM pg_inherits
 WHERE inhparent IN ('task.task'::regclass, 'task.task_access'::regclass, 'task.task_log'::regclass);
SELECT count(*) AS access_rows FROM task.task_access WHERE task_id IN (:'a', :'b');
SET ROLE hs_cli;
\set ON_ERROR_STOP 0
SELECT task_get(:'a');
\set ON_ERROR_STOP 1
RESET ROLE;

-- ------------------------------------------------------------ internals
\set ON_ERROR_STOP 0
SELECT task._history_create('2026-01-15');
\set ON_ERROR_STOP 1
-- creating the tables of a month twice is a no-op
SELECT task._history_create('2001-01-01'), task._history_create('2001-01-01');
SELECT count(*) AS tables_2001 FROM pg_class WHERE relnamespace = 'task'::regnamespace AND relname ~ '_200101$' AND relkind = 'r';
-- an empty past month is dropped
SELECT task_maintain()->'months_dropped' AS dropped;

-- ------------------------------------------------------------ leave nothing behind
\c contrib_regression
DROP DATABASE regress_history;
DROP ROLE hs_svc, hs_other, hs_cli, hs_stranger, hs_ops;
