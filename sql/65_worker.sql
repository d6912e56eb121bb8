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
BEGIN
    ids := ARRAY(SELECT x.id FROM ONLY task.task x
                  WHERE x.owner = q.owner AND x.queue = q.name
                    AND x.status = 'processing' AND x.lease_until < clock_timestamp()
                  ORDER BY x.lease_until
                  LIMIT max_rows
                  FOR UPDATE SKIP LOCKED);
    IF q.max_run_time > '0' AND cardinality(ids) < max_rows THEN
        ids := ids || ARRAY(SELECT x.id FROM ONLY task.task x
                             WHERE x.owner = q.owner AND x.queue = q.name
                               AND x.status = 'processing' AND x.max_run_time IS NULL
                               AND x.started_at + q.max_run_time < clock_timestamp()
                               AND x.id <> ALL (ids)
                             ORDER BY x.started_at
                             LIMIT max_rows - cardinality(ids)
                             FOR UPDATE SKIP LOCKED);
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
CREATE FUNCTION task._complete(id task.task_id, token bigint, result jsonb, resource text,
                               force boolean DEFAULT false) RETURNS task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    IF result IS NOT NULL AND resource IS NOT NULL THEN
        RAISE EXCEPTION 'a task result is either a JSON value or a resource URI, not both'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass result => a JSON value, or resource => ''/relative/uri''.';
    END IF;
    UPDATE ONLY task.task x
       SET status = 'completed', result = _complete.result, resource = _complete.resource
     WHERE x.owner = task.task_id_owner(_complete.id) AND x.id = _complete.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (_complete.force OR x.lease_token IS NOT DISTINCT FROM _complete.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_complete.id, 'complete', false, _complete.token, '{processing}',
                                   NOT _complete.force);
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task._complete(task.task_id, bigint, jsonb, text, boolean) IS 'Internal: completes a processing task, fenced by its claim''s token unless forced.';

-- Complete a batch of claimed tasks in one statement (the batch form of
-- complete-and-claim). All or nothing: if one of them cannot be completed,
-- the precise error for the first such task is raised and none is. The
-- tasks this statement completed are the ones it returned: a task of the
-- batch that another worker claimed again and completed meanwhile is not
-- one of them, and fails with "lease lost".
CREATE FUNCTION task._complete_many(ids task.task_id[], tokens bigint[]) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    done task.task_id[];
    missing task.task_id;
BEGIN
    IF tokens IS NOT NULL AND cardinality(tokens) <> cardinality(ids) THEN
        RAISE EXCEPTION 'complete_tokens must have one token per task of complete_batch'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the lease_token of each task, in the same order.';
    END IF;
    IF cardinality(ids) <> (SELECT count(DISTINCT u) FROM unnest(ids) u) THEN
        RAISE EXCEPTION 'complete_batch lists a task more than once'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'List each claimed task once.';
    END IF;
    -- a join with the batch probes the (id, owner) primary key once per
    -- task (an id carries its owner, the distribution key: task_id_owner);
    -- written as id = ANY(ids) AND status = 'processing', the generic plan
    -- ANDed a bitmap of every processing task of the table (task_lease_idx)
    -- with the key's: 10 ms a batch after a long drain instead of 0.1
    WITH c AS (
        UPDATE ONLY task.task x SET status = 'completed'
          FROM unnest(ids, tokens) AS u(id, token)
         WHERE x.owner = task.task_id_owner(u.id) AND x.id = u.id
           AND task._may_write(x.owner, false)
           AND x.status = 'processing'
           AND x.lease_token IS NOT DISTINCT FROM u.token
        RETURNING x.id)
    SELECT array_agg(c.id) INTO done FROM c;
    IF coalesce(cardinality(done), 0) < cardinality(ids) THEN
        -- the first task of the batch this statement did not complete
        SELECT u.id INTO missing
          FROM unnest(ids) WITH ORDINALITY AS u(id, i)
         WHERE u.id <> ALL (coalesce(done, '{}'))
         ORDER BY u.i LIMIT 1;
        PERFORM task._write_failed(missing, 'complete', false,
                                   tokens[array_position(ids, missing)], '{processing}', true);
    END IF;
    RETURN cardinality(done);
END
$$;
COMMENT ON FUNCTION task._complete_many(task.task_id[], bigint[]) IS
    'Internal: completes a batch of processing tasks in one statement, all or nothing, each fenced by its claim''s token.';

