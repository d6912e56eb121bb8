\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Wake on commit (src/wait.c): the primitives behind the blocking
-- task_dequeue(..., wait => ...) (65_worker.sql) and task_wait, and the
-- task.wait_stats view.
--
-- A waiter reads the generation of its key's slot (task._wait_seq) BEFORE
-- it looks for work with a new snapshot, and sleeps (task._wait_sleep)
-- only while that generation has not moved: a commit that made work for
-- the key moves it after becoming visible, so no commit is missed between
-- the look and the sleep. A commit signals one sleeper per runnable task
-- it made (a task's final status wakes all its waiters); a signalled
-- waiter that claims nothing passes the signal on when it sleeps again or
-- its transaction aborts. A sleeping waiter holds no snapshot (backend_xmin
-- NULL) when called directly by a top-level SELECT that reads no table,
-- and one whose client has gone ends before it claims (docs/QUEUE.md).
-- Keys are per database. Without shared_preload_libraries, _wait_seq is
-- NULL and _wait_sleep sleeps one 50 ms poll interval (NOTICE once).

CREATE FUNCTION task._wait_key(queue text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_queue_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._wait_key(text) IS 'Internal: the 64-bit wait key of a queue name.';

CREATE FUNCTION task._wake_queue(queue text, owner integer) RETURNS void
    AS 'MODULE_PATHNAME', 'task_wake_queue' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._wake_queue(text, integer) IS
    'Internal: wake every waiter of the queue, and those held back by a limit of its service, when the transaction commits (task_queue_configure unpausing it or changing its limits).';

CREATE FUNCTION task._wait_key(id task.task_id) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_task_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._wait_key(task.task_id) IS 'Internal: the 64-bit wait key of a task.';

CREATE FUNCTION task._wait_limit_key(owner integer) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_limit_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._wait_limit_key(integer) IS
    'Internal: the 64-bit wait key of a service''s freed claim slots, moved by every commit in which a task of the service left processing (the waiters of a queue at its limit sleep on it).';

CREATE FUNCTION task._wait_seq(key bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_seq' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._wait_seq(bigint) IS
    'Internal: the wake generation of the key''s wait slot, read before looking for work; NULL when task is not preloaded.';

CREATE FUNCTION task._wait_sleep(key bigint, seq bigint, timeout_ms double precision,
                                 label text DEFAULT NULL, is_task boolean DEFAULT false)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_wait_sleep' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._wait_sleep(bigint, bigint, double precision, text, boolean) IS
    'Internal: sleeps until a commit that moved the key''s wake generation past seq signals this waiter (true) or timeout_ms pass (false), without a snapshot when nothing reads with it afterwards; ends the backend if its client has gone; one 50 ms poll when task is not preloaded.';

CREATE FUNCTION task._wait_attached() RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_wait_attached' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._wait_attached() IS
    'Internal: whether this server has the shared wait slots (task is in shared_preload_libraries).';

-- The claim mark (src/mark.c): where task._claim starts its search of a
-- queue's runnable index, so that a snapshot held open elsewhere does not
-- make every claim walk the entries of all the tasks claimed since.
CREATE TYPE task.claim_mark AS (
    priority integer,       -- start at (priority, run_at, id); NULL: from the beginning
    run_at   timestamptz,
    id       task.task_id,
    empty    boolean,       -- nothing runnable: claim nothing
    ticket   bigint         -- refresh the mark first, with this ticket
);
COMMENT ON TYPE task.claim_mark IS 'Internal: where a claim starts in its queue (task._mark_get).';

CREATE FUNCTION task._mark_get(owner integer, queue text) RETURNS task.claim_mark
    AS 'MODULE_PATHNAME', 'task_mark_get' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._mark_get(integer, text) IS
    'Internal: takes a place among the queue''s claimers when task.claim_concurrency sets a limit (waiting at most task.claim_wait for one), then returns the position where the claim starts (nothing runnable sorts before it) and a ticket when the claim should refresh it first; NULL without shared memory, under a transaction snapshot or with task.claim_mark_refresh = 0.';

CREATE FUNCTION task._mark_set(owner integer, queue text, ticket bigint, priority integer,
                               run_at timestamptz, id task.task_id, full_scan boolean) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_mark_set' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._mark_set(integer, text, bigint, integer, timestamptz, task.task_id, boolean) IS
    'Internal: stores the first runnable position a refresh found (NULL: none) unless the mark moved since the ticket was taken; true when stored.';

CREATE FUNCTION task._mark_peek(owner integer, queue text) RETURNS task.claim_mark
    AS 'MODULE_PATHNAME', 'task_mark_peek' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._mark_peek(integer, text) IS
    'Internal: the queue''s claim mark for a look that claims nothing (no place taken, no ticket); NULL fields when unknown.';

-- The lease mark (src/mark.c): where a rescue of expired leases starts in
-- the queue's lease index, for the same reason.
CREATE FUNCTION task._lease_from(owner integer, queue text) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'task_lease_from' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._lease_from(integer, text) IS
    'Internal: no processing task of the queue has a lease_until before this (NULL: unknown, rescue from the beginning); takes a ticket for task._lease_set.';

CREATE FUNCTION task._lease_set(owner integer, queue text, upto timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_lease_set' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._lease_set(integer, text, timestamptz) IS
    'Internal: a rescue looked at every lease of the queue before upto: stores it unless the lease mark moved since task._lease_from; true when stored.';

CREATE FUNCTION task._mark_done(queue text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_mark_done' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._mark_done(text) IS
    'Internal: a claim of the queue took nothing: gives back its place among the queue''s claimers (true when it held one).';

CREATE FUNCTION task._claimable_version(rel regclass, version tid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_claimable_version' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._claimable_version(regclass, tid) IS
    'Internal: the row version at the tid has no updater that committed or is running; the claim checks it before FOR UPDATE SKIP LOCKED, which would otherwise lock (and keep) the newest version of a task another claim took while the statement ran.';

-- Milliseconds from now to a deadline, for _wait_sleep.
CREATE FUNCTION task._ms_until(deadline timestamptz) RETURNS double precision
    LANGUAGE sql VOLATILE
    RETURN greatest(0, extract(epoch FROM _ms_until.deadline - clock_timestamp()) * 1000);
COMMENT ON FUNCTION task._ms_until(timestamptz) IS 'Internal: milliseconds from now until a deadline, at least 0.';

-- Waiting needs a new snapshot for every look.
CREATE FUNCTION task._check_wait_isolation(what text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% cannot wait in a % transaction', what, current_setting('transaction_isolation')
            USING ERRCODE = 'active_sql_transaction', DETAIL = detail, HINT = hint;
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_wait_isolation(text, text, text) IS 'Internal: the 25001 error of a wait outside READ COMMITTED.';

CREATE FUNCTION task._wait_stats(
    OUT slot integer, OUT kind text, OUT name text, OUT waiters integer,
    OUT sleeps bigint, OUT wakeups bigint, OUT broadcasts bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'task_wait_stats' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._wait_stats() IS 'Internal: the wait slots in use (backs task.wait_stats).';

CREATE VIEW task.wait_stats AS SELECT * FROM task._wait_stats();
COMMENT ON VIEW task.wait_stats IS
    'Wake-on-commit wait slots that were ever used since the server started (empty when task is not in shared_preload_libraries).';
COMMENT ON COLUMN task.wait_stats.slot IS 'Slot number, 0 .. task.wait_slots - 1 (hash of the queue name or task id).';
COMMENT ON COLUMN task.wait_stats.kind IS 'queue (task_dequeue) or task (task_wait): what the last waiter of the slot waited for.';
COMMENT ON COLUMN task.wait_stats.name IS 'The queue name or task id of the last waiter (first 63 bytes); other keys may share the slot. NULL when the last waiter was in another database.';
COMMENT ON COLUMN task.wait_stats.waiters IS 'Backends sleeping on the slot now.';
COMMENT ON COLUMN task.wait_stats.sleeps IS 'Waits that went to sleep on the slot.';
COMMENT ON COLUMN task.wait_stats.wakeups IS 'Commits that made work for a key of the slot (runnable task in a queue, final task status).';
COMMENT ON COLUMN task.wait_stats.broadcasts IS 'Of those wakeups, the ones that found waiters and woke them: one waiter per runnable task for a queue, every waiter for a task.';

-- The bound of every wait a call may ask for: 0 to 1 hour (a longer one
-- holds a connection for nothing); the parameter's name and the hint are
-- the caller's.
CREATE FUNCTION task._check_wait_bound(param text, value interval, hint text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF value IS NULL OR value < '0' OR value > '1 hour' THEN
        RAISE EXCEPTION '% must be between 0 and 1 hour', param
            USING ERRCODE = 'invalid_parameter_value', HINT = hint;
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_wait_bound(text, interval, text) IS
    'Internal: 22023 "<param> must be between 0 and 1 hour" (with the caller''s hint) unless value is within 0 to 1 hour.';

CREATE FUNCTION task.task_wait(id task.task_id, timeout interval DEFAULT '30 seconds') RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    key bigint := task._wait_key(task_wait.id);
    seq bigint;
    deadline timestamptz;
BEGIN
    PERFORM task._check_wait_bound('timeout', task_wait.timeout, 'Wait a few seconds and call again; a long wait holds a connection.');
    deadline := clock_timestamp() + task_wait.timeout;
    LOOP
        seq := task._wait_seq(key);
        -- a new snapshot each time round (READ COMMITTED)
        t := task._visible_task(task_wait.id);   -- the one visibility rule, a new snapshot each time round
        EXIT WHEN t.status IN ('completed', 'failed', 'cancelled') OR clock_timestamp() >= deadline;
        PERFORM task._check_wait_isolation('task_wait',
            'Its snapshot would never see the task change after it started.',
            'Call it in READ COMMITTED (the default), or read the task with task_get.');
        PERFORM task._wait_sleep(key, seq, task._ms_until(deadline), t.id::text, true);
    END LOOP;
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task.task_wait(task.task_id, interval) IS
    'Waits until the task is completed, failed or cancelled, or the timeout (0..1 hour, default 30 s) passes, and returns it as task_get does. Wakes on the commit that finishes the task when task is in shared_preload_libraries, else polls every 50 ms. READ COMMITTED only. Not found (P0002) when missing or outside the caller''s scope.';

-- Several tasks: returns when ALL of them are final (or at the timeout).
-- It sleeps on one unfinished task at a time, the first in the list: only
-- that task's final commit can end the wait, so each wake is useful, and
-- the wait slot's generation is read before each look, as task_wait does.
CREATE FUNCTION task.task_wait_many(ids task.task_id[], timeout interval DEFAULT '30 seconds') RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    watch task.task_id;
    seq bigint;
    deadline timestamptz;
    n_found integer;
    pending task.task_id;
    doc jsonb;
BEGIN
    IF task_wait_many.ids IS NULL OR array_ndims(task_wait_many.ids) <> 1
       OR cardinality(task_wait_many.ids) NOT BETWEEN 1 AND 1000
       OR array_position(task_wait_many.ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'task_wait_many takes 1 to 1000 task ids'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass ids => ARRAY[...]::task.task_id[], one dimension, without NULLs.';
    END IF;
    PERFORM task._check_wait_bound('timeout', task_wait_many.timeout, 'Wait a few seconds and call again; a long wait holds a connection.');
    deadline := clock_timestamp() + task_wait_many.timeout;
    watch := task_wait_many.ids[1];
    LOOP
        seq := task._wait_seq(task._wait_key(watch));
        -- a new snapshot each time round (READ COMMITTED)
        SELECT count(t.id), (array_agg(i.id ORDER BY i.ord) FILTER (
                   WHERE t.status NOT IN ('completed', 'failed', 'cancelled')))[1],
               jsonb_agg(task._task_json(t) ORDER BY i.ord)
          INTO n_found, pending, doc
          FROM (SELECT u.id, min(u.ord) AS ord
                  FROM unnest(task_wait_many.ids) WITH ORDINALITY AS u(id, ord) GROUP BY u.id) i
          LEFT JOIN task.task t
            ON t.owner = task.task_id_owner(i.id) AND t.id = i.id AND task._visible(t.owner, t.id);
        IF n_found < (SELECT count(DISTINCT u) FROM unnest(task_wait_many.ids) u) THEN
            PERFORM task._not_found((SELECT i FROM unnest(task_wait_many.ids) i
                                      WHERE NOT EXISTS (SELECT FROM task.task t
                                                         WHERE t.owner = task.task_id_owner(i) AND t.id = i
                                                           AND task._visible(t.owner, t.id))
                                      LIMIT 1));
        END IF;
        EXIT WHEN pending IS NULL OR clock_timestamp() >= deadline;
        IF pending <> watch THEN
            -- the watched task is final: watch the next one, and look again first
            watch := pending;
            CONTINUE;
        END IF;
        PERFORM task._check_wait_isolation('task_wait_many',
            'Its snapshot would never see the tasks change after it started.',
            'Call it in READ COMMITTED (the default), or read the tasks with task_get.');
        PERFORM task._wait_sleep(task._wait_key(watch), seq, task._ms_until(deadline), watch::text, true);
    END LOOP;
    RETURN doc;
END
$$;
COMMENT ON FUNCTION task.task_wait_many(task.task_id[], interval) IS
    'Waits until ALL the given tasks (1..1000 ids) are completed, failed or cancelled, or the timeout (0..1 hour, default 30 s) passes, and returns them as a JSON array of Task objects in the order given (repeated ids once). Wakes on the commits that finish them when task is in shared_preload_libraries, else polls every 50 ms. READ COMMITTED only. Not found (P0002) when one is missing or outside the caller''s scope.';
