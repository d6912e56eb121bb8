-- The marketplace under thousands of random operations: hire, deposit,
-- complete, fail, cancel, accept, dispute and every resolution at every
-- tier, tip, reassign, messages, artifacts, deadlines passing, agents
-- going quiet; good and bad input, by the right and the wrong parties.
-- After every operation (each its own transaction) task_market_check()
-- must find nothing, and every error must be one the API documents.
--   1. one session, seed 0.42, 1400 operations: the outcome counts are deterministic;
--   2. three sessions at once (250 operations each) (dblink, asynchronous), each its own seed,
--      each checking the invariants after each of its operations; at the
--      end the money adds up and the invariants hold.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
CREATE EXTENSION dblink SCHEMA public;

SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT last_value AS acc_last, is_called AS acc_called FROM task.account_id_seq \gset
SELECT setval('task.service_id_seq', 7000) AS _, setval('task.account_id_seq', 70000000) AS _,
       setval('task.task_serial_seq', 700000) AS _ \gset

DO $$
DECLARE
    svc text := task_service_create('market-random', 'mkr');
    i integer;
BEGIN
    PERFORM task_queue_create('mkr/hired', owner => svc);
    PERFORM task_market_setup(svc, 'mkr/hired', review_window => '1 hour', max_artifact_bytes => 64);
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mkr_ops') THEN
        CREATE ROLE mkr_ops;
    END IF;
    PERFORM task_login_grant('mkr_ops', task_account_create('Random Ops', 'Operations'));
    FOR i IN 1..4 LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mkr_c' || i) THEN
            EXECUTE format('CREATE ROLE %I', 'mkr_c' || i);
        END IF;
        PERFORM task_login_grant(('mkr_c' || i)::regrole, task_account_create('Random Client ' || i, 'Client'));
    END LOOP;
    FOR i IN 1..5 LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mkr_a' || i) THEN
            EXECUTE format('CREATE ROLE %I', 'mkr_a' || i);
        END IF;
        PERFORM task_login_grant(('mkr_a' || i)::regrole, task_account_create('Random Agent ' || i, 'Vendor'));
        PERFORM task_agent_register(task.account_text(l.account),
                                    CASE WHEN i % 2 = 0 THEN ARRAY['r.a', 'r.b'] ELSE ARRAY['r.a'] END,
                                    100 * i, capacity => 1 + i % 3)
           FROM task.login l WHERE l.role = ('mkr_a' || i)::regrole;
    END LOOP;
END
$$;

-- The random operations: n of them, each in its own transaction (a
-- procedure commits), as a random party; expected errors are counted,
-- any other one stops the run, and so does any invariant violation.
CREATE TABLE public.mkr_outcome (session integer, op text, outcome text, n integer, PRIMARY KEY (session, op, outcome));
CREATE PROCEDURE public.mkr_run(p_session integer, p_seed double precision, p_n integer)
    LANGUAGE plpgsql
AS $proc$
DECLARE
    i integer;
    op text;
    r double precision;
    m task.market_task;
    who text;
    q text;
    s text;
    msg text;
    outcome text;
    bad text;
    rc text;    -- a random client role, a random agent role, a random agent role again
    ra text;
    rq text;
    svc integer := (SELECT x.id FROM task.service x WHERE x.name = 'market-random');
