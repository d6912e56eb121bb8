\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Queues: task_queue_create, task_queue_configure, and the two lookups
-- every path uses -- the queue a task is created in (made on first use by
-- a service under its namespace) and the queue a worker call acts on.

-- A maximum run time given to task_create, task_create_many,
-- task_queue_create or task_queue_configure: positive, or 0 for none (a
-- task stores none as NULL, a queue as 0: a queue row has no NULL, so
-- "(task_queue_create(...)) IS NOT NULL" holds).
CREATE FUNCTION task._check_max_run_time(max_run_time interval) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF max_run_time < '0' OR max_run_time > '366 days' THEN
        RAISE EXCEPTION 'max_run_time must be between 0 and 1 year'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass how long one attempt may run, e.g. interval ''10 minutes''; 0 or NULL: no limit of its own (a task then has its queue''s).';
    END IF;
    RETURN nullif(max_run_time, '0');
END
$$;
COMMENT ON FUNCTION task._check_max_run_time(interval) IS
    'Internal: a maximum run time as stored (NULL for 0 or NULL: no limit); 22023 when negative or over 1 year.';

-- The error of a queue policy its table's checks refuse (task_queue_create,
-- task_queue_configure).
CREATE FUNCTION task._queue_policy_error(queue text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'invalid queue policy for "%"', _queue_policy_error.queue
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'lease must be positive and at most 1 year, max_attempts 1..1000, backoff_base at least 0 and at most backoff_max, backoff_max at most 1 year, retention 0 to 100 years.',
              HINT = 'Pass values within those bounds, or leave a setting out.';
END
$$;
COMMENT ON FUNCTION task._queue_policy_error(text) IS
    'Internal: the 22023 error of a queue policy that the checks of task.queue refuse.';

-- The upper bounds of a queue's policy (the table checks the lower ones):
-- task_maintain and the claim add these to the clock, and a time past
-- PostgreSQL's range would fail housekeeping for every tenant. "1 year" is
-- written '366 days' here and wherever a bound is a year (and "100 years"
-- '36525 days'): comparing intervals, PostgreSQL counts a year as 360
-- days, which would refuse '365 days' as "more than 1 year".
CREATE FUNCTION task._check_policy_bounds(queue text, lease interval, backoff_base interval,
                                          backoff_max interval, retention interval) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF _check_policy_bounds.lease > '366 days' OR _check_policy_bounds.backoff_base > '366 days'
       OR _check_policy_bounds.backoff_max > '366 days' OR _check_policy_bounds.retention > '36525 days' THEN
        PERFORM task._queue_policy_error(_check_policy_bounds.queue);
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_policy_bounds(text, interval, interval, interval, interval) IS
    'Internal: 22023 when a queue policy given goes past its upper bound (lease, backoff 1 year, retention 100 years).';

CREATE FUNCTION task.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false,
    priority     integer DEFAULT NULL,
    max_run_time interval DEFAULT NULL,
    max_processing  integer DEFAULT NULL,
    key_concurrency integer DEFAULT NULL,
    rate_limit      integer DEFAULT NULL,
    rate_interval   interval DEFAULT NULL,
    fair_share      boolean DEFAULT false,
    key_rate_limit  integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
    q task.queue;
    d task.queue;
BEGIN
    PERFORM task._check_path('queue', task_queue_create.queue);
    IF task.current_kind() = 'system' THEN
        IF task_queue_create.owner IS NULL THEN
            RAISE EXCEPTION 'a queue needs an owning service'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Pass owner => ''SVC-XXXX''.';
        END IF;
        owner_id := task.service_number(task_queue_create.owner);
    ELSIF svc IS NOT NULL THEN
        IF task_queue_create.owner IS NOT NULL AND task.service_number(task_queue_create.owner) <> svc THEN
            RAISE EXCEPTION 'permission denied to create a queue for %', task_queue_create.owner
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'A service creates queues for itself only; leave owner out.';
        END IF;
        owner_id := svc;
    ELSE
        RAISE EXCEPTION 'permission denied to create a queue'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Queues are created by services.';
    END IF;

    PERFORM task._check_queue_namespace(owner_id, task_queue_create.queue);
    PERFORM task._check_policy_bounds(task_queue_create.queue, task_queue_create.lease, task_queue_create.backoff_base,
                                      task_queue_create.backoff_max, task_queue_create.retention);
    PERFORM task._check_limits(task_queue_create.max_processing, task_queue_create.key_concurrency,
                               task_queue_create.rate_limit, task_queue_create.key_rate_limit,
                               task_queue_create.rate_interval,
                               coalesce(task_queue_create.rate_limit, 0) > 0 OR coalesce(task_queue_create.key_rate_limit, 0) > 0,
                               task_queue_create.rate_interval);

    -- what the caller leaves out comes from the table's own defaults
    d := task._queue_defaults(task_queue_create.queue, owner_id);
    INSERT INTO task.queue AS x (name, owner, paused, lease, max_attempts, backoff_base, backoff_max, retention, priority,
                                 max_run_time,
                                 max_processing, key_concurrency, rate_limit, rate_interval, fair_share, service_capped,
                                 key_rate_limit)
    VALUES (task_queue_create.queue, owner_id, coalesce(task_queue_create.paused, d.paused),
            coalesce(task_queue_create.lease, d.lease),
            coalesce(task_queue_create.max_attempts, d.max_attempts),
            coalesce(task_queue_create.backoff_base, d.backoff_base),
            coalesce(task_queue_create.backoff_max, d.backoff_max),
            coalesce(task_queue_create.retention, d.retention),
            coalesce(task_queue_create.priority, d.priority),
            coalesce(task._check_max_run_time(task_queue_create.max_run_time), d.max_run_time),
            coalesce(task_queue_create.max_processing, d.max_processing),
            coalesce(task_queue_create.key_concurrency, d.key_concurrency),
            coalesce(task_queue_create.rate_limit, d.rate_limit),
            CASE WHEN task_queue_create.rate_limit > 0 OR task_queue_create.key_rate_limit > 0
                 THEN task_queue_create.rate_interval ELSE d.rate_interval END,
            coalesce(task_queue_create.fair_share, d.fair_share),
            EXISTS (SELECT FROM task.service s WHERE s.id = owner_id AND s.max_processing > 0),
            coalesce(task_queue_create.key_rate_limit, d.key_rate_limit))
    ON CONFLICT (name) DO NOTHING
    RETURNING * INTO q;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" already exists', task_queue_create.queue
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Change its policy with task_queue_configure().';
    END IF;
    RETURN q;
EXCEPTION WHEN check_violation THEN
    PERFORM task._queue_policy_error(task_queue_create.queue);
END
$$;
COMMENT ON FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS
    'Creates a FIFO queue under the owning service''s namespace, with its worker policy, the default priority of its tasks (0), the maximum run time of one attempt (max_run_time; NULL or 0: none) and its claim-time limits: max_processing (tasks processing at once), key_concurrency (per ordering key, default 1), rate_limit claims per rate_interval, key_rate_limit claims per rate_interval per ordering key, fair_share (round-robin over ordering keys); 0: no limit. Services create their own; the operator names the owner.';

CREATE FUNCTION task.task_queue_configure(
    queue        text,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT NULL,
    priority     integer DEFAULT NULL,
    max_run_time interval DEFAULT NULL,
    max_processing  integer DEFAULT NULL,
    key_concurrency integer DEFAULT NULL,
    rate_limit      integer DEFAULT NULL,
    rate_interval   interval DEFAULT NULL,
    fair_share      boolean DEFAULT NULL,
    key_rate_limit  integer DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue := task._worker_queue(task_queue_configure.queue);
    was_paused boolean := q.paused;
    -- a rate limit once this call is done, and its interval
    rated boolean := coalesce(task_queue_configure.rate_limit, q.rate_limit) > 0
                     OR coalesce(task_queue_configure.key_rate_limit, q.key_rate_limit) > 0;
    rate_window interval := coalesce(task_queue_configure.rate_interval, nullif(q.rate_interval, '0'));
BEGIN
    PERFORM task._check_policy_bounds(task_queue_configure.queue, task_queue_configure.lease, task_queue_configure.backoff_base,
                                      task_queue_configure.backoff_max, task_queue_configure.retention);
    PERFORM task._check_limits(task_queue_configure.max_processing, task_queue_configure.key_concurrency,
                               task_queue_configure.rate_limit, task_queue_configure.key_rate_limit,
                               task_queue_configure.rate_interval, rated, rate_window);
    UPDATE task.queue x
       SET lease = coalesce(task_queue_configure.lease, x.lease),
           max_attempts = coalesce(task_queue_configure.max_attempts, x.max_attempts),
           backoff_base = coalesce(task_queue_configure.backoff_base, x.backoff_base),
           backoff_max = coalesce(task_queue_configure.backoff_max, x.backoff_max),
           retention = coalesce(task_queue_configure.retention, x.retention),
           paused = coalesce(task_queue_configure.paused, x.paused),
           priority = coalesce(task_queue_configure.priority, x.priority),
           max_run_time = CASE WHEN task_queue_configure.max_run_time IS NULL THEN x.max_run_time
                               ELSE coalesce(task._check_max_run_time(task_queue_configure.max_run_time), '0') END,
           -- limits: NULL keeps, 0 removes
           max_processing = coalesce(task_queue_configure.max_processing, x.max_processing),
           key_concurrency = coalesce(task_queue_configure.key_concurrency, x.key_concurrency),
           rate_limit = coalesce(task_queue_configure.rate_limit, x.rate_limit),
           key_rate_limit = coalesce(task_queue_configure.key_rate_limit, x.key_rate_limit),
           rate_interval = CASE WHEN rated THEN rate_window ELSE '0' END,
           fair_share = coalesce(task_queue_configure.fair_share, x.fair_share)
     WHERE x.name = q.name
    RETURNING * INTO q;
    -- unpaused, or a limit changed: tasks may be claimable that no commit
    -- announced, so every waiter of the queue looks again at commit
    IF NOT q.paused AND (was_paused OR num_nonnulls(task_queue_configure.max_processing,
            task_queue_configure.key_concurrency, task_queue_configure.rate_limit,
            task_queue_configure.rate_interval, task_queue_configure.fair_share,
            task_queue_configure.key_rate_limit) > 0) THEN
        PERFORM task._wake_queue(q.name, q.owner);
    END IF;
    RETURN q;
EXCEPTION WHEN check_violation THEN
    PERFORM task._queue_policy_error(task_queue_configure.queue);
END
$$;
COMMENT ON FUNCTION task.task_queue_configure(text, interval, integer, interval, interval, interval, boolean, integer, interval, integer, integer, integer, interval, boolean, integer) IS
    'Changes a queue''s worker policy: lease length, max attempts, backoff base and cap, retention (0 keeps forever), paused, the priority of new tasks that name none (existing tasks keep theirs), the maximum run time of one attempt (0 removes it; it applies to tasks already processing too), and the claim-time limits max_processing, key_concurrency, rate_limit and key_rate_limit per rate_interval (0 removes a limit) and fair_share. Owning service only.';

-- The claim-time limits of a queue, checked before they are stored: each
-- count given 0 (none) or 1..1000000, and a rate limit (of the queue or
-- per key: rated, once the call is done) with its interval (rate_window),
-- of at most 1 day; an interval given alone needs a rate limit.
CREATE FUNCTION task._check_limits(max_processing integer, key_concurrency integer,
                                   rate_limit integer, key_rate_limit integer, rate_interval interval,
                                   rated boolean, rate_window interval) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF least(max_processing, key_concurrency, rate_limit, key_rate_limit) < 0
       OR greatest(max_processing, key_concurrency, rate_limit, key_rate_limit) > 1000000 THEN
        RAISE EXCEPTION 'queue limits must be between 0 and 1000000'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('max_processing %s, key_concurrency %s, rate_limit %s, key_rate_limit %s.',
                                  coalesce(max_processing::text, 'unchanged'),
                                  coalesce(key_concurrency::text, 'unchanged'),
                                  coalesce(rate_limit::text, 'unchanged'),
                                  coalesce(key_rate_limit::text, 'unchanged')),
                  HINT = 'Pass a count, or 0 to remove the limit.';
    END IF;
    IF rate_interval <= '0' OR rate_interval > '1 day' OR (rated AND rate_window IS NULL) THEN
        RAISE EXCEPTION 'a rate limit needs an interval greater than 0 and at most 1 day'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass rate_limit => N with rate_interval => ''1 second''.';
    END IF;
    IF rate_interval IS NOT NULL AND NOT rated THEN
        RAISE EXCEPTION 'rate_interval needs a rate_limit'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass rate_limit => N with rate_interval => ''1 second''.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_limits(integer, integer, integer, integer, interval, boolean, interval) IS
    'Internal: 22023 unless the claim-time limits of a queue are 0 (none) or 1..1000000 and a rate limit (rate_limit, key_rate_limit) has an interval of (0, 1 day].';

-- The channel NOTIFY uses is the name given, "_", and 16 hex digits
-- derived from the extension's secret, the owner and the name: any role
-- can LISTEN on any channel, and pg_notify on any, so a name another
-- tenant could guess would show it the queue's tasks, statuses and times,
-- and let it send false ones. The owning service reads the channel from
-- the queue row this returns.
CREATE FUNCTION task.task_queue_notify(queue text, channel text) RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue := task._worker_queue(task_queue_notify.queue);
BEGIN
    IF task_queue_notify.channel <> '' AND task_queue_notify.channel !~ '^[a-z_][a-z0-9_]{0,45}$' THEN
        RAISE EXCEPTION 'invalid notify channel: "%"', left(task_queue_notify.channel, 70)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A channel is 1 to 46 lower-case letters, digits and "_", not starting with a digit.',
                  HINT = 'Pass a name such as task_done, then LISTEN on the notify_channel this returns.';
    END IF;
    UPDATE task.queue x
       SET notify_channel = CASE WHEN coalesce(task_queue_notify.channel, '') = '' THEN ''
                                 ELSE task_queue_notify.channel || '_' || lpad(to_hex(task._lock_key(
                                          format('notify/%s/%s', q.owner, task_queue_notify.channel))), 16, '0') END
     WHERE x.name = q.name
    RETURNING * INTO q;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task.task_queue_notify(text, text) IS
    'Sends a NOTIFY, payload {"id", "queue", "status"}, at the commit of each transaction that brings a task of the queue to completed, failed or cancelled, on the channel named channel, "_" and 16 hex digits derived from a secret of the extension (returned as notify_channel: LISTEN on it); NULL (or '''') turns it off. Owning service only. No other tenant can guess the channel, to listen or to send.';

-- A queue name must lie in its owner's namespace; taken: the caller named
-- a queue of another service, answered like a name outside its namespace
-- that does not exist (namespaces do not overlap, so it is one).
CREATE FUNCTION task._check_queue_namespace(owner integer, queue text, taken boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    ns text;
BEGIN
    SELECT s.namespace INTO ns FROM task.service s WHERE s.id = _check_queue_namespace.owner;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % does not exist', task.service_text(_check_queue_namespace.owner)
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    IF taken OR left(_check_queue_namespace.queue, length(ns) + 1) <> ns || '/' THEN
        RAISE EXCEPTION 'queue "%" is outside the namespace of %', _check_queue_namespace.queue,
                        task.service_text(_check_queue_namespace.owner)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Queues of %s are named %s/...', task.service_text(_check_queue_namespace.owner), ns),
                  HINT = format('Use a name such as "%s/commands".', ns);
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_queue_namespace(integer, text, boolean) IS
    'Internal: 22023 unless the queue name lies in the owning service''s namespace (or always, for a queue of another service).';

-- The queue a task is created in: existing, or made on first use by a
-- service under its namespace. A queue of another service is answered
-- exactly like a name that does not exist.
CREATE FUNCTION task._queue_for_create(queue text) RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    q task.queue;
    svc integer := task.current_service();
    found_it boolean;
BEGIN
    SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
    found_it := FOUND;
    -- the common case in one lookup: the owner (or the system) in an existing queue
    IF found_it AND task._may_write(q.owner, false) THEN
        RETURN q;
    END IF;
    IF svc IS NULL THEN
        IF task.current_kind() = 'system' THEN
            RAISE EXCEPTION 'queue "%" does not exist', _queue_for_create.queue
                USING ERRCODE = 'no_data_found',
                      HINT = 'Create it first with task_queue_create(queue, owner => ''SVC-XXXX'').';
        END IF;
        RAISE EXCEPTION 'permission denied to create a task'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Tasks are created by services.';
    END IF;
    -- another service's queue, and a new name outside the caller's
    -- namespace, are refused here, by one call: the same error from the
    -- same line (a direct connection shows the CONTEXT of both); a name
    -- that is no queue name at all is told so first
    PERFORM task._check_path('queue', _queue_for_create.queue);
    PERFORM task._check_queue_namespace(svc, _queue_for_create.queue, found_it);
    -- first task of a new queue: make it with the default policy
    BEGIN
        q := task.task_queue_create(_queue_for_create.queue);
    EXCEPTION WHEN duplicate_object THEN
        SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
        IF NOT task._may_write(q.owner, false) THEN
            PERFORM task._check_queue_namespace(svc, _queue_for_create.queue, true);
        END IF;
    END;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task._queue_for_create(text) IS 'Internal: resolves (or creates) the queue of a new task and checks the caller may use it.';

-- The queue a worker call acts on, checked: the owning service (or the
-- system) only; a queue outside the caller's scope is not found.
-- A queue row as task_queue_create would make it when the caller sets
-- nothing: every column from the column defaults of task.queue
-- (20_tables.sql), the one place they are written.
CREATE FUNCTION task._queue_defaults(name text, owner integer) RETURNS task.queue
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q task.queue;
BEGIN
    EXECUTE (SELECT 'SELECT (ROW(' || pg_catalog.string_agg(coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), 'NULL'),
                                                          ', ' ORDER BY a.attnum) || ')::task.queue).*'
               FROM pg_catalog.pg_attribute a
               LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = 'task.queue'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped)
       INTO q;
    q.name := _queue_defaults.name;
    q.owner := _queue_defaults.owner;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task._queue_defaults(text, integer) IS
    'Internal: the row of a new queue of that name and owner with every other column at its table default (task_queue_create, and the not-yet-created queue a worker waits on).';

CREATE FUNCTION task._worker_queue(queue text, missing_ok boolean DEFAULT false) RETURNS task.queue
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q task.queue;
    ns text;
BEGIN
    SELECT * INTO q FROM task.queue x WHERE x.name = _worker_queue.queue;
    IF FOUND AND task._may_write(q.owner, false) THEN
        RETURN q;
    END IF;
    IF FOUND AND task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to work on queue "%"', _worker_queue.queue
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s.', task.service_text(q.owner)),
                  HINT = 'Only the owning service runs workers on a queue and changes its settings.';
    END IF;
    -- a worker that starts before the first task: a queue not created yet
    -- in the caller's own namespace is an empty queue (its first task_create
    -- makes it), returned unsaved with the column defaults of task.queue
    -- (20_tables.sql) and no created_at
    IF NOT FOUND AND _worker_queue.missing_ok AND task.current_service() IS NOT NULL THEN
        SELECT s.namespace INTO ns FROM task.service s WHERE s.id = task.current_service();
        IF left(_worker_queue.queue, length(ns) + 1) = ns || '/' THEN
            PERFORM task._check_path('queue', _worker_queue.queue);
            q := task._queue_defaults(_worker_queue.queue, task.current_service());
            q.created_at := NULL;   -- not saved: the queue does not exist yet
            RETURN q;
        END IF;
    END IF;
    RAISE EXCEPTION 'queue "%" not found', _worker_queue.queue
        USING ERRCODE = 'no_data_found',
              HINT = 'Check the name; queues of other services are reported as not found.';
END
$$;
COMMENT ON FUNCTION task._worker_queue(text, boolean) IS
    'Internal: the queue row for a worker call, after checking the caller owns it; with missing_ok, a queue not created yet in the calling service''s namespace is an empty queue (an unsaved row, created_at NULL).';
