\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The marketplace (seed 004; docs/MARKETPLACE.md): agents and their
-- capabilities, the double-entry ledger, task_hire with auto-assignment and
-- escrow, reassignment, the escrow trigger on task.task, result
-- verification (task_accept, or release after the review window),
-- three-tier disputes, messages, artifacts, payments, and
-- task_market_check, which verifies every money invariant.
--
-- A hired task is an ordinary task of the marketplace service (its queue,
-- code "market.<capability>"), whose access list holds the hiring client
-- and the assigned agent: task_get, task_list, task_wait and the RLS
-- policies of task.task already show it to them and to nobody else. The
-- marketplace rules live here; the core calls in at three places only:
-- task_complete and task_fail called by an account (the agent) and
-- task_cancel called by a non-Operations account (the client) on a hired
-- task go to task._market_finish.
--
-- Locks: every call that moves money or changes the assignment locks the
-- task row, then its market_task row (the order the status UPDATE and its
-- AFTER trigger take them in), then ledger accounts in id order. So a
-- completion racing a cancel, a dispute racing a release, two reassigns,
-- or a tip racing a refund run one after the other, and the second sees
-- what the first did.

-- ---------------------------------------------------------------- settings and helpers
CREATE FUNCTION task._market() RETURNS task.market
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    m task.market;
BEGIN
    SELECT * INTO m FROM task.market WHERE id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the marketplace is not set up'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A superuser runs task_market_setup(service, queue) once.';
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION task._market() IS 'Internal: the marketplace settings; 55000 when task_market_setup has not run.';

CREATE FUNCTION task.task_market_setup(
    service            text,
    queue              text,
    currency           text DEFAULT 'USD',
    review_window      interval DEFAULT '1 day',
    tier1_window       interval DEFAULT '3 days',
    tier2_window       interval DEFAULT '3 days',
    tier3_window       interval DEFAULT '7 days',
    unresponsive_after interval DEFAULT '15 minutes',
    max_artifact_bytes integer DEFAULT 1048576,
    max_artifacts      integer DEFAULT 200,
    max_messages       integer DEFAULT 1000)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer;
BEGIN
    PERFORM task._require_system('set up the marketplace');
    svc := task.service_number(task_market_setup.service);
    IF NOT EXISTS (SELECT FROM task.service s WHERE s.id = svc) THEN
        RAISE EXCEPTION 'service % does not exist', task_market_setup.service
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    IF NOT EXISTS (SELECT FROM task.queue q WHERE q.name = task_market_setup.queue AND q.owner = svc) THEN
        RAISE EXCEPTION 'queue % of service % does not exist', task_market_setup.queue, task_market_setup.service
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_queue_create() as the service.';
    END IF;
    IF task_market_setup.currency IS NULL OR task_market_setup.currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'invalid currency: "%"', task_market_setup.currency
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use an ISO 4217 code such as USD.';
    END IF;
    IF EXISTS (SELECT FROM task.market m WHERE m.currency <> task_market_setup.currency)
       AND EXISTS (SELECT FROM task.ledger_txn) THEN
        RAISE EXCEPTION 'the marketplace currency cannot change once money has moved'
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Keep the currency.';
    END IF;
    IF task_market_setup.review_window IS NULL OR task_market_setup.tier1_window IS NULL
       OR task_market_setup.tier2_window IS NULL OR task_market_setup.tier3_window IS NULL
       OR task_market_setup.unresponsive_after IS NULL OR task_market_setup.max_artifact_bytes IS NULL
       OR task_market_setup.max_artifacts IS NULL OR task_market_setup.max_messages IS NULL
       OR task_market_setup.review_window < '0'
       OR least(task_market_setup.tier1_window, task_market_setup.tier2_window, task_market_setup.tier3_window,
                task_market_setup.unresponsive_after) <= '0'
       OR greatest(task_market_setup.review_window, task_market_setup.tier1_window, task_market_setup.tier2_window,
                   task_market_setup.tier3_window, task_market_setup.unresponsive_after) > '366 days'
       OR task_market_setup.max_artifact_bytes NOT BETWEEN 1 AND 104857600
       OR task_market_setup.max_artifacts NOT BETWEEN 1 AND 100000
       OR task_market_setup.max_messages NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'invalid marketplace settings'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'review_window is 0 to 1 year; tier1_window, tier2_window, tier3_window and unresponsive_after above 0 and at most 1 year; max_artifact_bytes 1 to 104857600; max_artifacts and max_messages 1 to 100000.',
                  HINT = 'Leave a setting out to use its default.';
    END IF;
    -- hired tasks hold money: their queue keeps them (retention 0)
    UPDATE task.queue q SET retention = '0' WHERE q.name = task_market_setup.queue;
    INSERT INTO task.market AS m (id, service, queue, currency, review_window, tier1_window, tier2_window,
                                  tier3_window, unresponsive_after, max_artifact_bytes, max_artifacts, max_messages)
    VALUES (true, svc, task_market_setup.queue, task_market_setup.currency, task_market_setup.review_window,
            task_market_setup.tier1_window, task_market_setup.tier2_window, task_market_setup.tier3_window,
            task_market_setup.unresponsive_after, task_market_setup.max_artifact_bytes,
            task_market_setup.max_artifacts, task_market_setup.max_messages)
    ON CONFLICT (id) DO UPDATE SET service = excluded.service, queue = excluded.queue,
        currency = excluded.currency, review_window = excluded.review_window,
        tier1_window = excluded.tier1_window, tier2_window = excluded.tier2_window,
        tier3_window = excluded.tier3_window, unresponsive_after = excluded.unresponsive_after,
        max_artifact_bytes = excluded.max_artifact_bytes, max_artifacts = excluded.max_artifacts,
        max_messages = excluded.max_messages;
    RETURN (SELECT to_jsonb(m) - 'id' || jsonb_build_object('service', task.service_text(m.service))
              FROM task.market m);
END
$$;
COMMENT ON FUNCTION task.task_market_setup(text, text, text, interval, interval, interval, interval, interval, integer, integer, integer) IS
    'Sets up (or reconfigures) the marketplace: the service and queue owning hired tasks (the queue''s retention becomes 0: tasks holding money are kept), the currency, the review window after completion (0: release on completion), the deadline of each dispute tier, when an agent counts as unresponsive, the largest artifact, and how many artifacts and messages one hired task holds (max_artifacts, default 200; max_messages, default 1000). Superuser only.';

