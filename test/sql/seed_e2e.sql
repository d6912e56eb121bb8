-- End-to-end scenarios written from the seeds' and DESIGN.md's words, by
-- the owning service, as a tester reads them:
--   1. DESIGN's transition table, every pair of statuses, through a direct
--      UPDATE of task.task by the owning service (the trigger decides):
--      exactly the listed transitions pass, each bumps revision by one,
--      logs "from -> to" and stamps its audit entry; every other pair is
--      55000 naming both statuses.
--   2. Seed 000's status operations (and DESIGN's verbs) from each status,
--      through the SQL API with the claim's token: what each one does or
--      the SQLSTATE and message it refuses with.
--   3. Seed 001's ids at the ends of their ranges: the last service
--      SVC-9999 and account ACC-9999-9999, then a refusal with 54000, a
--      detail and a hint (no bare 2200H of the sequence).
--   4. DESIGN: an error's hint "tells the caller what to do". Where a
--      refusal's hint offers an example value, the caller who retries with
--      it is served.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

-- ids pinned in a range of their own, the sequences put back at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT last_value AS task_last, is_called AS task_called FROM task.task_serial_seq \gset
SELECT last_value AS acc_last, is_called AS acc_called FROM task.account_id_seq \gset
SELECT setval('task.service_id_seq', 5000) AS _, setval('task.task_serial_seq', 500000) AS _ \gset

SELECT task_service_create('e2e-seeds', 'e2eseeds') AS svc \gset
SELECT set_config('e2e.svc', :'svc', false) AS _ \gset
CREATE ROLE e2e_seeds_svc;
SELECT task_login_grant('e2e_seeds_svc', :'svc');
SET ROLE e2e_seeds_svc;
SELECT name, max_attempts FROM task_queue_create('e2eseeds/matrix', max_attempts => 1);

-- A task of the service in status S, reached through the API (a claim,
-- then complete, fail, reschedule or cancel with its token); returns the
-- task and the token of its claim (NULL when never claimed).
CREATE FUNCTION pg_temp.in_status(s task.status, OUT tid task.task_id, OUT tok bigint)
    LANGUAGE plpgsql AS $$
BEGIN
    tid := (task.task_create('e2e.matrix', 'e2eseeds/matrix',
                             status => CASE WHEN s = 'blocked' THEN 'blocked' ELSE 'queued' END::task.status)).id;
    IF s NOT IN ('blocked', 'queued') THEN
        SELECT d.lease_token INTO STRICT tok FROM task.task_dequeue('e2eseeds/matrix') d WHERE d.id = tid;
        CASE s
            WHEN 'completed' THEN PERFORM task.task_complete(tid, token => tok);
            WHEN 'failed' THEN PERFORM task.task_fail(tid, 'x', token => tok);
            WHEN 'rescheduled' THEN PERFORM task.task_reschedule(tid, now() + interval '1 hour', token => tok);
            WHEN 'cancelled' THEN PERFORM task.task_cancel(tid, 'x');
            ELSE NULL;
        END CASE;
    END IF;
    IF (SELECT x.status FROM task.task x WHERE x.id = tid) <> s THEN
        RAISE EXCEPTION 'fixture: % is not %', tid, s;
    END IF;
END
$$;
-- Runs a statement on task @T: its first column as text ('ok' when it is
-- NULL or empty), or the SQLSTATE and message it fails with (T for the id).
CREATE FUNCTION pg_temp.attempt(stmt text, tid task.task_id) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    r text;
    st text;
    msg text;
BEGIN
    EXECUTE CASE WHEN tid IS NULL THEN stmt ELSE replace(stmt, '@T', quote_literal(tid)) END INTO r;
    RETURN coalesce(nullif(r, ''), 'ok');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN st || ' ' || CASE WHEN tid IS NULL THEN msg ELSE replace(msg, tid::text, 'T') END;
END
$$;
-- The SQLSTATE, message, detail and hint a statement fails with ('ok').
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS TABLE (state text, message text, detail text, hint text)
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN QUERY SELECT 'ok', NULL::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END
$$;
-- afterwards: nothing left for the next claim
CREATE FUNCTION pg_temp.finish(tid task.task_id) RETURNS void
    LANGUAGE sql AS $$
    UPDATE task.task x SET status = 'cancelled'
     WHERE x.id = tid AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
$$;

-- ------------------------------------------------------------ 1. the transition table
--     create -> queued (default) | blocked
--     blocked -> queued | cancelled
--     queued -> processing | cancelled
--     processing -> completed | failed | rescheduled | queued (lease lost) | cancelled
--     rescheduled -> processing (when due) | queued | cancelled
--     failed -> queued (explicit retry by owner or operations)
-- "Every accepted transition bumps revision, stamps the audit object
-- (created, updated, started, completed, failed, rescheduled, cancelled,
-- each {at, by}) and writes a log entry."
CREATE TEMP TABLE transition (f task.status, t task.status, outcome text);
DO $$
DECLARE
    f task.status;
    t task.status;
    x record;
    rev integer;
    doc jsonb;
    stamp text;
    outcome text;
