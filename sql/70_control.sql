\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Changes by the owning service or Operations outside a claim:
-- task_cancel, task_retry, the access list changes (task_access_add,
-- task_access_remove) and the bulk operations (task_bulk). (task_unblock is
-- in 75_dependencies.sql.)

CREATE FUNCTION task.task_cancel(id task.task_id, reason text DEFAULT NULL) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
    held text;
BEGIN
    PERFORM task._check_text('cancel reason', task_cancel.reason, 8192, true);
    -- an account (not Operations) cancelling a hired task is its client: the marketplace's rules
    IF task.current_account() IS NOT NULL AND NOT task.current_is_operations() AND task._market_hired(task_cancel.id) THEN
        RETURN task._market_finish(task_cancel.id, 'cancelled', NULL, task_cancel.reason);
    END IF;
    -- a task cancelled while processing is taken from its worker: the log
    -- names the attempt and the worker (its next heartbeat, progress,
    -- complete or fail gets 55T01, see _write_failed)
    SELECT format('cancelled during attempt %s%s', x.attempts, task._worker_text(x)) INTO held
      FROM task.task x
     WHERE x.owner = task.task_id_owner(task_cancel.id) AND x.id = task_cancel.id
       AND task._may_write(x.owner, true) AND x.status::text = 'processing'  -- see task._complete
       FOR UPDATE;
    UPDATE task.task x
       SET status = 'cancelled', error = coalesce(task_cancel.reason, x.error)
     WHERE x.owner = task.task_id_owner(task_cancel.id) AND x.id = task_cancel.id
       AND task._may_write(x.owner, true)
       AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_cancel.id, 'cancel', true, NULL, '{blocked,queued,processing,rescheduled}');
    END IF;
    IF task_cancel.reason IS NOT NULL OR held IS NOT NULL THEN
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, concat_ws(': ', coalesce(held, 'cancelled'), task_cancel.reason), task.current_actor());
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_cancel(task.task_id, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason kept in error and the log. A processing task is taken from its worker: the log names the attempt and the worker, the worker''s next task_heartbeat, task_progress, task_complete or task_fail with its token fails with 55T01 "task ... was cancelled", and task_wait on the task returns.';

CREATE FUNCTION task.task_retry(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    -- a hired task is refused by the trigger (src/transition.c)
    UPDATE task.task x
       SET status = 'queued', run_at = now(), attempts = 0
     WHERE x.owner = task.task_id_owner(task_retry.id) AND x.id = task_retry.id
       AND task._may_write(x.owner, true)
       AND x.status::text = 'failed'  -- see task._complete: not a scan of task_finished_idx
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_retry.id, 'retry', true, NULL, '{failed}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_retry(task.task_id) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations).';

-- ---------------------------------------------------------------- access list changes
-- Add or remove accounts, audited: the task's revision and updated stamp
-- move and its log says what changed. Nothing changes (no revision) when
-- every account was already in (add) or out (remove).
CREATE FUNCTION task._access_change(id task.task_id, accounts text[], adding boolean) RETURNS jsonb
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
    wanted bigint[];
    changed bigint[];
    operation text := CASE WHEN adding THEN 'add to the access list of' ELSE 'remove from the access list of' END;
BEGIN
    IF accounts IS NULL OR cardinality(accounts) = 0 THEN
        RAISE EXCEPTION 'no accounts given'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass accounts => ARRAY[''ACC-XXXX-YYYY'', ...].';
    END IF;
    -- a live task: an archived one is read-only (task._write_failed says so)
    SELECT * INTO t FROM ONLY task.task x
     WHERE x.owner = task.task_id_owner(_access_change.id) AND x.id = _access_change.id
       AND task._may_write(x.owner, true)
       FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_access_change.id, operation, true);
    END IF;
    -- a hired task is seen by its client and its current agent: the
    -- marketplace keeps that list (task_hire, task_reassign)
    IF task._market_hired(t.id) THEN
        RAISE EXCEPTION 'cannot % task %: it was hired through the marketplace', operation, t.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The access list of a hired task is its client and its agent.',
                  HINT = 'Reassign the task (task_reassign) to change its agent.';
    END IF;
    wanted := task._account_numbers(accounts);
    IF adding THEN
        WITH ins AS (
            INSERT INTO task.task_access (owner, task_id, account)
            SELECT t.owner, t.id, n FROM unnest(wanted) n
            ON CONFLICT DO NOTHING
            RETURNING account)
        SELECT array_agg(account ORDER BY account) INTO changed FROM ins;
    ELSE
        WITH del AS (
            DELETE FROM task.task_access a
             WHERE a.owner = t.owner AND a.task_id = t.id AND a.account = ANY (wanted)
            RETURNING account)
        SELECT array_agg(account ORDER BY account) INTO changed FROM del;
    END IF;
    IF changed IS NOT NULL THEN
        -- an update without new values: the trigger bumps the revision and stamps updated
        UPDATE task.task x SET status = x.status
         WHERE x.owner = t.owner AND x.id = t.id
        RETURNING * INTO t;
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id,
                format('access %s: %s', CASE WHEN adding THEN 'added' ELSE 'removed' END,
                       (SELECT string_agg(task.account_text(n), ', ' ORDER BY n) FROM unnest(changed) n)),
                task.current_actor());
    END IF;
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task._access_change(task.task_id, text[], boolean) IS
    'Internal: adds or removes accounts of a task''s access list, bumping its revision and logging the change.';

