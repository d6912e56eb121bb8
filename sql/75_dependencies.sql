\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Dependencies settle in the transaction that settles their last
-- dependency: an AFTER trigger on completion, failure and cancellation
-- queues the blocked tasks whose dependencies have now all completed, and
-- cancels those that depend on a task that failed for good or was
-- cancelled, each with a log entry naming the cause.
--
-- Two dependencies of one task completing at the same time: each
-- transaction first locks the blocked dependents (in id order), then
-- checks them in a new statement. Under READ COMMITTED the second
-- transaction waits for the first's lock and its check sees the first's
-- completion, so the last one to commit releases the task.

-- Queue the blocked tasks among ids (all of one owner) whose dependencies
-- have all completed, each with a log entry; returns how many. Shared by
-- the settle trigger and the safety net in task_maintain().
CREATE FUNCTION task._release_ready(owner integer, ids task.task_id[], message text) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        UPDATE ONLY task.task t SET status = 'queued', run_at = greatest(t.run_at, now())
         WHERE t.owner = _release_ready.owner AND t.id = ANY (_release_ready.ids)
           AND t.status = 'blocked'
           AND NOT EXISTS (SELECT FROM task.task_dependency d
                             JOIN ONLY task.task x ON x.owner = d.owner AND x.id = d.depends_on
                            WHERE d.owner = t.owner AND d.task_id = t.id AND x.status <> 'completed')
        RETURNING t.owner, t.id
    LOOP
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (r.owner, r.id, _release_ready.message, task.current_actor());
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._release_ready(integer, task.task_id[], text) IS
    'Internal: queues those of the given blocked tasks whose dependencies have all completed, logging the message; returns how many.';

CREATE FUNCTION task._settle_dependents() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    channel text;
BEGIN
    -- a hired task's escrow moves with its status (87_market.sql)
    IF NEW.code LIKE 'market.%' THEN
        PERFORM task._market_on_final(NEW);
    END IF;
    -- notify: the queue's channel (task_queue_notify), sent at commit. Here
    -- rather than in a trigger of its own, which measured 12% more CPU for
    -- a create and a cancel (bench/sql/notify_cpu.sql)
    SELECT q.notify_channel INTO channel FROM task.queue q WHERE q.name = NEW.queue;
    IF channel <> '' THEN
        PERFORM pg_notify(channel, jsonb_build_object('id', NEW.id::text, 'queue', NEW.queue, 'status', NEW.status)::text);
    END IF;
    -- notify end

    PERFORM FROM ONLY task.task t
     WHERE t.owner = NEW.owner AND t.status = 'blocked'
       AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                     WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
     ORDER BY t.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- a snapshot transaction cannot see a concurrent completion of another
    -- dependency, and both could commit leaving the task blocked for good
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'tasks with dependents must settle in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = format('Task %s has blocked dependents; this transaction is %s.',
                                  NEW.id, current_setting('transaction_isolation')),
                  HINT = 'Complete, fail or cancel it in READ COMMITTED (the default).';
    END IF;

    IF NEW.status = 'completed' THEN
        PERFORM task._release_ready(NEW.owner,
                                    ARRAY(SELECT d.task_id FROM task.task_dependency d
                                           WHERE d.owner = NEW.owner AND d.depends_on = NEW.id),
                                    format('released: its last dependency %s completed', NEW.id));
    ELSE
        FOR r IN
            UPDATE ONLY task.task t
               SET status = 'cancelled', error = format('dependency %s is %s', NEW.id, NEW.status)
             WHERE t.owner = NEW.owner AND t.status = 'blocked'
               AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                             WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
            RETURNING t.owner, t.id
        LOOP
            INSERT INTO task.task_log (owner, task_id, message, by)
            VALUES (r.owner, r.id, format('cancelled: dependency %s is %s', NEW.id, NEW.status),
                    task.current_actor());
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._settle_dependents() IS
    'Trigger: on a task that just completed, failed for good or was cancelled, sends its queue''s NOTIFY (task_queue_notify), releases (queued) or cancels the blocked tasks that depend on it, and moves the escrow of a hired task (task._market_on_final). Called by the gate task._settle_gate() when one of these applies.';

-- The trigger runs a C gate (src/transition.c) that calls
-- task._settle_dependents() only for a task that has dependents, a queue
-- with a NOTIFY channel or a hired task (code market.*): most completions
-- need none of it, and the PL/pgSQL call cost a third of a completion's
-- CPU (docs/QUEUE.md). Work added to task._settle_dependents needs its
-- condition added to the gate.
CREATE FUNCTION task._settle_gate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_settle_gate' LANGUAGE C;
COMMENT ON FUNCTION task._settle_gate() IS
    'Trigger: on a final transition, calls task._settle_dependents() when the task has dependents, its queue a NOTIFY channel, or it is a hired task (code market.*); otherwise does nothing.';

-- The trigger's WHEN is compiled again in every statement that updates
-- task.task (claims and completions too): a call of a C function, smaller
-- to read than the IN list and IS DISTINCT FROM it stands for.
CREATE FUNCTION task._settles(old task.status, new task.status) RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_settles' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._settles(task.status, task.status) IS
    'Internal: whether a status change moves a task into a final status (completed, failed or cancelled): the WHEN of the trigger task_settle_dependents.';

CREATE TRIGGER task_settle_dependents
    AFTER UPDATE OF status ON task.task
    FOR EACH ROW
    WHEN (task._settles(OLD.status, NEW.status))
    EXECUTE FUNCTION task._settle_gate();

CREATE FUNCTION task.task_unblock(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    UPDATE ONLY task.task x SET status = 'queued', run_at = greatest(x.run_at, now())
     WHERE x.owner = task.task_id_owner(task_unblock.id) AND x.id = task_unblock.id
       AND task._may_write(x.owner, false)
       AND x.status = 'blocked'
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_unblock.id, 'unblock', false, NULL, '{blocked}');
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id, 'unblocked by its owner', task.current_actor());
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_unblock(task.task_id) IS
    'Owner only: queues a blocked task now, whatever it was waiting for.';