BEGIN
    FOREACH f IN ARRAY enum_range(NULL::task.status) LOOP
        FOREACH t IN ARRAY enum_range(NULL::task.status) LOOP
            CONTINUE WHEN f = t;
            x := pg_temp.in_status(f);
            SELECT k.revision INTO rev FROM task.task k WHERE k.id = x.tid;
            outcome := pg_temp.attempt(format('UPDATE task.task SET status = %L WHERE id = @T RETURNING NULL', t), x.tid);
            IF outcome = 'ok' THEN
                doc := task.task_get(x.tid, log_limit => 1);
                stamp := CASE t WHEN 'processing' THEN 'started' WHEN 'queued' THEN 'updated' ELSE t::text END;
                outcome := concat_ws(' ', 'ok',
                    CASE WHEN (doc ->> 'revision')::int <> rev + 1 THEN 'revision ' || rev || ' -> ' || (doc ->> 'revision') END,
                    CASE WHEN doc #>> '{logs,0,message}' IS DISTINCT FROM f || ' -> ' || t THEN 'log ' || coalesce(doc #>> '{logs,0,message}', 'none') END,
                    CASE WHEN doc #>> ARRAY['audit', stamp, 'at'] IS DISTINCT FROM doc #>> '{audit,updated,at}'
                           OR doc #>> ARRAY['audit', stamp, 'by', 'id'] IS DISTINCT FROM current_setting('e2e.svc')
                         THEN 'audit ' || stamp || ' ' || coalesce(doc #>> ARRAY['audit', stamp], 'missing') END);
            END IF;
            INSERT INTO transition VALUES (f, t, outcome);
            PERFORM pg_temp.finish(x.tid);
        END LOOP;
    END LOOP;
END
$$;
-- the accepted transitions, all audited (an "ok" alone is revision, log and stamp as above)
SELECT f AS "from", string_agg(t::text || CASE WHEN outcome <> 'ok' THEN ' (' || outcome || ')' ELSE '' END, ', ' ORDER BY t) AS "to"
  FROM transition WHERE outcome LIKE 'ok%' GROUP BY f ORDER BY f;
-- every other pair: 55000, naming the two statuses
SELECT count(*) AS refused,
       count(*) FILTER (WHERE outcome = format('55000 invalid task status transition from "%s" to "%s"', f, t)) AS as_expected
  FROM transition WHERE outcome NOT LIKE 'ok%';
SELECT f, t, outcome FROM transition
 WHERE outcome NOT LIKE 'ok%' AND outcome <> format('55000 invalid task status transition from "%s" to "%s"', f, t);

-- ------------------------------------------------------------ 2. the verbs from each status
-- Seed 000: the owner transitions a task to queued, processing, completed,
-- rescheduled or failed and updates its progress; DESIGN adds heartbeat,
-- log, cancel, retry and unblock. Each called with the token of the task's
-- last claim (if any).
CREATE TEMP TABLE verb (f task.status, verb text, outcome text);
DO $$
DECLARE
    f task.status;
    v record;
    x record;
BEGIN
    FOREACH f IN ARRAY enum_range(NULL::task.status) LOOP
        FOR v IN SELECT * FROM (VALUES
                ('heartbeat', 'SELECT ''-> '' || status FROM task.task_heartbeat(@T, %s)'),
                ('progress', 'SELECT ''-> '' || status FROM task.task_progress(@T, 50, token => %s)'),
                ('log', 'SELECT task.task_log(@T, ''a note'', total => 1)'),
                ('complete', 'SELECT ''-> '' || status FROM task.task_complete(@T, result => ''{"done": true}'', token => %s)'),
                ('fail', 'SELECT ''-> '' || status FROM task.task_fail(@T, ''it broke'', token => %s)'),
                ('reschedule', 'SELECT ''-> '' || status FROM task.task_reschedule(@T, now() + interval ''1 minute'', token => %s)'),
                ('cancel', 'SELECT ''-> '' || status FROM task.task_cancel(@T, ''not wanted'')'),
                ('retry', 'SELECT ''-> '' || status FROM task.task_retry(@T)'),
                ('unblock', 'SELECT ''-> '' || status FROM task.task_unblock(@T)')) s(verb, stmt) LOOP
            x := pg_temp.in_status(f);
            INSERT INTO verb VALUES (f, v.verb, pg_temp.attempt(format(v.stmt, coalesce(x.tok::text, 'NULL')), x.tid));
            PERFORM pg_temp.finish(x.tid);
        END LOOP;
    END LOOP;
END
$$;
SELECT f AS status, verb, outcome FROM verb ORDER BY f, verb;


-- ------------------------------------------------------------ 4. the examples hints offer
-- each refusal's hint, then each value it quotes ('...', "...", or a
-- TSK-/ACC- id) put back into the call. The hint of a malformed queue
-- name shows the format only: the retry passes that check and meets the
-- next (the queue is outside the caller's namespace, whose own hint names
-- one inside it, as "queue, elsewhere" shows).
CREATE TEMP TABLE hinted (k text, refused text, retry text);
INSERT INTO hinted VALUES
    ('cron', $$SELECT task.task_schedule('e2e-hint', NULL, '{"code": "e2e.hint", "queue": "e2eseeds/hint"}')$$,
             $$SELECT task.task_schedule('e2e-hint', %L, '{"code": "e2e.hint", "queue": "e2eseeds/hint"}')$$),
    ('cron, unparsed', $$SELECT task.task_schedule('e2e-hint', 'every night', '{"code": "e2e.hint", "queue": "e2eseeds/hint"}')$$,
             $$SELECT task.task_schedule('e2e-hint', %L, '{"code": "e2e.hint", "queue": "e2eseeds/hint"}')$$),
    ('schedule name', $$SELECT task.task_schedule('e2e hint!', '0 3 * * *', '{"code": "e2e.hint", "queue": "e2eseeds/hint"}')$$,
             $$SELECT task.task_schedule(%L, '0 3 * * *', '{"code": "e2e.hint", "queue": "e2eseeds/hint"}')$$),
    ('template', $$SELECT task.task_schedule('e2e-hint', '0 3 * * *', '[]')$$,
             $$SELECT task.task_schedule('e2e-hint', '0 3 * * *', %L)$$),
    ('template, no queue', $$SELECT task.task_schedule('e2e-hint', '0 3 * * *', '{"code": "e2e.hint"}')$$,
             $$SELECT task.task_schedule('e2e-hint', '0 3 * * *', %L)$$),
    ('code', $$SELECT task.task_create('E2E Hint!', 'e2eseeds/hint')$$, $$SELECT task.task_create(%L, 'e2eseeds/hint')$$),
    ('queue, elsewhere', $$SELECT task.task_create('e2e.hint', 'elsewhere/hint')$$, $$SELECT task.task_create('e2e.hint', %L)$$),
    ('queue, malformed', $$SELECT task.task_create('e2e.hint', 'e2eseeds/Hint Queue')$$, $$SELECT task.task_create('e2e.hint', %L)$$),
    ('object', $$SELECT task.task_create('e2e.hint', 'e2eseeds/hint', object => '[1]')$$,
             $$SELECT task.task_create('e2e.hint', 'e2eseeds/hint', object => %L)$$),
    ('new status', $$SELECT task.task_create('e2e.hint', 'e2eseeds/hint', status => 'processing')$$,
             $$SELECT task.task_create('e2e.hint', 'e2eseeds/hint', status => %L)$$),
    ('account id', $$SELECT task.account_number('ACC-1')$$, $$SELECT task.account_number(%L)$$),
    ('task id', $$SELECT 'TSK-0001'::task.task_id$$, $$SELECT %L::task.task_id$$),
    ('resource', $$SELECT task.task_complete((pg_temp.in_status('processing')).tid, resource => 'https://example.com/x', force => true)$$,
             $$SELECT task.task_complete((pg_temp.in_status('processing')).tid, resource => %L, force => true)$$);
SELECT h.k AS refusal, e.example,
       pg_temp.attempt(format('SELECT NULL FROM (%s) x', format(h.retry, e.example)), NULL) AS retried
  FROM hinted h,
       LATERAL (SELECT hint FROM pg_temp.refusal(h.refused)) r,
       LATERAL (SELECT coalesce(m[1], m[2], m[3]) AS example
                  FROM regexp_matches(r.hint, '''([^'']+)''|"([^"]+)"|\m((?:TSK|ACC)-[0-9-]+[0-9])', 'g') m) e
 ORDER BY h.k, e.example;
SELECT task_unschedule(n) FROM unnest(ARRAY['e2e-hint', 'nightly-report']) n;
RESET ROLE;

-- ------------------------------------------------------------ 3. the ends of the id ranges
SELECT setval('task.service_id_seq', 9998) AS _, setval('task.account_id_seq', 99999998) AS _ \gset
SELECT task_service_create('e2e-last', 'e2elast') AS last_service,
       task_account_create('E2E Last', 'Client') AS last_account;
\x on
SELECT * FROM pg_temp.refusal($$SELECT task.task_service_create('e2e-one-more', 'e2eonemore')$$);
SELECT * FROM pg_temp.refusal($$SELECT task.task_account_create('E2E One More', 'Vendor')$$);
\x off

SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _,
       setval('task.task_serial_seq', :task_last, :'task_called') AS _,
       setval('task.account_id_seq', :acc_last, :'acc_called') AS _ \gset
