-- A waiting task_dequeue and what changes while it sleeps (docs/WORKERS.md,
-- "Blocking waits"): a queue paused or given a limit by task_queue_configure
-- while a worker sleeps on it is claimed as it is now, not as it was when the
-- wait began; a claim rolled back wakes a sleeper (its task is runnable
-- again); a wait on a paused queue sleeps until the unpause. The waiters
-- are dblink connections; prints codes and counts only.
\set VERBOSITY terse
SET search_path = task, public;
CREATE EXTENSION dblink SCHEMA public;
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 9500) AS _ \gset
SELECT task_service_create('wait-config', 'wcf') AS svc \gset
SELECT name FROM task_queue_create('wcf/q', owner => :'svc');
SELECT format('host=%s port=%s dbname=%s user=%s', split_part(current_setting('unix_socket_directories'), ',', 1),
              current_setting('port'), current_database(), current_user) AS conn \gset
-- send a waiting dequeue on a dblink connection and return once it sleeps
CREATE FUNCTION public.wcf_sleep(c text, wait text, q text DEFAULT 'wcf/q') RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    p integer;
BEGIN
    SELECT x INTO p FROM dblink(c, 'SELECT pg_backend_pid()') AS t(x integer);
    PERFORM dblink_send_query(c, format('SELECT coalesce(string_agg(code, '',''), ''-'') FROM task.task_dequeue(%L, wait => %L)', q, wait));
    FOR i IN 1..1000 LOOP
        IF EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = p AND a.wait_event_type = 'Extension') THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN false;
END
$$;
SELECT dblink_connect('w1', :'conn'), dblink_connect('w2', :'conn'), dblink_connect('h', :'conn');

-- 1. paused while w1 sleeps; a task made then is not claimed
SELECT wcf_sleep('w1', '3 seconds') AS asleep;
SELECT paused FROM task_queue_configure('wcf/q', paused => true);
SELECT code FROM task_create('wcf.p1', 'wcf/q');
SELECT x AS w1_claimed FROM dblink_get_result('w1') AS t(x text);
SELECT * FROM dblink_get_result('w1') AS t(x text);
SELECT code, status FROM task.task WHERE queue = 'wcf/q' ORDER BY id;

-- 2. max_processing => 1 set while w1 and w2 sleep; two tasks made then: one is claimed
SELECT paused FROM task_queue_configure('wcf/q', paused => false);
SELECT count(*) AS claimed_now FROM task_dequeue('wcf/q');
SELECT wcf_sleep('w1', '1 second') AS asleep, wcf_sleep('w2', '1 second') AS asleep;
SELECT max_processing FROM task_queue_configure('wcf/q', max_processing => 1);
UPDATE task.task SET status = 'completed' WHERE queue = 'wcf/q' AND status = 'processing';
SELECT count(*) AS made FROM task_create_many('wcf.m', 'wcf/q', ARRAY['{}', '{}']::jsonb[]);
SELECT ((SELECT x FROM dblink_get_result('w1') AS t(x text)) <> '-')::integer
       + ((SELECT x FROM dblink_get_result('w2') AS t(x text)) <> '-')::integer AS waiters_claimed;
SELECT * FROM dblink_get_result('w1') AS t(x text);
SELECT * FROM dblink_get_result('w2') AS t(x text);
SELECT count(*) AS processing FROM task.task WHERE queue = 'wcf/q' AND status = 'processing';

-- 3. a claim rolled back while w1 sleeps: w1 claims the task at once, not when its wait ends
SELECT name FROM task_queue_create('wcf/r', owner => :'svc');
SELECT code FROM task_create('wcf.r1', 'wcf/r');
SELECT dblink_exec('h', 'BEGIN');
SELECT x AS h_claimed FROM dblink('h', 'SELECT code FROM task.task_dequeue(''wcf/r'')') AS t(x text);
SELECT wcf_sleep('w1', '20 seconds', 'wcf/r') AS asleep;
SELECT clock_timestamp() AS t0 \gset
SELECT dblink_exec('h', 'ROLLBACK');
SELECT x AS w1_claimed, clock_timestamp() - :'t0'::timestamptz < interval '10 seconds' AS within_the_wait
  FROM dblink_get_result('w1') AS t(x text);
SELECT * FROM dblink_get_result('w1') AS t(x text);

-- 4. a claim rolled back to a savepoint, the transaction then committed:
-- the task is runnable again, and the commit wakes w1 (it slept on)
SELECT code FROM task_create('wcf.r2', 'wcf/r');
SELECT dblink_exec('h', 'BEGIN');
SELECT dblink_exec('h', 'SAVEPOINT s');
SELECT x AS h_claimed FROM dblink('h', 'SELECT code FROM task.task_dequeue(''wcf/r'')') AS t(x text);
SELECT wcf_sleep('w1', '20 seconds', 'wcf/r') AS asleep;
SELECT dblink_exec('h', 'ROLLBACK TO SAVEPOINT s');
SELECT clock_timestamp() AS t0 \gset
SELECT dblink_exec('h', 'COMMIT');
SELECT x AS w1_claimed, clock_timestamp() - :'t0'::timestamptz < interval '10 seconds' AS within_the_wait
  FROM dblink_get_result('w1') AS t(x text);
SELECT * FROM dblink_get_result('w1') AS t(x text);

-- 5. called with a wait on a queue already paused: w1 sleeps (it does not
-- return at once), and the unpause's commit wakes it to claim the task
SELECT name FROM task_queue_create('wcf/p', owner => :'svc', paused => true);
SELECT code FROM task_create('wcf.p2', 'wcf/p');
SELECT wcf_sleep('w1', '20 seconds', 'wcf/p') AS asleep;
SELECT count(*) AS processing FROM task.task WHERE queue = 'wcf/p' AND status = 'processing';
SELECT clock_timestamp() AS t0 \gset
SELECT paused FROM task_queue_configure('wcf/p', paused => false);
SELECT x AS w1_claimed, clock_timestamp() - :'t0'::timestamptz < interval '10 seconds' AS within_the_wait
  FROM dblink_get_result('w1') AS t(x text);
SELECT * FROM dblink_get_result('w1') AS t(x text);
-- without a wait, a paused queue still returns nothing at once
SELECT paused FROM task_queue_configure('wcf/p', paused => true);
SELECT code FROM task_create('wcf.p3', 'wcf/p');
SELECT count(*) AS claimed_paused FROM task_dequeue('wcf/p');

SELECT dblink_disconnect('w1'), dblink_disconnect('w2'), dblink_disconnect('h');
DROP FUNCTION public.wcf_sleep(text, text, text);
DROP EXTENSION dblink;
DO $$
DECLARE
    s integer := (SELECT id FROM task.service WHERE name = 'wait-config');
BEGIN
    DELETE FROM task.task_log WHERE owner = s;
    DELETE FROM task.task WHERE owner = s;
    DELETE FROM task.queue WHERE owner = s;
    DELETE FROM task.service WHERE id = s;
END
$$;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
