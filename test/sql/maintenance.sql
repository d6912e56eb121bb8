-- Housekeeping: task_maintain() on crafted states (expired leases,
-- settled dependencies left blocked, retention boundaries, 0 keeps
-- forever, batches, rights); pg_cron errors; recurring schedules; and one
-- real pg_cron tick (a wait of up to ~90 s, usually under 60) that runs
-- both the maintenance job and a schedule.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- this test's own id ranges, so ids in messages do not depend on other tests
SELECT setval('task.service_id_seq', 80) AS _, setval('task.task_serial_seq', 800000) AS _,
       setval('task.account_id_seq', 800) AS _ \gset

SELECT task_service_create('maint-svc', 'mt') AS svc \gset
SELECT task_service_create('maint-other', 'mo') AS other \gset
SELECT task_account_create('maint ops', 'Operations') AS ops \gset
SELECT task_account_create('maint vendor', 'Vendor') AS vendor \gset
CREATE ROLE mt_svc; CREATE ROLE mt_other; CREATE ROLE mt_ops;
SELECT task_login_grant('mt_svc', :'svc'), task_login_grant('mt_other', :'other'),
       task_login_grant('mt_ops', :'ops');
-- task_maintain works on the whole database: settle what earlier tests
-- left, and keep their claims from expiring under this test
SELECT task_maintain(100000) IS NOT NULL AS settled_earlier_tests;
UPDATE task.task SET lease_until = 'infinity' WHERE status = 'processing';

-- ------------------------------------------------------------ rights
SET ROLE mt_svc;
\set ON_ERROR_STOP 0
SELECT task_maintain();
SELECT task_cron_enable();
SELECT task_cron_disable();
SELECT * FROM task_maintain_runs();
\set ON_ERROR_STOP 1
RESET ROLE;
SET ROLE mt_ops;
SELECT task_maintain();
-- each call is recorded with its counts (no pg_cron run: no cron columns)
SELECT result = task_maintain() AS same, by = :'ops' AS by_ops, pid = pg_backend_pid() AS this_backend,
       duration >= '0' AS timed, cron_runid IS NULL AS no_cron_run
  FROM task_maintain_runs() ORDER BY at DESC LIMIT 1;
RESET ROLE;
-- records older than 7 days go
INSERT INTO task.maintenance_run (at, finished_at, pid, by, result)
VALUES (now() - interval '8 days', now() - interval '8 days', 1, 'old', '{}'), (now() - interval '6 days', now() - interval '6 days', 1, 'kept', '{}');
SELECT task_maintain() IS NOT NULL AS ran;
SELECT by FROM task.maintenance_run WHERE by IN ('old', 'kept');
DELETE FROM task.maintenance_run WHERE by = 'kept';
\set ON_ERROR_STOP 0
SELECT task_maintain(0);
\set ON_ERROR_STOP 1

-- ------------------------------------------------------------ expired leases
SET ROLE mt_svc;
SELECT task_queue_create('mt/lease', max_attempts => 2) IS NOT NULL AS made;
SELECT id AS l1 FROM task_create('mt.l', 'mt/lease') \gset
SELECT id AS l2 FROM task_create('mt.l', 'mt/lease', max_attempts => 1) \gset
SELECT id AS l3 FROM task_create('mt.l', 'mt/lease') \gset
SELECT count(*) AS claimed FROM task_dequeue('mt/lease', 3);
RESET ROLE;
-- the workers of l1 and l2 died: their leases ran out a second ago
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id IN (:'l1', :'l2');
SELECT task_maintain();
SELECT id = :'l1' AS l1, status, attempts, error FROM task.task WHERE id IN (:'l1', :'l2', :'l3') ORDER BY id;
-- (the log names the worker that lost the task: its pid shown as N)
SELECT regexp_replace(message, 'pid \d+', 'pid N') AS message FROM task.task_log WHERE task_id IN (:'l1', :'l2') AND message LIKE 'lease%' ORDER BY task_id;
-- idempotent: nothing left to do
SELECT task_maintain();

