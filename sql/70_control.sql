\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Changes by the owning service or Operations outside a claim:
-- task_cancel and task_retry. (task_unblock is in 75_dependencies.sql.)

CREATE FUNCTION task.task_cancel(id task.task_id, reason text DEFAULT NULL) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._check_text('cancel reason', task_cancel.reason, 8192, true);
    -- an account (not Operations) cancelling a hired task is its client: the marketplace's rules
    IF task.current_account() IS NOT NULL AND NOT task.current_is_operations() AND task._market_hired(task_cancel.id) THEN
        RETURN task._market_finish(task_cancel.id, 'cancelled', NULL, task_cancel.reason);
    END IF;
    UPDATE task.task x
       SET status = 'cancelled', error = coalesce(task_cancel.reason, x.error)
     WHERE x.owner = task.task_id_owner(task_cancel.id) AND x.id = task_cancel.id
       AND task._may_write(x.owner, true)
       AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_cancel.id, 'cancel', true, NULL, '{blocked,queued,processing,rescheduled}');
    END IF;
    IF task_cancel.reason IS NOT NULL THEN
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, 'cancelled: ' || task_cancel.reason, task.current_actor());
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_cancel(task.task_id, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason kept in error and the log.';

CREATE FUNCTION task.task_retry(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._market_no_retry(task_retry.id);
    UPDATE task.task x
       SET status = 'queued', run_at = now(), attempts = 0
     WHERE x.owner = task.task_id_owner(task_retry.id) AND x.id = task_retry.id
       AND task._may_write(x.owner, true)
       AND x.status = 'failed'
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_retry.id, 'retry', true, NULL, '{failed}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_retry(task.task_id) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations).';
