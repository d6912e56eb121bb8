\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The worker path: task_dequeue (FIFO, SKIP LOCKED, leases, fencing
-- tokens, complete-and-claim in one round trip), task_heartbeat,
-- task_progress, task_log, task_complete, task_fail (retries with
-- exponential backoff and jitter), task_reschedule, and lease rescue.
--
-- A claim stamps lease_token with the task's new revision: it is unique
-- per claim and never reused, so a worker whose lease expired and whose
-- task was claimed again cannot complete, fail or reschedule it.
-- Fencing is the default: a task processing under a claim is completed,
-- failed or rescheduled only with its token (force => true overrides, for
-- the owner's operators); a direct move into processing starts a lease and
-- a token too (the trigger, src/transition.c), so rescue applies to it.
--
-- The hot path runs generic plans (SET plan_cache_mode on each function):
-- every statement in these functions is a key lookup or the claim, whose
-- generic plans are the custom ones, and planning each call cost more than
-- the work (measured: a dequeue-and-complete went from ~0.9 ms to ~0.3 ms
-- of CPU). task_list and the other catch-all queries keep the default.

-- ---------------------------------------------------------------- lease rescue
-- The worker that holds (or last held) a task, for the log: " (worker NAME
-- on ADDRESS, pid N)", or '' when none was recorded.
CREATE FUNCTION task._worker_text(t task.task) RETURNS text
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN t.worker_pid IS NOT NULL THEN
        format(' (worker %s on %s, pid %s)', coalesce(t.worker_name, '?'), coalesce(host(t.worker_addr), 'local'), t.worker_pid)
        ELSE '' END
$$;
COMMENT ON FUNCTION task._worker_text(task.task) IS
    'Internal: " (worker NAME on ADDRESS, pid N)" (ADDRESS "local" for a Unix socket) naming the worker that holds or last held the task, for log entries; empty when unknown.';

-- The maximum run time of a task: its own, else its queue's (NULL: none).
-- An attempt is over the limit once started_at + this has passed.
CREATE FUNCTION task._run_limit(t task.task, queue_limit interval) RETURNS interval
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT coalesce(t.max_run_time, nullif(queue_limit, '0'))
$$;
COMMENT ON FUNCTION task._run_limit(task.task, interval) IS
    'Internal: the maximum run time of a task: its own max_run_time, else its queue''s (0 there: none); NULL: no limit.';

-- A run time limit in messages: seconds, whatever the session's IntervalStyle.
CREATE FUNCTION task._seconds_text(i interval) RETURNS text
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT trim_scale(extract(epoch FROM i)) || ' s'
$$;
COMMENT ON FUNCTION task._seconds_text(interval) IS
    'Internal: an interval as "N s" (seconds), the same for every IntervalStyle, for messages.';

-- Put the expired leases of one queue back: queued while attempts remain,
-- failed otherwise, each with a log entry saying why and naming the worker
-- that lost it. Returns how many. A lease also ends at the maximum run
-- time: a task's own limit bounds its lease (the trigger and
-- task_heartbeat never let lease_until pass it), so expired leases cover
-- it; a queue's limit is looked for only on a queue that has one (no cost
-- for the others, and the empty-queue dequeue path stays one index probe).
CREATE FUNCTION task._rescue_leases(q task.queue, max_rows integer DEFAULT 100) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    ids task.task_id[];
    n integer := 0;
    -- the leases run out before now; none of the queue before its lease
    -- mark (src/mark.c), so a held snapshot's old versions are not walked
    upto timestamptz := clock_timestamp();
    since timestamptz := coalesce(task._lease_from(q.owner, q.name), '-infinity');
    seen task.task_id[];
    seen_first timestamptz;
    stored boolean;
BEGIN
    -- the expired leases as an ordinary read sees them (one walk of the
    -- lease index), then locked by their key, SKIP LOCKED
    SELECT coalesce(array_agg(c.id), '{}'), min(c.lease_until) INTO seen, seen_first
      FROM (SELECT x.id, x.lease_until FROM ONLY task.task x
             WHERE x.owner = q.owner AND x.queue = q.name
               AND x.status = 'processing' AND x.lease_until >= since AND x.lease_until < upto
             ORDER BY x.lease_until
             LIMIT max_rows) c;
    IF cardinality(seen) > 0 THEN
        -- status as text: no partial index serves it, so even a generic
        -- plan probes the key (as _complete does)
        ids := ARRAY(SELECT x.id FROM ONLY task.task x
                      WHERE x.owner = q.owner AND x.id = ANY (seen)
                        AND x.status::text = 'processing' AND x.lease_until < upto
                      ORDER BY x.lease_until
                      FOR NO KEY UPDATE SKIP LOCKED);
        IF cardinality(ids) < cardinality(seen) THEN
            -- another transaction holds some (or changed them): the next
            -- ones past them, as a look that locked from the start would
            -- have taken (a row held for long must not stop every rescue)
            ids := ids || ARRAY(SELECT x.id FROM ONLY task.task x
                                 WHERE x.owner = q.owner AND x.queue = q.name
                                   AND x.status = 'processing' AND x.lease_until >= seen_first
                                   AND x.lease_until < upto AND x.id <> ALL (seen)
                                 ORDER BY x.lease_until
                                 LIMIT max_rows - cardinality(ids)
                                 FOR NO KEY UPDATE SKIP LOCKED);
        END IF;
    ELSE
        ids := '{}';
    END IF;
    IF cardinality(seen) < max_rows THEN
        -- every lease before upto was seen; the mark stops at the first
        -- still processing: a row the lock skipped (another transaction
        -- holds it and may roll back) or one of ids (this transaction may
        -- roll back its rescue) is looked at again by the next look
        stored := task._lease_set(q.owner, q.name, least(upto, seen_first));
    END IF;
    IF q.max_run_time > '0' AND cardinality(ids) < max_rows THEN
        ids := ids || ARRAY(SELECT x.id FROM ONLY task.task x
                             WHERE x.owner = q.owner AND x.queue = q.name
                               AND x.status = 'processing' AND x.max_run_time IS NULL
                               AND x.started_at + q.max_run_time < clock_timestamp()
                               AND x.id <> ALL (ids)
                             ORDER BY x.started_at
                             LIMIT max_rows - cardinality(ids)
                             FOR NO KEY UPDATE SKIP LOCKED);
    END IF;
    IF cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    FOR r IN
        WITH old AS (
            SELECT x.owner, x.id, task._run_limit(x, q.max_run_time) AS run_limit,
                   x.started_at + task._run_limit(x, q.max_run_time) <= clock_timestamp() AS overrun,
                   task._worker_text(x) AS holder
              FROM ONLY task.task x
             WHERE x.owner = q.owner AND x.id = ANY (ids))
        UPDATE ONLY task.task t
           SET status = CASE WHEN t.attempts < coalesce(t.max_attempts, q.max_attempts)
                             THEN 'queued'::task.status ELSE 'failed' END,
               error = CASE WHEN coalesce(o.overrun, false)
                            THEN format('maximum run time exceeded: the attempt ran longer than %s', task._seconds_text(o.run_limit))
                            ELSE 'lease expired: the worker stopped sending heartbeats' END
          FROM old o
         WHERE t.owner = o.owner AND t.id = o.id
        RETURNING t.owner, t.id, t.attempts, t.status, coalesce(o.overrun, false) AS overrun, o.run_limit,
                  o.holder
    LOOP
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (r.owner, r.id,
                format('%s during attempt %s%s: %s',
                       CASE WHEN r.overrun THEN format('maximum run time of %s exceeded', task._seconds_text(r.run_limit))
                            ELSE 'lease expired' END,
                       r.attempts, r.holder,
                       CASE WHEN r.status = 'failed' THEN 'no attempts left' ELSE 'queued again' END),
                task.current_actor());
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._rescue_leases(task.queue, integer) IS
    'Internal: returns tasks whose lease expired or that ran past their maximum run time to queued (or failed when no attempts are left), logging why and which worker held them.';

