\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The marketplace's hooks into the core, defined before the core files
-- that call them (SQL function bodies are checked at creation): the
-- "marketplace" object of the JSON Task (task._task_json, 55_read.sql),
-- and the routing of task_complete / task_fail (65_worker.sql) and
-- task_cancel (70_control.sql) called by an account on a hired task. The
-- rest of the marketplace is in 87_market.sql.

-- The "marketplace" object of a task's JSON: NULL (left out) for tasks
-- not hired through the marketplace.
CREATE FUNCTION task._market_json(owner integer, id task.task_id) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'capability', m.capability,
        'execution_mode', m.execution_mode,
        -- the client's name only to itself and Operations, as in the audit
        -- (an agent is named: the agent directory is public)
        'client', (SELECT pg_catalog.jsonb_build_object('id', task.account_text(a.id),
                              'name', CASE WHEN task.current_account() = m.client OR task.current_is_operations()
                                           THEN a.name END)
                     FROM task.account a WHERE a.id = m.client),
        'agent', (SELECT pg_catalog.jsonb_build_object('id', task.account_text(a.id), 'name', a.name)
                    FROM task.account a WHERE a.id = m.agent),
        'currency', m.currency,
        'max_price', m.max_price,
        'price', m.price,
        'escrow', pg_catalog.jsonb_build_object(
            'state', m.escrow,
            'held', (SELECT e.balance FROM task.ledger_account e WHERE e.id = m.escrow_account),
            'review_until', pg_catalog.to_char(m.review_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
        'dispute', (SELECT pg_catalog.jsonb_build_object(
                        'tier', d.tier,
                        'status', CASE WHEN d.closed_at IS NULL THEN 'open' ELSE 'closed' END,
                        'reason', d.reason,
                        'opened_by', d.opened_by,
                        'deadline', CASE WHEN d.closed_at IS NULL
                                         THEN pg_catalog.to_char(d.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
                        'proposal', d.proposal,
                        'agent_amount', d.agent_amount)
                      FROM task.market_dispute d WHERE d.owner = m.owner AND d.task_id = m.task_id)))
      FROM task.market_task m
     WHERE m.owner = _market_json.owner AND m.task_id = _market_json.id
$$;
COMMENT ON FUNCTION task._market_json(integer, task.task_id) IS
    'Internal: the marketplace part of a hired task''s JSON (capability, execution mode, client (named to itself and Operations only), agent, currency, prices, escrow state and amount held, dispute); NULL for other tasks.';

-- ---------------------------------------------------------------- routing of the core calls
-- Visibility first: a hired task the caller may not see (another client's,
-- or one its agent was taken off) goes the way of any task out of scope,
-- to "not found" by the same functions and lines as an id never issued.
-- Until stop 27 it went to _market_finish, whose not found said the same
-- words under another CONTEXT: any account could tell a hire's id from an
-- id never issued.
CREATE FUNCTION task._market_hired(id task.task_id) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT task._visible(task.task_id_owner(_market_hired.id), _market_hired.id)
       AND EXISTS (SELECT FROM task.market_task m
                    WHERE m.owner = task.task_id_owner(_market_hired.id) AND m.task_id = _market_hired.id)
$$;
COMMENT ON FUNCTION task._market_hired(task.task_id) IS 'Internal: whether a task the caller may see was hired through the marketplace (routes the core calls of accounts to _market_finish; a hidden one is answered as any task out of scope).';

-- task_complete and task_fail by the agent, task_cancel by the client (the
-- core functions route accounts here for hired tasks). The escrow moves in
-- the AFTER UPDATE trigger, in this transaction.
CREATE FUNCTION task._market_finish(id task.task_id, status task.status, result jsonb, reason text,
                                     resource text DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task := task._market_get(id, true);
    t task.task;
    op text := CASE status WHEN 'completed' THEN 'complete' WHEN 'failed' THEN 'fail' ELSE 'cancel' END;
BEGIN
    IF result IS NOT NULL AND resource IS NOT NULL THEN
        RAISE EXCEPTION 'a task result is either a JSON value or a resource URI, not both'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass result => a JSON value, or resource => ''/relative/uri''.';
    END IF;
    IF status = 'cancelled' AND task._market_role(m) <> 'client' THEN
        PERFORM task._market_denied(m, op, 'the hiring client, the owning service or Operations');
    ELSIF status <> 'cancelled' AND task._market_role(m) <> 'agent' THEN
        PERFORM task._market_denied(m, op, 'the assigned agent or the owning service');
    END IF;
    SELECT * INTO t FROM task.task x WHERE x.owner = m.owner AND x.id = m.task_id;
    IF t.status NOT IN ('queued', 'processing', 'rescheduled', 'blocked')
       OR (status <> 'cancelled' AND t.status = 'blocked') THEN
        RAISE EXCEPTION 'cannot % task %: it is %', op, id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s applies to an unfinished task.', initcap(op)),
                  HINT = 'Read the task again (task_get) and act on its current status.';
    END IF;
    IF status <> 'cancelled' THEN
        UPDATE task.market_agent a SET last_seen = now() WHERE a.account = m.agent;
        IF t.status <> 'processing' THEN
            UPDATE task.task x SET status = 'processing' WHERE x.owner = m.owner AND x.id = m.task_id;
        END IF;
    END IF;
    UPDATE task.task x
       SET status = _market_finish.status,
           result = CASE WHEN _market_finish.status = 'completed' THEN _market_finish.result ELSE x.result END,
           resource = CASE WHEN _market_finish.status = 'completed' THEN _market_finish.resource ELSE x.resource END,
           error = coalesce(_market_finish.reason, x.error)
     WHERE x.owner = m.owner AND x.id = m.task_id
    RETURNING * INTO t;
    IF reason IS NOT NULL THEN
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, t.status::text || ': ' || reason, task.current_actor());
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task._market_finish(task.task_id, task.status, jsonb, text, text) IS
    'Internal: task_complete / task_fail by the assigned agent (a queued task is started first) and task_cancel by the hiring client, for hired tasks; the escrow trigger releases or refunds in the same transaction.';