-- ------------------------------------------------------------ dependencies left blocked
SET ROLE mt_svc;
SELECT task_queue_create('mt/deps') IS NOT NULL AS made;
SELECT id AS a FROM task_create('mt.a', 'mt/deps') \gset
SELECT id AS b FROM task_create('mt.b', 'mt/deps') \gset
SELECT id AS e FROM task_create('mt.e', 'mt/deps', run_at => now() + interval '1 hour') \gset
SELECT id AS c FROM task_create('mt.c', 'mt/deps', depends_on => ARRAY[:'a', :'b']::task_id[]) \gset
SELECT id AS d FROM task_create('mt.d', 'mt/deps', depends_on => ARRAY[:'a', :'e']::task_id[]) \gset
SELECT id AS f FROM task_create('mt.f', 'mt/deps', status => 'blocked') \gset
RESET ROLE;
-- a and b complete while the settle trigger is off (as after a restore)
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_settle_dependents;
SET LOCAL ROLE mt_svc;
SELECT count(*) AS claimed FROM task_dequeue('mt/deps', 2);
SELECT status FROM task_complete(:'a', token => (SELECT lease_token FROM task.task WHERE id = :'a'));
SELECT status FROM task_complete(:'b', token => (SELECT lease_token FROM task.task WHERE id = :'b'));
RESET ROLE;
ALTER TABLE task.task ENABLE TRIGGER task_settle_dependents;
COMMIT;
SELECT code, status FROM task.task WHERE id IN (:'c', :'d', :'f') ORDER BY code;
-- c is released; d still waits for e; f (blocked by hand) waits for task_unblock
SELECT task_maintain();
SELECT code, status FROM task.task WHERE id IN (:'c', :'d', :'f') ORDER BY code;
SELECT message FROM task.task_log WHERE task_id = :'c' AND message LIKE 'released%';
SELECT task_maintain();