BEGIN
    PERFORM set_config('search_path', 'task, public', false);
    PERFORM setseed(p_seed);
    FOR i IN 1..p_n LOOP
        rc := 'mkr_c' || (1 + floor(random() * 4))::integer;
        ra := 'mkr_a' || (1 + floor(random() * 5))::integer;
        rq := 'mkr_a' || (1 + floor(random() * 5))::integer;
        r := random();
        op := CASE WHEN r < 0.06 THEN 'deposit' WHEN r < 0.26 THEN 'hire' WHEN r < 0.40 THEN 'complete'
                   WHEN r < 0.46 THEN 'fail' WHEN r < 0.52 THEN 'cancel' WHEN r < 0.58 THEN 'accept'
                   WHEN r < 0.64 THEN 'dispute' WHEN r < 0.78 THEN 'resolve' WHEN r < 0.84 THEN 'tip'
                   WHEN r < 0.89 THEN 'reassign' WHEN r < 0.92 THEN 'message' WHEN r < 0.94 THEN 'artifacts'
                   WHEN r < 0.97 THEN 'time' ELSE 'agents' END;
        -- a random hired task, and a random party of it (or a stranger)
        SELECT * INTO m FROM task.market_task x WHERE x.owner = svc ORDER BY x.task_id
         OFFSET floor(random() * greatest((SELECT count(*) FROM task.market_task y WHERE y.owner = svc), 1)) LIMIT 1;
        r := random();
        who := CASE WHEN m.task_id IS NULL OR r < 0.08 THEN rc
                    WHEN r < 0.16 THEN ra
                    WHEN r < 0.24 THEN 'mkr_ops'
                    WHEN op IN ('complete', 'fail', 'message', 'artifacts') OR (op IN ('dispute', 'resolve') AND r < 0.55)
                         THEN (SELECT l.role::text FROM task.login l WHERE l.account = m.agent)
                    ELSE (SELECT l.role::text FROM task.login l WHERE l.account = m.client) END;
        q := CASE op
            WHEN 'deposit' THEN format('SELECT task.task_market_deposit(%L, %s)',
                                       task.account_text((SELECT l.account FROM task.login l WHERE l.role::text = rc)),
                                       (100 + floor(random() * 3000))::integer)
            WHEN 'hire' THEN format('SELECT task.task_hire(%L, NULL, %s)',
                                    (ARRAY['r.a', 'r.a', 'r.b', 'r.none'])[1 + floor(random() * 4)::integer],
                                    CASE WHEN random() < 0.1 THEN (ARRAY['-5', '12.5', '0', 'NULL'])[1 + floor(random() * 4)::integer]
                                         ELSE (50 + floor(random() * 1500))::integer::text END)
            WHEN 'complete' THEN format('SELECT task.task_complete(%L, %L)', m.task_id, '{"ok": true}')
            WHEN 'fail' THEN format('SELECT task.task_fail(%L, %L)', m.task_id, 'random failure')
            WHEN 'cancel' THEN format('SELECT task.task_cancel(%L, %L)', m.task_id, 'random cancel')
            WHEN 'accept' THEN format('SELECT task.task_accept(%L)', m.task_id)
            WHEN 'dispute' THEN format('SELECT task.task_dispute(%L, %L)', m.task_id, 'random dispute')
            WHEN 'resolve' THEN format('SELECT task.task_dispute_resolve(%L, %L, %s)', m.task_id,
                                       (ARRAY['propose', 'accept', 'escalate', 'decide', 'propose', 'accept'])[1 + floor(random() * 6)::integer],
                                       floor(random() * (coalesce(m.max_price, 100) + 50))::integer)
            WHEN 'tip' THEN format('SELECT task.task_payment(%L, %s, %L)', m.task_id,
                                   CASE WHEN random() < 0.1 THEN '-1' ELSE (1 + floor(random() * 300))::integer::text END,
                                   (ARRAY['tip', 'bonus', 'gift'])[1 + floor(random() * 3)::integer])
            WHEN 'reassign' THEN format('SELECT task.task_reassign(%L, %L)', m.task_id,
                                        CASE WHEN random() < 0.5 THEN NULL
                                             ELSE task.account_text((SELECT l.account FROM task.login l WHERE l.role::text = rq)) END)
            WHEN 'message' THEN format('SELECT task.task_message(%L, %L)', m.task_id, 'message ' || i)
            WHEN 'artifacts' THEN format('SELECT task.task_artifacts_add(%L, %L)', m.task_id,
                                         (ARRAY['[{"artifact_type": "text", "name": "x", "content": "x"}]',
                                                '[{"artifact_type": "video", "name": "x", "content": "x"}]',
                                                '[{"artifact_type": "text", "name": "y", "content": "' || repeat('y', 80) || '"}]'])[1 + floor(random() * 3)::integer])
            WHEN 'time' THEN 'SELECT task.task_maintain()'
            ELSE 'SELECT task.task_agent_heartbeat()' END;
        IF op = 'time' THEN
            who := NULL;
            -- deadlines and review windows pass for one task
            UPDATE task.market_dispute d SET deadline = now() - interval '1 second' WHERE d.task_id = m.task_id AND d.closed_at IS NULL;
            UPDATE task.market_task x SET review_until = now() - interval '1 second' WHERE x.task_id = m.task_id AND x.escrow = 'review';
        ELSIF op = 'agents' THEN
            who := ra;
            -- another agent goes quiet (and may come back with a heartbeat)
            UPDATE task.market_agent a SET last_seen = now() - interval '1 day'
             WHERE a.account = (SELECT l.account FROM task.login l WHERE l.role::text = rq);
        ELSIF op = 'deposit' THEN
            who := CASE WHEN random() < 0.8 THEN 'mkr_ops' ELSE who END;
        END IF;
        BEGIN
            PERFORM set_config('role', coalesce(who, 'none'), true);
            EXECUTE q;
            outcome := 'ok';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            IF s NOT IN ('P0002', '42501', '55000', '22023', '22004', '23514', '40001', '40P01', '54000') THEN
                RAISE EXCEPTION 'unexpected error %: % (op %: %, as %)', s, msg, op, q, who;
            END IF;
            outcome := s;
        END;
        PERFORM set_config('role', 'none', true);
        INSERT INTO public.mkr_outcome AS o VALUES (p_session, op, outcome, 1)
        ON CONFLICT ON CONSTRAINT mkr_outcome_pkey DO UPDATE SET n = o.n + 1;
        COMMIT;
        SELECT string_agg(c.invariant || ': ' || c.detail, '; ') INTO bad FROM task.task_market_check() c;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'invariant violated after op % (%: %, as %): %', i, op, q, who, bad;
        END IF;
    END LOOP;
