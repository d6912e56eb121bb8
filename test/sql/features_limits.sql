-- Issue 14, claim-time limits: max_processing per queue, key_concurrency
-- per ordering key, a cap per service across its queues, rate limits per
-- queue and per ordering key, fair share between ordering keys; what frees
-- a slot; bad settings.
-- Concurrency exactness is in test/specs/features_limits_race.spec.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 190) AS _, setval('task.task_serial_seq', 1900000) AS _ \gset

SELECT task_service_create('feat-limits', 'fl') AS svc \gset
SELECT task_service_create('feat-limits-other', 'flo') AS other \gset
CREATE ROLE fl_svc; CREATE ROLE fl_other;
SELECT task_login_grant('fl_svc', :'svc'), task_login_grant('fl_other', :'other');

-- ------------------------------------------------------------ max_processing
SET ROLE fl_svc;
SELECT name, max_processing, key_concurrency, rate_limit, rate_interval, fair_share, service_capped
  FROM task_queue_create('fl/cap', max_processing => 2);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/cap', array_fill('{}'::jsonb, ARRAY[5]));
-- a claim of 5 gets 2; the next gets none while they run
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
-- a completion frees a slot: the next claim takes one task
SELECT count(*) AS done FROM (
    SELECT task_complete(id, token => lease_token) FROM task.task
     WHERE queue = 'fl/cap' AND status = 'processing' ORDER BY id LIMIT 1) d;
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
-- ... and so does a failure (retried later), and a cancel
SELECT (task_fail(id, 'boom', token => lease_token)).status FROM task.task
 WHERE queue = 'fl/cap' AND status = 'processing' ORDER BY id LIMIT 1;
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
SELECT (task_cancel(id)).status FROM task.task
 WHERE queue = 'fl/cap' AND status = 'processing' ORDER BY id LIMIT 1;
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
SELECT status, count(*) FROM task.task WHERE queue = 'fl/cap' GROUP BY status ORDER BY status;
-- an expired lease is rescued by the claim and frees its slot
RESET ROLE;
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE queue = 'fl/cap' AND status = 'processing';
SET ROLE fl_svc;
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
SELECT status, count(*) FROM task.task WHERE queue = 'fl/cap' GROUP BY status ORDER BY status;
-- raising the limit makes room at once; 0 removes it
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/cap', array_fill('{}'::jsonb, ARRAY[2]));
SELECT max_processing FROM task_queue_configure('fl/cap', max_processing => 3);
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', n => 5);
SELECT max_processing FROM task_queue_configure('fl/cap', max_processing => 0);
-- a waiting dequeue at the cap comes back empty at the end of its wait
SELECT max_processing FROM task_queue_configure('fl/cap', max_processing => 1);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/cap', array_fill('{}'::jsonb, ARRAY[1]));
SELECT count(*) AS claimed FROM task_dequeue('fl/cap', wait => '0.2 seconds');
RESET ROLE;
-- a cap needs READ COMMITTED (a snapshot older than the claim lock would miss other claims)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL ROLE fl_svc;
SELECT count(*) FROM task_dequeue('fl/cap');
ROLLBACK;

-- ------------------------------------------------------------ key_concurrency
SET ROLE fl_svc;
SELECT name, key_concurrency FROM task_queue_create('fl/keys', key_concurrency => 2);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/keys', array_fill('{}'::jsonb, ARRAY[4]),
                                              ordering_keys => ARRAY['a', 'a', 'a', 'b']);
-- two of key a (the oldest two, in creation order) and the one of b
SELECT ordering_key FROM task_dequeue('fl/keys', n => 10);
RESET ROLE;
SELECT ordering_key, count(*) FILTER (WHERE status = 'processing') AS processing,
       count(*) FILTER (WHERE status = 'queued') AS queued
  FROM task.task WHERE queue = 'fl/keys' GROUP BY ordering_key ORDER BY ordering_key;
