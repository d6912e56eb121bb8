-- Worker rules: backoff, max attempts, scheduling (run_at), pause,
-- heartbeat, reschedule, retry, ordering keys across retries, fencing,
-- lease rescue, bad input. Concurrency lives in test/specs.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- this test's own id ranges, so ids in messages do not depend on other tests
SELECT setval('task.service_id_seq', 40) AS _, setval('task.task_serial_seq', 400000) AS _ \gset

SELECT task_service_create('worker-svc', 'wk') AS svc \gset
CREATE ROLE wk_svc;
SELECT task_login_grant('wk_svc', :'svc');
SET ROLE wk_svc;

-- ------------------------------------------------------------ backoff and max attempts
SELECT name, max_attempts, backoff_base, backoff_max
  FROM task_queue_create('wk/retry', max_attempts => 3, backoff_base => '10 seconds', backoff_max => '15 seconds');
SELECT id AS t FROM task_create('wk.job', 'wk/retry') \gset
-- attempt 1 fails: rescheduled 10 s (+-25%) later (1 s slack below: the clock moves on)
SELECT lease_token AS tok, attempts FROM task_dequeue('wk/retry') \gset
SELECT :attempts AS attempt;
SELECT status, attempts, error,
       run_at - clock_timestamp() BETWEEN interval '6.5 seconds' AND interval '12.5 seconds' AS backoff_1
  FROM task_fail(:'t', 'boom 1', token => :tok);
-- not runnable before it is due
SELECT count(*) AS early FROM task_dequeue('wk/retry');
RESET ROLE;
UPDATE task.task SET run_at = now() - interval '1 second' WHERE id = :'t';   -- time passes
SET ROLE wk_svc;
-- attempt 2: the backoff doubles (20 s +-25%), capped at 15 s
SELECT lease_token AS tok FROM task_dequeue('wk/retry') \gset
SELECT status, attempts,
       run_at - clock_timestamp() BETWEEN interval '14 seconds' AND interval '15 seconds' AS backoff_2_capped
  FROM task_fail(:'t', 'boom 2', token => :tok);
RESET ROLE;
UPDATE task.task SET run_at = now() - interval '1 second' WHERE id = :'t';
SET ROLE wk_svc;
-- attempt 3 of 3: failed for good, errors kept in the log
SELECT lease_token AS tok FROM task_dequeue('wk/retry') \gset
SELECT status, attempts, error FROM task_fail(:'t', 'boom 3', token => :tok);
SELECT message FROM task_logs(:'t') WHERE message LIKE 'attempt%';
SELECT count(*) AS nothing_left FROM task_dequeue('wk/retry');
-- retry by the owner: queued again with a fresh budget
SELECT status, attempts, error FROM task_retry(:'t');
SELECT attempts FROM task_dequeue('wk/retry');
-- retry => false fails at once
SELECT id AS t2 FROM task_create('wk.job', 'wk/retry') \gset
SELECT lease_token AS tok FROM task_dequeue('wk/retry') \gset
SELECT status FROM task_fail(:'t2', 'fatal', token => :tok, retry => false);
-- per-task max_attempts overrides the queue
SELECT id AS t3 FROM task_create('wk.job', 'wk/retry', max_attempts => 1) \gset
SELECT lease_token AS tok FROM task_dequeue('wk/retry') \gset
SELECT status FROM task_fail(:'t3', 'once only', token => :tok);

-- ------------------------------------------------------------ scheduling
SELECT task_queue_create('wk/sched') IS NOT NULL AS made;
SELECT id AS later FROM task_create('wk.job', 'wk/sched', run_at => now() + interval '1 hour') \gset
SELECT id AS now_ FROM task_create('wk.job', 'wk/sched') \gset
SELECT id = :'now_' AS due_first FROM task_dequeue('wk/sched', 10);
RESET ROLE;
UPDATE task.task SET run_at = now() - interval '1 second' WHERE id = :'later';
SET ROLE wk_svc;
SELECT id = :'later' AS scheduled_when_due FROM task_dequeue('wk/sched', 10);

-- ------------------------------------------------------------ reschedule and heartbeat
SELECT id AS r FROM task_create('wk.job', 'wk/sched') \gset
SELECT lease_token AS tok, lease_until AS until0 FROM task_dequeue('wk/sched') \gset
SELECT status, run_at > now() + interval '50 minutes' AS later
  FROM task_reschedule(:'r', now() + interval '1 hour', token => :tok);
SELECT count(*) AS not_yet FROM task_dequeue('wk/sched');
RESET ROLE;
UPDATE task.task SET run_at = now() - interval '1 second' WHERE id = :'r';
SET ROLE wk_svc;
SELECT lease_token AS tok FROM task_dequeue('wk/sched') \gset
SELECT lease_until > now() + interval '55 minutes' AS extended, progress
  FROM task_heartbeat(:'r', :tok, lease => '1 hour', progress => 40);
SELECT lease_until < now() + interval '6 minutes' AS queue_lease
  FROM task_heartbeat(:'r', :tok);