-- ------------------------------------------------------------ retention
SET ROLE mt_svc;
SELECT name, retention FROM task_queue_create('mt/keep', retention => '1 day');
SELECT name, retention FROM task_queue_create('mt/forever', retention => '0');
SELECT id AS x FROM task_create('mt.x', 'mt/keep') \gset
SELECT id AS k1 FROM task_create('mt.k1', 'mt/keep', access => ARRAY[:'vendor']) \gset
SELECT id AS k2 FROM task_create('mt.k2', 'mt/keep') \gset
SELECT id AS k3 FROM task_create('mt.k3', 'mt/keep') \gset
SELECT id AS young FROM task_create('mt.young', 'mt/keep') \gset
SELECT id AS waiting FROM task_create('mt.waiting', 'mt/keep') \gset
SELECT id AS y FROM task_create('mt.y', 'mt/keep', run_at => now() + interval '1 hour') \gset
SELECT id AS xy FROM task_create('mt.xy', 'mt/keep', depends_on => ARRAY[:'x', :'y']::task_id[]) \gset
SELECT id AS child FROM task_create('mt.child', 'mt/keep', parent => :'k1', run_at => now() + interval '1 hour') \gset
SELECT id AS kept FROM task_create('mt.kept', 'mt/forever') \gset
SELECT task_log(:'k1', 'a message to purge') IS NOT NULL AS logged;
SELECT id = :'x' AS x_claimed FROM task_dequeue('mt/keep');
SELECT status FROM task_complete(:'x', token => (SELECT lease_token FROM task.task WHERE id = :'x'));
SELECT count(*) FROM (SELECT task_cancel(id) FROM unnest(ARRAY[:'k1', :'k2', :'k3', :'young', :'kept']::task_id[]) id) c;
RESET ROLE;
-- age them: status_at is stamped by the transition trigger, so turn it off
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '1 day 3 seconds' WHERE id = :'k1';
UPDATE task.task SET status_at = now() - interval '1 day 2 seconds' WHERE id = :'k2';
UPDATE task.task SET status_at = now() - interval '1 day 1 second' WHERE id IN (:'k3', :'x', :'waiting');
UPDATE task.task SET status_at = now() - interval '23 hours 59 minutes' WHERE id = :'young';
UPDATE task.task SET status_at = now() - interval '1000 days' WHERE id = :'kept';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;
SELECT count(*) AS k1_logs FROM task.task_log WHERE task_id = :'k1';
-- batches: the two oldest finished tasks (k1 with 2 log rows, k2 with 1), then k3
SELECT task_maintain(max_rows => 2);
SELECT task_maintain();
SELECT task_maintain();
-- gone: k1, k2, k3 with their logs and access rows; kept: young (inside
-- the retention), waiting (not finished), x (xy waits for it), kept (retention 0)
SELECT code, status FROM task.task WHERE queue IN ('mt/keep', 'mt/forever') ORDER BY code;
SELECT count(*) AS purged_logs_left FROM task.task_log WHERE task_id IN (:'k1', :'k2', :'k3');
SELECT count(*) AS purged_access_left FROM task.task_access WHERE task_id = :'k1';
-- the child of a purged parent stays, detached
SELECT parent IS NULL AS detached FROM task.task WHERE id = :'child';
-- once xy no longer waits, x goes too (and xy's dependency rows with it)
SET ROLE mt_svc;
SELECT status FROM task_cancel(:'y');
RESET ROLE;
SELECT status FROM task.task WHERE id = :'xy';
SELECT task_maintain();
SELECT count(*) AS x_left, (SELECT count(*) FROM task.task_dependency WHERE depends_on = :'x') AS x_deps_left
  FROM task.task WHERE id = :'x';
-- retention 0 set later keeps forever; a retention set later applies
SET ROLE mt_svc;
SELECT retention FROM task_queue_configure('mt/forever', retention => '1 day');
RESET ROLE;
SELECT task_maintain();
SET ROLE mt_svc;
SELECT retention FROM task_queue_configure('mt/keep', retention => '0');
RESET ROLE;
UPDATE task.task SET status = 'cancelled' WHERE id = :'waiting';
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '30 days' WHERE id = :'waiting';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;
SELECT task_maintain();

-- a service's many empty queues: a run visits only the queues holding a
-- task to purge or archive (one probe each, in one statement), not each
-- queue with a statement of its own (50,000 empty queues made every run 100
-- times slower, for every tenant). Nor a queue whose only old task is kept
-- live (a cancelled parent of a live child: the probe has the archive's
-- exclusions). Counted as calls of the per-queue functions; one queue with
-- a task to archive shows the count works.
CREATE TEMP TABLE mt_history_before AS
    SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent IN ('task.task'::regclass, 'task.task_access'::regclass, 'task.task_log'::regclass);
SET ROLE mt_svc;
SELECT count(*) AS empty_queues FROM (SELECT task_queue_create('mt/empty/' || i) FROM generate_series(1, 3000) i) q;
SELECT count(*) AS archiving FROM (SELECT task_queue_archive('mt/empty/' || i, '1 day') FROM generate_series(1, 3000) i) q;
SELECT count(*) AS archiving FROM (SELECT task_queue_create(q), task_queue_archive(q, '1 day') FROM unnest(ARRAY['mt/kept', 'mt/moves']) q) x;
SELECT (task_create('mt.parent', 'mt/kept')).id AS kept_parent \gset
SELECT (task_create('mt.child', 'mt/kept', parent => :'kept_parent')).status AS child;
SELECT (task_cancel(:'kept_parent')).status AS parent;
SELECT (task_cancel((task_create('mt.moves', 'mt/moves')).id)).status AS moves;
RESET ROLE;
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '2 days' WHERE queue IN ('mt/kept', 'mt/moves') AND status = 'cancelled';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;
SET track_functions = 'all';
-- calls of a task function by this backend so far (pending ones included)
CREATE FUNCTION pg_temp.calls(f text) RETURNS bigint LANGUAGE sql
    RETURN coalesce((SELECT sum(x.calls) FROM pg_stat_xact_user_functions x WHERE x.schemaname = 'task' AND x.funcname = f), 0)
         + coalesce((SELECT sum(x.calls) FROM pg_stat_user_functions x WHERE x.schemaname = 'task' AND x.funcname = f), 0);
SELECT pg_temp.calls('_purge_queue') AS p0, pg_temp.calls('_archive_queue') AS a0 \gset
SELECT (task_maintain()) -> 'archived' AS archived;
SELECT pg_temp.calls('_purge_queue') - :p0 AS purge_visits, pg_temp.calls('_archive_queue') - :a0 AS archive_visits;
SELECT pg_temp.calls('_purge_queue') AS p0, pg_temp.calls('_archive_queue') AS a0 \gset
SELECT (task_maintain()) -> 'archived' AS archived;
SELECT pg_temp.calls('_purge_queue') - :p0 AS purge_visits, pg_temp.calls('_archive_queue') - :a0 AS archive_visits;
RESET track_functions;
SELECT status, count(*) FROM task.task WHERE queue = 'mt/kept' GROUP BY status ORDER BY status;
DELETE FROM task.queue WHERE name LIKE 'mt/empty/%';
DELETE FROM task.task WHERE queue = 'mt/kept' AND parent IS NOT NULL;
DELETE FROM task.task WHERE queue = 'mt/kept';
-- the history tables the archived task made go again (the month's, as of today)
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT i.inhrelid::regclass AS t FROM pg_inherits i
              WHERE i.inhparent IN ('task.task_log'::regclass, 'task.task_access'::regclass, 'task.task'::regclass)
                AND i.inhrelid NOT IN (SELECT inhrelid FROM mt_history_before)
              ORDER BY i.inhparent = 'task.task'::regclass
    LOOP
        EXECUTE format('DROP TABLE %s', r.t);
    END LOOP;
END
$$;
DROP TABLE mt_history_before;

-- the queue whose oldest task to purge is longest overdue goes first, not
-- the first by name: a service whose queues sort first and that finished
-- more than max_rows tasks between two runs took every run
SET ROLE mt_svc;
SELECT count(*) AS fair_queues FROM (SELECT task_queue_create(q, retention => '1 day') FROM unnest(ARRAY['mt/fair/a', 'mt/fair/z']) q) x;
SELECT count(*) AS made FROM (
    SELECT task_cancel(id) FROM (SELECT (task_create('mt.fair', q)).id FROM unnest(ARRAY['mt/fair/a', 'mt/fair/a', 'mt/fair/z']) q) c) x;
RESET ROLE;
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '1 day 10 seconds' WHERE queue = 'mt/fair/a';
UPDATE task.task SET status_at = now() - interval '3 days' WHERE queue = 'mt/fair/z';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;
SELECT (task_maintain(max_rows => 1)) -> 'purged' AS purged;
SELECT queue, count(*) AS left FROM task.task WHERE queue LIKE 'mt/fair/%' GROUP BY queue ORDER BY queue;
SELECT (task_maintain()) -> 'purged' AS purged;
DELETE FROM task.queue WHERE name LIKE 'mt/fair/%';

-- expired leases likewise: the oldest expired lease across queues goes
-- first, not the first queue by name. a's leases expired a minute and a
-- second ago, z's half a minute ago: with one rescue a run, the second run
-- takes z's (in name order it took a's second and z waited for every
-- lease of every queue sorting before it)
SET ROLE mt_svc;
SELECT count(*) AS fair_queues FROM (SELECT task_queue_create(q) FROM unnest(ARRAY['mt/lfair/a', 'mt/lfair/z']) q) x;
SELECT count(*) AS made FROM (SELECT task_create('mt.lfair', q) FROM unnest(ARRAY['mt/lfair/a', 'mt/lfair/a', 'mt/lfair/z']) q) x;
SELECT count(*) AS claimed FROM (SELECT task_dequeue(q, 2) FROM unnest(ARRAY['mt/lfair/a', 'mt/lfair/z']) q) x;
RESET ROLE;
UPDATE task.task SET lease_until = now() - interval '1 minute' WHERE id = (SELECT min(id) FROM task.task WHERE queue = 'mt/lfair/a');
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id = (SELECT max(id) FROM task.task WHERE queue = 'mt/lfair/a');
UPDATE task.task SET lease_until = now() - interval '30 seconds' WHERE queue = 'mt/lfair/z';
\set lfair 'SELECT string_agg(queue || '':'' || status, '' '' ORDER BY queue, id) AS tasks FROM task.task WHERE queue LIKE ''mt/lfair/%'';'
SELECT (task_maintain(max_rows => 1)) -> 'leases_rescued' AS rescued;
:lfair
SELECT (task_maintain(max_rows => 1)) -> 'leases_rescued' AS rescued;
:lfair
SELECT (task_maintain(max_rows => 1)) -> 'leases_rescued' AS rescued;
:lfair
DELETE FROM task.task_log WHERE task_id IN (SELECT id FROM task.task WHERE queue LIKE 'mt/lfair/%');
DELETE FROM task.task WHERE queue LIKE 'mt/lfair/%';
DELETE FROM task.queue WHERE name LIKE 'mt/lfair/%';

-- task_maintain_all (the pg_cron job's command): task_maintain again, each
-- call committed, while a call has more to do, at most max_calls calls
SET ROLE mt_svc;
SELECT count(*) AS all_queue FROM task_queue_create('mt/all', retention => '1 day');
SELECT count(*) AS made FROM (SELECT task_cancel((task_create('mt.all', 'mt/all')).id) FROM generate_series(1, 7)) x;
RESET ROLE;
BEGIN;
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task SET status_at = now() - interval '2 days' WHERE queue = 'mt/all';
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
COMMIT;
SELECT clock_timestamp() AS all_from \gset
\set ON_ERROR_STOP 0
-- it commits between calls: refused inside a transaction block, busy
-- (a call with more to do) or not (all undone)
BEGIN;
CALL task_maintain_all(max_rows => 1);
ROLLBACK;
BEGIN;
CALL task_maintain_all(max_rows => 100);
ROLLBACK;
SELECT count(*) AS left FROM task.task WHERE queue = 'mt/all';
CALL task_maintain_all(max_calls => 0);
SET ROLE mt_svc;
CALL task_maintain_all();
RESET ROLE;
\set ON_ERROR_STOP 1
-- two calls of two, then stops though there is more
CALL task_maintain_all(max_rows => 2, max_calls => 2);
SELECT count(*) AS left FROM task.task WHERE queue = 'mt/all';
-- until a call has no more: two, then one (not a full batch)
CALL task_maintain_all(max_rows => 2);
SELECT count(*) AS left FROM task.task WHERE queue = 'mt/all';
SELECT string_agg(m.result ->> 'purged', ' ' ORDER BY m.at, m.finished_at) AS purged_per_call
  FROM task.maintenance_run m
 WHERE m.at > :'all_from';
DELETE FROM task.queue WHERE name = 'mt/all';
-- with run_for: once caught up, a pause, and another pass while the run has
-- time left (nothing to purge: each pass is one call)
SELECT clock_timestamp() AS pass_from \gset
CALL task_maintain_all(run_for => '1 second', pause => '300 milliseconds');
SELECT count(*) BETWEEN 2 AND 4 AS passes, bool_and(NOT (m.result ->> 'more')::boolean) AS caught_up,
       max(m.finished_at) - min(m.finished_at) >= interval '300 milliseconds' AS paused
  FROM task.maintenance_run m
 WHERE m.at > :'pass_from' AND m.pid = pg_backend_pid();
-- an Operations account may run it so (the pause is granted to it)
SET ROLE mt_ops;
CALL task_maintain_all(run_for => '300 milliseconds', pause => '100 milliseconds');
RESET ROLE;
SET ROLE mt_svc;
\set ON_ERROR_STOP 0
SELECT task._pause(1);
RESET ROLE;
CALL task_maintain_all(run_for => '-1 second');
CALL task_maintain_all(run_for => '2 days');
CALL task_maintain_all(run_for => '10 seconds', pause => '10 milliseconds');
CALL task_maintain_all(run_for => '10 seconds', pause => NULL);
\set ON_ERROR_STOP 1
-- the pause holds no snapshot: a run in another session, seen asleep
CREATE EXTENSION dblink SCHEMA public;
SELECT dblink_connect('mt_pause', format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
                                         split_part(current_setting('unix_socket_directories'), ',', 1))) AS connected;
SELECT p AS pause_pid FROM dblink('mt_pause', 'SELECT pg_backend_pid()') AS t(p integer) \gset
SELECT set_config('mt.pause_pid', :'pause_pid', false) IS NOT NULL AS noted;
SELECT dblink_send_query('mt_pause', $$CALL task.task_maintain_all(run_for => '3 seconds', pause => '2 seconds')$$) AS sent;
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXIT WHEN EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = current_setting('mt.pause_pid')::integer
                            AND a.wait_event_type = 'Extension');
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT state, wait_event_type, backend_xmin IS NULL AS no_xmin, backend_xid IS NULL AS no_xid
  FROM pg_stat_activity WHERE pid = :pause_pid;