SET ROLE fl_svc;
-- the default stays one at a time; 0 lifts the per-key limit
SELECT key_concurrency FROM task_queue_create('fl/keys1');
SELECT key_concurrency FROM task_queue_configure('fl/keys', key_concurrency => 0);
SELECT count(*) AS claimed FROM task_dequeue('fl/keys', n => 10);
RESET ROLE;

-- ------------------------------------------------------------ a cap per service
-- the operator caps a service at 3 processing tasks across all its queues
SELECT task_service_configure(:'svc', 3) AS cap;
SELECT name, service_capped FROM task.queue WHERE owner = task.service_number(:'svc') ORDER BY name;
SET ROLE fl_svc;
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/s1', array_fill('{}'::jsonb, ARRAY[4]));
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/s2', array_fill('{}'::jsonb, ARRAY[4]));
-- a queue made after the cap is capped too
SELECT service_capped FROM task.queue WHERE name = 'fl/s2';
-- the service's tasks processing in fl/cap and fl/keys are over the cap already
SELECT count(*) AS processing FROM task.task WHERE owner = task.service_number(:'svc') AND status = 'processing';
SELECT count(*) AS claimed FROM task_dequeue('fl/s1', n => 4);
-- finishing fl/keys' tasks makes room for 3 across the service's queues
SELECT count(*) AS done FROM (
    SELECT task_complete(id, token => lease_token) FROM task.task
     WHERE queue IN ('fl/keys', 'fl/cap') AND status = 'processing') d;
SELECT count(*) AS claimed FROM task_dequeue('fl/s1', n => 2);
SELECT count(*) AS claimed FROM task_dequeue('fl/s2', n => 4);
SELECT count(*) AS claimed FROM task_dequeue('fl/s2', n => 4);
-- a service configures itself; not another service
SELECT task_service_configure(:'svc', 4) AS cap;
SELECT count(*) AS claimed FROM task_dequeue('fl/s2', n => 4);
SELECT task_service_configure(:'other', 4) AS cap;
RESET ROLE;
-- another service is not held back by this one's cap
SET ROLE fl_other;
SELECT count(*) AS made FROM task_create_many('flo.job', 'flo/q', array_fill('{}'::jsonb, ARRAY[5]));
SELECT count(*) AS claimed FROM task_dequeue('flo/q', n => 5);
RESET ROLE;
-- 0 removes the cap, and the flag of its queues
SELECT task_service_configure(:'svc', 0) AS cap;
SELECT count(*) FILTER (WHERE service_capped) AS capped FROM task.queue WHERE owner = task.service_number(:'svc');
SET ROLE fl_svc;
SELECT count(*) AS claimed FROM task_dequeue('fl/s1', n => 4);
RESET ROLE;

-- ------------------------------------------------------------ rate limits
SET ROLE fl_svc;
SELECT name, rate_limit, rate_interval FROM task_queue_create('fl/rate', rate_limit => 3, rate_interval => '1 hour');
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/rate', array_fill('{}'::jsonb, ARRAY[5]));
SELECT count(*) AS claimed FROM task_dequeue('fl/rate', n => 2);
SELECT count(*) AS claimed FROM task_dequeue('fl/rate', n => 2);
-- the window is full: completing does not make room, only the window's end
SELECT count(*) AS done FROM (
    SELECT task_complete(id, token => lease_token) FROM task.task
     WHERE queue = 'fl/rate' AND status = 'processing') d;