END
$proc$;

-- 1. one session, deterministic
CALL public.mkr_run(0, 0.42, 1400);
SELECT op, string_agg(outcome || ' ' || n, ', ' ORDER BY outcome) AS outcomes
  FROM public.mkr_outcome WHERE session = 0 GROUP BY op ORDER BY op;
SELECT escrow, count(*) FROM task.market_task WHERE owner = service_number('SVC-7001') GROUP BY escrow ORDER BY escrow;
SELECT count(*) AS violations FROM task.task_market_check();

-- 2. three sessions at once, each checking after each of its operations
SELECT format('host=%s port=%s dbname=%s user=%s', split_part(current_setting('unix_socket_directories'), ',', 1),
              current_setting('port'), current_database(), current_user) AS conn \gset
SELECT dblink_connect('mkr1', :'conn'), dblink_connect('mkr2', :'conn'), dblink_connect('mkr3', :'conn');
SELECT dblink_send_query('mkr1', 'CALL public.mkr_run(1, 0.11, 250)'),
       dblink_send_query('mkr2', 'CALL public.mkr_run(2, 0.22, 250)'),
       dblink_send_query('mkr3', 'CALL public.mkr_run(3, 0.33, 250)');
-- each session's end: no error (an unexpected error or a violation would be one)
SELECT s, (SELECT x.status FROM dblink_get_result(s, false) AS x(status text)) AS status,
       dblink_error_message(s) AS error
  FROM unnest(ARRAY['mkr1', 'mkr2', 'mkr3']) s ORDER BY s;
SELECT dblink_disconnect('mkr1'), dblink_disconnect('mkr2'), dblink_disconnect('mkr3');
SELECT session, sum(n) AS operations FROM public.mkr_outcome WHERE session > 0 GROUP BY session ORDER BY session;
SELECT count(*) AS violations FROM task.task_market_check();
-- money in = money held: deposits equal wallets plus escrows, and the funding account is their negative
SELECT (SELECT sum(amount) FROM task.ledger_entry e JOIN task.ledger_txn t ON t.id = e.txn WHERE t.kind = 'deposit' AND e.amount > 0)
         = (SELECT sum(balance) FROM task.ledger_account WHERE kind <> 'funding') AS money_conserved,
       (SELECT sum(balance) FROM task.ledger_account) = 0 AS balances_sum_to_zero;

-- clean up
DROP PROCEDURE public.mkr_run(integer, double precision, integer);
DROP TABLE public.mkr_outcome;
DROP EXTENSION dblink;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _, setval('task.account_id_seq', :acc_last, :'acc_called') AS _ \gset