SELECT r AS pause_run FROM dblink_get_result('mt_pause') AS t(r text);
SELECT dblink_disconnect('mt_pause') AS disconnected;
DROP EXTENSION dblink;

-- ------------------------------------------------------------ pg_cron: errors
\set ON_ERROR_STOP 0
SELECT task_cron_enable('every minute');
BEGIN;
DROP EXTENSION pg_cron;
SELECT task_cron_enable();
ROLLBACK;
\set ON_ERROR_STOP 1
-- a database that is not cron.database_name ('contrib_regression' in test/harness/task.conf)
CREATE DATABASE mt_elsewhere;
\c mt_elsewhere
CREATE EXTENSION task;
\set ON_ERROR_STOP 0
SELECT task.task_cron_enable();
SELECT task.task_schedule('tick', '* * * * *', '{"code": "x", "queue": "x/y"}');
\set ON_ERROR_STOP 1
-- task_maintain itself needs no pg_cron
SELECT task.task_maintain();
\c contrib_regression
DROP DATABASE mt_elsewhere;
SET search_path = task, public;

-- ------------------------------------------------------------ recurring tasks
SET ROLE mt_svc;
SELECT task_queue_create('mt/sched') IS NOT NULL AS made;
-- a schedule that never fires by itself (February 31st); broken below
SELECT owner = task.service_number(:'svc') AS mine, name, cron, queue, template, runs, failures, last_error
  FROM task_schedule('broken', '0 0 31 2 *', '{"code": "mt.broken", "queue": "mt/sched", "name": "Broken", "parameters": {"n": 1}}');
