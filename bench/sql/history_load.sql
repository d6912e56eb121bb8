-- bench/history.sh: the data. A service "bench" with the W3 queue bench/q
-- (task_setup.sql), a history queue bench/hist keeping 1000 days, 1000
-- client accounts, and n finished tasks of bench/hist written straight in
-- the table's own format (session_replication_role = replica: no trigger,
-- no foreign key check, as pg_restore writes rows): finishing times spread
-- evenly over the last 90 days (the newest 1 hour ago), 90% completed, 7%
-- failed, 3% cancelled; one access row each (account 1 + i % 1000, so
-- every account sees n / 1000 tasks) and a worker log message for one in
-- ten. Serials start at 10^9 so they never meet the sequence's.
SELECT task.task_queue_create('bench/hist', owner => 'SVC-0001', retention => '1000 days');
SELECT task.task_queue_create('bench/live', owner => 'SVC-0001');
SELECT count(task.task_account_create('client ' || i, 'Client')) AS accounts FROM generate_series(1, 1000) i;

CREATE OR REPLACE PROCEDURE bench_history_load(n bigint, chunk bigint DEFAULT 1000000)
LANGUAGE plpgsql AS $$
DECLARE
    done bigint := 0;
    k bigint;
BEGIN
    WHILE done < n LOOP
        k := least(chunk, n - done);
        PERFORM set_config('session_replication_role', 'replica', true);
        INSERT INTO task.task (owner, id, revision, status, code, queue, parameters, result, error,
                               run_at, attempts, status_at, created_at, created_by, updated_at, updated_by,
                               started_at, started_by, completed_at, completed_by, failed_at, failed_by,
                               cancelled_at, cancelled_by)
        SELECT 1, task.task_id_make(1, 1000000000 + i), 3, s.status, 'bench.job', 'bench/hist', '{"n": 1}',
               CASE WHEN s.status = 'completed' THEN '{"ok": true}'::jsonb END,
               CASE WHEN s.status = 'failed' THEN 'bench failure' END,
               s.at - interval '1 minute', 1, s.at, s.at - interval '1 minute', 'SVC-0001', s.at, 'SVC-0001',
               s.at - interval '30 seconds', 'SVC-0001',
               CASE WHEN s.status = 'completed' THEN s.at END, CASE WHEN s.status = 'completed' THEN 'SVC-0001' END,
               CASE WHEN s.status = 'failed' THEN s.at END, CASE WHEN s.status = 'failed' THEN 'SVC-0001' END,
               CASE WHEN s.status = 'cancelled' THEN s.at END, CASE WHEN s.status = 'cancelled' THEN 'SVC-0001' END
          FROM generate_series(done + 1, done + k) i,
               LATERAL (SELECT CASE WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 97 THEN 'failed'
                                    ELSE 'cancelled' END::task.status AS status,
                               now() - interval '1 hour' - interval '90 days' * (i::float8 / n) AS at) s;
        INSERT INTO task.task_access (owner, task_id, account)
        SELECT 1, task.task_id_make(1, 1000000000 + i), 1 + i % 1000
          FROM generate_series(done + 1, done + k) i;
        INSERT INTO task.task_log (owner, task_id, at, message, success, total, by)
        SELECT 1, task.task_id_make(1, 1000000000 + i),
               now() - interval '1 hour' - interval '90 days' * (i::float8 / n) - interval '10 seconds',
               'bench message', 5, 10, 'SVC-0001'
          FROM generate_series(done + 1, done + k) i WHERE i % 10 = 0;
        COMMIT;
        done := done + k;
    END LOOP;
END $$;

-- Archive everything finished at once, for the archived measurements: the
-- rows go to the history tables of their month as task_maintain moves them
-- (task._history_archive does the same a batch at a time), then the live
-- tables keep only the live rows (TRUNCATE and put back, instead of a
-- DELETE of n rows that would leave n dead ones).
CREATE OR REPLACE PROCEDURE bench_history_archive_all()
LANGUAGE plpgsql AS $$
DECLARE
    m date;
BEGIN
    PERFORM set_config('search_path', 'task, public', false);   -- the task_id operators
    FOR m IN SELECT DISTINCT task._history_month(t.status_at) FROM ONLY task.task t
              WHERE t.status IN ('completed', 'failed', 'cancelled') ORDER BY 1 LOOP
        PERFORM task._history_create(m);
        COMMIT;
        EXECUTE format('INSERT INTO task.%I SELECT t.* FROM ONLY task.task t
                         WHERE t.status IN (''completed'', ''failed'', ''cancelled'') AND task._history_month(t.status_at) = $1',
                       'task_' || to_char(m, 'YYYYMM')) USING m;
        EXECUTE format('INSERT INTO task.%I SELECT a.* FROM ONLY task.task t JOIN ONLY task.task_access a ON a.owner = t.owner AND a.task_id = t.id
                         WHERE t.status IN (''completed'', ''failed'', ''cancelled'') AND task._history_month(t.status_at) = $1',
                       'task_access_' || to_char(m, 'YYYYMM')) USING m;
        EXECUTE format('INSERT INTO task.%I SELECT l.* FROM ONLY task.task t JOIN ONLY task.task_log l ON l.owner = t.owner AND l.task_id = t.id
                         WHERE t.status IN (''completed'', ''failed'', ''cancelled'') AND task._history_month(t.status_at) = $1',
                       'task_log_' || to_char(m, 'YYYYMM')) USING m;
        COMMIT;
    END LOOP;
    PERFORM set_config('session_replication_role', 'replica', true);
    CREATE TEMP TABLE keep_t AS SELECT * FROM ONLY task.task WHERE status NOT IN ('completed', 'failed', 'cancelled');
    CREATE TEMP TABLE keep_a AS SELECT a.* FROM ONLY task.task_access a JOIN keep_t t ON a.owner = t.owner AND a.task_id = t.id;
    CREATE TEMP TABLE keep_l AS SELECT l.* FROM ONLY task.task_log l JOIN keep_t t ON l.owner = t.owner AND l.task_id = t.id;
    TRUNCATE ONLY task.task, ONLY task.task_access, ONLY task.task_log, task.task_dependency, task.market_task,
        task.market_assignment, task.market_dispute, task.market_dispute_event, task.market_message, task.market_artifact;
    INSERT INTO task.task SELECT * FROM keep_t;
    INSERT INTO task.task_access SELECT * FROM keep_a;
    INSERT INTO task.task_log SELECT * FROM keep_l;
    DROP TABLE keep_t, keep_a, keep_l;
    COMMIT;
END $$;
