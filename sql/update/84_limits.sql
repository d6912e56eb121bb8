\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Issue 14, claim-time limits (docs/FEATURES.md): max_processing per
-- queue, key_concurrency per ordering key, a cap per service across its
-- queues (task_service_configure), rate limits, fair share between
-- ordering keys. Unlimited queues claim as before (task._claim runs the
-- same single statement).

-- ---------------------------------------------------------------- tables
ALTER TABLE task.service ADD COLUMN max_processing integer NOT NULL DEFAULT 0 CHECK (max_processing BETWEEN 0 AND 1000000);
COMMENT ON COLUMN task.service.max_processing IS 'At most this many tasks of the service processing at once, across all its queues (task_service_configure); 0: no cap.';

ALTER TABLE task.queue
    ADD COLUMN max_processing  integer NOT NULL DEFAULT 0 CHECK (max_processing BETWEEN 0 AND 1000000),
    ADD COLUMN key_concurrency integer NOT NULL DEFAULT 1 CHECK (key_concurrency BETWEEN 0 AND 1000000),
    ADD COLUMN rate_limit      integer NOT NULL DEFAULT 0 CHECK (rate_limit BETWEEN 0 AND 1000000),
    ADD COLUMN rate_interval   interval NOT NULL DEFAULT '0' CHECK (rate_interval >= '0' AND rate_interval <= '1 day'),
    ADD COLUMN fair_share      boolean NOT NULL DEFAULT false,
    ADD COLUMN service_capped  boolean NOT NULL DEFAULT false,
    ADD COLUMN key_rate_limit  integer NOT NULL DEFAULT 0 CHECK (key_rate_limit BETWEEN 0 AND 1000000),
    ADD CONSTRAINT queue_rate_pair_check CHECK ((rate_limit = 0 AND key_rate_limit = 0) = (rate_interval = '0'));
COMMENT ON COLUMN task.queue.max_processing IS 'At most this many tasks of the queue processing at once, across all workers; 0: no limit.';
COMMENT ON COLUMN task.queue.key_concurrency IS 'At most this many tasks of one ordering key processing at once, started in creation order (default 1); 0: no limit per key (the key then only groups tasks, for fair_share).';
COMMENT ON COLUMN task.queue.rate_limit IS 'At most this many claims per rate_interval; 0: no rate limit.';
COMMENT ON COLUMN task.queue.rate_interval IS 'The window of rate_limit and key_rate_limit: it opens at the first claim after the previous one closed; 0 without a rate limit.';
COMMENT ON COLUMN task.queue.key_rate_limit IS 'At most this many claims per rate_interval per ordering key; 0: no rate limit per key.';
COMMENT ON COLUMN task.queue.fair_share IS 'Claims go round-robin over the ordering keys of runnable tasks (least recently served key first), so one key''s flood does not starve the others.';
COMMENT ON COLUMN task.queue.service_capped IS 'The owning service has a cap on its processing tasks (task.service.max_processing), which claims of this queue check; kept by task_service_configure.';

-- @create table task.queue_rate
-- @create table task.key_rate
-- @create table task.queue_share
REVOKE ALL ON task.queue_rate, task.queue_share, task.key_rate FROM PUBLIC;

-- ---------------------------------------------------------------- queues and services
-- (earlier fragments already create the final text: a database of 0.1.0 never had the 9-argument form)
DROP FUNCTION IF EXISTS task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer);
-- @replace function task.task_queue_create

DROP FUNCTION IF EXISTS task.task_queue_configure(text, interval, integer, interval, interval, interval, boolean, integer);
-- @replace function task.task_queue_configure

-- @replace function task._check_limits

-- @replace function task._worker_queue

-- @replace function task.task_service_configure

-- scale-out: the limits travel with the directory to the other nodes
-- @replace function task._node_directory_apply

-- ---------------------------------------------------------------- the claim
-- @replace function task._wait_limit_key

-- @replace function task._claim

-- @replace function task._key_turn

-- @replace function task._claim_lock

-- @replace function task._claim_limited

-- @replace function task._claim_room

-- @replace function task._rate_next

-- @replace function task._lock_turns

-- @replace function task._key_rate_left

-- @replace function task._key_rate_pick

-- @replace function task._fair_pick

-- @replace function task._fair_served

-- @replace function task.task_dequeue

REVOKE ALL ON FUNCTION task._check_limits(integer, integer, integer, integer, interval, boolean, interval),
    task._wait_limit_key(integer), task._key_turn(task.queue, text, task.task_id, integer),
    task._claim_lock(task.queue), task._claim_limited(task.queue, integer, interval), task._claim_room(task.queue, timestamptz),
    task._rate_next(task.queue), task._fair_pick(task.queue, integer, timestamptz),
    task._fair_served(task.queue, task.task_id[], timestamptz),
    task._lock_turns(task.queue, task.task_id[], integer), task._key_rate_left(task.queue, text, timestamptz), task._key_rate_pick(task.queue, integer, timestamptz) FROM PUBLIC;