-- the template was tried, and the trial task rolled back
SELECT count(*) AS no_trial_task FROM task_list(queue => 'mt/sched');
-- replace: same name, new template
SELECT name, template->>'code' AS code FROM task_schedule('broken', '0 0 31 2 *', '{"code": "mt.broken2", "queue": "mt/sched"}');
\set ON_ERROR_STOP 0
SELECT task_schedule('bad name!', '* * * * *', '{"code": "x", "queue": "mt/sched"}');
SELECT task_schedule('t', '* * * * *', '[1]');
SELECT task_schedule('t', '* * * * *', '{"code": "x", "queue": "mt/sched", "run_at": "now"}');
SELECT task_schedule('t', '* * * * *', '{"queue": "mt/sched"}');
SELECT task_schedule('t', 'every minute', '{"code": "x", "queue": "mt/sched"}');
SELECT task_schedule('t', '* * * * *', '{"code": "x", "queue": "elsewhere/nope"}');
SELECT task_schedule('t', '* * * * *', '{"code": "x", "queue": "mt/sched", "max_attempts": 0}');
SELECT task_schedule('t', '* * * * *', '{"code": "x", "queue": "mt/sched", "access": ["ACC-9999-9999"]}');
-- no schedule, a second line, a value of the wrong type: each said before anything is tried
SELECT task_schedule('t', NULL, '{"code": "x", "queue": "mt/sched"}');
SELECT task_schedule('t', E'* * * * *\n', '{"code": "x", "queue": "mt/sched"}');
SELECT task_schedule('t', '* * * * *', '{"code": "x", "queue": "mt/sched", "max_attempts": "lots", "object": [1]}');
\set ON_ERROR_STOP 1
RESET ROLE;
-- another service's queue, and an account
SET ROLE mt_other;
SELECT task_queue_create('mo/q') IS NOT NULL AS made;
\set ON_ERROR_STOP 0
SELECT task_schedule('steal', '* * * * *', '{"code": "x", "queue": "mt/sched"}');
SELECT task_unschedule('broken', owner => :'svc');
\set ON_ERROR_STOP 1
SELECT count(*) AS sees_none FROM task_schedules();
SELECT task_unschedule('broken') AS removed_none;
RESET ROLE;
SET ROLE mt_ops;
\set ON_ERROR_STOP 0
SELECT task_schedule('ops', '* * * * *', '{"code": "x", "queue": "mt/sched"}');
SELECT task_unschedule('broken');
\set ON_ERROR_STOP 1
SELECT name FROM task_schedules() WHERE owner = task.service_number(:'svc') ORDER BY name;
RESET ROLE;
SELECT jobname, schedule, command FROM cron.job WHERE jobname LIKE 'task-schedule:%' ORDER BY jobname;
-- a tick that cannot create its task records the error on the schedule
UPDATE task.schedule SET template = template || '{"max_attempts": 0}' WHERE name = 'broken';
SELECT task._run_schedule(task.service_number(:'svc'), 'broken') AS no_task;
SET ROLE mt_svc;
SELECT name, runs, failures, last_error, last_error_at IS NOT NULL AS when_
  FROM task_schedules() WHERE name = 'broken';