-- ---------------------------------------------------------------- completion
-- Complete one claimed task: the shared body of task_complete and the
-- complete-and-claim form of task_dequeue.
-- In C (src/hotpath.c, with task_dequeue's hot path): the UPDATE, then
-- task._write_failed for the error when it found nothing.
CREATE FUNCTION task._complete(id task.task_id, token bigint, result jsonb, resource text,
                               force boolean DEFAULT false) RETURNS task.task
    AS 'MODULE_PATHNAME', 'task_complete_one' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._complete(task.task_id, bigint, jsonb, text, boolean) IS 'Internal: completes a processing task, fenced by its claim''s token unless forced.';

-- Complete a batch of claimed tasks in one call (the batch form of
-- complete-and-claim). All or nothing: if one of them cannot be completed,
-- the precise error for the first such task is raised and none is. A task
-- of the batch that another worker claimed again and completed meanwhile
-- fails with "lease lost". C (src/hotpath.c, complete_many): each task of
-- the batch as task._complete does it, in the batch's order; the first one
-- it cannot complete makes task._write_failed raise why, and the error
-- undoes the others.
CREATE FUNCTION task._complete_many(ids task.task_id[], tokens bigint[]) RETURNS integer
    AS 'MODULE_PATHNAME', 'task_complete_many' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._complete_many(task.task_id[], bigint[]) IS
    'Internal: completes a batch of processing tasks, all or nothing, each fenced by its claim''s token.';

CREATE FUNCTION task.task_complete(
    id       task.task_id,
    result   jsonb DEFAULT NULL,
    resource text DEFAULT NULL,
    token    bigint DEFAULT NULL,
    force    boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
BEGIN
    -- an account completing a hired task is its agent: the marketplace's rules.
    -- PL/pgSQL, not SQL: a SQL function with SET clauses is planned again
    -- on every call; these plans are kept for the session.
    IF task.current_account() IS NOT NULL AND task._market_hired(task_complete.id) THEN
        RETURN task._market_finish(task_complete.id, 'completed', task_complete.result, NULL, task_complete.resource);
    END IF;
    RETURN task._complete(task_complete.id, task_complete.token, task_complete.result, task_complete.resource,
                          coalesce(task_complete.force, false));
END
$$;
COMMENT ON FUNCTION task.task_complete(task.task_id, jsonb, text, bigint, boolean) IS
    'Owner only: completes a processing task with a JSON result (served at the task''s result URI) or a resource URI. Fenced: only with the token of the claim it is processing under (lease_token), unless force => true overrides the claim. The assigned agent of a hired task (marketplace) completes it without a token.';

-- ---------------------------------------------------------------- the claim
-- The claim: up to n runnable tasks of q, higher priority first and FIFO
-- within a priority, locked with SKIP LOCKED and set processing. Every
-- task of a queue belongs to the queue's owner, so the update is a
-- primary-key probe (owner, id = ANY(...)): a plan that stays good as a
-- generic plan, which the worker functions force (SET plan_cache_mode) to
-- skip planning on every call.
--
-- The search of the runnable index starts at the queue's claim mark
-- (src/mark.c): nothing runnable sorts before it, and the entries of
-- tasks claimed before it, which a snapshot held open elsewhere keeps in
-- the index, are never read. It goes one priority level at a time (the
-- index is (hashtext(queue), priority DESC, run_at, id): within a level the mark
-- is a row comparison that bounds the scan). Every few claims of a queue
-- refresh the mark first: the first runnable entry at or after it, locked
-- or not, read without SKIP LOCKED.
--
-- In C (src/claim.c): the same statements as saved plans, the mark read
-- and stored by direct calls, the rows put straight into the caller's
-- tuplestore (a fifth of a drained task's backend CPU went to the PL/pgSQL
-- function around them; docs/QUEUE.md).
CREATE FUNCTION task._claim(q task.queue, n integer, lease interval) RETURNS SETOF task.task
    AS 'MODULE_PATHNAME', 'task_claim' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._claim(task.queue, integer, interval) IS 'Internal: claims up to n runnable tasks of a queue (higher priority first, FIFO within a priority, SKIP LOCKED), searching from the queue''s claim mark; a queue with a claim-time limit is claimed by task._claim_limited.';

-- ---------------------------------------------------------------- limited claims
-- Claim-time limits (docs/FEATURES.md): max_processing per queue, a cap per
-- service, rate_limit and key_rate_limit per rate_interval, fair_share,
-- key_concurrency.
--
-- Exact under concurrency: two claims may not both count the same free
-- slot. The claim of a queue with a cap or a rate limit (of the queue or
-- per key) first
-- takes a lock until its transaction ends -- the service's when the
-- service is capped (one lock orders the claims of all its queues), else
-- the queue's (task._claim_lock) -- and only then counts, with a new snapshot (READ COMMITTED:
-- each statement sees the claims committed before it got the lock). The
-- lock is held until the claiming transaction ends, so claims of one
-- limited queue run one after another: a claim waits for the claims
-- queued before it (task_dequeue is a worker's whole transaction), and
-- for at most 1 second for a transaction that goes on after its claim,
-- then takes nothing (task._claim_lock); unlimited queues take no lock and
-- run no extra statement. key_concurrency needs no lock: a task is claimable only while
-- fewer than key_concurrency tasks of its key are processing or older and
-- still waiting, and a task another claim holds is still one of those, so
-- two claims never pass the same slot (SKIP LOCKED skips the held task,
-- and the count still sees it).
--
-- A claim of a limited queue that finds it at its cap returns nothing; a
-- waiting task_dequeue then sleeps on the service's freed-slot key
-- (task._wait_limit_key), moved by every commit in which more tasks of the
-- service left processing (completed, failed, rescheduled, cancelled,
-- rescued; src/transition.c) than it claimed, and one at the rate limit
-- sleeps until the window closes.

-- The tasks of a key that still hold a place in its turn: processing, or
-- waiting and older than the task (in creation order), counted up to k.
CREATE FUNCTION task._key_turn(q task.queue, key text, id task.task_id, k integer) RETURNS integer
    LANGUAGE sql STABLE
AS $$
    SELECT count(*)::integer FROM (
        SELECT FROM ONLY task.task x
         WHERE x.owner = q.owner AND x.queue = q.name AND x.ordering_key = _key_turn.key
           AND x.status IN ('queued', 'rescheduled', 'processing')
           AND (x.status = 'processing' OR x.id < _key_turn.id)
         LIMIT _key_turn.k) s
$$;
COMMENT ON FUNCTION task._key_turn(task.queue, text, task.task_id, integer) IS
    'Internal: how many tasks of an ordering key are processing or wait ahead of a task (counted up to k): the task may start while this is below key_concurrency.';

-- A claim's fencing token: the new revision in the low 31 bits, 22 random
-- bits above them (53 bits: a JSON number read as a double keeps it), so
-- that a database restored from a dump or failed over to a standby that
-- missed the last claims does not hand out a token of a claim made after
-- that point again (src/transition.c).
CREATE FUNCTION task._lease_token(revision integer) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_lease_token' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._lease_token(integer) IS
    'Internal: the fencing token of a claim: the revision it gives the task (low 31 bits) and 22 random bits above it, 53 bits in all.';

-- A keyed hash (SHA-256) of a name and the secret task.lock_secret, that
-- no other role can compute: the suffix of a queue's NOTIFY channel
-- (task_queue_notify) and the key of a limited queue's claim lock
-- (task._claim_lock_take, in a space of locks no SQL function can take: an
-- advisory key, however secret, shows in pg_locks while it is held). In C
-- (src/hotpath.c): the SQL function it was cost a limited claim twice its
-- lock.
CREATE FUNCTION task._lock_key(name text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_lock_key' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION task._lock_key(text) IS
    'Internal: a 64-bit keyed hash of a name and the secret task.lock_secret (the suffix of a queue''s NOTIFY channel).';

-- The claim lock of a limited queue (of its service when the service is
-- capped), held until the transaction ends: a lock on a key only the
-- extension can compute (task._lock_key) in a space
-- of advisory locks that no SQL function can take (src/hotpath.c,
-- task_claim_lock_take), so no tenant can hold it against the queue or
-- tell from pg_locks whose it is. It needs no transaction id, and a
-- waiting task_dequeue gives it back when a look claims nothing, before it
-- sleeps. A claim waits for the claims ahead of it, not for a transaction
-- that goes on after its claim (a worker that dequeues inside a longer
-- transaction): after 1 second it gives up and the claim takes nothing
-- (false).
CREATE FUNCTION task._claim_lock(q task.queue) RETURNS boolean
    LANGUAGE plpgsql
AS $$
DECLARE
    old text;
BEGIN
    IF task._claim_lock_row(q, false) THEN
        RETURN true;
    END IF;
    old := current_setting('lock_timeout');
    BEGIN
        PERFORM set_config('lock_timeout', '1s', true);
        PERFORM task._claim_lock_row(q, true);
    EXCEPTION WHEN lock_not_available THEN
        RETURN false;   -- the subtransaction's lock_timeout is undone with it
    END;
    PERFORM set_config('lock_timeout', old, true);
    RETURN true;
END
$$;
COMMENT ON FUNCTION task._claim_lock(task.queue) IS
    'Internal: takes the claim lock of a limited queue (its service''s when the service is capped) until the transaction ends; false when another transaction held it for more than 1 second.';

-- Take the claim lock (the queue's own with queue_row): at once or not at
-- all (wait false), or waiting (lock_timeout applies). True when taken.
-- (Until stop 26 it was the lock of the queue's or the service's row,
-- which gave the transaction an id and could not be let go before its end.)
CREATE FUNCTION task._claim_lock_take(name text, wait boolean) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_claim_lock_take' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._claim_lock_take(text, boolean) IS
    'Internal: takes the claim lock of a name until the transaction ends (a lock no SQL function can take, on task._lock_key of the name); false when not wait and another transaction holds it.';

CREATE FUNCTION task._claim_lock_row(q task.queue, wait boolean, queue_row boolean DEFAULT false) RETURNS boolean
    LANGUAGE plpgsql
AS $$
BEGIN
    IF q.service_capped AND NOT queue_row THEN
        RETURN task._claim_lock_take('claim lock of service ' || q.owner, wait);
    END IF;
    RETURN task._claim_lock_take('claim lock of queue ' || q.name, wait);
END
$$;
COMMENT ON FUNCTION task._claim_lock_row(task.queue, boolean, boolean) IS
    'Internal: takes the claim lock of a limited queue (the queue''s, or its service''s when capped, unless queue_row), at once or not at all unless wait.';

CREATE FUNCTION task._claim_limited(q task.queue, n integer, lease interval) RETURNS SETOF task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz;
    allowed integer := n;
    ids task.task_id[];
    got integer;
BEGIN
    IF q.max_processing <> 0 OR q.rate_limit <> 0 OR q.key_rate_limit <> 0 OR q.service_capped THEN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            RAISE EXCEPTION 'queue "%" has claim-time limits and is claimed in READ COMMITTED only', q.name
                USING ERRCODE = 'active_sql_transaction',
                      DETAIL = format('A %s snapshot would not see the claims of other workers.',
                                      current_setting('transaction_isolation')),
                      HINT = 'Call task_dequeue in READ COMMITTED (the default).';
        END IF;
        IF NOT task._claim_lock(q) THEN
            RETURN;   -- another worker's transaction holds it beyond its claim
        END IF;
        allowed := least(allowed, task._claim_room(q, clock_timestamp()));
        IF allowed <= 0 THEN
            RETURN;
        END IF;
    END IF;
    at := clock_timestamp();
    IF q.fair_share THEN
        ids := task._fair_pick(q, allowed, at);
    ELSIF q.key_rate_limit <> 0 THEN
        ids := task._key_rate_pick(q, allowed, at);
    ELSE
        ids := ARRAY(
            SELECT x.id FROM ONLY task.task x
             WHERE x.owner = q.owner AND x.queue = q.name AND hashtext(x.queue) = hashtext(q.name)
               AND x.status IN ('queued', 'rescheduled')
               AND x.run_at <= at
               -- not a version another claim updated after this
               -- statement's snapshot (as in task._claim)
               AND task._claimable_version('task.task', x.ctid)
               AND (x.ordering_key IS NULL OR q.key_concurrency = 0
                    OR task._key_turn(q, x.ordering_key, x.id, q.key_concurrency) < q.key_concurrency)
             ORDER BY x.priority DESC, x.run_at, x.id
             LIMIT allowed
             FOR NO KEY UPDATE SKIP LOCKED);
    END IF;
    RETURN QUERY
    WITH claimed AS (
    UPDATE ONLY task.task t
       SET status = 'processing',
           attempts = t.attempts + 1,
           lease_token = task._lease_token(t.revision + 1),
           lease_until = at + coalesce(_claim_limited.lease, q.lease)
     WHERE t.owner = q.owner AND t.id = ANY (ids)
    RETURNING t.*)
    SELECT * FROM claimed c ORDER BY array_position(ids, c.id);
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got > 0 AND q.rate_limit <> 0 THEN
        -- counted in the open window, or opens the next one
        INSERT INTO task.queue_rate AS r (queue, window_start, claims)
        VALUES (q.name, at, got)
        ON CONFLICT (queue) DO UPDATE
           SET window_start = CASE WHEN r.window_start + q.rate_interval <= at THEN at ELSE r.window_start END,
               claims = CASE WHEN r.window_start + q.rate_interval <= at THEN got ELSE r.claims + got END;
    END IF;
    IF got > 0 AND q.key_rate_limit <> 0 THEN
        -- each key's claims, counted in its open window or opening the next
        INSERT INTO task.key_rate AS r (queue, key, window_start, claims)
        SELECT q.name, x.ordering_key, at, count(*)::integer FROM ONLY task.task x
         WHERE x.owner = q.owner AND x.id = ANY (ids) AND x.ordering_key IS NOT NULL
         GROUP BY x.ordering_key
        ON CONFLICT (queue, key) DO UPDATE
           SET window_start = CASE WHEN r.window_start + q.rate_interval <= at THEN at ELSE r.window_start END,
               claims = CASE WHEN r.window_start + q.rate_interval <= at THEN excluded.claims
                             ELSE r.claims + excluded.claims END;
        -- closed windows are forgotten now and then
        IF random() < 0.01 THEN
            DELETE FROM task.key_rate r WHERE r.queue = q.name AND r.window_start + q.rate_interval <= at;
        END IF;
    END IF;
    IF got > 0 AND q.fair_share THEN
        PERFORM task._fair_served(q, ids, at);
    END IF;
END
$$;
COMMENT ON FUNCTION task._claim_limited(task.queue, integer, interval) IS
    'Internal: the claim of a queue with claim-time limits: under the claim lock of the queue (or of its capped service), up to the room left by max_processing, the service cap and the rate window; fair_share picks round-robin over ordering keys; key_concurrency holds back tasks whose key is at its limit.';

-- How many more tasks a claim of q may take now (at most 1000000): what
-- max_processing, the service's cap and the rate window leave. Read under
-- the claim lock for an exact count; unlocked, for a waiter's decision.
CREATE FUNCTION task._claim_room(q task.queue, at timestamptz) RETURNS integer
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    room integer := 1000000;
    cap integer;
    win task.queue_rate;
BEGIN
    IF q.max_processing <> 0 THEN
        room := least(room, q.max_processing - (
            SELECT count(*) FROM (SELECT FROM ONLY task.task x
                                   WHERE x.queue = q.name AND x.status = 'processing'
                                   LIMIT q.max_processing) s));
    END IF;
    IF q.service_capped AND room > 0 THEN
        SELECT s.max_processing INTO cap FROM task.service s WHERE s.id = q.owner;
        IF cap > 0 THEN
            room := least(room, cap - (
                SELECT count(*) FROM (SELECT FROM ONLY task.task x
                                       WHERE x.queue IN (SELECT y.name FROM task.queue y WHERE y.owner = q.owner)
                                         AND x.status = 'processing'
                                       LIMIT cap) s));
        END IF;
    END IF;
    IF q.rate_limit <> 0 AND room > 0 THEN
        SELECT * INTO win FROM task.queue_rate r WHERE r.queue = q.name;
        IF FOUND AND win.window_start + q.rate_interval > at THEN
            room := least(room, q.rate_limit - win.claims);
        ELSE
            room := least(room, q.rate_limit);
        END IF;
    END IF;
    RETURN greatest(room, 0);
END
$$;
COMMENT ON FUNCTION task._claim_room(task.queue, timestamptz) IS
    'Internal: how many tasks a claim of the queue may take now under max_processing, the service cap and the rate window (0: none).';

-- When a waiter held back by a rate limit may claim again: the end of the
-- queue's full window, or of the first full window of a key (NULL: none
-- is full).
CREATE FUNCTION task._rate_next(q task.queue) RETURNS timestamptz
    LANGUAGE sql STABLE
AS $$
    SELECT least(
        (SELECT r.window_start + q.rate_interval FROM task.queue_rate r
          WHERE q.rate_limit <> 0 AND r.queue = q.name AND r.claims >= q.rate_limit
            AND r.window_start + q.rate_interval > clock_timestamp()),
        (SELECT min(r.window_start + q.rate_interval) FROM task.key_rate r
          WHERE q.key_rate_limit <> 0 AND r.queue = q.name AND r.claims >= q.key_rate_limit
            AND r.window_start + q.rate_interval > clock_timestamp()))
$$;
COMMENT ON FUNCTION task._rate_next(task.queue) IS
    'Internal: when the first full rate-limit window of the queue or of one of its ordering keys closes (NULL when none is full).';

-- The first n of the given runnable tasks (in their order) that no other
-- claim holds, locked: the rows are locked as the LIMIT takes them, after
-- the sort, so a claim beside others takes the turns after theirs.
-- (plpgsql, as every function of the claim that runs a query: its plan is
-- kept for the session, where an SQL function plans at every call.)
CREATE FUNCTION task._lock_turns(q task.queue, turns task.task_id[], n integer) RETURNS task.task_id[]
    LANGUAGE plpgsql
AS $$
BEGIN
    RETURN ARRAY(
        SELECT x.id FROM ONLY task.task x
         WHERE x.owner = q.owner AND x.id = ANY (turns) AND x.status IN ('queued', 'rescheduled')
           AND task._claimable_version('task.task', x.ctid)
         ORDER BY array_position(turns, x.id)
         LIMIT n
         FOR NO KEY UPDATE SKIP LOCKED);
END
$$;
COMMENT ON FUNCTION task._lock_turns(task.queue, task.task_id[], integer) IS
    'Internal: locks (SKIP LOCKED) and returns the first n of the given tasks that are runnable and held by no other claim, in their order.';

-- What a key's rate window leaves: key_rate_limit less the key's claims in
-- its open window.
CREATE FUNCTION task._key_rate_left(q task.queue, key text, at timestamptz) RETURNS integer
    LANGUAGE sql STABLE
AS $$
    SELECT q.key_rate_limit - coalesce((SELECT r.claims FROM task.key_rate r
                                         WHERE r.queue = q.name AND r.key = _key_rate_left.key
                                           AND r.window_start + q.rate_interval > _key_rate_left.at), 0)
$$;
COMMENT ON FUNCTION task._key_rate_left(task.queue, text, timestamptz) IS
    'Internal: how many more tasks of an ordering key the queue''s key_rate_limit lets claims take in the key''s open window.';

-- The claim of a queue with key_rate_limit (and no fair share): FIFO as
-- any claim, skipping the tasks of a key beyond what its window leaves;
-- under the queue's claim lock, so the windows are exact.
CREATE FUNCTION task._key_rate_pick(q task.queue, n integer, at timestamptz) RETURNS task.task_id[]
    LANGUAGE plpgsql
AS $$
DECLARE
    turns task.task_id[];
BEGIN
    turns := ARRAY(
        SELECT c.id FROM (
            SELECT x.id, x.priority, x.run_at, x.ordering_key,
                   row_number() OVER (PARTITION BY x.ordering_key ORDER BY x.priority DESC, x.run_at, x.id) AS nth
              FROM (SELECT y.id, y.priority, y.run_at, y.ordering_key FROM ONLY task.task y
                     WHERE y.owner = q.owner AND y.queue = q.name AND hashtext(y.queue) = hashtext(q.name)
                       AND y.status IN ('queued', 'rescheduled') AND y.run_at <= at
                       AND (y.ordering_key IS NULL OR q.key_concurrency = 0
                            OR task._key_turn(q, y.ordering_key, y.id, q.key_concurrency) < q.key_concurrency)
                       AND (y.ordering_key IS NULL OR task._key_rate_left(q, y.ordering_key, at) > 0)
                     ORDER BY y.priority DESC, y.run_at, y.id
                     LIMIT 4 * n) x) c
         WHERE c.ordering_key IS NULL OR c.nth <= task._key_rate_left(q, c.ordering_key, at)
         ORDER BY c.priority DESC, c.run_at, c.id);
    RETURN task._lock_turns(q, turns, n);
END
$$;
COMMENT ON FUNCTION task._key_rate_pick(task.queue, integer, timestamptz) IS
    'Internal: the runnable tasks a claim of a queue with key_rate_limit takes, FIFO, at most what each ordering key''s window leaves, locked (SKIP LOCKED).';

-- Fair share: the tasks to claim, round-robin over the ordering keys of
-- the runnable tasks: the first task of every key, then the second, ...;
-- within a round the least recently served key first (task.queue_share),
-- then priority and FIFO. A key's tasks go in creation order. At most
-- 1000 keys a claim, found by a skip scan of task_ordering_idx (one probe
-- per key, whatever the number of tasks of a key). Tasks without a key form
-- one group, looked for among the 100 oldest runnable tasks of the queue
-- (the runnable index does not hold the key: a deeper look would read a
-- flood's rows on every claim).
--
-- No lock orders fair claims (unless the queue also has a cap or a rate
-- limit): two claims at once may both give the next turn to the same key.
-- Each locks its candidates (the first 4 n turns) in turn order with SKIP
-- LOCKED and keeps the first n it gets, so a claim running beside others
-- takes the turns after theirs instead of coming back empty.
CREATE FUNCTION task._fair_pick(q task.queue, n integer, at timestamptz) RETURNS task.task_id[]
    LANGUAGE plpgsql
AS $$
DECLARE
    turns task.task_id[];
BEGIN
    turns := ARRAY(
        WITH RECURSIVE keys(k, i) AS (
            (SELECT x.ordering_key, 1 FROM ONLY task.task x
              WHERE x.queue = q.name AND x.ordering_key IS NOT NULL
                AND x.status IN ('queued', 'rescheduled', 'processing')
              ORDER BY x.ordering_key LIMIT 1)
            UNION ALL
            SELECT (SELECT x.ordering_key FROM ONLY task.task x
                     WHERE x.queue = q.name AND x.ordering_key > keys.k
                       AND x.status IN ('queued', 'rescheduled', 'processing')
                     ORDER BY x.ordering_key LIMIT 1), keys.i + 1
              FROM keys WHERE keys.k IS NOT NULL AND keys.i < 1000),
        cand AS (
            SELECT c.id, c.priority, c.run_at, c.r, keys.k
              FROM keys CROSS JOIN LATERAL (
                   SELECT x.id, x.priority, x.run_at, row_number() OVER (ORDER BY x.run_at, x.id) AS r
                     FROM ONLY task.task x
                    WHERE x.queue = q.name AND x.ordering_key = keys.k
                      AND x.status IN ('queued', 'rescheduled') AND x.run_at <= at
                      AND (q.key_concurrency = 0
                           OR task._key_turn(q, x.ordering_key, x.id, q.key_concurrency) < q.key_concurrency)
                    ORDER BY x.run_at, x.id
                    LIMIT CASE WHEN q.key_rate_limit = 0 THEN 4 * n
                               ELSE greatest(0, least(4 * n, task._key_rate_left(q, keys.k, at))) END) c
             WHERE keys.k IS NOT NULL
            UNION ALL
            SELECT h.id, h.priority, h.run_at, row_number() OVER (ORDER BY h.priority DESC, h.run_at, h.id), ''
              FROM (SELECT x.id, x.priority, x.run_at, x.ordering_key FROM ONLY task.task x
                     WHERE x.owner = q.owner AND x.queue = q.name AND hashtext(x.queue) = hashtext(q.name)
                       AND x.status IN ('queued', 'rescheduled')
                     ORDER BY x.priority DESC, x.run_at, x.id
                     LIMIT 100) h
             WHERE h.ordering_key IS NULL AND h.run_at <= at)
        SELECT cand.id FROM cand LEFT JOIN task.queue_share s ON s.queue = q.name AND s.key = cand.k
         ORDER BY cand.r, s.served_at NULLS FIRST, cand.priority DESC, cand.run_at, cand.id
         LIMIT 4 * n);
    RETURN task._lock_turns(q, turns, n);
END
$$;
COMMENT ON FUNCTION task._fair_pick(task.queue, integer, timestamptz) IS
    'Internal: the runnable tasks a fair-share claim takes, round-robin over ordering keys, least recently served key first, locked (SKIP LOCKED).';

-- Fair share: the keys a claim served, stamped in claim order (the last
-- served latest). A key another claim is stamping right now is left to it
-- (SKIP LOCKED: both stamp the same moment); a new key is added by one of
-- the claims that serve it at once, the others go on without waiting.
CREATE FUNCTION task._fair_served(q task.queue, ids task.task_id[], at timestamptz) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    keys text[];
    times timestamptz[];
BEGIN
    SELECT array_agg(v.key ORDER BY v.key), array_agg(v.t ORDER BY v.key) INTO keys, times
      FROM (SELECT coalesce(x.ordering_key, '') AS key, at + max(u.i) * interval '1 microsecond' AS t
              FROM unnest(ids) WITH ORDINALITY AS u(id, i)
              JOIN ONLY task.task x ON x.owner = q.owner AND x.id = u.id
             GROUP BY 1) v;
    UPDATE task.queue_share s SET served_at = v.t
      FROM unnest(keys, times) AS v(key, t),
           LATERAL (SELECT l.key FROM task.queue_share l
                     WHERE l.queue = q.name AND l.key = v.key FOR UPDATE SKIP LOCKED) l
     WHERE s.queue = q.name AND s.key = l.key;
    -- new keys: one claim at a time adds them, the one that locks the
    -- queue's row at once (no tenant can take that lock: task._claim_lock);
    -- one beside it does not wait for that insert, and the key is added by
    -- a later claim
    IF EXISTS (SELECT FROM unnest(keys) k
                WHERE NOT EXISTS (SELECT FROM task.queue_share e WHERE e.queue = q.name AND e.key = k))
       AND task._claim_lock_row(q, false, true) THEN
        INSERT INTO task.queue_share AS s (queue, key, served_at)
        SELECT q.name, v.key, v.t FROM unnest(keys, times) AS v(key, t)
         WHERE NOT EXISTS (SELECT FROM task.queue_share e WHERE e.queue = q.name AND e.key = v.key)
        ON CONFLICT (queue, key) DO NOTHING;
    END IF;
    -- keys not served for a day are forgotten (they come back first)
    IF random() < 0.01 THEN
        DELETE FROM task.queue_share s WHERE s.queue = q.name AND s.served_at < at - interval '1 day';
    END IF;
END
$$;
COMMENT ON FUNCTION task._fair_served(task.queue, task.task_id[], timestamptz) IS
    'Internal: records when a fair-share claim served each ordering key of the tasks it took.';


-- task_dequeue is C (src/hotpath.c) for every call with valid arguments:
-- complete the previous task or batch, find the queue, claim, rescue
-- expired leases when the queue is short, and, for a call that waits and
-- found nothing, sleep (task._dequeue_sleep below) and claim again. A call
-- with an argument to refuse is task._dequeue below, called with the same
-- arguments: it does the same in the same order, so that its errors come
-- in the order they always did.
CREATE FUNCTION task.task_dequeue(
    queue          text,
    n              integer DEFAULT 1,
    lease          interval DEFAULT NULL,
    wait           interval DEFAULT '0',
    complete       task.task_id DEFAULT NULL,
    complete_token bigint DEFAULT NULL,
    result         jsonb DEFAULT NULL,
    resource       text DEFAULT NULL,
    complete_batch  task.task_id[] DEFAULT NULL,
    complete_tokens bigint[] DEFAULT NULL)
    RETURNS SETOF task.task
    AS 'MODULE_PATHNAME', 'task_dequeue' LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off;  -- docs/QUEUE.md, "Plans made on an empty table"
COMMENT ON FUNCTION task.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Worker: claims up to n runnable tasks of the queue, higher priority first and FIFO within a priority (FOR NO KEY UPDATE SKIP LOCKED), sets them processing, counts the attempt and starts the lease; each row carries lease_token for the calls that follow. With complete => id and complete_token (and result or resource) it first completes the previous task: one round trip per task; complete_batch with complete_tokens does the same for a batch, in one statement, all or nothing. A paused queue returns nothing (with wait, not before it is unpaused or wait passes); a queue with claim-time limits (max_processing, key_concurrency, rate_limit, key_rate_limit, fair_share, the service cap) returns what they allow. With wait (0..1 hour), an empty queue is waited on until a commit makes work for it (one waiter woken per runnable task; 50 ms polling when task is not in shared_preload_libraries), a scheduled task is due, a task of the service leaves processing (when held back by a cap), the rate window closes, or wait passes (READ COMMITTED only); asleep it holds no snapshot when called directly by a SELECT that reads no table.';

-- One sleep of a task_dequeue(wait => ...) whose look found nothing (or
-- whose queue is paused: then until a commit wakes the queue, such as the
-- unpause's, or the end of the wait): until
-- a commit moves the queue's wake generation past seq (read before the
-- look, so a commit since then ends it at once), the earliest scheduled
-- task of the queue is due (no commit announces that), or "until", the end
-- of the wait. For a queue with a cap or a rate limit (lkey and lseq: the
-- generation of its service's freed claim slots), also until a slot is
-- freed or the rate window closes, and at least once a second. The caller
-- then reads the generations again and claims, with a new snapshot (hence
-- READ COMMITTED): src/hotpath.c's task_dequeue, and task._dequeue below.
CREATE FUNCTION task._dequeue_sleep(q task.queue, until timestamptz,
                                    key bigint, seq bigint, lkey bigint, lseq bigint)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = task, pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    next_due timestamptz;
    -- the real clock for the next-due look, in a variable: compared with
    -- clock_timestamp() (volatile) run_at was a filter checked on the
    -- heap row of every runnable entry of the queue, and under a snapshot
    -- held open elsewhere that is every task ever queued there (W6: 57,000
    -- buffers and 32 ms a look); compared with a parameter it bounds the
    -- index range
    now_at timestamptz;
    mk task.claim_mark;
    next_slot timestamptz;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM task._check_wait_isolation('task_dequeue',
            'Its snapshot would never see tasks committed after it started.',
            'Call it in READ COMMITTED (the default), or with wait => ''0''.');
    END IF;
    -- paused: nothing is claimed until the unpause, whose commit wakes
    -- the queue (task_queue_configure), or the wait's end
    IF q.paused THEN
        PERFORM task._wait_sleep(key, seq, task._ms_until(until), q.name);
        RETURN;
    END IF;
    -- the earliest task not yet due: within the claim mark's level from
    -- now on (an index range), then in the levels below; none before the
    -- mark, none at all when nothing is runnable
    mk := task._mark_peek(q.owner, q.name);
    now_at := clock_timestamp();
    IF mk.empty THEN
        next_due := NULL;
    ELSIF mk.priority IS NULL THEN
        SELECT min(x.run_at) INTO next_due FROM ONLY task.task x
         WHERE x.owner = q.owner AND x.queue = q.name AND hashtext(x.queue) = hashtext(q.name)
           AND x.status IN ('queued', 'rescheduled') AND x.run_at > now_at;
    ELSE
        SELECT least(
            (SELECT min(x.run_at) FROM ONLY task.task x
              WHERE x.owner = q.owner AND x.queue = q.name AND hashtext(x.queue) = hashtext(q.name)
                AND x.status IN ('queued', 'rescheduled') AND x.run_at > now_at
                AND x.priority = mk.priority),
            (SELECT min(x.run_at) FROM ONLY task.task x
              WHERE x.owner = q.owner AND x.queue = q.name AND hashtext(x.queue) = hashtext(q.name)
                AND x.status IN ('queued', 'rescheduled') AND x.run_at > now_at
                AND x.priority < mk.priority))
          INTO next_due;
    END IF;
    IF lkey IS NULL THEN
        PERFORM task._wait_sleep(key, seq, task._ms_until(least(until, next_due)), q.name);
        RETURN;
    END IF;
    -- held back by a limit? At a cap: until a claim slot is freed (or the
    -- rate window closes); a slot freed since the look, with work waiting:
    -- look again at once; else as any queue. At least once a second in any
    -- case: nothing announces a limit raised by task_queue_configure, or a
    -- claim lock let go by a transaction that held it past its claim
    next_slot := CASE WHEN q.rate_limit <> 0 OR q.key_rate_limit <> 0 THEN task._rate_next(q) END;
    IF task._claim_room(q, clock_timestamp()) = 0 AND next_slot IS NULL THEN
        PERFORM task._wait_sleep(lkey, lseq, task._ms_until(least(until, clock_timestamp() + interval '1 second')), q.name);
    ELSIF next_slot IS NULL AND task._wait_seq(lkey) IS DISTINCT FROM lseq
          AND EXISTS (SELECT FROM ONLY task.task x
                       WHERE x.owner = q.owner AND x.queue = q.name AND hashtext(x.queue) = hashtext(q.name)
                         AND x.status IN ('queued', 'rescheduled') AND x.run_at <= now_at) THEN
        NULL;
    ELSE
        PERFORM task._wait_sleep(key, seq, task._ms_until(least(until, next_due, next_slot,
                                                             clock_timestamp() + interval '1 second')), q.name);
    END IF;
END
$$;
COMMENT ON FUNCTION task._dequeue_sleep(task.queue, timestamptz, bigint, bigint, bigint, bigint) IS
    'Internal: one sleep of a task_dequeue whose look found nothing, from the wake generations read before that look (lkey and lseq: a queue with a limit); the caller claims after it.';

-- The parameters of task_dequeue, always all passed (by src/hotpath.c).
-- The C function's checks refuse exactly what this one raises an error for;
-- called directly (it is internal) with a wait, it hands the wait back.
CREATE FUNCTION task._dequeue(queue text, n integer, lease interval, wait interval,
                              complete task.task_id, complete_token bigint, result jsonb, resource text,
                              complete_batch task.task_id[], complete_tokens bigint[])
    RETURNS SETOF task.task
    LANGUAGE plpgsql
    SET search_path = task, pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    claimed integer;
    -- what the completion returned (not used): assigned, not PERFORMed, so
    -- that the call is a simple expression, evaluated without a query of
    -- its own (PERFORM runs a SELECT through SPI: an executor start and
    -- end per task)
    done task.task;
    ndone integer;
BEGIN
    -- the one-round-trip loop: finish the previous task first
    IF _dequeue.complete IS NOT NULL THEN
        done := task._complete(_dequeue.complete, _dequeue.complete_token,
                               _dequeue.result, _dequeue.resource);
    END IF;
    -- ... or the previous batch, in one statement
    IF cardinality(_dequeue.complete_batch) > 0 THEN
        ndone := task._complete_many(_dequeue.complete_batch, _dequeue.complete_tokens);
    END IF;

    IF _dequeue.n IS NULL OR _dequeue.n NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'n must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Claim at most 1000 tasks a call.';
    END IF;
    PERFORM task._check_wait_bound('wait', _dequeue.wait, 'Wait a few seconds and loop; a long wait holds a connection.');
    IF _dequeue.lease IS NOT NULL AND (_dequeue.lease <= '0' OR _dequeue.lease > '366 days') THEN
        RAISE EXCEPTION 'lease must be positive and at most 1 year'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    q := task._worker_queue(_dequeue.queue, missing_ok => true);
    IF q.paused THEN
        -- with a wait, the C function sleeps until the unpause
        IF _dequeue.wait > '0' THEN
            RETURN QUERY SELECT * FROM task.task_dequeue(_dequeue.queue, _dequeue.n, _dequeue.lease, _dequeue.wait);
        END IF;
        RETURN;
    END IF;

    claimed := 0;
    RETURN QUERY SELECT * FROM task._claim(q, _dequeue.n, _dequeue.lease);
    GET DIAGNOSTICS claimed = ROW_COUNT;

    -- a short queue: also look for expired leases to take over
    IF claimed < _dequeue.n AND task._rescue_leases(q, _dequeue.n - claimed) > 0 THEN
        RETURN QUERY SELECT * FROM task._claim(q, _dequeue.n - claimed, _dequeue.lease);
        GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;

    -- nothing to do and a wait: the C function waits (it reads the wake
    -- generation before its own look, so nothing committed since is missed)
    IF claimed = 0 AND _dequeue.wait > '0' THEN
        RETURN QUERY SELECT * FROM task.task_dequeue(_dequeue.queue, _dequeue.n, _dequeue.lease, _dequeue.wait);
    END IF;
END
$$;
COMMENT ON FUNCTION task._dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Internal: task_dequeue in PL/pgSQL, for the calls its C function leaves to it (an argument to refuse: the errors, in their order).';

-- ---------------------------------------------------------------- during a claim
CREATE FUNCTION task.task_heartbeat(
    id       task.task_id,
    token    bigint,
    lease    interval DEFAULT NULL,
    progress double precision DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    -- a heartbeat is its claim's: without the token it extends nothing
    IF task_heartbeat.token IS NULL THEN
        RAISE EXCEPTION 'task_heartbeat needs the lease token of the claim'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass token => the lease_token returned by task_dequeue for this task.';
    END IF;
    IF task_heartbeat.lease IS NOT NULL AND (task_heartbeat.lease <= '0' OR task_heartbeat.lease > '366 days') THEN
        RAISE EXCEPTION 'lease must be positive and at most 1 year'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    -- the lease never outlasts the maximum run time, and past it the
    -- attempt is over: no heartbeat keeps it
    UPDATE ONLY task.task x
       SET lease_until = least(clock_timestamp() + coalesce(task_heartbeat.lease, q.lease),
                               x.started_at + task._run_limit(x, q.max_run_time)),
           progress = coalesce(task_heartbeat.progress, x.progress)
      FROM task.queue q
     WHERE x.id = task_heartbeat.id AND x.owner = task.task_id_owner(x.id)
       AND q.name = x.queue
       AND task._may_write(x.owner, false)
       AND x.status::text = 'processing' AND x.lease_token = task_heartbeat.token  -- see _complete
       AND NOT coalesce(x.started_at + task._run_limit(x, q.max_run_time) <= clock_timestamp(), false)
    RETURNING x.* INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_heartbeat.id, 'heartbeat', false,
                                   task_heartbeat.token, '{processing}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_heartbeat(task.task_id, bigint, interval, double precision) IS
    'Worker: extends the lease of a claimed task (by lease, or the queue''s lease length; never past the task''s maximum run time), optionally reporting progress. Fails with 55000 "lease lost" when the claim is gone or the attempt ran past its maximum run time, and with 55T01 "task ... was cancelled" when the task was cancelled during the claim.';

-- Whether task_progress may change task x: the owner (or the system), an
-- unfinished task and, with a token, the claim it was given while it holds
-- and within the maximum run time (of the queue: max_run_time, read only
-- then). One predicate for the write and for a call with nothing to
-- write; a plain SQL function as volatile as its body (clock_timestamp),
-- so it is inlined into both.
CREATE FUNCTION task._progress_allowed(x task.task, token bigint, max_run_time interval) RETURNS boolean
    LANGUAGE sql VOLATILE
    RETURN task._may_write(x.owner, false)
       AND x.status NOT IN ('completed', 'failed', 'cancelled')
       AND (token IS NULL
            OR (x.status::text = 'processing' AND x.lease_token = token  -- see _complete
                AND NOT coalesce(x.started_at + task._run_limit(x, max_run_time) <= clock_timestamp(), false)));
COMMENT ON FUNCTION task._progress_allowed(task.task, bigint, interval) IS
    'Internal: whether task_progress may change the task (owner, unfinished, and the claim of token while it holds).';

CREATE FUNCTION task.task_progress(
    id         task.task_id,
    progress   double precision DEFAULT NULL,
    eta        timestamptz DEFAULT NULL,
    parameters jsonb DEFAULT NULL,
    token      bigint DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_progress.progress IS NULL AND task_progress.eta IS NULL AND task_progress.parameters IS NULL THEN
        -- nothing to set: the same checks and errors, and the task as it
        -- is; no write (no new revision, updated stamp or lock)
        SELECT * INTO t FROM ONLY task.task x
         WHERE x.id = task_progress.id AND x.owner = task.task_id_owner(x.id)
           AND task._progress_allowed(x, task_progress.token, (SELECT q.max_run_time FROM task.queue q WHERE q.name = x.queue));
    ELSE
        UPDATE ONLY task.task x
           SET progress = coalesce(task_progress.progress, x.progress),
               eta = coalesce(task_progress.eta, x.eta),
               parameters = coalesce(task_progress.parameters, x.parameters)
         WHERE x.id = task_progress.id AND x.owner = task.task_id_owner(x.id)
           AND task._progress_allowed(x, task_progress.token, (SELECT q.max_run_time FROM task.queue q WHERE q.name = x.queue))
        RETURNING * INTO t;
    END IF;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_progress.id, 'update', false, task_progress.token,
                                   '{blocked,queued,processing,rescheduled}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_progress(task.task_id, double precision, timestamptz, jsonb, bigint) IS
    'Owner only: sets progress (0..100, once started), eta and parameters (replaced whole) of an unfinished task. With token, only while that claim holds and within the maximum run time (55000 "lease lost" otherwise; 55T01 when the task was cancelled during the claim). A call that sets none of the three writes nothing (no new revision, no updated stamp) and returns the task as it is, after the same checks.';

CREATE FUNCTION task.task_log(
    id      task.task_id,
    message text,
    errors  bigint DEFAULT NULL,
    skips   bigint DEFAULT NULL,
    success bigint DEFAULT NULL,
    total   bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
#variable_conflict use_column
DECLARE
    o integer := task.task_id_owner(task_log.id);
BEGIN
    IF task_log.message IS NULL THEN
        RAISE EXCEPTION 'a task log entry needs a message'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass message => ''...''.';
    END IF;
    PERFORM task._check_text('log message', task_log.message, 8192, true);
    IF least(task_log.errors, task_log.skips, task_log.success, task_log.total) < 0 THEN
        RAISE EXCEPTION 'task log counters must not be negative'
            USING ERRCODE = 'numeric_value_out_of_range',
                  HINT = 'Counters errors, skips, success and total count items.';
    END IF;
    IF greatest(task_log.errors, task_log.skips, task_log.success) > task_log.total THEN
        RAISE EXCEPTION 'task log counters must not exceed total'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = format('A counter is %s; total is %s.',
                                  greatest(task_log.errors, task_log.skips, task_log.success), task_log.total),
                  HINT = 'errors, skips and success count items out of total.';
    END IF;
    IF NOT EXISTS (SELECT FROM ONLY task.task x WHERE x.owner = o AND x.id = task_log.id AND task._may_write(x.owner, false)) THEN
        PERFORM task._write_failed(task_log.id, 'log to', false);
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, errors, skips, success, total, by)
    VALUES (o, task_log.id, task_log.message, task_log.errors, task_log.skips,
            task_log.success, task_log.total, task.current_actor());
END
$$;
COMMENT ON FUNCTION task.task_log(task.task_id, text, bigint, bigint, bigint, bigint) IS
    'Owner only: appends a log entry to a task, with optional counters errors, skips, success, total (seed 003).';

-- ---------------------------------------------------------------- failure and rescheduling
-- Backoff before retry number `attempt`: base * 2^(attempt-1) with +-25%
-- jitter, so failed tasks do not come back in lockstep; backoff_max is a
-- hard cap (applied after the jitter).
CREATE FUNCTION task._backoff(q task.queue, attempt integer) RETURNS interval
    LANGUAGE sql VOLATILE
AS $$
    SELECT least(q.backoff_base * power(2, least(greatest(attempt, 1) - 1, 30)) * (0.75 + random() * 0.5),
                 q.backoff_max)
$$;
COMMENT ON FUNCTION task._backoff(task.queue, integer) IS 'Internal: exponential backoff with jitter for a retry.';

CREATE FUNCTION task.task_fail(
    id    task.task_id,
    error text,
    token bigint DEFAULT NULL,
    retry boolean DEFAULT true,
    force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
    q task.queue;
BEGIN
    IF task_fail.error IS NULL THEN
        RAISE EXCEPTION 'task_fail needs an error'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say what went wrong: error => ''...''.';
    END IF;
    PERFORM task._check_text('error', task_fail.error, 8192, true);
    -- an account failing a hired task is its agent: the marketplace's rules
    IF task.current_account() IS NOT NULL AND task._market_hired(task_fail.id) THEN
        RETURN task._market_finish(task_fail.id, 'failed', NULL, task_fail.error);
    END IF;
    SELECT x.* INTO q FROM task.queue x
     WHERE x.name = (SELECT y.queue FROM ONLY task.task y
                      WHERE y.owner = task.task_id_owner(task_fail.id) AND y.id = task_fail.id);
    -- retry => NULL is the default (true), as force => NULL is false: a
    -- NULL (an HTTP body's "retry": null) used to fail the task for good
    task_fail.retry := coalesce(task_fail.retry, true);
    UPDATE ONLY task.task x
       SET status = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN 'rescheduled'::task.status ELSE 'failed' END,
           run_at = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN clock_timestamp() + task._backoff(q, x.attempts) ELSE x.run_at END,
           error = task_fail.error
     WHERE x.id = task_fail.id AND x.owner = task.task_id_owner(x.id)
       AND task._may_write(x.owner, false)
       AND x.status::text = 'processing'  -- see _complete
       AND (task_fail.force OR x.lease_token IS NOT DISTINCT FROM task_fail.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_fail.id, 'fail', false, task_fail.token, '{processing}',
                                   NOT coalesce(task_fail.force, false));
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id,
            format('attempt %s of %s failed: %s', t.attempts, coalesce(t.max_attempts, q.max_attempts), task_fail.error),
            task.current_actor());
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_fail(task.task_id, text, bigint, boolean, boolean) IS
    'Worker: reports a failed attempt. The task is rescheduled with exponential backoff and jitter while attempts remain (and retry is true), else failed for good; the error is kept on the task and in its log. Fenced: only with the token of the claim (lease_token), unless force => true.';

CREATE FUNCTION task.task_reschedule(id task.task_id, at timestamptz, token bigint DEFAULT NULL,
                                     force boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET enable_seqscan = off  -- docs/QUEUE.md, "Plans made on an empty table"
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_reschedule.at IS NULL THEN
        RAISE EXCEPTION 'task_reschedule needs a time'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass at => now() + interval ''...''.';
    END IF;
    PERFORM task._check_time('at', task_reschedule.at);
    UPDATE ONLY task.task x
       SET status = 'rescheduled', run_at = task_reschedule.at,
           attempts = x.attempts - 1  -- not a failure: the next claim counts it again
     WHERE x.id = task_reschedule.id AND x.owner = task.task_id_owner(x.id)
       AND task._may_write(x.owner, false)
       AND x.status::text = 'processing'  -- see _complete
       AND (task_reschedule.force OR x.lease_token IS NOT DISTINCT FROM task_reschedule.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_reschedule.id, 'reschedule', false, task_reschedule.token, '{processing}',
                                   NOT coalesce(task_reschedule.force, false));
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_reschedule(task.task_id, timestamptz, bigint, boolean) IS
    'Worker: gives a claimed task back to run again at a given time (status rescheduled); dequeue picks it up when due. The claim does not count as an attempt. Fenced: only with the token of the claim (lease_token), unless force => true.';