SELECT count(*) AS claimed FROM task_dequeue('fl/rate', n => 2);
RESET ROLE;
SELECT claims FROM task.queue_rate WHERE queue = 'fl/rate';
-- a closed window (moved back here) opens a new one at the next claim
UPDATE task.queue_rate SET window_start = now() - interval '2 hours' WHERE queue = 'fl/rate';
SET ROLE fl_svc;
SELECT count(*) AS claimed FROM task_dequeue('fl/rate', n => 5);
RESET ROLE;
SELECT claims, window_start > now() - interval '1 minute' AS new_window FROM task.queue_rate WHERE queue = 'fl/rate';
-- with wait, a worker asking too early sleeps until the window closes
DELETE FROM task.queue_rate WHERE queue = 'fl/rate';
SET ROLE fl_svc;
SELECT rate_limit, rate_interval FROM task_queue_configure('fl/rate', rate_limit => 1, rate_interval => '1 second');
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/rate', array_fill('{}'::jsonb, ARRAY[2]));
SELECT count(*) AS claimed FROM task_dequeue('fl/rate');
SELECT count(*) AS claimed FROM task_dequeue('fl/rate');
SELECT count(*) AS claimed FROM task_dequeue('fl/rate', wait => '5 seconds');
-- 0 removes the rate limit and its interval
SELECT rate_limit, rate_interval FROM task_queue_configure('fl/rate', rate_limit => 0);
RESET ROLE;

-- ------------------------------------------------------------ rate limits per ordering key
SET ROLE fl_svc;
SELECT name, rate_limit, key_rate_limit, rate_interval
  FROM task_queue_create('fl/keyrate', key_rate_limit => 2, rate_interval => '1 hour', key_concurrency => 0);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/keyrate', array_fill('{}'::jsonb, ARRAY[7]),
                                              ordering_keys => ARRAY['a', 'a', 'a', 'b', 'b', 'b', NULL]);
-- two of a, two of b, and the task without a key
SELECT coalesce(ordering_key, '-') AS key, count(*) AS claimed FROM task_dequeue('fl/keyrate', n => 10)
 GROUP BY 1 ORDER BY 1;
-- the windows are full: completing does not make room
SELECT count(*) AS done FROM (
    SELECT task_complete(id, token => lease_token) FROM task.task
     WHERE queue = 'fl/keyrate' AND status = 'processing') d;
SELECT count(*) AS claimed FROM task_dequeue('fl/keyrate', n => 10);
-- a new key has its own window
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/keyrate', array_fill('{}'::jsonb, ARRAY[3]),
                                              ordering_keys => ARRAY['c', 'c', 'c']);
SELECT string_agg(ordering_key, ' ') AS claimed FROM task_dequeue('fl/keyrate', n => 10);
RESET ROLE;
SELECT key, claims FROM task.key_rate WHERE queue = 'fl/keyrate' ORDER BY key;
-- a's window closes (moved back here): a's last task may go
UPDATE task.key_rate SET window_start = now() - interval '2 hours' WHERE queue = 'fl/keyrate' AND key = 'a';
SET ROLE fl_svc;
SELECT string_agg(ordering_key, ' ') AS claimed FROM task_dequeue('fl/keyrate', n => 10);
-- with fair share too: each key's turns stop at its window
SELECT fair_share FROM task_queue_configure('fl/keyrate', fair_share => true);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/keyrate', array_fill('{}'::jsonb, ARRAY[3]),
                                              ordering_keys => ARRAY['d', 'd', 'd']);
SELECT string_agg(ordering_key, ' ') AS claimed FROM task_dequeue('fl/keyrate', n => 10);
-- the queue keeps its interval while a rate limit is left; none left: the interval goes
SELECT rate_limit, key_rate_limit, rate_interval FROM task_queue_configure('fl/keyrate', rate_limit => 100);
SELECT rate_limit, key_rate_limit, rate_interval FROM task_queue_configure('fl/keyrate', key_rate_limit => 0);
SELECT rate_limit, key_rate_limit, rate_interval FROM task_queue_configure('fl/keyrate', rate_limit => 0);
RESET ROLE;

-- ------------------------------------------------------------ fair share
SET ROLE fl_svc;
SELECT name, fair_share, key_concurrency FROM task_queue_create('fl/fair', fair_share => true, key_concurrency => 0);
-- tenant a floods first, then b and c add two tasks each, then one without a key
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/fair', array_fill('{}'::jsonb, ARRAY[20]),
                                              ordering_keys => array_fill('a'::text, ARRAY[20]));
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/fair', array_fill('{}'::jsonb, ARRAY[4]),
                                              ordering_keys => ARRAY['b', 'b', 'c', 'c']);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/fair', array_fill('{}'::jsonb, ARRAY[1]));