RESET ROLE;
-- a job whose schedule is gone removes itself
DELETE FROM task.schedule WHERE name = 'broken';
SELECT task._run_schedule(task.service_number(:'svc'), 'broken') AS no_task;
SELECT jobname FROM cron.job WHERE jobname LIKE 'task-schedule:%' ORDER BY jobname;

-- ------------------------------------------------------------ pg_cron jobs after a restore
-- task_cron_enable() makes every job again for this server: a whole dump of
-- another server brings jobs that connect there (pg_cron keeps the host,
-- port and database a job was first scheduled with when its name is
-- scheduled again), and a restore of schema task alone brings the
-- schedules without their jobs
SET ROLE mt_svc;
SELECT name FROM task_schedule('restored', '0 0 31 2 *', '{"code": "mt.restored", "queue": "mt/sched"}');
RESET ROLE;
SELECT task_cron_enable() IS NOT NULL AS enabled;
UPDATE cron.job SET nodename = 'old-server', nodeport = 1 WHERE jobname = 'task-maintain';
DELETE FROM cron.job WHERE jobname LIKE 'task-schedule:%:restored';
SELECT task_cron_enable() IS NOT NULL AS enabled_again;
SELECT jobname, schedule, command, nodename = coalesce(current_setting('cron.host', true), 'localhost') AS this_host,
       nodeport = current_setting('port')::integer AS this_port, database = current_database() AS this_database
  FROM cron.job WHERE jobname = 'task-maintain' OR jobname LIKE 'task-schedule:%' ORDER BY jobname;