\set ON_ERROR_STOP 0
SELECT task_heartbeat(:'r', :tok + 1000);
\echo :LAST_ERROR_SQLSTATE
SELECT task_heartbeat(:'r', :tok, lease => '-1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT task_reschedule(:'r', 'infinity', token => (SELECT lease_token FROM task.task WHERE id = :'r'));
\echo :LAST_ERROR_SQLSTATE
SELECT task_reschedule(:'r', '10000-01-01 00:00:00+00', token => (SELECT lease_token FROM task.task WHERE id = :'r'));
\echo :LAST_ERROR_SQLSTATE
SELECT task_fail(:'r', NULL, token => (SELECT lease_token FROM task.task WHERE id = :'r'));
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SELECT status FROM task_complete(:'r', token => :tok);

-- ------------------------------------------------------------ pause
SELECT task_queue_create('wk/pause') IS NOT NULL AS made;
SELECT id AS p FROM task_create('wk.job', 'wk/pause') \gset
SELECT paused FROM task_queue_configure('wk/pause', paused => true);
SELECT count(*) AS while_paused FROM task_dequeue('wk/pause');
SELECT paused FROM task_queue_configure('wk/pause', paused => false);
SELECT id = :'p' AS after_resume FROM task_dequeue('wk/pause');
\set ON_ERROR_STOP 0
SELECT task_queue_configure('wk/pause', max_attempts => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task_queue_configure('wk/pause', backoff_base => '2 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('wk/pause', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('xx/nope');   -- not its namespace (its own: see "starts first")
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1

-- ------------------------------------------------------------ ordering keys keep their order across retries
SELECT task_queue_create('wk/ord', backoff_base => '1 hour', backoff_max => '1 hour') IS NOT NULL AS made;
SELECT id AS o1 FROM task_create('wk.one', 'wk/ord', ordering_key => 'acct-1') \gset
SELECT id AS o2 FROM task_create('wk.two', 'wk/ord', ordering_key => 'acct-1') \gset
SELECT id AS o3 FROM task_create('wk.three', 'wk/ord', ordering_key => 'acct-2') \gset
SELECT id AS o4 FROM task_create('wk.four', 'wk/ord') \gset
-- one task of each key at a time, plus the unkeyed one
SELECT code FROM task_dequeue('wk/ord', 10) ORDER BY code;
SELECT status FROM task_fail(:'o1', 'try later', token => (SELECT lease_token FROM task.task WHERE id = :'o1'));
-- o1 waits for its retry: o2 must not overtake it
SELECT count(*) AS o2_held_back FROM task_dequeue('wk/ord', 10);
RESET ROLE;
UPDATE task.task SET run_at = now() - interval '1 second' WHERE id = :'o1';
SET ROLE wk_svc;
SELECT code FROM task_dequeue('wk/ord', 10);
SELECT status FROM task_complete(:'o1', token => (SELECT lease_token FROM task.task WHERE id = :'o1'));
SELECT code FROM task_dequeue('wk/ord', 10);

-- ------------------------------------------------------------ batch complete-and-claim
SELECT task_queue_create('wk/batch') IS NOT NULL AS made;
SELECT count(*) AS created FROM task_create_many('wk.job', 'wk/batch', ARRAY(SELECT '{}'::jsonb FROM generate_series(1, 7)));
CREATE TEMP TABLE batch AS SELECT id, lease_token FROM task_dequeue('wk/batch', 3);
-- completes the three, claims the next three, in one statement
CREATE TEMP TABLE batch2 AS
SELECT id, lease_token FROM task_dequeue('wk/batch', 3,
    complete_batch => (SELECT array_agg(id) FROM batch), complete_tokens => (SELECT array_agg(lease_token) FROM batch));
SELECT count(*) AS claimed FROM batch2;
SELECT j->>'status' AS status, count(*) FROM task_list(queue => 'wk/batch') j GROUP BY 1 ORDER BY 1;
-- all or nothing: one stale token and nothing is completed or claimed
\set ON_ERROR_STOP 0
SELECT count(*) FROM task_dequeue('wk/batch', 3,
    complete_batch => (SELECT array_agg(id) FROM batch2),
    complete_tokens => (SELECT array_agg(lease_token + CASE WHEN id = (SELECT max(id) FROM batch2) THEN 1 ELSE 0 END) FROM batch2));
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('wk/batch', 1, complete_batch => (SELECT array_agg(id) FROM batch2), complete_tokens => ARRAY[1]);
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('wk/batch', 1, complete_batch => (SELECT array_agg(id) || array_agg(id) FROM batch2));
\echo :LAST_ERROR_SQLSTATE
-- a NULL id or token in the batch: 22004 with a hint, not "more than once" or a status error
SELECT task_dequeue('wk/batch', 1, complete_batch => ARRAY[NULL]::task_id[], complete_tokens => ARRAY[1]);
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('wk/batch', 1, complete_batch => (SELECT array_agg(id) FROM batch2),
                    complete_tokens => (SELECT array_agg(NULL::bigint) FROM batch2));
\echo :LAST_ERROR_SQLSTATE
-- a batch of two dimensions: 22023 with a hint, as task_wait_many answers
SELECT task_dequeue('wk/batch', 1, complete_batch => ARRAY[(SELECT array_agg(id) FROM batch2)],
                    complete_tokens => ARRAY[(SELECT array_agg(lease_token) FROM batch2)]);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SELECT j->>'status' AS status, count(*) FROM task_list(queue => 'wk/batch') j GROUP BY 1 ORDER BY 1;
-- without tokens: refused (fencing by default), then with them, then an empty batch
\set ON_ERROR_STOP 0
SELECT count(*) AS claimed FROM task_dequeue('wk/batch', 3, complete_batch => (SELECT array_agg(id) FROM batch2));
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SELECT count(*) AS claimed FROM task_dequeue('wk/batch', 3, complete_batch => (SELECT array_agg(id) FROM batch2),
                                             complete_tokens => (SELECT array_agg(lease_token) FROM batch2));
SELECT count(*) AS claimed FROM task_dequeue('wk/batch', 3, complete_batch => ARRAY[]::task_id[]);
-- a batch is completed by one probe of the primary key per task, however
-- many tasks are processing: 300 held by a slow worker, and the session's
-- plan made above while three were; completing three reads no entry of the
-- lease index (a plan that did hashed every processing task of the table)
SELECT task_queue_create('wk/many') IS NOT NULL AS made;
SELECT count(*) AS created FROM task_create_many('wk.job', 'wk/many', ARRAY(SELECT '{}'::jsonb FROM generate_series(1, 310)));
SELECT count(*) AS held FROM task_dequeue('wk/many', 300, lease => '1 hour');
CREATE TEMP TABLE batch3 AS SELECT id, lease_token FROM task_dequeue('wk/many', 3);
BEGIN;
SELECT pg_stat_get_xact_tuples_returned('task.task_lease_idx'::regclass) AS lease_read \gset
SELECT count(*) AS claimed FROM task_dequeue('wk/many', 3, complete_batch => (SELECT array_agg(id) FROM batch3),
                                             complete_tokens => (SELECT array_agg(lease_token) FROM batch3));
SELECT pg_stat_get_xact_tuples_returned('task.task_lease_idx'::regclass) - :lease_read AS lease_entries_read;
COMMIT;
SELECT j->>'status' AS status, count(*) FROM task_list(queue => 'wk/many', list_limit => 1000) j GROUP BY 1 ORDER BY 1;
-- so are a cancel of a processing task and a retry of a failed one: one
-- probe each, not the lease index of every processing task or the index of
-- every finished one
SELECT id AS m1, lease_token AS m1_token FROM task_dequeue('wk/many', 1) \gset
SELECT id AS m2, lease_token AS m2_token FROM task_dequeue('wk/many', 1) \gset
SELECT status FROM task_fail(:'m2', 'gave up', token => :m2_token, retry => false);
BEGIN;
SELECT pg_stat_get_xact_tuples_returned('task.task_lease_idx'::regclass) AS lease_read,
       pg_stat_get_xact_tuples_returned('task.task_finished_idx'::regclass) AS finished_read \gset
SELECT status FROM task_cancel(:'m1', 'not needed');
SELECT status FROM task_retry(:'m2');
SELECT pg_stat_get_xact_tuples_returned('task.task_lease_idx'::regclass) - :lease_read AS lease_entries_read,
       pg_stat_get_xact_tuples_returned('task.task_finished_idx'::regclass) - :finished_read AS finished_entries_read;
COMMIT;

-- a waiting dequeue that finds nothing sleeps from what it read before its
-- look: the queue is found, and its expired leases sought, once a call (it
-- did both twice: the look, then again in PL/pgSQL before the sleep)
SELECT task_queue_create('wk/idle') IS NOT NULL AS made;
RESET ROLE;
BEGIN;
SET LOCAL track_functions = 'pl';
SET LOCAL ROLE wk_svc;
SELECT pg_stat_get_xact_numscans('task.task_lease_idx'::regclass) AS lease_scans \gset
SELECT count(*) AS claimed FROM task_dequeue('wk/idle', wait => '10 ms');
SELECT pg_stat_get_xact_numscans('task.task_lease_idx'::regclass) - :lease_scans AS lease_scans,
       coalesce(pg_stat_get_xact_function_calls('task._worker_queue'::regproc), 0) AS queue_lookups,
       coalesce(pg_stat_get_xact_function_calls('task._dequeue'::regproc), 0) AS plpgsql_dequeues,
       pg_stat_get_xact_function_calls('task._dequeue_sleep'::regproc) >= 1 AS slept;
COMMIT;
SET ROLE wk_svc;

-- ------------------------------------------------------------ fencing by default
SELECT task_queue_create('wk/fence', lease => '10 minutes') IS NOT NULL AS made;
SELECT id AS f1 FROM task_create('wk.job', 'wk/fence') \gset
SELECT lease_token AS ftok FROM task_dequeue('wk/fence') \gset
-- a claimed task is completed, failed or rescheduled only with its token
\set ON_ERROR_STOP 0
SELECT task_complete(:'f1');
SELECT task_fail(:'f1', 'no token');
SELECT task_reschedule(:'f1', now() + interval '1 hour');
-- a wrong token: lease lost, and the live token is not printed
SELECT task_complete(:'f1', token => :ftok + 1000);
\set ON_ERROR_STOP 1
-- the owner may override the claim explicitly
SELECT status FROM task_complete(:'f1', result => '{"forced": true}', force => true);
-- a direct move into processing by the owner starts a lease and a token as a claim does
SELECT id AS f2 FROM task_create('wk.job', 'wk/fence') \gset
UPDATE task.task SET status = 'processing' WHERE id = :'f2';
SELECT status, attempts, lease_token & 2147483647 = revision AS token_has_revision, lease_token BETWEEN 1 AND 9007199254740991 AS token_in_53_bits, lease_token::float8::bigint = lease_token AS survives_a_double,
       lease_until BETWEEN clock_timestamp() + interval '9 minutes' AND clock_timestamp() + interval '10 minutes' AS leased
  FROM task.task WHERE id = :'f2';
-- a token has random bits above the revision: a database restored from a
-- dump (or a failed-over standby) gives the same revision again, not the
-- same token
RESET ROLE;
SELECT count(DISTINCT task._lease_token(7)) > 1 AS tokens_differ, bool_and(task._lease_token(7) & 2147483647 = 7) AS revision_kept
  FROM generate_series(1, 5);
SET ROLE wk_svc;
\set ON_ERROR_STOP 0
SELECT task_complete(:'f2');
\set ON_ERROR_STOP 1
SELECT status FROM task_complete(:'f2', token => (SELECT lease_token FROM task.task WHERE id = :'f2'));
-- priorities: the queue's default, per task, and in bulk
SELECT name, priority FROM task_queue_create('wk/prio', priority => 2);
SELECT priority FROM task_create('wk.job', 'wk/prio');
SELECT priority FROM task_create('wk.job', 'wk/prio', priority => -1);
SELECT count(*) AS created FROM task_create_many('wk.job', 'wk/prio', ARRAY['{}'::jsonb, '{}'], priority => 7);
SELECT priority, count(*) FROM task.task WHERE queue = 'wk/prio' GROUP BY 1 ORDER BY 1;
SELECT priority FROM task_queue_configure('wk/prio', priority => 4);
SELECT priority FROM task_create('wk.job', 'wk/prio');
SELECT string_agg(d.priority::text, ',' ORDER BY d.ordinality) AS claim_order
  FROM task_dequeue('wk/prio', 10) WITH ORDINALITY AS d;

-- ------------------------------------------------------------ lease rescue
SELECT task_queue_create('wk/lease', max_attempts => 2) IS NOT NULL AS made;
SELECT id AS l FROM task_create('wk.job', 'wk/lease') \gset
SELECT lease_token AS tok1 FROM task_dequeue('wk/lease', lease => '1 minute') \gset
RESET ROLE;
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id = :'l';   -- the worker died
SET ROLE wk_svc;
-- the next dequeue rescues the task and claims it again under a new token
SELECT attempts, lease_token <> :tok1 AS new_token FROM task_dequeue('wk/lease');
-- (the log names the worker that lost the task: its pid shown as N)
SELECT regexp_replace(message, 'pid \d+', 'pid N') AS message FROM task_logs(:'l') WHERE message LIKE 'lease%';
RESET ROLE;
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id = :'l';   -- died again
SET ROLE wk_svc;
-- no attempts left: failed, not claimed
SELECT count(*) AS claimed FROM task_dequeue('wk/lease');
SELECT status, error FROM task.task_list(queue => 'wk/lease') j, LATERAL (SELECT j->>'status' AS status, j->>'error' AS error) x;
RESET ROLE;

-- ------------------------------------------------------------ a worker that starts first
-- a queue not created yet in the service's own namespace is empty, not missing
SET ROLE wk_svc;
SELECT count(*) AS nothing_yet FROM task_dequeue('wk/later');
SELECT count(*) AS waited_nothing FROM task_dequeue('wk/later', wait => '20 milliseconds');
RESET ROLE;
SELECT count(*) AS not_created FROM task.queue WHERE name = 'wk/later';
SET ROLE wk_svc;
SELECT code FROM task_create('wk.first', 'wk/later');
SELECT code, status FROM task_dequeue('wk/later');
\set ON_ERROR_STOP 0
-- outside its namespace a queue it does not own is still not found
SELECT task_dequeue('xx/elsewhere');
-- and a bad name is a bad name
SELECT task_dequeue('wk/Bad Name');
\set ON_ERROR_STOP 1
RESET ROLE;
-- claimers at once: no cap by default (docs/QUEUE.md, "Why the places are
-- off by default"); only a superuser sets one
SHOW task.claim_concurrency;
SET ROLE wk_svc;
\set ON_ERROR_STOP 0
SET task.claim_concurrency = 8;
\set ON_ERROR_STOP 1
RESET ROLE;

-- ------------------------------------------------------------ complete-and-claim hand-offs (src/hotpath.c)
-- task_dequeue completes, claims and rescues in C; a wait on an empty
-- queue, or an argument to refuse, goes on in task._dequeue (PL/pgSQL)
SET ROLE wk_svc;
SELECT id AS h1 FROM task_create('wk.hand', 'wk/hand') \gset
SELECT lease_token AS htok FROM task_dequeue('wk/hand') \gset
-- complete with a wait on the now empty queue: completed once, nothing claimed
SELECT count(*) AS claimed FROM task_dequeue('wk/hand', wait => '20 milliseconds', complete => :'h1', complete_token => :htok);
SELECT status, result IS NULL AS no_result FROM task_get(:'h1') j, LATERAL (SELECT j->>'status' AS status, j->'result' AS result) x;
-- an argument to refuse: the completion is undone with the call (atomic)
SELECT id AS h2 FROM task_create('wk.hand', 'wk/hand') \gset
SELECT lease_token AS htok FROM task_dequeue('wk/hand') \gset
\set ON_ERROR_STOP 0
SELECT task_dequeue('wk/hand', 0, complete => :'h2', complete_token => :htok);
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('wk/hand', wait => '2 hours', complete => :'h2', complete_token => :htok);
\echo :LAST_ERROR_SQLSTATE
SELECT task_dequeue('wk/hand', lease => '-1 second', complete => :'h2', complete_token => :htok);
\echo :LAST_ERROR_SQLSTATE
-- a result and a resource at once: refused before anything is written
SELECT task_dequeue('wk/hand', complete => :'h2', complete_token => :htok, result => '{}', resource => '/r/1');
\echo :LAST_ERROR_SQLSTATE
-- no id: 22004 with a hint, not a task to look for
SELECT task_complete(NULL, '{}');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SELECT status FROM task_get(:'h2') j, LATERAL (SELECT j->>'status' AS status) x;
-- a wait with work waiting: claimed at once, the previous task completed
SELECT id AS h3 FROM task_create('wk.hand', 'wk/hand') \gset
SELECT id = :'h3' AS next_claimed FROM task_dequeue('wk/hand', wait => '5 seconds', complete => :'h2', complete_token => :htok);
SELECT status FROM task_get(:'h2') j, LATERAL (SELECT j->>'status' AS status) x;
RESET ROLE;

-- PREPARE TRANSACTION: its rows count from COMMIT PREPARED on, whichever
-- backend runs it (no callback of ours runs there: the claim mark of the
-- queue stays unused while the prepared transaction is open). A refresh in
-- between used to move the mark past the prepared task, and a lease
-- rescue past its lease: neither was seen for the safety net's 60 s.
SET ROLE wk_svc;
SELECT (task_queue_create('wk/twophase')).name;
BEGIN;
SELECT id AS p1 FROM task_create('wk.twophase', 'wk/twophase') \gset
PREPARE TRANSACTION 'wk_p1';
SELECT id AS p2 FROM task_create('wk.twophase', 'wk/twophase') \gset
SELECT d.id = :'p2' AS the_visible_one, c.status
  FROM task_dequeue('wk/twophase') d, LATERAL task_complete(d.id, token => d.lease_token) c;
RESET ROLE;
COMMIT PREPARED 'wk_p1';
SET ROLE wk_svc;
SELECT id = :'p1' AS claimed_at_once, lease_token AS p1tok FROM task_dequeue('wk/twophase') \gset
\echo :claimed_at_once
SELECT status FROM task_complete(:'p1', token => :p1tok);
-- a claim prepared with a short lease is rescued once the lease has run out
SELECT id AS p3 FROM task_create('wk.twophase', 'wk/twophase') \gset
BEGIN;
SELECT count(*) AS claimed FROM task_dequeue('wk/twophase', lease => '50 milliseconds');
PREPARE TRANSACTION 'wk_p2';
SELECT count(*) AS nothing_else FROM task_dequeue('wk/twophase');
RESET ROLE;
-- a rescue while the lease has run out but the claim is not visible yet
SELECT pg_sleep(0.1);
SELECT task_maintain() IS NOT NULL AS maintained;
COMMIT PREPARED 'wk_p2';
SELECT task_maintain() IS NOT NULL AS maintained;
SELECT status FROM task.task WHERE id = :'p3';
-- prepared transactions that have ended make room for the next: five in a
-- row on one queue, then one open on an unrelated table, leave the
-- queue's mark in use (the fifth used to overflow, and every mark of the
-- cluster was off while any prepared transaction was open)
SET ROLE wk_svc;
BEGIN; SELECT count(*) AS made FROM task_create('wk.twophase', 'wk/twophase'); PREPARE TRANSACTION 'wk_s1';
COMMIT PREPARED 'wk_s1';
BEGIN; SELECT count(*) AS made FROM task_create('wk.twophase', 'wk/twophase'); PREPARE TRANSACTION 'wk_s2';
COMMIT PREPARED 'wk_s2';
BEGIN; SELECT count(*) AS made FROM task_create('wk.twophase', 'wk/twophase'); PREPARE TRANSACTION 'wk_s3';
COMMIT PREPARED 'wk_s3';
BEGIN; SELECT count(*) AS made FROM task_create('wk.twophase', 'wk/twophase'); PREPARE TRANSACTION 'wk_s4';
COMMIT PREPARED 'wk_s4';
BEGIN; SELECT count(*) AS made FROM task_create('wk.twophase', 'wk/twophase'); PREPARE TRANSACTION 'wk_s5';
COMMIT PREPARED 'wk_s5';
RESET ROLE;
CREATE TABLE wk_unrelated (x integer);
BEGIN; INSERT INTO wk_unrelated VALUES (1); PREPARE TRANSACTION 'wk_u';
SELECT count(*) AS claimed FROM task_dequeue('wk/twophase', 5);
SELECT m.empty IS NOT NULL AS mark_in_use
  FROM task._mark_peek((SELECT owner FROM task.queue WHERE name = 'wk/twophase'), 'wk/twophase') m;
ROLLBACK PREPARED 'wk_u';
DROP TABLE wk_unrelated;

-- times the Task object cannot write in RFC 3339 (years 1 to 9999, UTC)
-- are refused (22008) on every path that takes one: create, create_many,
-- progress, bulk reschedule (task_reschedule: above); UTC decides
SET ROLE wk_svc;
SELECT id AS tm FROM task_create('wk.times', 'wk/times', eta => '9999-12-31 23:59:59.999+00') \gset
SELECT task_get(:'tm')->>'eta' AS last_instant;
\set ON_ERROR_STOP 0
SELECT task_create('wk.times', 'wk/times', run_at => '12345-01-01 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('wk.times', 'wk/times', eta => '9999-12-31 23:00:00-05');
SELECT task_create('wk.times', 'wk/times', eta => '0044-03-15 00:00:00+00 BC');
SELECT task_create_many('wk.times', 'wk/times', ARRAY['{}']::jsonb[], run_at => '10000-01-01 00:00:00+00');
SELECT task_progress(:'tm', eta => '10000-01-01 00:00:00+00');
SELECT * FROM task_bulk('reschedule', queue => 'wk/times', run_at => '10000-01-01 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SELECT count(*) AS tasks, min(eta) = max(eta) AS eta_unchanged FROM task.task WHERE queue = 'wk/times';
RESET ROLE;

-- the writes without a plan (src/hotpath.c) keep their indexes' set-up
-- across calls: an index made or dropped since is seen by the next call,
-- and every index of task.task holds every row (amcheck's heapallindexed)
SET ROLE wk_svc;
SELECT task_queue_create('wk/idx') IS NOT NULL AS made;
SELECT count(*) AS made FROM task_create('wk.plain', 'wk/idx');
RESET ROLE;
CREATE INDEX wk_extra_idx ON task.task (queue, name) WHERE code = 'wk.indexed';
SET ROLE wk_svc;
SELECT count(*) AS made FROM task_create('wk.indexed', 'wk/idx', name => 'first');
SELECT id AS t1, lease_token AS tok1 FROM task_dequeue('wk/idx') \gset
SELECT id AS t2 FROM task_dequeue('wk/idx', complete => :'t1', complete_token => :tok1) \gset
RESET ROLE;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT status FROM task.task WHERE queue = 'wk/idx' AND code = 'wk.indexed' AND name = 'first';
SELECT status FROM task.task WHERE queue = 'wk/idx' AND code = 'wk.indexed' AND name = 'first';
RESET enable_seqscan;
RESET enable_bitmapscan;
CREATE EXTENSION amcheck;
SELECT bt_index_check('task.wk_extra_idx', true)::text = '' AS extra_complete;
DROP INDEX task.wk_extra_idx;
SET ROLE wk_svc;
SELECT count(*) AS made FROM task_create('wk.indexed', 'wk/idx', name => 'second');
SELECT status FROM task_complete(:'t2', token => (SELECT lease_token FROM task.task WHERE id = :'t2'));
RESET ROLE;
SELECT c.relname, bt_index_check(c.oid, true)::text = '' AS complete
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'task.task'::regclass ORDER BY c.relname;
DROP EXTENSION amcheck;

-- the claim's search without a plan (claim_search) reads the runnable index
-- keyed by hashtext(queue): two queues whose names share a hash stay apart
SELECT hashtext('wk/h17355') = hashtext('wk/h70845') AS same_hash;
SET ROLE wk_svc;
SELECT count(*) AS made FROM task_create('wk.h', 'wk/h17355', name => 'a1');
SELECT count(*) AS made FROM task_create('wk.h', 'wk/h70845', name => 'b1');
SELECT count(*) AS made FROM task_create('wk.h', 'wk/h17355', name => 'a2');
SELECT name FROM task_dequeue('wk/h70845', 5);
SELECT name FROM task_dequeue('wk/h17355', 5);
-- ordering keys, by the search and by its statement (CP_CLAIM: taken when
-- the indexes are not the ones the search reads; renamed in a transaction
-- that is undone): the same tasks, the key's second one held back
SELECT count(*) AS made FROM task_create('wk.o', 'wk/fb', name => 'k1', ordering_key => 'k');
SELECT count(*) AS made FROM task_create('wk.o', 'wk/fb', name => 'k2', ordering_key => 'k');
SELECT count(*) AS made FROM task_create('wk.o', 'wk/fb', name => 'free');
RESET ROLE;
BEGIN;
ALTER INDEX task.task_ordering_idx RENAME TO task_ordering_idx_away;
SET LOCAL ROLE wk_svc;
SELECT name, status FROM task_dequeue('wk/fb', 5) ORDER BY name;
ROLLBACK;
SET ROLE wk_svc;
SELECT name, status FROM task_dequeue('wk/fb', 5) ORDER BY name;
RESET ROLE;

-- the foreign keys' triggers a claim or a completion leaves out (hotpath.c,
-- RiSkip): a task referenced as a parent is claimed and completed as any
-- other; when a BEFORE trigger changes the key of the row written, the
-- whole set fires and the key that references it stops the change
SET ROLE wk_svc;
SELECT id AS rk_parent FROM task_create('wk.rekey', 'wk/rekey', name => 'parent') \gset
SELECT id AS rk_child FROM task_create('wk.rekey.child', 'wk/rekey-child', name => 'child', parent => :'rk_parent') \gset
SELECT name, status FROM task_dequeue('wk/rekey', 1);
RESET ROLE;
CREATE FUNCTION pg_temp.wk_rekey() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.code = 'wk.rekey' AND NEW.status = 'completed' THEN
        NEW.id := task.task_id_make(NEW.owner, 999999999);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wk_rekey BEFORE UPDATE ON task.task FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_rekey();
SET ROLE wk_svc;
\set ON_ERROR_STOP 0
\set VERBOSITY terse
SELECT status FROM task_complete(:'rk_parent', token => (SELECT lease_token FROM task.task WHERE id = :'rk_parent'));
\set VERBOSITY default
\set ON_ERROR_STOP 1
RESET ROLE;
DROP TRIGGER wk_rekey ON task.task;
SET ROLE wk_svc;
SELECT status FROM task_complete(:'rk_parent', token => (SELECT lease_token FROM task.task WHERE id = :'rk_parent'));
RESET ROLE;
SELECT parent = :'rk_parent' AS child_keeps_parent FROM task.task WHERE id = :'rk_child';
-- ... and an insert: task_create's direct insert leaves out the check of a
-- NULL parent; a BEFORE trigger that sets one gets the check
CREATE FUNCTION pg_temp.wk_reparent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.code = 'wk.reparent' THEN
        NEW.parent := task.task_id_make(NEW.owner, 999999998);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wk_reparent BEFORE INSERT ON task.task FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_reparent();
SET ROLE wk_svc;
\set ON_ERROR_STOP 0
\set VERBOSITY terse
SELECT count(*) FROM task_create('wk.reparent', 'wk/rekey');
\set VERBOSITY default
\set ON_ERROR_STOP 1
SELECT count(*) AS made FROM task_create('wk.other', 'wk/rekey');
RESET ROLE;
DROP TRIGGER wk_reparent ON task.task;
SELECT count(*) AS reparented FROM task.task WHERE code = 'wk.reparent';
-- the direct writes do the transition trigger's work themselves only where
-- the trigger would fire: not under session_replication_role = replica
-- (an applying subscriber), where the row is written as given
SET ROLE wk_svc;
SELECT id AS rp FROM task_create('wk.replica', 'wk/replica') \gset
SELECT revision AS rp_rev FROM task_dequeue('wk/replica', 1) \gset
RESET ROLE;
SET session_replication_role = replica;
SELECT status, revision = :rp_rev AS same_revision, completed_at IS NULL AS not_stamped
  FROM task.task_complete(:'rp', token => (SELECT lease_token FROM task.task WHERE id = :'rp'));
RESET session_replication_role;
-- a write made there is noted all the same (the trigger is enabled ALWAYS
-- and takes only its notes under replica): the queue's claim mark, which
-- a claim that found nothing had set to "nothing runnable", is lowered at
-- commit, and the next claim takes the task at once (until stop 38 only a
-- claim's look from the beginning, once a minute, found it)
SET ROLE wk_svc;
SELECT count(*) AS nothing_left FROM task_dequeue('wk/replica', 1);
RESET ROLE;
SET session_replication_role = replica;
UPDATE task.task SET status = 'queued', completed_at = NULL, completed_by = NULL, lease_token = NULL
 WHERE id = :'rp';
RESET session_replication_role;
SET ROLE wk_svc;
SELECT id = :'rp' AS claimed_at_once FROM task_dequeue('wk/replica', 1);
RESET ROLE;
-- a lease so written lowers the queue's lease mark likewise: after a
-- claim that came up short looked at the leases (none expired), the next
-- takes the lease expired by hand back at once
SET ROLE wk_svc;
SELECT count(*) AS nothing_else FROM task_dequeue('wk/replica', 1);
RESET ROLE;
SET session_replication_role = replica;
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id = :'rp';
RESET session_replication_role;
SET ROLE wk_svc;
SELECT id = :'rp' AS rescued_at_once, attempts FROM task_dequeue('wk/replica', 1);
RESET ROLE;

-- task_create_many inserts directly (task._create_many, as task_create
-- does), ids in the order of the array; when task.task has a default the
-- direct insert does not know (here one that is not a constant, on a
-- column neither path sets), its INSERT statement: the same rows, the
-- statement's with the default
SET ROLE wk_svc;
SELECT array_agg(i) AS many_direct
  FROM task_create_many('wk.many', 'wk/many', ARRAY['{"n": 1}', '{"n": 2}', NULL]::jsonb[],
                        ordering_keys => ARRAY['a', NULL, 'b'], priority => 7, max_run_time => '5 minutes') AS i \gset
SELECT parameters->>'n' AS n, status, ordering_key, priority, max_run_time, revision,
       run_at <= created_at AS due, created_by, description, worker_name
  FROM task.task WHERE id = ANY (:'many_direct') ORDER BY id;
SELECT array_agg(i) = (SELECT array_agg(i ORDER BY i) FROM unnest(:'many_direct'::task.task_id[]) AS i) AS ids_in_order
  FROM unnest(:'many_direct'::task.task_id[]) AS i;
RESET ROLE;
BEGIN;
ALTER TABLE task.task ALTER COLUMN worker_name SET DEFAULT pg_catalog.lower('FROM THE DEFAULT');
SET LOCAL ROLE wk_svc;
SELECT array_agg(i) AS many_statement
  FROM task_create_many('wk.many', 'wk/many', ARRAY['{"n": 1}', '{"n": 2}', NULL]::jsonb[],
                        ordering_keys => ARRAY['a', NULL, 'b'], priority => 7, max_run_time => '5 minutes') AS i \gset
SELECT parameters->>'n' AS n, status, ordering_key, priority, max_run_time, revision,
       run_at <= created_at AS due, created_by, description, worker_name
  FROM task.task WHERE id = ANY (:'many_statement') ORDER BY id;
ROLLBACK;
-- a direct write checks NOT NULL on the row as stored (after the BEFORE
-- triggers): the error is the constraint's
CREATE FUNCTION pg_temp.wk_nullrun() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.code = 'wk.nullrun' THEN
        NEW.run_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wk_nullrun BEFORE INSERT ON task.task FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_nullrun();
SET ROLE wk_svc;
\set ON_ERROR_STOP 0
\set VERBOSITY terse
SELECT count(*) FROM task_create('wk.nullrun', 'wk/rekey');
SELECT count(*) FROM task_create_many('wk.nullrun', 'wk/rekey', ARRAY['{}']::jsonb[]);
\set VERBOSITY default
\set ON_ERROR_STOP 1
RESET ROLE;
DROP TRIGGER wk_nullrun ON task.task;
-- a BEFORE trigger that skips the row stops the call, with a SQLSTATE
CREATE FUNCTION pg_temp.wk_skip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE WHEN NEW.code = 'wk.skip' THEN NULL ELSE NEW END;
END $$;
CREATE TRIGGER wk_skip BEFORE INSERT ON task.task FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_skip();
SET ROLE wk_svc;
\set ON_ERROR_STOP 0
SELECT count(*) FROM task_create('wk.skip', 'wk/rekey');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM task_create_many('wk.skip', 'wk/rekey', ARRAY['{}']::jsonb[]);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;
DROP TRIGGER wk_skip ON task.task;
SELECT count(*) AS skipped_rows FROM task.task WHERE code = 'wk.skip';

-- the direct writes are statements to the triggers an operator adds: the
-- statement triggers fire (once a write, as its INSERT or UPDATE), with
-- their transition tables, and so do row triggers with transition tables;
-- an "UPDATE OF" trigger fires by the SET list of the statement replaced:
-- the claim's (status, attempts, lease_token, lease_until) and the
-- completion's (status, result, resource)
CREATE TEMP TABLE wk_fired (seq serial, what text);
GRANT SELECT ON wk_fired TO PUBLIC;
CREATE FUNCTION pg_temp.wk_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pg_temp.wk_fired (what) VALUES (lower(format('%s %s %s', TG_NAME, TG_WHEN, TG_OP)));
    RETURN NULL;
END $$;
CREATE FUNCTION pg_temp.wk_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pg_temp.wk_fired (what)
    SELECT lower(format('%s %s: %s new rows', TG_NAME, TG_OP, count(*))) FROM wk_new;
    RETURN NULL;
END $$;
CREATE FUNCTION pg_temp.wk_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pg_temp.wk_fired (what) VALUES (format('%s %s', TG_NAME, NEW.status));
    RETURN NULL;
END $$;
CREATE TRIGGER wk_bs BEFORE INSERT OR UPDATE ON task.task FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.wk_stmt();
CREATE TRIGGER wk_as AFTER INSERT OR UPDATE ON task.task FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.wk_stmt();
CREATE TRIGGER wk_ins_new AFTER INSERT ON task.task REFERENCING NEW TABLE AS wk_new
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.wk_new_rows();
CREATE TRIGGER wk_upd_new AFTER UPDATE ON task.task REFERENCING NEW TABLE AS wk_new
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.wk_new_rows();
CREATE TRIGGER wk_row_new AFTER INSERT ON task.task REFERENCING NEW TABLE AS wk_new
    FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_new_rows();
CREATE TRIGGER wk_of_result AFTER UPDATE OF result ON task.task FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_row();
CREATE TRIGGER wk_of_lease AFTER UPDATE OF lease_token ON task.task FOR EACH ROW EXECUTE FUNCTION pg_temp.wk_row();
SET ROLE wk_svc;
SELECT count(*) AS made FROM task_create('wk.stmt', 'wk/stmt');
SELECT what FROM pg_temp.wk_fired ORDER BY seq;
RESET ROLE;
TRUNCATE wk_fired;
SET ROLE wk_svc;
SELECT count(*) AS made FROM task_create_many('wk.stmt', 'wk/stmt', ARRAY['{}', '{}']::jsonb[]);
SELECT what FROM pg_temp.wk_fired ORDER BY seq;
RESET ROLE;
TRUNCATE wk_fired;
SET ROLE wk_svc;
SELECT id AS st_id, lease_token AS st_token FROM task_dequeue('wk/stmt', 3) ORDER BY id LIMIT 1 \gset
SELECT what FROM pg_temp.wk_fired ORDER BY seq;
RESET ROLE;
TRUNCATE wk_fired;
SET ROLE wk_svc;
SELECT status FROM task_complete(:'st_id', token => :st_token, result => '{"done": true}');
SELECT what FROM pg_temp.wk_fired ORDER BY seq;
RESET ROLE;
DROP TRIGGER wk_bs ON task.task;
DROP TRIGGER wk_as ON task.task;
DROP TRIGGER wk_ins_new ON task.task;
DROP TRIGGER wk_upd_new ON task.task;
DROP TRIGGER wk_row_new ON task.task;
DROP TRIGGER wk_of_result ON task.task;
DROP TRIGGER wk_of_lease ON task.task;

-- ------------------------------------------------------------ the completion finds the claimed row
-- (the claiming session remembers where its claim wrote the row; any
-- change since sends it to the primary key)
SET ROLE wk_svc;
SELECT id AS v FROM task_create('wk.job', 'wk/sched') \gset
-- a claim rolled back, then claimed again: completed with the new claim's token
BEGIN;
SELECT count(*) AS claimed FROM task_dequeue('wk/sched');
ROLLBACK;
SELECT lease_token AS tok FROM task_dequeue('wk/sched') \gset
RESET ROLE;
-- the table rewritten while the task is claimed: every row at a new place
VACUUM FULL task.task;
SET ROLE wk_svc;
SELECT status, attempts FROM task_complete(:'v', token => :tok);
RESET ROLE;

-- ------------------------------------------------------------ stale tokens say "lease lost"
-- (docs/WORKERS.md, "Leases, fencing and rescue"): also when lease rescue
-- failed the task with that very token (no attempts left), on every call
-- that takes a token; it answered "cannot complete task X: it is failed"
SET ROLE wk_svc;
SELECT (task_queue_create('wk/stale', max_attempts => 1)).name;
SELECT id AS sf FROM task_create('wk.stale', 'wk/stale') \gset
SELECT lease_token AS sftok FROM task_dequeue('wk/stale', lease => '10 milliseconds') \gset
SELECT pg_sleep(0.05);
-- the next dequeue rescues it: no attempt is left, so it fails
SELECT count(*) AS claimed FROM task_dequeue('wk/stale');
SELECT status, error FROM task.task_get(:'sf') j,
       LATERAL (SELECT j->>'status' AS status, j->>'error' AS error) x;
\set ON_ERROR_STOP 0
SELECT task_complete(:'sf', result => '{}', token => :sftok);
SELECT task_fail(:'sf', 'too late', token => :sftok);
SELECT task_heartbeat(:'sf', :sftok);
SELECT task_progress(:'sf', 50, token => :sftok);
SELECT task_reschedule(:'sf', now(), token => :sftok);
SELECT task_dequeue('wk/stale', complete => :'sf', complete_token => :sftok);
SELECT task_dequeue('wk/stale', complete_batch => ARRAY[:'sf']::task_id[], complete_tokens => ARRAY[:sftok]::bigint[]);
\set ON_ERROR_STOP 1
-- the worker's own second completion of its claim: lease lost too, said how
SELECT id AS sc FROM task_create('wk.stale', 'wk/stale') \gset
SELECT lease_token AS sctok FROM task_dequeue('wk/stale') \gset
SELECT status FROM task_complete(:'sc', token => :sctok);
\set ON_ERROR_STOP 0
SELECT task_complete(:'sc', token => :sctok);
\set ON_ERROR_STOP 1
RESET ROLE;

-- a claim in a prepared transaction not committed yet: its token is not
-- lost, the claim is not there yet (it answered "lease lost ... the task
-- is queued", and the hint said to drop the result)
SET ROLE wk_svc;
SELECT id AS sp FROM task_create('wk.stale', 'wk/stale') \gset
BEGIN;
SELECT lease_token AS sptok FROM task_dequeue('wk/stale') \gset
PREPARE TRANSACTION 'wk_p36';
\set ON_ERROR_STOP 0
SELECT task_complete(:'sp', token => :sptok);
SELECT task_heartbeat(:'sp', :sptok);
-- another token (a stale one, or a guess) is still lease lost
SELECT task_complete(:'sp', token => :sptok + 1);
\set ON_ERROR_STOP 1
RESET ROLE;
COMMIT PREPARED 'wk_p36';
SET ROLE wk_svc;
SELECT status FROM task_complete(:'sp', token => :sptok);
RESET ROLE;

-- task_fail(retry => NULL) retries as the default does (it failed the task
-- for good at its first attempt)
SET ROLE wk_svc;
SELECT id AS rn FROM task_create('wk.job', 'wk/retry') \gset
SELECT lease_token AS rntok FROM task_dequeue('wk/retry') \gset
SELECT status, attempts FROM task_fail(:'rn', 'flaky', token => :rntok, retry => NULL);
RESET ROLE;

-- a JSON string result that is a relative URI (DESIGN's "result ... or a
-- relative URI of a resource" in one argument; an HTTP body's "result")
-- is the resource: task_complete and task_dequeue(complete =>) store it
-- as resource, result NULL (as resource => would), and task_result
-- answers the URI
SET ROLE wk_svc;
SELECT id AS ru FROM task_create('wk.job', 'wk/sched') \gset
SELECT lease_token AS rutok FROM task_dequeue('wk/sched') \gset
SELECT status, result, resource FROM task_complete(:'ru', '"/exports/42.csv"', token => :rutok);
SELECT task_result(:'ru');
SELECT id AS rw FROM task_create('wk.job', 'wk/sched') \gset
SELECT lease_token AS rwtok FROM task_dequeue('wk/sched') \gset
SELECT count(*) FROM task_dequeue('wk/sched', complete => :'rw', complete_token => :rwtok, result => '"/exports/43.csv"');
SELECT task_get(:'rw')->>'status' AS status, task_get(:'rw')->>'result' AS result_field, task_result(:'rw');
-- with a resource too it is both, refused; a URI that is not a relative
-- path, and a string that is no URI, stay JSON values
SELECT id AS rx FROM task_create('wk.job', 'wk/sched') \gset
SELECT lease_token AS rxtok FROM task_dequeue('wk/sched') \gset
\set ON_ERROR_STOP 0
SELECT task_complete(:'rx', '"/exports/44.csv"', resource => '/exports/45.csv', token => :rxtok);
\set ON_ERROR_STOP 1
SELECT status, result, resource FROM task_complete(:'rx', '"//evil.example/x"', token => :rxtok);
SELECT id AS rv FROM task_create('wk.job', 'wk/sched') \gset
SELECT lease_token AS rvtok FROM task_dequeue('wk/sched') \gset
SELECT status, result FROM task_complete(:'rv', '"exports/42.csv is ready"', token => :rvtok);
RESET ROLE;
