-- Error oracles (issue 16): every API path that names a task or a queue
-- answers a caller exactly the same -- SQLSTATE, message, detail and hint,
-- the id aside -- for a task (or queue) of another tenant, in every status,
-- as for one that was never issued (does not exist). Callers: another
-- service, a client, a vendor, an unmapped login. Batch forms included.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('leak-errors-a', 'lke/a') AS svc \gset
SELECT task_service_create('leak-errors-b', 'lke/b') AS other \gset
SELECT task_account_create('Leak Errors Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('Leak Errors Client', 'Client') AS client \gset
CREATE ROLE regress_lke_svc LOGIN;
CREATE ROLE regress_lke_other LOGIN;
CREATE ROLE regress_lke_vendor LOGIN;
CREATE ROLE regress_lke_client LOGIN;
CREATE ROLE regress_lke_nobody LOGIN;
SELECT task_login_grant('regress_lke_svc', :'svc'), task_login_grant('regress_lke_other', :'other'),
       task_login_grant('regress_lke_vendor', :'vendor'), task_login_grant('regress_lke_client', :'client') \gset

-- tasks of A in every status, on nobody's access list
SET ROLE regress_lke_svc;
SELECT task_queue_create('lke/a/q') IS NOT NULL AS made \gset
SELECT id AS t_blocked FROM task_create('lke.job', 'lke/a/q', status => 'blocked') \gset
SELECT id AS t_done FROM task_create('lke.job', 'lke/a/q') \gset
SELECT id AS t_failed FROM task_create('lke.job', 'lke/a/q', max_attempts => 1) \gset
SELECT id AS t_cancelled FROM task_create('lke.job', 'lke/a/q') \gset
SELECT count(*) AS claimed FROM task_dequeue('lke/a/q', 2) \gset
SELECT status FROM task_complete(:'t_done', result => '{}', force => true);
SELECT status FROM task_fail(:'t_failed', 'broken', force => true);
SELECT status FROM task_cancel(:'t_cancelled');
SELECT id AS t_processing FROM task_create('lke.job', 'lke/a/q') \gset
SELECT lease_token AS live_token, id = :'t_processing' AS claimed_it FROM task_dequeue('lke/a/q') \gset
SELECT id AS t_queued FROM task_create('lke.job', 'lke/a/q') \gset
RESET ROLE;
SET ROLE regress_lke_other;
SELECT task_queue_create('lke/b/q') IS NOT NULL AS made \gset
RESET ROLE;

CREATE TEMP TABLE foreign_id (status text, id text);
INSERT INTO foreign_id VALUES ('blocked', :'t_blocked'), ('queued', :'t_queued'), ('processing', :'t_processing'),
    ('completed', :'t_done'), ('failed', :'t_failed'), ('cancelled', :'t_cancelled');
-- never issued: under A's prefix, and under a service that does not exist
CREATE TEMP TABLE never_id (kind text, id text);
INSERT INTO never_id VALUES ('same owner', format('TSK-%s-9999-9999-9999', substr(:'svc', 5))),
                            ('no owner', 'TSK-9998-0000-0000-0001');
GRANT SELECT ON foreign_id, never_id TO PUBLIC;

-- the error of a call, in full, the id replaced by <id> (and service,
-- account and token numbers by N); 'ok' when none.
-- Whatever the call did is undone.
CREATE FUNCTION pg_temp.err(call text, id text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    BEGIN
        EXECUTE replace(call, '{id}', quote_literal(id));
        RAISE EXCEPTION USING ERRCODE = 'TKT01';
    EXCEPTION WHEN SQLSTATE 'TKT01' THEN
        RETURN 'ok';
    WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
        -- and the numbers that depend on the order tests run in
        RETURN regexp_replace(regexp_replace(regexp_replace(
                   concat_ws(' | ', s, replace(m, id, '<id>'), nullif(replace(d, id, '<id>'), ''), nullif(h, '')),
                   'SVC-\d{4}', 'SVC-NNNN', 'g'), 'ACC-\d{4}-\d{4}', 'ACC-NNNN-NNNN', 'g'), 'token \d+', 'token N', 'g');
    END;
END
$$;

-- the CONTEXT of a call's error (what a direct connection shows under
-- the message: the functions it went through, with their lines), the id
-- replaced; compared, not shown
CREATE FUNCTION pg_temp.ctx(call text, id text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c text;
BEGIN
    EXECUTE replace(call, '{id}', quote_literal(id));
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS c = PG_EXCEPTION_CONTEXT;
    RETURN replace(c, id, '<id>');
END
$$;

CREATE TEMP TABLE call (ord int, sql text);
INSERT INTO call VALUES
    (1, $$SELECT task.task_get({id})$$),
    (2, $$SELECT task.task_logs({id})$$),
    (3, $$SELECT task.task_result({id})$$),
    (4, $$SELECT task.task_complete({id}, result => '{}')$$),
    (5, $$SELECT task.task_complete({id}, resource => '/x', token => 1)$$),
    (6, $$SELECT task.task_fail({id}, 'e')$$),
    (7, $$SELECT task.task_fail({id}, 'e', token => 1)$$),
    (8, $$SELECT task.task_heartbeat({id}, 1)$$),
    (9, $$SELECT task.task_progress({id}, 50)$$),
    (10, $$SELECT task.task_log({id}, 'message')$$),
    (11, $$SELECT task.task_reschedule({id}, now())$$),
    (12, $$SELECT task.task_reschedule({id}, now(), token => 1)$$),
    (13, $$SELECT task.task_cancel({id}, 'reason')$$),
    (14, $$SELECT task.task_retry({id})$$),
    (15, $$SELECT task.task_unblock({id})$$),
    (16, $$SELECT task.task_create('lke.x', 'lke/b/q', parent => {id})$$),
    (17, $$SELECT task.task_create('lke.x', 'lke/b/q', depends_on => ARRAY[{id}]::task.task_id[])$$),
    (18, $$SELECT task.task_create('lke.x', 'lke/b/q', parent => {id}, blocks_parent => true)$$),
    (19, $$SELECT task.task_dequeue('lke/b/q', 0, complete => {id})$$),
    (20, $$SELECT task.task_dequeue('lke/b/q', 0, complete => {id}, complete_token => 1)$$),
    (21, $$SELECT task.task_dequeue('lke/b/q', 0, complete_batch => ARRAY[{id}]::task.task_id[])$$),
    (22, $$SELECT task.task_dequeue('lke/b/q', 0, complete_batch => ARRAY[{id}]::task.task_id[], complete_tokens => ARRAY[1])$$),
    (23, $$SELECT task.task_wait({id}, '0')$$);
GRANT SELECT ON call TO PUBLIC;

-- per caller: the calls whose answer for some foreign task differs from
-- the answer for a never-issued id (none may), and the answers themselves
CREATE FUNCTION pg_temp.oracles(login text)
RETURNS TABLE (ord int, status text, never_kind text, foreign_answer text, never_answer text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SET SESSION AUTHORIZATION %I', login);
    RETURN QUERY
    SELECT c.ord, f.status, n.kind, pg_temp.err(c.sql, f.id), pg_temp.err(c.sql, n.id)
      FROM call c, foreign_id f, never_id n
     WHERE pg_temp.err(c.sql, f.id) IS DISTINCT FROM pg_temp.err(c.sql, n.id)
        OR pg_temp.ctx(c.sql, f.id) IS DISTINCT FROM pg_temp.ctx(c.sql, n.id)
     ORDER BY 1, 2, 3;
    RESET SESSION AUTHORIZATION;
END
$$;
CREATE FUNCTION pg_temp.answers(login text) RETURNS TABLE (ord int, answer text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SET SESSION AUTHORIZATION %I', login);
    RETURN QUERY SELECT c.ord, pg_temp.err(c.sql, n.id) FROM call c, never_id n WHERE n.kind = 'same owner' ORDER BY 1;
    RESET SESSION AUTHORIZATION;
END
$$;

SELECT * FROM pg_temp.oracles('regress_lke_other');
SELECT * FROM pg_temp.oracles('regress_lke_client');
SELECT * FROM pg_temp.oracles('regress_lke_vendor');
SELECT * FROM pg_temp.oracles('regress_lke_nobody');

-- Hired tasks of the marketplace, on the access lists of their client and
-- agent only: task_complete, task_fail and task_cancel called by an
-- account take the marketplace's path for a hired task it may see. Until
-- stop 27 they took it for a hidden one too, and its CONTEXT
-- (task._market_finish) told any account that the id was a hire. In a
-- transaction rolled back (one marketplace a database), the id sequences
-- put back after it.
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT last_value AS acc_last, is_called AS acc_called FROM task.account_id_seq \gset
SELECT last_value AS ser_last, is_called AS ser_called FROM task.task_serial_seq \gset
SELECT last_value AS txn_last, is_called AS txn_called FROM task.ledger_txn_id_seq \gset
SELECT last_value AS lac_last, is_called AS lac_called FROM task.ledger_account_id_seq \gset
BEGIN;
SELECT task_service_create('leak-errors-market', 'lke/m') AS msvc \gset
SELECT task_account_create('Leak Errors Hirer', 'Client') AS hirer,
       task_account_create('Leak Errors Agent', 'Vendor') AS agent1,
       task_account_create('Leak Errors Agent 2', 'Vendor') AS agent2 \gset
CREATE ROLE regress_lke_hirer LOGIN;
CREATE ROLE regress_lke_agent LOGIN;
SELECT task_login_grant('regress_lke_hirer', :'hirer'), task_login_grant('regress_lke_agent', :'agent1') \gset
SELECT (task_queue_create('lke/m/hired', owner => :'msvc')).name IS NOT NULL AS made,
       task_market_setup(:'msvc', 'lke/m/hired') IS NOT NULL AS set_up,
       task_agent_register(:'agent1', ARRAY['lke.work'], 100, capacity => 5) IS NOT NULL AS agent1_registered,
       task_agent_register(:'agent2', ARRAY['lke.work'], 200, capacity => 5) IS NOT NULL AS agent2_registered,
       task_market_deposit(:'hirer', 10000) IS NOT NULL AS funded \gset
SET ROLE regress_lke_hirer;
SELECT task_hire('lke.work', '{}', 500, agent => :'agent1') ->> 'id' AS h_held \gset
SELECT task_hire('lke.work', '{}', 500, agent => :'agent1') ->> 'id' AS h_review \gset
SELECT task_hire('lke.work', '{}', 500, agent => :'agent1') ->> 'id' AS h_moved \gset
SELECT task_reassign(:'h_moved', :'agent2') IS NOT NULL AS reassigned \gset
RESET ROLE;
SET ROLE regress_lke_agent;
SELECT task_complete(:'h_review', result => '{}') IS NOT NULL AS completed \gset
RESET ROLE;
DELETE FROM foreign_id;
INSERT INTO foreign_id VALUES ('hired, held', :'h_held'), ('hired, in review', :'h_review'),
                              ('hired, reassigned', :'h_moved');
SELECT * FROM pg_temp.oracles('regress_lke_client');
SELECT * FROM pg_temp.oracles('regress_lke_vendor');
SELECT * FROM pg_temp.oracles('regress_lke_other');
SELECT * FROM pg_temp.oracles('regress_lke_nobody');
-- the agent a hired task was taken from no longer sees it
SELECT * FROM pg_temp.oracles('regress_lke_agent') WHERE status = 'hired, reassigned';
ROLLBACK;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _, setval('task.account_id_seq', :acc_last, :'acc_called') AS _,
       setval('task.task_serial_seq', :ser_last, :'ser_called') AS _,
       setval('task.ledger_txn_id_seq', :txn_last, :'txn_called') AS _,
       setval('task.ledger_account_id_seq', :lac_last, :'lac_called') AS _ \gset
-- what another service and a client are told, for both
SELECT * FROM pg_temp.answers('regress_lke_other');
SELECT * FROM pg_temp.answers('regress_lke_client');

-- Queues: a queue of another service answers exactly like a name that
-- does not exist (outside the caller's namespace: no queue is made),
-- CONTEXT included
CREATE FUNCTION pg_temp.queue_oracles(login text)
RETURNS TABLE (call text, same boolean, answer text)
LANGUAGE plpgsql AS $$
DECLARE
    c text;
BEGIN
    EXECUTE format('SET SESSION AUTHORIZATION %I', login);
    FOREACH c IN ARRAY ARRAY[
        $q$SELECT task.task_create('lke.x', {id})$q$,
        $q$SELECT task.task_create('lke.x', {id}, idempotency_key => 'k')$q$,
        $q$SELECT task.task_create_many('lke.x', {id}, ARRAY['{}'::jsonb])$q$,
        $q$SELECT task.task_dequeue({id})$q$,
        $q$SELECT task.task_queue_configure({id}, paused => true)$q$,
        $q$SELECT task.task_queue_create({id})$q$,
        $q$SELECT task.task_schedule('s', '0 * * * *', jsonb_build_object('code', 'lke.x', 'queue', {id}))$q$] LOOP
        call := c;
        answer := pg_temp.err(c, 'lke/a/q');
        same := answer = pg_temp.err(c, 'lke/a/nothing') AND answer = pg_temp.err(c, 'lke/z/q')
                AND pg_temp.ctx(c, 'lke/a/q') = pg_temp.ctx(c, 'lke/a/nothing')
                AND pg_temp.ctx(c, 'lke/a/q') = pg_temp.ctx(c, 'lke/z/q');
        answer := replace(answer, '<id>', 'NAME');
        RETURN NEXT;
    END LOOP;
    RESET SESSION AUTHORIZATION;
END
$$;
SELECT * FROM pg_temp.queue_oracles('regress_lke_other');
SELECT * FROM pg_temp.queue_oracles('regress_lke_client');
-- task_schedule answers a queue name exactly as task_create does (it
-- creates its tasks with task_create): another service's, one of nobody's
SET ROLE regress_lke_other;
SELECT q AS queue,
       pg_temp.err($c$SELECT task.task_schedule('s', '0 * * * *', jsonb_build_object('code', 'lke.x', 'queue', {id}))$c$, q)
       = pg_temp.err($c$SELECT task.task_create('lke.x', {id})$c$, q) AS schedule_as_create
  FROM unnest(ARRAY['lke/a/q', 'lke/a/nothing', 'lke/z/q']) q;
RESET ROLE;

-- the stale worker's lease-lost error does not print the live token
CREATE FUNCTION pg_temp.raw_err(call text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    m text; d text; h text;
BEGIN
    EXECUTE call;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN concat_ws(' | ', m, d, h);
END
$$;
SET ROLE regress_lke_svc;
SELECT pg_temp.err(format('SELECT task.task_heartbeat({id}, %s)', :live_token + 1), :'t_processing') AS stale_heartbeat,
       pg_temp.raw_err(format('SELECT task.task_heartbeat(%L, %s)', :'t_processing', :live_token + 1))
           ~ ('\m' || :live_token || '\M') AS shows_live_token,
       pg_temp.raw_err(format('SELECT task.task_complete(%L, token => %s)', :'t_processing', :live_token + 1))
           ~ ('\m' || :live_token || '\M') AS complete_shows_live_token;
-- depends_on names only the ids not found, another service's and
-- never-issued ones alike, and not the caller's own
SELECT pg_temp.err(format('SELECT task.task_create(''lke.x'', ''lke/a/q'', depends_on => ARRAY[%L, %L, {id}]::task.task_id[])',
                          :'t_queued', :'t_done'), (SELECT id FROM never_id WHERE kind = 'same owner')) AS own_and_never;
RESET ROLE;
SET ROLE regress_lke_other;
SELECT replace(pg_temp.err(format('SELECT task.task_create(''lke.x'', ''lke/b/q'', depends_on => ARRAY[%L, {id}]::task.task_id[])',
                                  :'t_queued'), (SELECT id FROM never_id WHERE kind = 'same owner')), :'t_queued', '<foreign>')
       AS foreign_and_never;
RESET ROLE;

DROP OWNED BY regress_lke_svc, regress_lke_other, regress_lke_vendor, regress_lke_client, regress_lke_nobody;