-- a schedule pg_cron refuses leaves the job as it was
UPDATE cron.job SET nodeport = 1 WHERE jobname = 'task-maintain';
\set ON_ERROR_STOP 0
SELECT task_cron_enable('every minute');
\set ON_ERROR_STOP 1
SELECT schedule, nodeport = 1 AS kept FROM cron.job WHERE jobname = 'task-maintain';
-- every: each minute's run passes every that often until the next is due
SELECT task_cron_enable(every => '5 seconds') IS NOT NULL AS enabled_every;
SELECT schedule, command FROM cron.job WHERE jobname = 'task-maintain';
\set ON_ERROR_STOP 0
SELECT task_cron_enable(every => '45 seconds');
SELECT task_cron_enable(every => '500 milliseconds');
-- a year less its seconds compares as 5 s (a year of 360 days) but is
-- five days long in seconds (365.25 days), which the command would say
SELECT task_cron_enable(every => '1 year -31103995 seconds');
SELECT task_cron_enable('*/5 * * * *', every => '5 seconds');
\set ON_ERROR_STOP 1
SELECT schedule, command FROM cron.job WHERE jobname = 'task-maintain';
SELECT task_cron_disable() AS disabled;
SET ROLE mt_svc;
SELECT task_unschedule('restored') AS removed;
RESET ROLE;

-- ------------------------------------------------------------ one real pg_cron tick
-- the maintenance job and the 'tick' schedule both run at the next minute
-- boundary: an expired lease for the first to rescue
SET ROLE mt_svc;
SELECT task_queue_create('mt/cron') IS NOT NULL AS made;
SELECT id AS leased FROM task_create('mt.cron', 'mt/cron') \gset
SELECT count(*) AS claimed FROM task_dequeue('mt/cron');
RESET ROLE;
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id = :'leased';
SET ROLE mt_svc;
SELECT name, cron, template FROM task_schedule('tick', '* * * * *',
    '{"code": "mt.tick", "queue": "mt/sched", "name": "Tick", "parameters": {"n": 1}}');