-- An amount of money from the API: a whole, positive number of minor units
-- (or zero, where allow_zero says so: a price, an agent's share).
CREATE FUNCTION task._market_amount(field text, value numeric, allow_zero boolean DEFAULT false) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% is required', field
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Amounts are whole numbers of minor units of the marketplace currency (cents).';
    END IF;
    IF value <> trunc(value) THEN
        RAISE EXCEPTION '% must be a whole number of minor units, not %', field, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Amounts are integers in minor units (cents): 12.50 USD is 1250.';
    END IF;
    IF value < 0 OR (value = 0 AND NOT allow_zero) THEN
        RAISE EXCEPTION '% must be %, not %', field, CASE WHEN allow_zero THEN 'at least 0' ELSE 'positive' END, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN allow_zero
                              THEN format('Pass 0 or a positive whole number of minor units (cents) as %s.', field)
                              ELSE 'Amounts are positive whole numbers of minor units (cents).' END;
    END IF;
    IF value > 1000000000000000 THEN
        RAISE EXCEPTION '% is too large: %', field, value
            USING ERRCODE = 'numeric_value_out_of_range', HINT = 'Amounts are at most 10^15 minor units.';
    END IF;
    RETURN value::bigint;
END
$$;
COMMENT ON FUNCTION task._market_amount(text, numeric, boolean) IS 'Internal: validates an amount (whole minor units, positive or, with allow_zero, at least 0) and returns it as bigint.';

-- An account id of the API (ACC-XXXX-YYYY) that must exist and be active.
CREATE FUNCTION task._market_account(id text, what text) RETURNS task.account
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a task.account;
BEGIN
    IF _market_account.id IS NULL THEN
        RAISE EXCEPTION '% id must not be null', what
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass an account id, ACC-XXXX-YYYY.';
    END IF;
    SELECT * INTO a FROM task.account x WHERE x.id = task.account_number(_market_account.id) AND x.status = 'Active';
    IF NOT FOUND THEN
        RAISE EXCEPTION '% % not found', what, _market_account.id
            USING ERRCODE = 'no_data_found', HINT = 'Check the account id (ACC-XXXX-YYYY); it must be active.';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION task._market_account(text, text) IS 'Internal: the active account of an id, or P0002; 22004 for a NULL id.';

-- ---------------------------------------------------------------- the ledger
CREATE FUNCTION task._ledger_wallet(acc bigint, cur text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    w bigint;
BEGIN
    SELECT l.id INTO w FROM task.ledger_account l
     WHERE l.kind = 'wallet' AND l.account = _ledger_wallet.acc AND l.currency = _ledger_wallet.cur;
    IF NOT FOUND THEN
        INSERT INTO task.ledger_account AS l (kind, account, currency)
        VALUES ('wallet', _ledger_wallet.acc, _ledger_wallet.cur)
        ON CONFLICT (account, currency) WHERE kind = 'wallet' DO NOTHING
        RETURNING l.id INTO w;
        IF w IS NULL THEN
            SELECT l.id INTO w FROM task.ledger_account l
             WHERE l.kind = 'wallet' AND l.account = _ledger_wallet.acc AND l.currency = _ledger_wallet.cur;
        END IF;
    END IF;
    RETURN w;
END
$$;
COMMENT ON FUNCTION task._ledger_wallet(bigint, text) IS 'Internal: the wallet ledger account of an account in a currency, created empty when missing.';

CREATE FUNCTION task._ledger_funding(cur text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    f bigint;
BEGIN
    SELECT l.id INTO f FROM task.ledger_account l WHERE l.kind = 'funding' AND l.currency = _ledger_funding.cur;
    IF NOT FOUND THEN
        INSERT INTO task.ledger_account AS l (kind, currency) VALUES ('funding', _ledger_funding.cur)
        ON CONFLICT (currency) WHERE kind = 'funding' DO NOTHING
        RETURNING l.id INTO f;
        IF f IS NULL THEN
            SELECT l.id INTO f FROM task.ledger_account l WHERE l.kind = 'funding' AND l.currency = _ledger_funding.cur;
        END IF;
    END IF;
    RETURN f;
END
$$;
COMMENT ON FUNCTION task._ledger_funding(text) IS 'Internal: the funding ledger account of a currency (money entering the marketplace comes from it).';

-- Post one balanced transaction: legs (ledger account, amount), zero legs
-- dropped. Balances move in ledger-account id order (no deadlock between
-- two postings), each guarded so that no balance but funding goes below 0.
CREATE FUNCTION task._ledger_post(kind text, owner integer, task_id task.task_id, memo text,
                                  accounts bigint[], amounts bigint[])
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    txn bigint;
    leg record;
    n smallint := 0;
    cur text;
    bal bigint;
BEGIN
    IF cardinality(accounts) <> cardinality(amounts)
       OR (SELECT sum(a) FROM unnest(amounts) a) <> 0 THEN
        RAISE EXCEPTION 'unbalanced ledger transaction'
            USING ERRCODE = 'internal_error', DETAIL = format('Accounts %s, amounts %s.', accounts, amounts);
    END IF;
    INSERT INTO task.ledger_txn AS x (kind, owner, task_id, by, memo)
    VALUES (_ledger_post.kind, _ledger_post.owner, _ledger_post.task_id, task.current_actor(), _ledger_post.memo)
    RETURNING x.id INTO txn;
    FOR leg IN
        SELECT u.a, sum(u.v)::bigint AS v FROM unnest(accounts, amounts) AS u(a, v)
         GROUP BY u.a HAVING sum(u.v) <> 0 ORDER BY u.a
    LOOP
        UPDATE task.ledger_account l SET balance = l.balance + leg.v
         WHERE l.id = leg.a AND (l.kind = 'funding' OR l.balance + leg.v >= 0)
        RETURNING l.currency INTO cur;
        IF NOT FOUND THEN
            SELECT l.balance INTO bal FROM task.ledger_account l WHERE l.id = leg.a;
            RAISE EXCEPTION 'insufficient balance'
                USING ERRCODE = 'check_violation',
                      DETAIL = format('The payment needs %s minor units; the balance is %s.', -leg.v, bal),
                      HINT = 'Deposit more (task_market_deposit) or pay less.';
        END IF;
        n := n + 1;
        INSERT INTO task.ledger_entry (txn, leg, ledger_account, amount, currency)
        VALUES (txn, n, leg.a, leg.v, cur);
    END LOOP;
    RETURN txn;
END
$$;
COMMENT ON FUNCTION task._ledger_post(text, integer, task.task_id, text, bigint[], bigint[]) IS
    'Internal: posts one balanced ledger transaction (legs sum to zero) and moves the balances, in account id order; 23514 "insufficient balance" when a wallet would go below zero.';

CREATE FUNCTION task.task_market_deposit(account text, amount numeric, memo text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    mk task.market := task._market();
    a task.account;
    amt bigint;
    w bigint;
BEGIN
    PERFORM task._require_operations('deposit money');
    a := task._market_account(task_market_deposit.account, 'account');
    amt := task._market_amount('amount', task_market_deposit.amount);
    PERFORM task._check_text('memo', task_market_deposit.memo, 1024, false);
    w := task._ledger_wallet(a.id, mk.currency);
    PERFORM task._ledger_post('deposit', NULL, NULL, task_market_deposit.memo,
                              ARRAY[task._ledger_funding(mk.currency), w], ARRAY[-amt, amt]);
    RETURN task._market_balance_json(a.id);
END
$$;
COMMENT ON FUNCTION task.task_market_deposit(text, numeric, text) IS
    'Credits an account''s wallet with money paid into the marketplace (a ledger deposit from the funding account) and returns its balance. Amount in whole minor units. System or Operations only.';

CREATE FUNCTION task._market_balance_json(account bigint) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'account', task.account_text(_market_balance_json.account),
        'currency', mk.currency,
        'balance', coalesce((SELECT l.balance FROM task.ledger_account l
                              WHERE l.kind = 'wallet' AND l.account = _market_balance_json.account
                                AND l.currency = mk.currency), 0),
        'in_escrow', coalesce((SELECT sum(e.balance) FROM task.market_task m
                                 JOIN task.ledger_account e ON e.id = m.escrow_account
                                WHERE m.client = _market_balance_json.account), 0))
      FROM task.market mk
$$;
COMMENT ON FUNCTION task._market_balance_json(bigint) IS 'Internal: an account''s wallet balance and the money it holds in escrow.';

CREATE FUNCTION task.task_market_balance(account text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    acc bigint;
BEGIN
    PERFORM task._market();
    IF task_market_balance.account IS NULL THEN
        acc := task.current_account();
        IF acc IS NULL THEN
            RAISE EXCEPTION 'the caller has no wallet'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Wallets belong to accounts; pass account => ''ACC-...'' as Operations.';
        END IF;
    ELSE
        acc := task.account_number(task_market_balance.account);
        IF acc IS DISTINCT FROM task.current_account() AND NOT task.current_is_operations() THEN
            RAISE EXCEPTION 'account % not found', task_market_balance.account
                USING ERRCODE = 'no_data_found', HINT = 'An account sees its own wallet only.';
        END IF;
        PERFORM task._market_account(task_market_balance.account, 'account');
    END IF;
    RETURN task._market_balance_json(acc);
END
$$;
COMMENT ON FUNCTION task.task_market_balance(text) IS
    'The wallet balance of the calling account (or, for Operations, of any account) and what it holds in escrow, in minor units.';

-- ---------------------------------------------------------------- agents
CREATE FUNCTION task._market_capability(capability text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF capability IS NULL OR capability !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$'
       OR octet_length(capability) > 200 THEN
        RAISE EXCEPTION 'invalid capability: "%"', left(capability, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A capability is one or more identifiers separated by dots, at most 200 bytes.',
                  HINT = 'Use a capability such as "translation.de_en".';
    END IF;
    RETURN capability;
END
$$;
COMMENT ON FUNCTION task._market_capability(text) IS 'Internal: validates a capability name (dot-separated identifiers).';

-- Unfinished tasks assigned to an agent.
CREATE FUNCTION task._market_load(agent bigint) RETURNS integer
    LANGUAGE sql STABLE
AS $$
    SELECT count(*)::integer FROM task.market_task m
      JOIN task.task t ON t.owner = m.owner AND t.id = m.task_id
     WHERE m.agent = _market_load.agent AND t.status NOT IN ('completed', 'failed', 'cancelled')
$$;
COMMENT ON FUNCTION task._market_load(bigint) IS 'Internal: how many unfinished tasks are assigned to the agent.';

CREATE FUNCTION task._market_agent_json(a task.market_agent) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'id', task.account_text(a.account),
        'name', (SELECT x.name FROM task.account x WHERE x.id = a.account),
        'capabilities', to_jsonb(a.capabilities),
        'price', a.price,
        'capacity', a.capacity,
        'active', a.active,
        'load', task._market_load(a.account),
        'responsive', a.last_seen >= now() - (SELECT m.unresponsive_after FROM task.market m))
$$;
COMMENT ON FUNCTION task._market_agent_json(task.market_agent) IS 'Internal: an agent profile as JSON (id, name, capabilities, price, capacity, active, load, responsive).';

CREATE FUNCTION task.task_agent_register(
    account      text,
    capabilities text[],
    price        numeric,
    capacity     integer DEFAULT 1,
    active       boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    a task.account;
    caps text[];
    r task.market_agent;
BEGIN
    PERFORM task._require_operations('register an agent');
    PERFORM task._market();
    a := task._market_account(task_agent_register.account, 'account');
    IF a.type <> 'Vendor' THEN
        RAISE EXCEPTION 'account % is % % account, not a Vendor', task_agent_register.account,
                        CASE a.type WHEN 'Operations' THEN 'an' ELSE 'a' END, a.type
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Agents are Vendor accounts.';
    END IF;
    IF task_agent_register.capabilities IS NULL OR cardinality(task_agent_register.capabilities) NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'an agent needs 1 to 100 capabilities'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass capabilities => ARRAY[''translation.de_en''].';
    END IF;
    SELECT array_agg(DISTINCT task._market_capability(c) ORDER BY task._market_capability(c)) INTO caps
      FROM unnest(task_agent_register.capabilities) c;
    IF task_agent_register.capacity IS NULL OR task_agent_register.capacity NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'capacity must be between 1 and 10000'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'How many unfinished tasks the agent takes at once.';
    END IF;
    INSERT INTO task.market_agent AS x (account, capabilities, price, capacity, active)
    VALUES (a.id, caps, task._market_amount('price', task_agent_register.price, true),
            task_agent_register.capacity, coalesce(task_agent_register.active, true))
    ON CONFLICT (account) DO UPDATE SET capabilities = excluded.capabilities, price = excluded.price,
        capacity = excluded.capacity, active = excluded.active
    RETURNING * INTO r;
    RETURN task._market_agent_json(r);
END
$$;
COMMENT ON FUNCTION task.task_agent_register(text, text[], numeric, integer, boolean) IS
    'Makes a Vendor account an agent, or updates its profile: capabilities, price per task (minor units), capacity (unfinished tasks at once), active. System or Operations only.';

CREATE FUNCTION task.task_agent_heartbeat() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r task.market_agent;
BEGIN
    UPDATE task.market_agent a SET last_seen = now() WHERE a.account = task.current_account()
    RETURNING * INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the caller is not an agent'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Agents are Vendor accounts registered with task_agent_register.';
    END IF;
    RETURN task._market_agent_json(r);
END
$$;
COMMENT ON FUNCTION task.task_agent_heartbeat() IS
    'Agent: says it is alive; auto-assignment skips agents not seen for the marketplace''s unresponsive_after. Returns the agent''s profile.';

CREATE FUNCTION task.task_agents(capability text DEFAULT NULL) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF task.current_account() IS NULL AND NOT task.current_is_operations() AND task.current_service() IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT task._market_agent_json(a) FROM task.market_agent a
      JOIN task.account x ON x.id = a.account AND x.status = 'Active'
     WHERE task_agents.capability IS NULL OR a.capabilities @> ARRAY[task_agents.capability]
     ORDER BY a.price, a.account;
END
$$;
COMMENT ON FUNCTION task.task_agents(text) IS
    'The agent directory: active agents (optionally those offering a capability), cheapest first, with their price, capacity, load and whether they are responsive.';

-- The agent to assign: explicit, or the cheapest responsive agent with the
-- capability, within max_price, below its capacity (checked again after
-- locking the agent row, so two hires cannot both take its last slot).
CREATE FUNCTION task._market_pick(capability text, max_price bigint, client bigint, explicit text, exclude bigint)
    RETURNS task.market_agent
    LANGUAGE plpgsql
AS $$
DECLARE
    mk task.market := task._market();
    a task.market_agent;
    cheapest bigint;
    old_timeout text;
BEGIN
    -- the load is counted after locking the agent's row: a transaction
    -- snapshot would count it as it was before (two hires over capacity)
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'task_hire and task_reassign run in READ COMMITTED only'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = format('A %s snapshot would not see the hires of other clients.',
                                  current_setting('transaction_isolation')),
                  HINT = 'Call them in READ COMMITTED (the default).';
    END IF;
    IF explicit IS NOT NULL THEN
        SELECT x.* INTO a FROM task.market_agent x JOIN task.account y ON y.id = x.account AND y.status = 'Active'
         WHERE x.account = task.account_number(explicit) AND x.active;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'agent % not found', explicit
                USING ERRCODE = 'no_data_found', HINT = 'task_agents() lists the active agents.';
        END IF;
        IF NOT a.capabilities @> ARRAY[capability] THEN
            RAISE EXCEPTION 'agent % does not offer capability "%"', explicit, capability
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('It offers %s.', array_to_string(a.capabilities, ', ')),
                      HINT = 'Pick an agent from task_agents(capability).';
        END IF;
        IF a.price > max_price THEN
            RAISE EXCEPTION 'agent % charges %, above max_price %', explicit, a.price, max_price
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Raise max_price or pick a cheaper agent.';
        END IF;
        IF a.account IN (client, exclude) THEN
            RAISE EXCEPTION 'agent % cannot take this task', explicit
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'An agent cannot be hired by itself, nor reassigned the task it already has.';
        END IF;
        -- another client's hire of this agent in flight (its row locked):
        -- waited for 1 second at most, so that no client holds another
        -- client's hire for as long as its own transaction lasts
        old_timeout := current_setting('lock_timeout');
        BEGIN
            PERFORM set_config('lock_timeout', '1s', true);
            PERFORM FROM task.market_agent x WHERE x.account = a.account FOR UPDATE;
        EXCEPTION WHEN lock_not_available THEN
            RAISE EXCEPTION 'agent % is busy', explicit
                USING ERRCODE = 'lock_not_available',
                      DETAIL = 'Another transaction holds the agent''s row (a hire of it, or its own heartbeat).',
                      HINT = 'Retry in a moment.';
        END;
        PERFORM set_config('lock_timeout', old_timeout, true);
        IF task._market_load(a.account) >= a.capacity THEN
            RAISE EXCEPTION 'agent % is at capacity (% unfinished tasks)', explicit, a.capacity
                USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Pick another agent or retry later.';
        END IF;
        RETURN a;
    END IF;

    SELECT min(x.price) INTO cheapest FROM task.market_agent x JOIN task.account y ON y.id = x.account AND y.status = 'Active'
     WHERE x.active AND x.capabilities @> ARRAY[capability];
    IF cheapest IS NULL THEN
        RAISE EXCEPTION 'no agent offers capability "%"', capability
            USING ERRCODE = 'invalid_parameter_value', HINT = 'task_agents() lists the capabilities on offer.';
    END IF;
    IF cheapest > max_price THEN
        RAISE EXCEPTION 'no agent offers capability "%" within max_price %', capability, max_price
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('The cheapest agent charges %s: raise max_price.', cheapest);
    END IF;
    FOR a IN
        SELECT x.* FROM task.market_agent x JOIN task.account y ON y.id = x.account AND y.status = 'Active'
         WHERE x.active AND x.capabilities @> ARRAY[capability] AND x.price <= max_price
           AND x.last_seen >= now() - mk.unresponsive_after
           AND x.account <> client AND x.account IS DISTINCT FROM exclude
         ORDER BY x.price, x.last_seen DESC, x.account
    LOOP
        -- an agent another client's hire holds right now is passed over
        -- (not waited for: no client holds up another's hire)
        PERFORM FROM task.market_agent x WHERE x.account = a.account FOR UPDATE SKIP LOCKED;
        IF FOUND AND task._market_load(a.account) < a.capacity THEN
            RETURN a;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'no agent is available for capability "%"', capability
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = 'Every agent offering it within max_price is at capacity, unresponsive or taking another hire at this moment.',
              HINT = 'Retry later, or raise max_price to reach more agents.';
END
$$;
COMMENT ON FUNCTION task._market_pick(text, bigint, bigint, text, bigint) IS
    'Internal: the agent to assign (explicit, or the cheapest responsive one with the capability, within max_price, below capacity), its row locked; a precise error when there is none.';

-- ---------------------------------------------------------------- reading a hired task
-- The caller's part in a hired task: client, agent, operations, service
-- (the owning service or the system), or NULL (not found).
CREATE FUNCTION task._market_role(m task.market_task) RETURNS text
    LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN task.current_account() = m.client THEN 'client'
        WHEN task.current_account() = m.agent THEN 'agent'
        WHEN task.current_is_operations() THEN 'operations'
        WHEN task.current_service() = m.owner THEN 'service'
        END
$$;
COMMENT ON FUNCTION task._market_role(task.market_task) IS 'Internal: the caller''s part in a hired task (client, agent, operations, service), NULL when it may not see it.';

-- The hired task for a call: not found unless the caller has a part in it;
-- with lock, the task row and then the market_task row are locked.
CREATE FUNCTION task._market_get(id task.task_id, lock boolean) RETURNS task.market_task
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task;
BEGIN
    SELECT * INTO m FROM task.market_task x
     WHERE x.owner = task.task_id_owner(_market_get.id) AND x.task_id = _market_get.id;
    IF NOT FOUND OR task._market_role(m) IS NULL THEN
        PERFORM task._not_found(_market_get.id);
    END IF;
    IF lock THEN
        PERFORM FROM task.task t WHERE t.owner = m.owner AND t.id = m.task_id FOR UPDATE;
        SELECT * INTO m FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id FOR UPDATE;
        IF task._market_role(m) IS NULL THEN   -- reassigned away meanwhile
            PERFORM task._not_found(_market_get.id);
        END IF;
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION task._market_get(task.task_id, boolean) IS
    'Internal: the hired task if the caller has a part in it (else not found, P0002); with lock, locks the task row, then the market_task row.';

CREATE FUNCTION task._market_denied(m task.market_task, operation text, allowed text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'permission denied to % task %', operation, m.task_id
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = CASE task._market_role(m)
                           WHEN 'operations' THEN 'The caller acts as Operations.'
                           WHEN 'service' THEN 'The caller is the service that owns the task.'
                           ELSE format('The caller is the task''s %s.', coalesce(task._market_role(m), 'nothing')) END,
              HINT = format('Only %s can do this.', allowed);
END
$$;
COMMENT ON FUNCTION task._market_denied(task.market_task, text, text) IS 'Internal: the 42501 error of a party that may see a hired task but not do this.';

CREATE FUNCTION task._market_state(m task.market_task, operation text, expected text[]) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF m.escrow <> ALL (expected) THEN
        RAISE EXCEPTION 'cannot % task %: its escrow is %', operation, m.task_id, m.escrow
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The escrow must be %s to %s a task.',
                                  regexp_replace(array_to_string(array_replace(expected, 'review', 'in review'), ', '),
                                                 ', ([^,]*)$', ' or \1'),
                                  operation),
                  HINT = 'Read the task again (task_get, task_payments) and act on its current state.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._market_state(task.market_task, text, text[]) IS 'Internal: 55000 unless the escrow is in one of the expected states.';

-- ---------------------------------------------------------------- escrow settlement
-- Exactly once: each is called with the market_task row locked and moves
-- the escrow from a holding state to a final one in the same statement
-- as it posts the money.
CREATE FUNCTION task._market_settle(m task.market_task, outcome text, agent_amount bigint, memo text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    client_w bigint := task._ledger_wallet(m.client, m.currency);
    agent_w bigint := task._ledger_wallet(m.agent, m.currency);
BEGIN
    UPDATE task.market_task x SET escrow = outcome, settled_at = now(), review_until = NULL
     WHERE x.owner = m.owner AND x.task_id = m.task_id AND x.escrow IN ('held', 'review', 'disputed');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'escrow of task % was already settled', m.task_id
            USING ERRCODE = 'serialization_failure', HINT = 'Retry the call.';
    END IF;
    PERFORM task._ledger_post(CASE outcome WHEN 'released' THEN 'release' WHEN 'refunded' THEN 'refund' ELSE 'split' END,
                              m.owner, m.task_id, memo,
                              ARRAY[m.escrow_account, agent_w, client_w],
                              ARRAY[-m.max_price, agent_amount, m.max_price - agent_amount]);
END
$$;
COMMENT ON FUNCTION task._market_settle(task.market_task, text, bigint, text) IS
    'Internal: settles a held escrow exactly once: released (the agent''s price to the agent, the rest back to the client), refunded (all to the client) or settled (a dispute''s split); one ledger transaction.';

-- A hired task reaching a final status moves its escrow in the same
-- transaction: completed, to review (or released at once when the review
-- window is 0); failed or cancelled, refunded. A disputed escrow stays
-- held: the dispute decides. Called by the AFTER UPDATE trigger that
-- settles dependencies (task._settle_dependents, 75_dependencies.sql) for
-- tasks with code market.*, whoever changed the status: one trigger on the
-- hot path instead of two (a second AFTER trigger cost about 10% of a
-- task_complete's CPU, bench/market_overhead.sql).
CREATE FUNCTION task._market_on_final(t task.task) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    m task.market_task;
    mk task.market;
BEGIN
    SELECT * INTO m FROM task.market_task x WHERE x.owner = t.owner AND x.task_id = t.id FOR UPDATE;
    IF NOT FOUND OR m.escrow <> 'held' THEN
        RETURN;
    END IF;
    IF t.status = 'completed' THEN
        SELECT * INTO mk FROM task.market WHERE id;
        IF mk.review_window = '0' THEN
            PERFORM task._market_settle(m, 'released', m.price, 'released on completion');
        ELSE
            UPDATE task.market_task x SET escrow = 'review', review_until = now() + mk.review_window
             WHERE x.owner = m.owner AND x.task_id = m.task_id;
        END IF;
    ELSE
        PERFORM task._market_settle(m, 'refunded', 0, 'refunded: task ' || t.status::text);
    END IF;
END
$$;
COMMENT ON FUNCTION task._market_on_final(task.task) IS
    'Internal (the dependency trigger, for hired tasks): when a hired task completes, its escrow goes to review (or is released when the review window is 0); when it fails or is cancelled, the escrow is refunded; a disputed escrow is left to the dispute.';

-- ---------------------------------------------------------------- hire
CREATE FUNCTION task.task_hire(
    capability     text,
    input          jsonb DEFAULT NULL,
    max_price      numeric DEFAULT NULL,
    execution_mode text DEFAULT 'async',
    agent          text DEFAULT NULL,
    name           text DEFAULT NULL,
    description    text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    mk task.market := task._market();
    client bigint := task.current_account();
    cap text;
    maxp bigint;
    a task.market_agent;
    t task.task;
    wallet bigint;
    bal bigint;
    escrow bigint;
BEGIN
    IF client IS NULL OR task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to hire an agent'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Clients hire: a Client or Vendor account with money in its wallet.';
    END IF;
    cap := task._market_capability(task_hire.capability);
    maxp := task._market_amount('max_price', task_hire.max_price);
    IF task_hire.execution_mode IS NULL OR task_hire.execution_mode NOT IN ('async', 'sync') THEN
        RAISE EXCEPTION 'execution_mode must be async or sync, not %', coalesce(task_hire.execution_mode, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'async returns at once; sync: CALL task_hire_sync(...), or task_wait(id) after commit.';
    END IF;
    wallet := task._ledger_wallet(client, mk.currency);
    SELECT l.balance INTO bal FROM task.ledger_account l WHERE l.id = wallet;
    IF bal < maxp THEN
        RAISE EXCEPTION 'insufficient balance: max_price % is above the balance %', maxp, bal
            USING ERRCODE = 'check_violation',
                  DETAIL = 'task_hire holds max_price in escrow from the client''s wallet.',
                  HINT = 'Deposit more (task_market_deposit) or lower max_price.';
    END IF;
    a := task._market_pick(cap, maxp, client, task_hire.agent, NULL);

    INSERT INTO task.task AS x (owner, id, status, code, name, queue, description, parameters, run_at)
    VALUES (mk.service, task.task_id_make(mk.service, nextval('task.task_serial_seq')), 'queued',
            'market.' || cap, task_hire.name, mk.queue, task_hire.description, task_hire.input, now())
    RETURNING * INTO t;
    INSERT INTO task.task_access (owner, task_id, account) VALUES (t.owner, t.id, client), (t.owner, t.id, a.account);
    INSERT INTO task.ledger_account AS l (kind, owner, task_id, currency)
    VALUES ('escrow', t.owner, t.id, mk.currency) RETURNING l.id INTO escrow;
    INSERT INTO task.market_task (owner, task_id, client, agent, capability, max_price, price, currency,
                                  execution_mode, escrow_account)
    VALUES (t.owner, t.id, client, a.account, cap, maxp, a.price, mk.currency, task_hire.execution_mode, escrow);
    INSERT INTO task.market_assignment (owner, task_id, seq, agent, by, reason)
    VALUES (t.owner, t.id, 1, a.account, task.current_actor(),
            CASE WHEN task_hire.agent IS NULL THEN 'auto-assigned' ELSE 'chosen by the client' END);
    PERFORM task._ledger_post('hold', t.owner, t.id, 'escrow for ' || cap, ARRAY[wallet, escrow], ARRAY[-maxp, maxp]);
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id, format('hired %s for %s (max_price %s %s held in escrow)',
                                  task.account_text(a.account), cap, maxp, mk.currency), task.current_actor());
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task.task_hire(text, jsonb, numeric, text, text, text, text) IS
    'Client: hires an agent for a task (seed 004 POST /tasks): validates the capability and max_price (whole minor units), holds max_price in escrow from the client''s wallet, assigns an agent (agent => ''ACC-...'', or automatically: the cheapest responsive agent with the capability, within max_price, below its capacity), creates the task in the marketplace queue, visible to the client and the agent, and returns it. execution_mode async or sync (sync: CALL task_hire_sync, or task_wait after commit). All or nothing.';

-- Sync mode: the hire must commit before the agent can see the task, so a
-- function cannot wait for it. This procedure commits the hire, then waits
-- with task_wait (wake on commit). No SET clauses: a procedure with them
-- cannot commit; every name is qualified.
CREATE FUNCTION task._can_commit() RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_can_commit' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._can_commit() IS
    'Internal: called from a procedure, whether it may commit (a CALL on its own, not inside a transaction block or a function).';

-- Refused before it hires: where it cannot commit (its COMMIT failed with
-- "invalid transaction termination" only) and with a timeout task_wait
-- refuses (the hire was committed, then the call failed: a client that
-- called again hired twice).
CREATE PROCEDURE task.task_hire_sync(
    capability  text,
    input       jsonb,
    max_price   numeric,
    timeout     interval DEFAULT '30 seconds',
    agent       text DEFAULT NULL,
    INOUT task  jsonb DEFAULT NULL)
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT task._can_commit() THEN
        RAISE EXCEPTION 'task_hire_sync cannot commit here'
            USING ERRCODE = 'invalid_transaction_termination',
                  DETAIL = 'It commits the hire before it waits, so that the agent can see the task: it runs as a CALL on its own, not inside a transaction block or a function.',
                  HINT = 'CALL it on its own, or hire with task_hire(..., execution_mode => ''sync'') and wait with task_wait after your COMMIT.';
    END IF;
    -- task._check_wait_bound's rule, written out: a procedure that commits
    -- runs as its caller, who may not call internal functions
    IF timeout IS NULL OR timeout < '0' OR timeout > '1 hour' THEN
        RAISE EXCEPTION 'timeout must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Nothing was hired: wait a few seconds, and call task_wait again if the task is not final by then.';
    END IF;
    task := task.task_hire(capability, input, max_price, 'sync', agent);
    COMMIT;
    task := task.task_wait((task ->> 'id')::task.task_id, timeout);
END
$$;
COMMENT ON PROCEDURE task.task_hire_sync(text, jsonb, numeric, interval, text, jsonb) IS
    'Client, execution mode sync: CALL task_hire_sync(capability, input, max_price, timeout) hires (as task_hire), commits, then waits with task_wait until the task is final or the timeout (default 30 s) passes, and returns the task. Call it outside an explicit transaction block.';

-- ---------------------------------------------------------------- result verification
CREATE FUNCTION task.task_accept(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_accept.id, true);
BEGIN
    IF task._market_role(m) NOT IN ('client', 'operations') THEN
        PERFORM task._market_denied(m, 'accept', 'the hiring client or Operations');
    END IF;
    PERFORM task._market_state(m, 'accept', '{review}');
    PERFORM task._market_settle(m, 'released', m.price, 'result accepted');
    RETURN task.task_get(task_accept.id);
END
$$;
COMMENT ON FUNCTION task.task_accept(task.task_id) IS
    'Client: accepts the result of a completed task during its review window: the escrow is released (the agent''s price to the agent, the rest of max_price back to the client). Without it, the escrow is released when the window ends (task_maintain), unless a dispute is opened.';

-- ---------------------------------------------------------------- reassignment
CREATE FUNCTION task.task_reassign(id task.task_id, new_agent_id text DEFAULT NULL, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_reassign.id, true);
    t task.task;
    a task.market_agent;
BEGIN
    IF task._market_role(m) NOT IN ('client', 'operations') THEN
        PERFORM task._market_denied(m, 'reassign', 'the hiring client or Operations');
    END IF;
    PERFORM task._check_text('reason', task_reassign.reason, 1024, true);
    PERFORM task._market_state(m, 'reassign', '{held}');
    SELECT * INTO t FROM task.task x WHERE x.owner = m.owner AND x.id = m.task_id;
    IF t.status NOT IN ('queued', 'processing', 'rescheduled') THEN
        RAISE EXCEPTION 'cannot reassign task %: it is %', task_reassign.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only a queued or running task can move to another agent.';
    END IF;
    a := task._market_pick(m.capability, m.max_price, m.client, task_reassign.new_agent_id, m.agent);
    UPDATE task.market_task x SET agent = a.account, price = a.price
     WHERE x.owner = m.owner AND x.task_id = m.task_id;
    DELETE FROM task.task_access x WHERE x.owner = m.owner AND x.task_id = m.task_id AND x.account = m.agent;
    INSERT INTO task.task_access (owner, task_id, account) VALUES (m.owner, m.task_id, a.account)
    ON CONFLICT DO NOTHING;
    INSERT INTO task.market_assignment (owner, task_id, seq, agent, by, reason)
    SELECT m.owner, m.task_id, coalesce(max(s.seq), 0) + 1, a.account, task.current_actor(),
           coalesce(task_reassign.reason, 'reassigned')
      FROM task.market_assignment s WHERE s.owner = m.owner AND s.task_id = m.task_id;
    IF t.status = 'processing' THEN
        -- the new agent starts afresh
        UPDATE task.task x SET status = 'queued', progress = NULL WHERE x.owner = m.owner AND x.id = m.task_id;
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (m.owner, m.task_id, format('reassigned from %s to %s%s', task.account_text(m.agent),
                                      task.account_text(a.account), coalesce(': ' || task_reassign.reason, '')),
            task.current_actor());
    RETURN task.task_get(task_reassign.id);
END
$$;
COMMENT ON FUNCTION task.task_reassign(task.task_id, text, text) IS
    'Client or Operations: moves an unfinished task to another agent (new_agent_id, or the next available one automatically), e.g. when the agent is unresponsive. The new agent must offer the capability within max_price and have capacity; the escrow stays held (its price becomes the new agent''s); the old agent loses access; a running task is queued again.';

-- ---------------------------------------------------------------- disputes
CREATE FUNCTION task._market_dispute_event(m task.market_task, tier smallint, action text, amount bigint, note text)
    RETURNS void
    LANGUAGE sql
AS $$
    INSERT INTO task.market_dispute_event (owner, task_id, seq, tier, by, action, amount, note)
    SELECT m.owner, m.task_id, coalesce(max(e.seq), 0) + 1, _market_dispute_event.tier, task.current_actor(),
           _market_dispute_event.action, _market_dispute_event.amount, _market_dispute_event.note
      FROM task.market_dispute_event e WHERE e.owner = m.owner AND e.task_id = m.task_id
$$;
COMMENT ON FUNCTION task._market_dispute_event(task.market_task, smallint, text, bigint, text) IS 'Internal: appends to a dispute''s audit trail.';

CREATE FUNCTION task._market_dispute_json(m task.market_task) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'task', m.task_id::text,
        'tier', d.tier,
        'status', CASE WHEN d.closed_at IS NULL THEN 'open' ELSE 'closed' END,
        'reason', d.reason,
        'opened_by', d.opened_by,
        'deadline', CASE WHEN d.closed_at IS NULL THEN task._iso(d.deadline) END,
        'proposal', d.proposal,
        'proposed_by', d.proposed_by,
        'client_accepts', d.client_accepts,
        'agent_accepts', d.agent_accepts,
        'agent_amount', d.agent_amount,
        'client_amount', m.max_price - d.agent_amount,
        'escrow', (SELECT x.escrow FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id),
        'events', (SELECT jsonb_agg(task._strip_nulls(jsonb_build_object(
                       'tier', e.tier, 'by', e.by, 'action', e.action, 'amount', e.amount, 'note', e.note))
                       ORDER BY e.seq)
                     FROM task.market_dispute_event e WHERE e.owner = m.owner AND e.task_id = m.task_id)))
      FROM task.market_dispute d WHERE d.owner = m.owner AND d.task_id = m.task_id
$$;
COMMENT ON FUNCTION task._market_dispute_json(task.market_task) IS 'Internal: a dispute as JSON, with its audit trail.';

CREATE FUNCTION task.task_dispute(id task.task_id, reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_dispute.id, true);
    mk task.market := task._market();
BEGIN
    IF task._market_role(m) NOT IN ('client', 'agent') THEN
        PERFORM task._market_denied(m, 'dispute', 'the hiring client or the assigned agent');
    END IF;
    IF task_dispute.reason IS NULL THEN
        RAISE EXCEPTION 'a dispute needs a reason'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say what is wrong: reason => ''...''.';
    END IF;
    PERFORM task._check_text('reason', task_dispute.reason, 8192, true);
    PERFORM task._market_state(m, 'dispute', '{held,review}');
    UPDATE task.market_task x SET escrow = 'disputed', review_until = NULL
     WHERE x.owner = m.owner AND x.task_id = m.task_id;
    INSERT INTO task.market_dispute (owner, task_id, opened_by, reason, deadline)
    VALUES (m.owner, m.task_id, task.current_actor(), task_dispute.reason, now() + mk.tier1_window);
    PERFORM task._market_dispute_event(m, 1::smallint, 'open', NULL, task_dispute.reason);
    RETURN task._market_dispute_json(m);
END
$$;
COMMENT ON FUNCTION task.task_dispute(task.task_id, text) IS
    'Client or agent: opens a dispute on a task whose escrow is still held (running, or completed and in review). The escrow stays held until the dispute closes; it starts at tier 1 (the parties settle) with the tier''s deadline. Returns the dispute.';

-- Close a dispute with a split: agent_amount to the agent, the rest of the
-- escrow to the client; an unfinished task is cancelled.
CREATE FUNCTION task._market_dispute_close(m task.market_task, amount bigint, memo text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE task.market_dispute d SET closed_at = now(), agent_amount = amount
     WHERE d.owner = m.owner AND d.task_id = m.task_id;
    PERFORM task._market_settle(m, 'settled', amount, memo);
    UPDATE task.task x SET status = 'cancelled', error = 'dispute settled'
     WHERE x.owner = m.owner AND x.id = m.task_id AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled');
END
$$;
COMMENT ON FUNCTION task._market_dispute_close(task.market_task, bigint, text) IS 'Internal: closes a dispute with a split ledger transaction and cancels the task if it is unfinished.';

-- Deadlines: a tier whose deadline passed moves up; past tier 3's, the
-- mediator's proposal (or else a full refund) is applied. Called by
-- task_dispute_resolve before it acts, and by task_maintain.
CREATE FUNCTION task._market_dispute_expire(m task.market_task) RETURNS boolean
    LANGUAGE plpgsql
AS $$
DECLARE
    mk task.market := task._market();
    d task.market_dispute;
    moved boolean := false;
BEGIN
    LOOP
        SELECT * INTO d FROM task.market_dispute x WHERE x.owner = m.owner AND x.task_id = m.task_id;
        EXIT WHEN NOT FOUND OR d.closed_at IS NOT NULL OR d.deadline > now();
        moved := true;
        IF d.tier < 3 THEN
            UPDATE task.market_dispute x
               SET tier = d.tier + 1,
                   deadline = now() + CASE d.tier WHEN 1 THEN mk.tier2_window ELSE mk.tier3_window END,
                   proposal = CASE WHEN d.tier = 2 THEN d.proposal END,
                   proposed_by = CASE WHEN d.tier = 2 THEN d.proposed_by END,
                   client_accepts = false, agent_accepts = false
             WHERE x.owner = m.owner AND x.task_id = m.task_id;
            PERFORM task._market_dispute_event(m, (d.tier + 1)::smallint, 'expire', NULL,
                                               format('tier %s deadline passed', d.tier));
        ELSE
            PERFORM task._market_dispute_event(m, d.tier, 'expire', coalesce(d.proposal, 0),
                                               CASE WHEN d.proposal IS NULL THEN 'tier 3 deadline passed: full refund'
                                                    ELSE 'tier 3 deadline passed: the mediator''s proposal applies' END);
            PERFORM task._market_dispute_close(m, coalesce(d.proposal, 0), 'dispute expired');
        END IF;
    END LOOP;
    RETURN moved;
END
$$;
COMMENT ON FUNCTION task._market_dispute_expire(task.market_task) IS
    'Internal: applies passed dispute deadlines (tier up; after tier 3, the mediator''s proposal or a full refund). Returns whether anything moved.';

CREATE FUNCTION task.task_dispute_resolve(id task.task_id, decision text, agent_amount numeric DEFAULT NULL,
                                          note text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_dispute_resolve.id, true);
    mk task.market := task._market();
    d task.market_dispute;
    part text := task._market_role(m);
    amt bigint;
BEGIN
    PERFORM task._check_text('note', task_dispute_resolve.note, 8192, true);
    IF task_dispute_resolve.decision IS NULL
       OR task_dispute_resolve.decision NOT IN ('propose', 'accept', 'escalate', 'decide') THEN
        RAISE EXCEPTION 'decision must be propose, accept, escalate or decide, not %', coalesce(task_dispute_resolve.decision, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Tier 1: a party proposes, the other accepts; tier 2: Operations propose, both parties accept; tier 3: Operations decide. Either tier escalates.';
    END IF;
    PERFORM task._market_dispute_expire(m);
    SELECT * INTO m FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id;
    SELECT * INTO d FROM task.market_dispute x WHERE x.owner = m.owner AND x.task_id = m.task_id;
    IF NOT FOUND OR d.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'task % has no open dispute', task_dispute_resolve.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = CASE WHEN FOUND THEN 'Its dispute is closed.' ELSE 'No dispute was opened.' END,
                  HINT = 'Open one with task_dispute; task_get shows the dispute.';
    END IF;
    -- accept with agent_amount: the split the caller saw, which must still
    -- be the proposal (another proposal made meanwhile is not accepted)
    IF task_dispute_resolve.decision IN ('propose', 'decide')
       OR (task_dispute_resolve.decision = 'accept' AND task_dispute_resolve.agent_amount IS NOT NULL) THEN
        amt := task._market_amount('agent_amount', task_dispute_resolve.agent_amount, true);
        IF amt > m.max_price THEN
            RAISE EXCEPTION 'agent_amount % is above the escrow %', amt, m.max_price
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A split gives agent_amount to the agent and the rest of the escrow to the client.';
        END IF;
    END IF;

    CASE task_dispute_resolve.decision
    WHEN 'propose' THEN
        IF NOT ((d.tier = 1 AND part IN ('client', 'agent')) OR (d.tier = 2 AND part = 'operations')) THEN
            PERFORM task._market_denied(m, 'propose a split at tier ' || d.tier || ' of',
                CASE d.tier WHEN 1 THEN 'the parties (client, agent) at tier 1'
                            WHEN 2 THEN 'the mediator (Operations) at tier 2'
                            ELSE 'Operations, who decide at tier 3' END);
        END IF;
        UPDATE task.market_dispute x SET proposal = amt, proposed_by = task.current_actor(),
               client_accepts = (part = 'client'), agent_accepts = (part = 'agent')
         WHERE x.owner = m.owner AND x.task_id = m.task_id;
        PERFORM task._market_dispute_event(m, d.tier, 'propose', amt, task_dispute_resolve.note);
    WHEN 'accept' THEN
        IF d.tier = 3 OR part NOT IN ('client', 'agent') THEN
            PERFORM task._market_denied(m, 'accept a proposal of', 'the parties (client, agent) at tiers 1 and 2');
        END IF;
        IF d.proposal IS NULL THEN
            RAISE EXCEPTION 'there is no proposal to accept on task %', task_dispute_resolve.id
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = CASE d.tier WHEN 1 THEN 'Propose a split: decision => ''propose'', agent_amount => ...'
                                         ELSE 'Wait for the mediator''s proposal, or escalate.' END;
        END IF;
        IF amt IS NOT NULL AND amt <> d.proposal THEN
            RAISE EXCEPTION 'the proposal on task % is no longer %', task_dispute_resolve.id, amt
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The proposal is now %s to the agent; nothing was accepted.', d.proposal),
                      HINT = 'Read the dispute again (task_get) and accept the split you see, or propose another.';
        END IF;
        UPDATE task.market_dispute x
           SET client_accepts = x.client_accepts OR part = 'client', agent_accepts = x.agent_accepts OR part = 'agent'
         WHERE x.owner = m.owner AND x.task_id = m.task_id
        RETURNING * INTO d;
        PERFORM task._market_dispute_event(m, d.tier, 'accept', d.proposal, task_dispute_resolve.note);
        IF d.client_accepts AND d.agent_accepts THEN
            PERFORM task._market_dispute_close(m, d.proposal, format('dispute settled at tier %s', d.tier));
        END IF;
    WHEN 'escalate' THEN
        IF d.tier = 3 THEN
            RAISE EXCEPTION 'the dispute of task % is at tier 3 already', task_dispute_resolve.id
                USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Operations decide at tier 3: decision => ''decide''.';
        END IF;
        UPDATE task.market_dispute x
           SET tier = d.tier + 1,
               deadline = now() + CASE d.tier WHEN 1 THEN mk.tier2_window ELSE mk.tier3_window END,
               proposal = CASE WHEN d.tier = 2 THEN d.proposal END,
               proposed_by = CASE WHEN d.tier = 2 THEN d.proposed_by END,
               client_accepts = false, agent_accepts = false
         WHERE x.owner = m.owner AND x.task_id = m.task_id;
        PERFORM task._market_dispute_event(m, (d.tier + 1)::smallint, 'escalate', NULL, task_dispute_resolve.note);
    WHEN 'decide' THEN
        IF part <> 'operations' THEN
            PERFORM task._market_denied(m, 'decide the dispute of', 'Operations (at tier 3)');
        END IF;
        IF d.tier <> 3 THEN
            RAISE EXCEPTION 'the dispute of task % is at tier %', task_dispute_resolve.id, d.tier
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Operations decide at tier 3; at tiers 1 and 2 a split is proposed and accepted.',
                      HINT = 'Escalate it first (decision => ''escalate'', one tier a call), or propose a split at tier 2.';
        END IF;
        PERFORM task._market_dispute_event(m, d.tier, 'decide', amt, task_dispute_resolve.note);
        PERFORM task._market_dispute_close(m, amt, 'dispute decided by operations');
    END CASE;
    RETURN task._market_dispute_json(m);
END
$$;
COMMENT ON FUNCTION task.task_dispute_resolve(task.task_id, text, numeric, text) IS
    'Moves a dispute on. decision: propose (agent_amount: the agent''s share of the escrow; tier 1 by a party, tier 2 by the mediator, an Operations account), accept (a party accepts the proposal; with agent_amount, only if that is still the proposal (55000 when another was made meanwhile: pass the amount you saw); when both have, the split is paid and the dispute closes), escalate (up one tier, a party or Operations), decide (tier 3, Operations, final). Each tier has a deadline: past it the dispute moves up, and past tier 3''s the mediator''s proposal or a full refund applies. Every step is in the dispute''s audit trail; every decision is one ledger transaction. Returns the dispute.';

-- ---------------------------------------------------------------- messages
-- The per-task caps of messages and artifacts (the marketplace's
-- max_messages and max_artifacts): a task holding HELD that would hold
-- HELD + ADDING is refused, before anything is written. Called under the
-- market_task row's lock, so two writers cannot both take the last place.
CREATE FUNCTION task._market_room(m task.market_task, what text, held integer, adding integer, capped boolean)
    RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    cap integer := CASE what WHEN 'messages' THEN (task._market()).max_messages
                             ELSE (task._market()).max_artifacts END;
BEGIN
    IF capped AND held + adding > cap THEN
        RAISE EXCEPTION 'too many % on task %', what, m.task_id
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('A hired task holds at most %s %s (the marketplace''s max_%s); this one holds %s and the call adds %s.',
                                  cap, what, what, held, adding),
                  HINT = CASE what WHEN 'messages'
                              THEN 'Say more in one message (up to 64 KiB) or attach it as an artifact; Operations can raise max_messages with task_market_setup.'
                              ELSE 'Bundle files into one artifact (an archive as a file artifact) or link to them; Operations can raise max_artifacts with task_market_setup.' END;
    END IF;
END
$$;
COMMENT ON FUNCTION task._market_room(task.market_task, text, integer, integer, boolean) IS
    'Internal: 54000 when a hired task holding HELD messages or artifacts would hold more than the marketplace''s max_messages or max_artifacts after ADDING (capped false: not counted, Operations'' messages).';

CREATE FUNCTION task._market_message_json(x task.market_message) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object('seq', x.seq, 'at', task._iso(x.at), 'by', task._actor_json(x.by), 'content', x.content)
$$;
COMMENT ON FUNCTION task._market_message_json(task.market_message) IS 'Internal: a message as JSON.';

CREATE FUNCTION task.task_message(id task.task_id, content text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_message.id, false);
    party text := task._market_role(m);
    r task.market_message;
    held integer;
BEGIN
    IF party NOT IN ('client', 'agent', 'operations') THEN
        PERFORM task._market_denied(m, 'message on', 'the client, the agent or Operations');
    END IF;
    IF task_message.content IS NULL THEN
        RAISE EXCEPTION 'a message needs content'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass content => ''...''.';
    END IF;
    PERFORM task._check_text('message', task_message.content, 65536, true);
    -- numbered per task: one writer at a time (messages are never deleted
    -- but with their task, so the last number is how many it holds)
    PERFORM FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id FOR NO KEY UPDATE;
    SELECT coalesce(max(s.seq), 0) INTO held
      FROM task.market_message s WHERE s.owner = m.owner AND s.task_id = m.task_id;
    -- the parties share max_messages; Operations may write past it (a
    -- dispute can be mediated on a full conversation)
    PERFORM task._market_room(m, 'messages', held, 1, party <> 'operations');
    INSERT INTO task.market_message AS x (owner, task_id, seq, by, content)
    VALUES (m.owner, m.task_id, held + 1, task.current_actor(), task_message.content)
    RETURNING * INTO r;
    RETURN task._market_message_json(r);
END
$$;
COMMENT ON FUNCTION task.task_message(task.task_id, text) IS
    'Client, agent or Operations: adds a message (up to 64 KiB of text) to the task''s conversation, visible to both parties. Returns it with its number. A task holds at most the marketplace''s max_messages: past it the client and the agent are refused (54000), Operations may still write.';

CREATE FUNCTION task.task_messages(id task.task_id, msg_limit integer DEFAULT 50, msg_offset integer DEFAULT 0)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_messages.id, false);
BEGIN
    IF task_messages.msg_limit IS NULL OR task_messages.msg_limit NOT BETWEEN 1 AND 1000
       OR task_messages.msg_offset IS NULL OR task_messages.msg_offset < 0 THEN
        RAISE EXCEPTION 'msg_limit must be between 1 and 1000 and msg_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Page through long conversations with msg_offset.';
    END IF;
    RETURN QUERY
    SELECT task._market_message_json(x) FROM task.market_message x
     WHERE x.owner = m.owner AND x.task_id = m.task_id
     ORDER BY x.seq LIMIT task_messages.msg_limit OFFSET task_messages.msg_offset;
END
$$;
COMMENT ON FUNCTION task.task_messages(task.task_id, integer, integer) IS
    'The conversation of a hired task, oldest first (msg_limit 1..1000, default 50; msg_offset). The client, the agent, Operations and the owning service.';

-- ---------------------------------------------------------------- artifacts
CREATE FUNCTION task._market_artifact_json(x task.market_artifact) RETURNS jsonb
    LANGUAGE sql STABLE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'artifact', x.seq,
        'artifact_type', x.artifact_type,
        'name', x.name,
        'media_type', x.media_type,
        'size', octet_length(x.content),
        'at', task._iso(x.at),
        'by', task._actor_json(x.by),
        'download_url', coalesce(nullif(current_setting('task.artifact_uri_prefix', true), ''), '/rpc/task_artifact')
                        || '?id=' || x.task_id::text || '&artifact=' || x.seq))
$$;
COMMENT ON FUNCTION task._market_artifact_json(task.market_artifact) IS
    'Internal: an artifact''s metadata with its download URL (setting task.artifact_uri_prefix, default /rpc/task_artifact).';

CREATE FUNCTION task.task_artifacts_add(id task.task_id, artifacts jsonb) RETURNS SETOF jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_artifacts_add.id, false);
    mk task.market := task._market();
    e jsonb;
    i integer := 0;
    ty text;
    nm text;
    mt text;
    body bytea;
    base integer;
    batch task.market_artifact[] := '{}';
    r task.market_artifact;
BEGIN
    IF task._market_role(m) NOT IN ('client', 'agent') THEN
        PERFORM task._market_denied(m, 'add artifacts to', 'the assigned agent or the hiring client');
    END IF;
    IF task_artifacts_add.artifacts IS NULL OR jsonb_typeof(task_artifacts_add.artifacts) <> 'array'
       OR jsonb_array_length(task_artifacts_add.artifacts) = 0 THEN
        RAISE EXCEPTION 'artifacts must be a non-empty JSON array'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass [{"artifact_type": "code_block", "name": "...", "content": "..."}].';
    END IF;
    IF jsonb_array_length(task_artifacts_add.artifacts) > 50 THEN
        RAISE EXCEPTION 'too many artifacts: % in one request', jsonb_array_length(task_artifacts_add.artifacts)
            USING ERRCODE = 'program_limit_exceeded', HINT = 'Send at most 50 artifacts a request; split the rest.';
    END IF;
    -- validate every artifact before writing any
    FOR e IN SELECT x FROM jsonb_array_elements(task_artifacts_add.artifacts) x LOOP
        i := i + 1;
        IF jsonb_typeof(e) <> 'object' THEN
            RAISE EXCEPTION 'artifact % is not a JSON object', i
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Each artifact is {"artifact_type", "name", "content"}.';
        END IF;
        ty := e ->> 'artifact_type';
        IF ty IS NULL OR ty NOT IN ('code_block', 'markdown', 'html', 'file', 'diff', 'image', 'json', 'link', 'text') THEN
            RAISE EXCEPTION 'artifact %: unknown artifact_type "%"', i, left(coalesce(ty, 'null'), 40)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use one of code_block, markdown, html, file, diff, image, json, link, text.';
        END IF;
        -- every artifact has a name (seed 004: {"artifact_type", "name", "content"})
        nm := e ->> 'name';
        IF nm IS NULL THEN
            RAISE EXCEPTION 'artifact %: a name is required', i
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Give each artifact a "name", e.g. {"artifact_type": "markdown", "name": "report.md", "content": "..."}.';
        END IF;
        IF jsonb_typeof(e -> 'name') <> 'string' THEN
            RAISE EXCEPTION 'artifact %: name must be a string', i
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass the name as a JSON string, e.g. "name": "report.md".';
        END IF;
        PERFORM task._check_text('artifact name', nm, 255, false);
        IF e -> 'content' IS NULL OR (ty <> 'json' AND jsonb_typeof(e -> 'content') <> 'string') THEN
            RAISE EXCEPTION 'artifact %: content must be a string', i
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Text types carry text; file and image carry base64; json carries any JSON value.';
        END IF;
        mt := e ->> 'media_type';
        IF mt IS NOT NULL AND mt !~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$' THEN
            RAISE EXCEPTION 'artifact %: invalid media_type "%"', i, left(mt, 40)
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a media type such as image/png.';
        END IF;
        IF ty IN ('file', 'image') THEN
            BEGIN
                body := decode(e ->> 'content', 'base64');
            EXCEPTION WHEN invalid_parameter_value THEN
                RAISE EXCEPTION 'artifact %: content of % must be base64', i, CASE ty WHEN 'image' THEN 'an image' ELSE 'a file' END
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Encode the bytes in base64.';
            END;
            IF ty = 'image' AND (mt IS NULL OR mt !~ '^image/') THEN
                RAISE EXCEPTION 'artifact %: an image needs an image/* media_type', i
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass "media_type": "image/png" (or jpeg, gif, ...).';
            END IF;
        ELSIF ty = 'json' THEN
            IF jsonb_typeof(e -> 'content') = 'string' THEN
                BEGIN
                    body := convert_to(((e ->> 'content')::jsonb)::text, 'UTF8');
                EXCEPTION WHEN invalid_text_representation THEN
                    RAISE EXCEPTION 'artifact %: content of a json artifact is not valid JSON', i
                        USING ERRCODE = 'invalid_parameter_value', HINT = 'Send a JSON value, or a string holding one.';
                END;
            ELSE
                body := convert_to((e -> 'content')::text, 'UTF8');
            END IF;
        ELSE
            IF ty = 'link' AND (e ->> 'content') !~ '^https?://[^[:space:]]+$' THEN
                RAISE EXCEPTION 'artifact %: a link must be an http or https URL', i
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass "content": "https://...".';
            END IF;
            body := convert_to(e ->> 'content', 'UTF8');
        END IF;
        IF octet_length(body) > mk.max_artifact_bytes THEN
            RAISE EXCEPTION 'artifact % is too large: % bytes', i, octet_length(body)
                USING ERRCODE = 'program_limit_exceeded',
                      DETAIL = format('The limit is %s bytes.', mk.max_artifact_bytes),
                      HINT = 'Send a link to large content instead.';
        END IF;
        batch := batch || ROW(m.owner, m.task_id, i, now(), task.current_actor(), ty, nm,
                            coalesce(mt, CASE ty WHEN 'code_block' THEN 'text/plain' WHEN 'markdown' THEN 'text/markdown'
                                                 WHEN 'html' THEN 'text/html' WHEN 'file' THEN 'application/octet-stream'
                                                 WHEN 'diff' THEN 'text/x-diff' WHEN 'json' THEN 'application/json'
                                                 WHEN 'link' THEN 'text/uri-list' ELSE 'text/plain' END),
                            body)::task.market_artifact;
    END LOOP;
    -- numbered per task: one writer at a time (artifacts are never deleted
    -- but with their task, so the last number is how many it holds)
    PERFORM FROM task.market_task x WHERE x.owner = m.owner AND x.task_id = m.task_id FOR NO KEY UPDATE;
    SELECT coalesce(max(s.seq), 0) INTO base FROM task.market_artifact s WHERE s.owner = m.owner AND s.task_id = m.task_id;
    PERFORM task._market_room(m, 'artifacts', base, cardinality(batch), true);
    FOREACH r IN ARRAY batch LOOP
        r.seq := base + r.seq;
        INSERT INTO task.market_artifact VALUES (r.*);
        RETURN NEXT task._market_artifact_json(r);
    END LOOP;
END
$$;
COMMENT ON FUNCTION task.task_artifacts_add(task.task_id, jsonb) IS
    'Agent or client: adds up to 50 artifacts to a hired task in one all-or-nothing call. Each is {artifact_type, name, content, media_type}: artifact_type one of code_block, markdown, html, file, diff, image, json, link, text; name a string (required, 22004 when missing); content text (base64 for file and image, any JSON for json, an http(s) URL for link), at most the marketplace''s max_artifact_bytes. A task holds at most the marketplace''s max_artifacts (54000 past it, nothing added). Returns their metadata with download URLs.';

CREATE FUNCTION task.task_artifacts(id task.task_id) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_artifacts.id, false);
BEGIN
    RETURN QUERY
    SELECT task._market_artifact_json(x) FROM task.market_artifact x
     WHERE x.owner = m.owner AND x.task_id = m.task_id ORDER BY x.seq;
END
$$;
COMMENT ON FUNCTION task.task_artifacts(task.task_id) IS
    'The artifacts of a hired task, in order: number, type, name, media type, size, author, time and download URL (content not included).';

CREATE FUNCTION task.task_artifact(id task.task_id, artifact integer)
    RETURNS TABLE (name text, media_type text, content bytea)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_artifact.id, false);
BEGIN
    IF task_artifact.artifact IS NULL THEN
        RAISE EXCEPTION 'artifact number must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'task_artifacts(id) lists the artifacts of a task with their numbers.';
    END IF;
    RETURN QUERY
    SELECT x.name, x.media_type, x.content FROM task.market_artifact x
     WHERE x.owner = m.owner AND x.task_id = m.task_id AND x.seq = task_artifact.artifact;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'artifact % of task % not found', task_artifact.artifact, task_artifact.id
            USING ERRCODE = 'no_data_found', HINT = 'task_artifacts(id) lists the artifacts of a task.';
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_artifact(task.task_id, integer) IS
    'One artifact''s content with its name and media type (the download behind download_url).';

-- ---------------------------------------------------------------- payments
CREATE FUNCTION task.task_payment(id task.task_id, amount numeric, kind text DEFAULT 'tip', memo text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_payment.id, true);
    amt bigint;
BEGIN
    IF task._market_role(m) <> 'client' THEN
        PERFORM task._market_denied(m, 'pay for', 'the hiring client');
    END IF;
    IF task_payment.kind IS NULL OR task_payment.kind NOT IN ('tip', 'bonus') THEN
        RAISE EXCEPTION 'kind must be tip or bonus, not %', coalesce(task_payment.kind, 'NULL')
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Payments beyond the price are tips or bonuses.';
    END IF;
    amt := task._market_amount('amount', task_payment.amount);
    PERFORM task._check_text('memo', task_payment.memo, 1024, false);
    PERFORM task._market_state(m, 'pay for', '{held,review,disputed,released,settled}');
    PERFORM task._ledger_post(task_payment.kind, m.owner, m.task_id, task_payment.memo,
                              ARRAY[task._ledger_wallet(m.client, m.currency), task._ledger_wallet(m.agent, m.currency)],
                              ARRAY[-amt, amt]);
    RETURN task.task_payments(task_payment.id);
END
$$;
COMMENT ON FUNCTION task.task_payment(task.task_id, numeric, text, text) IS
    'Client: pays the assigned agent beyond the price (kind tip or bonus; amount in whole minor units) from its wallet, in one ledger transaction. Not for a refunded task. Returns task_payments.';

CREATE FUNCTION task.task_payments(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    m task.market_task := task._market_get(task_payments.id, false);
BEGIN
    RETURN jsonb_build_object(
        'task', m.task_id::text,
        'currency', m.currency,
        'max_price', m.max_price,
        'price', m.price,
        'escrow', task._strip_nulls(jsonb_build_object(
            'state', m.escrow,
            'held', (SELECT e.balance FROM task.ledger_account e WHERE e.id = m.escrow_account),
            'review_until', task._iso(m.review_until))),
        'paid_to_agents', coalesce((SELECT sum(n.amount) FROM task.ledger_txn x
                                      JOIN task.ledger_entry n ON n.txn = x.id
                                      JOIN task.ledger_account l ON l.id = n.ledger_account
                                     WHERE x.task_id = m.task_id AND l.kind = 'wallet' AND l.account <> m.client
                                       AND n.amount > 0), 0),
        'returned_to_client', coalesce((SELECT sum(n.amount) FROM task.ledger_txn x
                                          JOIN task.ledger_entry n ON n.txn = x.id
                                          JOIN task.ledger_account l ON l.id = n.ledger_account
                                         WHERE x.task_id = m.task_id AND l.kind = 'wallet' AND l.account = m.client
                                           AND n.amount > 0), 0),
        'transactions', coalesce((SELECT jsonb_agg(task._strip_nulls(jsonb_build_object(
                'seq', x.seq, 'at', task._iso(x.at), 'kind', x.kind, 'by', x.by, 'memo', x.memo,
                'entries', (SELECT jsonb_agg(jsonb_build_object(
                                'account', CASE l.kind WHEN 'wallet' THEN task.account_text(l.account)
                                                       ELSE l.kind END,
                                'amount', n.amount) ORDER BY n.leg)
                              FROM task.ledger_entry n JOIN task.ledger_account l ON l.id = n.ledger_account
                             WHERE n.txn = x.id))) ORDER BY x.seq)
            -- numbered within the task: the ledger's own ids count every
            -- tenant's money movements between two of this task's
            FROM (SELECT x.*, row_number() OVER (ORDER BY x.id) AS seq
                    FROM task.ledger_txn x WHERE x.task_id = m.task_id) x), '[]'::jsonb));
END
$$;
COMMENT ON FUNCTION task.task_payments(task.task_id) IS
    'Payment status and history of a hired task: price, escrow state and amount held, what went to the agents and back to the client, and every ledger transaction of the task (seq: 1, 2, ... in order) with its entries (account, amount).';

-- ---------------------------------------------------------------- housekeeping
-- Called by task_maintain: releases escrows whose review window passed,
-- applies passed dispute deadlines. Returns how many tasks it moved.
CREATE FUNCTION task._market_maintain(max_rows integer) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    m task.market_task;
    n integer := 0;
    old_timeout text;
    busy bigint[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT FROM task.market WHERE id) THEN
        RETURN 0;
    END IF;
    -- a task that a client's or agent's open transaction holds is left to
    -- the next run, and so is one whose wallets it holds (100 ms at most
    -- each): housekeeping for every tenant does not wait for one tenant's
    -- transaction
    old_timeout := current_setting('lock_timeout');
    PERFORM set_config('lock_timeout', '100ms', true);
    FOR r IN
        SELECT x.owner, x.task_id, x.client, x.agent FROM task.market_task x
         WHERE x.escrow = 'review' AND x.review_until <= now()
         ORDER BY x.review_until LIMIT max_rows
    LOOP
        -- a wallet found held in this run is not waited for again
        CONTINUE WHEN r.client = ANY (busy) OR r.agent = ANY (busy);
        BEGIN
            PERFORM FROM task.task t WHERE t.owner = r.owner AND t.id = r.task_id FOR UPDATE SKIP LOCKED;
            CONTINUE WHEN NOT FOUND;
            SELECT * INTO m FROM task.market_task x WHERE x.owner = r.owner AND x.task_id = r.task_id FOR UPDATE;
            IF m.escrow = 'review' AND m.review_until <= now() THEN
                PERFORM task._market_settle(m, 'released', m.price, 'review window passed');
                n := n + 1;
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            busy := busy || ARRAY[r.client, r.agent];
        END;
    END LOOP;
    FOR r IN
        SELECT d.owner, d.task_id, x.client, x.agent FROM task.market_dispute d
          JOIN task.market_task x ON x.owner = d.owner AND x.task_id = d.task_id
         WHERE d.closed_at IS NULL AND d.deadline <= now()
         ORDER BY d.deadline LIMIT max_rows
    LOOP
        CONTINUE WHEN r.client = ANY (busy) OR r.agent = ANY (busy);
        BEGIN
            PERFORM FROM task.task t WHERE t.owner = r.owner AND t.id = r.task_id FOR UPDATE SKIP LOCKED;
            CONTINUE WHEN NOT FOUND;
            SELECT * INTO m FROM task.market_task x WHERE x.owner = r.owner AND x.task_id = r.task_id FOR UPDATE;
            IF task._market_dispute_expire(m) THEN
                n := n + 1;
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            busy := busy || ARRAY[r.client, r.agent];
        END;
    END LOOP;
    PERFORM set_config('lock_timeout', old_timeout, true);
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._market_maintain(integer) IS
    'Internal (task_maintain): releases escrows whose review window has passed and applies passed dispute deadlines; at most max_rows of each.';

-- ---------------------------------------------------------------- invariants
CREATE FUNCTION task.task_market_check() RETURNS TABLE (invariant text, detail text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('check the ledger');
    RETURN QUERY
    -- every transaction balances, per currency
    SELECT 'transaction balances', format('txn %s sums to %s %s', n.txn, sum(n.amount), n.currency)
      FROM task.ledger_entry n GROUP BY n.txn, n.currency HAVING sum(n.amount) <> 0
    UNION ALL
    -- every transaction has legs
    SELECT 'transaction has entries', format('txn %s has no entries', x.id)
      FROM task.ledger_txn x WHERE NOT EXISTS (SELECT FROM task.ledger_entry n WHERE n.txn = x.id)
    UNION ALL
    -- the sum over all entries is zero, per currency
    SELECT 'ledger sums to zero', format('entries in %s sum to %s', n.currency, sum(n.amount))
      FROM task.ledger_entry n GROUP BY n.currency HAVING sum(n.amount) <> 0
    UNION ALL
    -- entries carry their account's currency
    SELECT 'entry currency', format('txn %s leg %s is %s on a %s account', n.txn, n.leg, n.currency, l.currency)
      FROM task.ledger_entry n JOIN task.ledger_account l ON l.id = n.ledger_account WHERE n.currency <> l.currency
    UNION ALL
    -- balances are the sums of their entries
    SELECT 'balance is the sum of entries', format('%s account %s: balance %s, entries %s', l.kind, l.id, l.balance, coalesce(s.total, 0))
      FROM task.ledger_account l
      LEFT JOIN (SELECT n.ledger_account, sum(n.amount) AS total FROM task.ledger_entry n GROUP BY 1) s ON s.ledger_account = l.id
     WHERE l.balance <> coalesce(s.total, 0)
    UNION ALL
    -- nothing but funding is negative
    SELECT 'no negative balance', format('%s account %s: %s', l.kind, l.id, l.balance)
      FROM task.ledger_account l WHERE l.kind <> 'funding' AND l.balance < 0
    UNION ALL
    -- an escrow holds max_price while held, nothing once settled
    SELECT 'escrow amount', format('task %s: escrow %s holds %s, max_price %s', m.task_id, m.escrow, l.balance, m.max_price)
      FROM task.market_task m JOIN task.ledger_account l ON l.id = m.escrow_account
     WHERE l.balance <> CASE WHEN m.escrow IN ('held', 'review', 'disputed') THEN m.max_price ELSE 0 END
    UNION ALL
    -- released, refunded or settled exactly once, and held by exactly one hold
    SELECT 'escrow settled exactly once', format('task %s: escrow %s, %s holds, %s settlements', m.task_id, m.escrow, c.holds, c.settlements)
      FROM task.market_task m
     CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE x.kind = 'hold') AS holds,
                                count(*) FILTER (WHERE x.kind IN ('release', 'refund', 'split')) AS settlements,
                                count(*) FILTER (WHERE x.kind = CASE m.escrow WHEN 'released' THEN 'release'
                                                                              WHEN 'refunded' THEN 'refund'
                                                                              WHEN 'settled' THEN 'split' END) AS matching
                           FROM task.ledger_txn x WHERE x.task_id = m.task_id) c
     WHERE c.holds <> 1
        OR c.settlements <> CASE WHEN m.escrow IN ('held', 'review', 'disputed') THEN 0 ELSE 1 END
        OR (m.escrow IN ('released', 'refunded', 'settled') AND c.matching <> 1)
    UNION ALL
    -- the escrow follows the task: a final task has no plain "held" escrow,
    -- review only after completion, a refund only after failure or cancel
    SELECT 'escrow follows the task', format('task %s is %s, escrow %s', m.task_id, t.status, m.escrow)
      FROM task.market_task m JOIN task.task t ON t.owner = m.owner AND t.id = m.task_id
     WHERE (m.escrow = 'held' AND t.status IN ('completed', 'failed', 'cancelled'))
        OR (m.escrow IN ('review', 'released') AND t.status <> 'completed')
        OR (m.escrow = 'refunded' AND t.status NOT IN ('failed', 'cancelled'))
        OR (m.escrow = 'settled' AND t.status NOT IN ('completed', 'failed', 'cancelled'))
    UNION ALL
    -- a dispute is open exactly while the escrow is disputed
    SELECT 'dispute holds the escrow', format('task %s: escrow %s, dispute %s', m.task_id, m.escrow,
                                               CASE WHEN d.task_id IS NULL THEN 'none' WHEN d.closed_at IS NULL THEN 'open' ELSE 'closed' END)
      FROM task.market_task m LEFT JOIN task.market_dispute d ON d.owner = m.owner AND d.task_id = m.task_id
     WHERE (m.escrow = 'disputed') <> (d.task_id IS NOT NULL AND d.closed_at IS NULL)
        OR (m.escrow = 'settled' AND (d.task_id IS NULL OR d.agent_amount IS NULL))
    UNION ALL
    -- the access list is exactly the client and the current agent
    SELECT 'access is client and agent', format('task %s: access %s', m.task_id,
                                                 (SELECT string_agg(task.account_text(a.account), ',' ORDER BY a.account)
                                                    FROM task.task_access a WHERE a.owner = m.owner AND a.task_id = m.task_id))
      FROM task.market_task m
     WHERE (SELECT array_agg(a.account ORDER BY a.account) FROM task.task_access a
             WHERE a.owner = m.owner AND a.task_id = m.task_id)
           IS DISTINCT FROM (SELECT array_agg(DISTINCT v ORDER BY v) FROM unnest(ARRAY[m.client, m.agent]) v)
    UNION ALL
    -- every escrow account belongs to its hired task
    SELECT 'escrow account of a hired task', format('escrow account %s (task %s) holds %s', l.id, l.task_id, l.balance)
      FROM task.ledger_account l
     WHERE l.kind = 'escrow'
       AND NOT EXISTS (SELECT FROM task.market_task m WHERE m.escrow_account = l.id AND m.task_id = l.task_id);
END
$$;
COMMENT ON FUNCTION task.task_market_check() IS
    'Verifies every money invariant and returns the violations (none when all hold): each transaction balances, the ledger sums to zero per currency, balances equal their entries, no balance but funding is negative, each escrow holds max_price until it is released, refunded or settled exactly once, the escrow follows the task status, a dispute holds it, and a hired task is visible to its client and agent only. System or Operations only.';