CREATE FUNCTION task.task_access_add(id task.task_id, accounts text[]) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    RETURN task._access_change(id, accounts, true);
COMMENT ON FUNCTION task.task_access_add(task.task_id, text[]) IS
    'Gives accounts (ACC-XXXX-YYYY ids) access to a task and its result; returns the task as task_get does. Owning service or Operations; audited (revision, updated, a log entry). Accounts already in are left as they are.';

CREATE FUNCTION task.task_access_remove(id task.task_id, accounts text[]) RETURNS jsonb
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    RETURN task._access_change(id, accounts, false);
COMMENT ON FUNCTION task.task_access_remove(task.task_id, text[]) IS
    'Takes accounts (ACC-XXXX-YYYY ids) off a task''s access list; returns the task as task_get does. Owning service or Operations; audited (revision, updated, a log entry). Accounts not in the list are ignored.';

-- ---------------------------------------------------------------- bulk operations
-- One batch of one action over the tasks a filter matches: at most
-- batch_size tasks, locked in id order and changed in one statement, so a
-- batch is all or nothing; "more" says whether matching tasks remain (call
-- again until it is false). A service acts on its own tasks, Operations on
-- every service's.
CREATE FUNCTION task.task_bulk(
    action          text,
    queue           text DEFAULT NULL,
    code            text DEFAULT NULL,
    status          task.status DEFAULT NULL,
    older_than      interval DEFAULT NULL,
    ordering_key    text DEFAULT NULL,
    idempotency_key text DEFAULT NULL,
    run_at          timestamptz DEFAULT NULL,
    reason          text DEFAULT NULL,
    batch_size      integer DEFAULT 1000,
    OUT changed     bigint,
    OUT more        boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    applies task.status[] := CASE task_bulk.action
        WHEN 'cancel' THEN '{blocked,queued,processing,rescheduled}'
        WHEN 'retry' THEN '{failed}'
        WHEN 'reschedule' THEN '{queued,rescheduled}'
        WHEN 'delete' THEN '{blocked,queued,rescheduled,completed,failed,cancelled}'
        WHEN 'purge' THEN '{completed,failed,cancelled}' END::task.status[];
    victims task.task_id[];
    held_ids task.task_id[];
    held text[];
    n bigint;
BEGIN
    IF applies IS NULL THEN
        RAISE EXCEPTION 'unknown bulk action: "%"', left(task_bulk.action, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use cancel, retry, reschedule, delete or purge.';
    END IF;
    IF task_bulk.status IS NOT NULL AND task_bulk.status <> ALL (applies) THEN
        RAISE EXCEPTION 'cannot % tasks that are %', task_bulk.action, task_bulk.status
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('%s applies to tasks that are %s.', initcap(task_bulk.action),
                                  array_to_string(applies, ', ')),
                  HINT = 'Leave status out to act on every status the action applies to.';
    END IF;
    IF (task_bulk.action = 'reschedule') <> (task_bulk.run_at IS NOT NULL) THEN
        RAISE EXCEPTION 'run_at goes with reschedule, and only with it'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'task_bulk(''reschedule'', ..., run_at => now() + interval ''1 hour'').';
    END IF;
    PERFORM task._check_time('run_at', task_bulk.run_at);
    IF task_bulk.batch_size IS NULL OR task_bulk.batch_size NOT BETWEEN 1 AND 10000 OR task_bulk.older_than < '0'
       OR task_bulk.older_than > '36525 days' THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 10000 and older_than between 0 and 100 years'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep batches small and call again while "more" is true.';
    END IF;
    PERFORM task._check_text('cancel reason', task_bulk.reason, 8192, true);
    IF svc IS NULL AND NOT task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to % tasks in bulk', task_bulk.action
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Bulk operations are for the owning service and Operations.';
    END IF;

    -- the batch, locked in id order (one more row tells whether more remain);
    -- a task that a blocked task waits for is never deleted (as in task_maintain);
    -- live tasks only: archived ones are read-only (83_history.sql)
    SELECT array_agg(v.id ORDER BY v.id) INTO victims
      FROM (SELECT x.id FROM ONLY task.task x
             WHERE (svc IS NULL OR x.owner = svc)
               AND x.status = ANY (applies)
               AND (task_bulk.status IS NULL OR x.status = task_bulk.status)
               AND (task_bulk.queue IS NULL OR x.queue = task_bulk.queue)
               AND (task_bulk.code IS NULL OR x.code = task_bulk.code)
               AND (task_bulk.older_than IS NULL OR x.status_at < now() - task_bulk.older_than)
               AND (task_bulk.ordering_key IS NULL OR x.ordering_key = task_bulk.ordering_key)
               AND (task_bulk.idempotency_key IS NULL OR x.idempotency_key = task_bulk.idempotency_key)
               AND (task_bulk.action NOT IN ('delete', 'purge') OR NOT EXISTS (
                        SELECT FROM task.task_dependency d
                          JOIN task.task b ON b.owner = d.owner AND b.id = d.task_id
                         WHERE d.owner = x.owner AND d.depends_on = x.id AND b.status = 'blocked'))
               -- a hired task holds its ledger's history (never deleted)
               -- and is not retried (its escrow was refunded)
               AND (task_bulk.action NOT IN ('delete', 'purge', 'retry') OR NOT EXISTS (
                        SELECT FROM task.market_task m WHERE m.owner = x.owner AND m.task_id = x.id))
             ORDER BY x.id
             LIMIT task_bulk.batch_size + 1
             FOR UPDATE) v;
    more := coalesce(cardinality(victims), 0) > task_bulk.batch_size;
    victims := victims[1:task_bulk.batch_size];

    CASE task_bulk.action
    WHEN 'cancel' THEN
        -- processing tasks are taken from their workers: the log names
        -- each one's attempt and worker, as task_cancel does
        SELECT array_agg(x.id), array_agg(format('cancelled during attempt %s%s', x.attempts, task._worker_text(x)))
          INTO held_ids, held
          FROM task.task x
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id)
           AND x.status::text = 'processing';  -- see task._complete
        UPDATE task.task x SET status = 'cancelled', error = coalesce(task_bulk.reason, x.error)
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO task.task_log (owner, task_id, message, by)
        SELECT task.task_id_owner(v), v, concat_ws(': ', coalesce(h.message, 'cancelled'), task_bulk.reason),
               task.current_actor()
          FROM unnest(victims) v
          LEFT JOIN unnest(held_ids, held) AS h(id, message) ON h.id = v
         WHERE h.id IS NOT NULL OR task_bulk.reason IS NOT NULL;
    WHEN 'retry' THEN
        UPDATE task.task x SET status = 'queued', run_at = now(), attempts = 0
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    WHEN 'reschedule' THEN
        UPDATE task.task x SET run_at = task_bulk.run_at
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
        -- delete, purge: with their logs and the dependency rows naming them
        -- (access rows and their own dependency rows go by cascade)
        DELETE FROM task.task_log l
         WHERE l.task_id = ANY (victims) AND l.owner = task.task_id_owner(l.task_id);
        DELETE FROM task.task_dependency d
         WHERE d.depends_on = ANY (victims) AND d.owner = task.task_id_owner(d.depends_on);
        DELETE FROM task.task x
         WHERE x.id = ANY (victims) AND x.owner = task.task_id_owner(x.id);
        GET DIAGNOSTICS n = ROW_COUNT;
    END CASE;
    changed := n;
END
$$;
COMMENT ON FUNCTION task.task_bulk(text, text, text, task.status, interval, text, text, timestamptz, text, integer) IS
    'Bulk operation, one batch per call: action cancel (unfinished tasks; optional reason), retry (failed), reschedule (queued or rescheduled tasks, to run_at), delete (any task not processing, with its log) or purge (finished tasks, with their log) over the tasks matching queue, code, status, older_than (last status change before now() - older_than), ordering_key and idempotency_key. At most batch_size (1..10000, default 1000) tasks, all or nothing; returns changed and more (call again while true). The owning service (its own tasks) and Operations (all); tasks a blocked task waits for are not deleted, and tasks hired through the marketplace are neither deleted nor retried.';