RESET ROLE;
SELECT task_cron_enable() AS job \gset
SELECT jobname, schedule, command FROM cron.job WHERE jobid = :job;
-- and in the same minute, two jobs that sleep in a background worker, which
-- has no client socket to check (until stop 40 each crashed the server): a
-- pause (task_maintain_all's) and a dequeue that waits
SELECT count(*) AS made FROM (SELECT task_queue_create('mt/cronwait', owner => :'svc')) x;
CREATE TABLE public.mt_paused (slept interval);
SELECT cron.schedule('mt-pause', '* * * * *', $$INSERT INTO public.mt_paused
                                                 SELECT clock_timestamp() - statement_timestamp() FROM task._pause(1500)$$) AS pause_job \gset
SELECT cron.schedule('mt-wait', '* * * * *', $$SELECT count(*) FROM task.task_dequeue('mt/cronwait', wait => '1 second')$$) AS wait_job \gset
DO $$
BEGIN
    FOR i IN 1..90 LOOP
        EXIT WHEN EXISTS (SELECT FROM cron.job_run_details r JOIN cron.job j USING (jobid)
                           WHERE j.jobname = 'task-maintain'
                             -- the run's NOTICE follows its tag, which marks it succeeded
                             AND (r.status = 'failed' OR r.return_message LIKE 'NOTICE:%'))
              AND EXISTS (SELECT FROM task.schedule s WHERE s.name = 'tick' AND s.last_run_at IS NOT NULL)
              AND (SELECT count(*) FROM cron.job_run_details r JOIN cron.job j USING (jobid)
                    WHERE j.jobname IN ('mt-pause', 'mt-wait') AND r.status IN ('succeeded', 'failed')) = 2;
        PERFORM pg_sleep(1);
    END LOOP;
END
$$;
SELECT j.jobname, r.status, r.return_message
  FROM cron.job_run_details r JOIN cron.job j USING (jobid)
 WHERE j.jobname IN ('mt-pause', 'mt-wait') ORDER BY j.jobname;
-- the pause slept its 1.5 s
SELECT slept >= interval '1.5 seconds' AS slept FROM public.mt_paused;
DROP TABLE public.mt_paused;
SELECT cron.unschedule(:pause_job) AND cron.unschedule(:wait_job) AS unscheduled;
-- in a background worker, the counts are the run's return_message (a
-- NOTICE task_maintain sends at commit, after the statement's tag)
SELECT r.status, regexp_replace(r.return_message, '\{.*\}', '{...}') AS return_message,
       substring(r.return_message FROM '\{.*\}')::jsonb ->> 'leases_rescued' AS leases_rescued
  FROM cron.job_run_details r WHERE r.jobid = :job ORDER BY r.runid LIMIT 1;
-- and task_maintain_runs finds the run by the job's pid: the same counts
SELECT m.cron_jobid = :job AS this_job, m.cron_status, m.result = substring(m.cron_message FROM '\{.*\}')::jsonb AS same_counts
  FROM task_maintain_runs() m
 WHERE m.cron_runid = (SELECT min(r.runid) FROM cron.job_run_details r WHERE r.jobid = :job);
SELECT status, error FROM task.task WHERE id = :'leased';
SET ROLE mt_svc;
SELECT name, runs >= 1 AS ran, last_task IS NOT NULL AS made_task, failures, last_error FROM task_schedules() WHERE name = 'tick';
SELECT j->>'code' AS code, j->>'name' AS name, j->'parameters' AS parameters, j->>'status' AS status,
       j->'owner'->>'id' = :'svc' AS owned
  FROM task_list(queue => 'mt/sched') j LIMIT 1;
SELECT message FROM task_logs((SELECT last_task FROM task_schedules() WHERE name = 'tick'))
 WHERE message LIKE 'created by%';
SELECT task_unschedule('tick') AS removed, task_unschedule('tick') AS again;
SELECT count(*) AS schedules_left FROM task_schedules();
RESET ROLE;
SELECT task_cron_disable() AS disabled, task_cron_disable() AS again;
SELECT count(*) AS jobs_left FROM cron.job WHERE jobname = 'task-maintain' OR jobname LIKE 'task-schedule:%';