-- one task a claim: round-robin over a, b, c and the keyless group
SELECT string_agg(coalesce(d.ordering_key, '-'), ' ' ORDER BY i) AS served
  FROM generate_series(1, 9) i, LATERAL (SELECT ordering_key FROM task_dequeue('fl/fair', n => 1 + 0 * i)) d;
-- a batch takes the first task of every key, then the second ... (least recently served first)
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/fair', array_fill('{}'::jsonb, ARRAY[3]),
                                              ordering_keys => ARRAY['b', 'b', 'c']);
SELECT string_agg(coalesce(ordering_key, '-'), ' ') AS batch FROM task_dequeue('fl/fair', n => 4);
-- the same flood without fair share: b and c wait behind a
SELECT fair_share FROM task_queue_configure('fl/fair', fair_share => false);
SELECT count(*) AS made FROM task_create_many('fl.job', 'fl/fair', array_fill('{}'::jsonb, ARRAY[2]),
                                              ordering_keys => ARRAY['b', 'c']);
SELECT string_agg(ordering_key, ' ') AS batch FROM task_dequeue('fl/fair', n => 4);
-- fair share with the default key_concurrency: one task of a key at a time, keys in turn
SELECT fair_share, key_concurrency FROM task_queue_configure('fl/fair', fair_share => true, key_concurrency => 1);
SELECT count(*) AS done FROM (
    SELECT task_complete(id, token => lease_token) FROM task.task
     WHERE queue = 'fl/fair' AND status = 'processing') d;
SELECT string_agg(coalesce(ordering_key, '-'), ' ') AS batch FROM task_dequeue('fl/fair', n => 10);
RESET ROLE;
SELECT key, served_at IS NOT NULL AS served FROM task.queue_share WHERE queue = 'fl/fair' ORDER BY key;

-- ------------------------------------------------------------ bad settings
SET ROLE fl_svc;
SELECT task_queue_create('fl/bad', max_processing => -1);
SELECT task_queue_create('fl/bad', key_concurrency => 2000000);
SELECT task_queue_create('fl/bad', rate_limit => 10);
SELECT task_queue_create('fl/bad', rate_limit => 10, rate_interval => '2 days');
SELECT task_queue_create('fl/bad', rate_interval => '1 second');
SELECT task_queue_configure('fl/cap', rate_limit => 0, rate_interval => '1 second');
SELECT task_queue_configure('fl/cap', rate_interval => '1 second');
SELECT task_queue_configure('fl/cap', key_rate_limit => 3);
SELECT task_queue_create('fl/bad', key_rate_limit => -2, rate_interval => '1 second');
SELECT task_service_configure(:'svc', -1);
SELECT task_service_configure(:'svc', NULL);
RESET ROLE;
SELECT task_service_configure('SVC-9998', 1);
-- the limits are shown with the queue
SELECT name, max_processing, key_concurrency, rate_limit, key_rate_limit, rate_interval, fair_share
  FROM task.queue WHERE owner = task.service_number(:'svc') ORDER BY name;

-- the claim locks' keys come from a secret no tenant can read or use
-- (a key computed from a queue's name could be held against its claims)
SET ROLE fl_other;
SELECT last_value FROM task.lock_secret;
SELECT task._lock_key('queue/fl/cap');
RESET ROLE;
SELECT count(DISTINCT task._lock_key(n)) AS distinct_keys,
       bool_and(task._lock_key(n) <> hashtextextended(n, 0)) AS not_the_plain_hash
  FROM (VALUES ('queue/fl/cap'), ('service/1'), ('history'), ('share/fl/cap/a')) v(n);

SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
