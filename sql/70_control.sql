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
BEGIN
    PERFORM task._check_text('cancel reason', task_cancel.reason, 8192, true);
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
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(_access_change.id) AND x.id = _access_change.id
       AND task._may_write(x.owner, true)
       FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_access_change.id, operation, true);
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