CREATE FUNCTION task.task_complete(
    id       task.task_id,
    result   jsonb DEFAULT NULL,
    resource text DEFAULT NULL,
    token    bigint DEFAULT NULL,
    force    boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    -- an account completing a hired task is its agent: the marketplace's rules
    RETURN CASE WHEN task.current_account() IS NOT NULL AND task._market_hired(id)
                THEN task._market_finish(id, 'completed', result, NULL, resource)
                ELSE task._complete(id, token, result, resource, coalesce(force, false)) END;
COMMENT ON FUNCTION task.task_complete(task.task_id, jsonb, text, bigint, boolean) IS
    'Owner only: completes a processing task with a JSON result (served at the task''s result URI) or a resource URI. Fenced: only with the token of the claim it is processing under (lease_token), unless force => true overrides the claim. The assigned agent of a hired task (marketplace) completes it without a token.';

-- ---------------------------------------------------------------- the claim
-- The claim: up to n runnable tasks of q, higher priority first and FIFO
-- within a priority, locked with SKIP
-- LOCKED and set processing. Every task of a queue belongs to the queue's
-- owner, so the update is a primary-key probe (owner, id = ANY(...)): a
-- plan that stays good as a generic plan, which the worker functions
-- force (SET plan_cache_mode) to skip planning on every call.
CREATE FUNCTION task._claim(q task.queue, n integer, lease interval) RETURNS SETOF task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    -- the real clock, read once: now() stands still for a whole transaction,
    -- so a waiting dequeue would never see tasks created while it waits,
    -- and a lease claimed late would start in the past
    at timestamptz := clock_timestamp();
BEGIN
    -- returned in claim order too
    RETURN QUERY
    WITH claimed AS (
    UPDATE ONLY task.task t
       SET status = 'processing',
           attempts = t.attempts + 1,
           lease_token = t.revision + 1,
           lease_until = at + coalesce(_claim.lease, q.lease)
     WHERE t.owner = q.owner
       AND t.id = ANY (ARRAY(
            SELECT x.id FROM ONLY task.task x
             WHERE x.owner = q.owner AND x.queue = q.name
               AND x.status IN ('queued', 'rescheduled')
               AND x.run_at <= at
               -- ordering keys: tasks of a key run one at a time, in the
               -- order they were created (ids of one queue share an owner,
               -- so they sort by creation): none while another task of the
               -- key is processing or an older one waits, even for a retry
               AND (x.ordering_key IS NULL OR NOT EXISTS (
                        SELECT FROM ONLY task.task k
                         WHERE k.owner = q.owner AND k.queue = q.name AND k.ordering_key = x.ordering_key
                           AND k.status IN ('queued', 'rescheduled', 'processing')
                           AND (k.status = 'processing' OR k.id < x.id)))
             ORDER BY x.priority DESC, x.run_at, x.id
             LIMIT _claim.n
             FOR UPDATE SKIP LOCKED))
    RETURNING t.*)
    SELECT * FROM claimed c ORDER BY c.priority DESC, c.run_at, c.id;
END
$$;
COMMENT ON FUNCTION task._claim(task.queue, integer, interval) IS 'Internal: claims up to n runnable tasks of a queue (FIFO, SKIP LOCKED).';

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
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    claimed integer;
    deadline timestamptz;
    key bigint;
    seq bigint;
    next_due timestamptz;
BEGIN
    -- the one-round-trip loop: finish the previous task first
    IF task_dequeue.complete IS NOT NULL THEN
        PERFORM task._complete(task_dequeue.complete, task_dequeue.complete_token,
                               task_dequeue.result, task_dequeue.resource);
    END IF;
    -- ... or the previous batch, in one statement
    IF cardinality(task_dequeue.complete_batch) > 0 THEN
        PERFORM task._complete_many(task_dequeue.complete_batch, task_dequeue.complete_tokens);
    END IF;

    IF task_dequeue.n IS NULL OR task_dequeue.n NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'n must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Claim at most 1000 tasks a call.';
    END IF;
    IF task_dequeue.wait IS NULL OR task_dequeue.wait < '0' OR task_dequeue.wait > '1 hour' THEN
        RAISE EXCEPTION 'wait must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Wait a few seconds and loop; a long wait holds a connection.';
    END IF;
    IF task_dequeue.lease IS NOT NULL AND task_dequeue.lease <= '0' THEN
        RAISE EXCEPTION 'lease must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    q := task._worker_queue(task_dequeue.queue, missing_ok => true);
    IF q.paused THEN
        RETURN;
    END IF;

    -- a waiting call reads the queue's wake generation before it looks
    -- (see 60_wait.sql): a commit after this point wakes its sleep
    IF task_dequeue.wait > '0' THEN
        key := task._wait_key(q.name);
        seq := task._wait_seq(key);
    END IF;

    claimed := 0;
    RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
    GET DIAGNOSTICS claimed = ROW_COUNT;

    -- a short queue: also look for expired leases to take over
    IF claimed < task_dequeue.n AND task._rescue_leases(q, task_dequeue.n - claimed) > 0 THEN
        RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n - claimed, task_dequeue.lease);
        GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;

    -- nothing to do: sleep until a commit makes work for the queue, the
    -- earliest scheduled task of the queue is due (no commit announces
    -- that), or the wait is over; then claim again with a new snapshot
    -- (hence READ COMMITTED). Not preloaded: a 50 ms poll each time round.
    IF claimed = 0 AND task_dequeue.wait > '0' THEN
        PERFORM task._check_wait_isolation('task_dequeue',
            'Its snapshot would never see tasks committed after it started.',
            'Call it in READ COMMITTED (the default), or with wait => ''0''.');
        deadline := clock_timestamp() + task_dequeue.wait;
        LOOP
            SELECT min(x.run_at) INTO next_due FROM ONLY task.task x
             WHERE x.owner = q.owner AND x.queue = q.name
               AND x.status IN ('queued', 'rescheduled') AND x.run_at > clock_timestamp();
            PERFORM task._wait_sleep(key, seq, task._ms_until(least(deadline, next_due)), q.name);
            seq := task._wait_seq(key);
            IF q.created_at IS NULL THEN   -- waited on a queue not created yet: is it now?
                q := task._worker_queue(q.name, missing_ok => true);
            END IF;
            RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
            GET DIAGNOSTICS claimed = ROW_COUNT;
            EXIT WHEN claimed > 0 OR clock_timestamp() >= deadline;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Worker: claims up to n runnable tasks of the queue, higher priority first and FIFO within a priority (FOR UPDATE SKIP LOCKED), sets them processing, counts the attempt and starts the lease; each row carries lease_token for the calls that follow. With complete => id and complete_token (and result or resource) it first completes the previous task: one round trip per task; complete_batch with complete_tokens does the same for a batch, in one statement, all or nothing. A paused queue returns nothing. With wait (0..1 hour), an empty queue is waited on until a commit makes work for it (one waiter woken per runnable task; 50 ms polling when task is not in shared_preload_libraries), a scheduled task is due, or wait passes (READ COMMITTED only); asleep it holds no snapshot when called directly by a SELECT that reads no table.';

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
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_heartbeat.lease IS NOT NULL AND task_heartbeat.lease <= '0' THEN
        RAISE EXCEPTION 'lease must be positive'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    -- the lease never outlasts the maximum run time, and past it the
    -- attempt is over: no heartbeat keeps it
    UPDATE ONLY task.task x
       SET lease_until = least(clock_timestamp() + coalesce(task_heartbeat.lease, q.lease),
                               x.started_at + task._run_limit(x, q.max_run_time)),
           progress = coalesce(task_heartbeat.progress, x.progress)
      FROM task.queue q
     WHERE x.owner = task.task_id_owner(task_heartbeat.id) AND x.id = task_heartbeat.id
       AND q.name = x.queue
       AND task._may_write(x.owner, false)
       AND x.status = 'processing' AND x.lease_token = task_heartbeat.token
       AND NOT coalesce(x.started_at + task._run_limit(x, q.max_run_time) <= clock_timestamp(), false)
    RETURNING x.* INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_heartbeat.id, 'heartbeat', false,
                                   coalesce(task_heartbeat.token, -1), '{processing}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_heartbeat(task.task_id, bigint, interval, double precision) IS
    'Worker: extends the lease of a claimed task (by lease, or the queue''s lease length; never past the task''s maximum run time), optionally reporting progress. Fails with 55000 "lease lost" when the claim is gone or the attempt ran past its maximum run time, and with 55T01 "task ... was cancelled" when the task was cancelled during the claim.';

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
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    UPDATE ONLY task.task x
       SET progress = coalesce(task_progress.progress, x.progress),
           eta = coalesce(task_progress.eta, x.eta),
           parameters = coalesce(task_progress.parameters, x.parameters)
     WHERE x.owner = task.task_id_owner(task_progress.id) AND x.id = task_progress.id
       AND task._may_write(x.owner, false)
       AND x.status NOT IN ('completed', 'failed', 'cancelled')
       AND (task_progress.token IS NULL
            OR (x.status = 'processing' AND x.lease_token = task_progress.token
                AND NOT coalesce(x.started_at + task._run_limit(x, (SELECT q.max_run_time FROM task.queue q WHERE q.name = x.queue))
                                 <= clock_timestamp(), false)))
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_progress.id, 'update', false, task_progress.token,
                                   '{blocked,queued,processing,rescheduled}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_progress(task.task_id, double precision, timestamptz, jsonb, bigint) IS
    'Owner only: sets progress (0..100, once started), eta and parameters (replaced whole) of an unfinished task. With token, only while that claim holds and within the maximum run time (55000 "lease lost" otherwise; 55T01 when the task was cancelled during the claim).';

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
    UPDATE ONLY task.task x
       SET status = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN 'rescheduled'::task.status ELSE 'failed' END,
           run_at = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN clock_timestamp() + task._backoff(q, x.attempts) ELSE x.run_at END,
           error = task_fail.error
     WHERE x.owner = task.task_id_owner(task_fail.id) AND x.id = task_fail.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
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
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_reschedule.at IS NULL OR NOT isfinite(task_reschedule.at) THEN
        RAISE EXCEPTION 'task_reschedule needs a finite time'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass at => now() + interval ''...''.';
    END IF;
    UPDATE ONLY task.task x
       SET status = 'rescheduled', run_at = task_reschedule.at,
           attempts = x.attempts - 1  -- not a failure: the next claim counts it again
     WHERE x.owner = task.task_id_owner(task_reschedule.id) AND x.id = task_reschedule.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
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
