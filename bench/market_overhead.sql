-- What the marketplace costs the core's hot path, and one hire's cycle.
-- Run as a superuser in a scratch database with task installed, e.g.
--   test/harness/cluster.sh start tmp/dev 59205 dev
--   test/harness/cluster.sh psql tmp/dev 59205 -d dev -q -f bench/market_overhead.sql
-- Backend CPU time (utime + stime of /proc/self/stat, 10 ms ticks), not
-- wall time: on a shared machine only the CPU time is stable.
--   1. 5000 dequeue + task_complete of ordinary tasks, with and without a
--      second AFTER UPDATE trigger shaped as the marketplace's first design
--      had it (its WHEN filters every ordinary task out), 4 rounds each: why
--      the escrow step lives in the existing dependency trigger instead;
--   2. 500 hire -> complete -> accept cycles (three ledger transactions each).
SET search_path = task, public;
CREATE FUNCTION pg_temp.cpu() RETURNS bigint LANGUAGE sql AS $$
    SELECT (f[12])::bigint + (f[13])::bigint
      FROM (SELECT string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') AS f) s
$$;
SELECT task_service_create('market-bench', 'mbench') AS svc \gset
SELECT (task_queue_create('mbench/jobs', owner => :'svc')).name AS q1, (task_queue_create('mbench/hired', owner => :'svc')).name AS q2 \gset
CREATE FUNCTION pg_temp.run(n integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c0 bigint; r record; i integer;
BEGIN
    PERFORM task_create_many('bench.job', 'mbench/jobs', array_fill('{}'::jsonb, ARRAY[n]));
    c0 := pg_temp.cpu();
    FOR i IN 1..n / 1000 LOOP
        FOR r IN SELECT id, lease_token FROM task_dequeue('mbench/jobs', 1000) LOOP
            PERFORM task_complete(r.id, '{"ok": 1}', token => r.lease_token);
        END LOOP;
    END LOOP;
    RETURN (pg_temp.cpu() - c0) * 10;
END $$;
CREATE FUNCTION public.mbench_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER mbench_second_after AFTER UPDATE OF status ON task.task FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.code LIKE 'market.%'
          AND (NEW.status IN ('completed', 'failed', 'cancelled') OR OLD.status IN ('completed', 'failed', 'cancelled')))
    EXECUTE FUNCTION public.mbench_noop();
CREATE TEMP TABLE res (mode text, ms bigint);
DO $$
BEGIN
    PERFORM pg_temp.run(2000);   -- warm up
    FOR k IN 1..4 LOOP
        ALTER TABLE task.task DISABLE TRIGGER mbench_second_after;
        INSERT INTO res SELECT 'one AFTER trigger (as shipped)', pg_temp.run(5000);
        ALTER TABLE task.task ENABLE TRIGGER mbench_second_after;
        INSERT INTO res SELECT 'a second AFTER trigger', pg_temp.run(5000);
    END LOOP;
END $$;
DROP TRIGGER mbench_second_after ON task.task;
DROP FUNCTION public.mbench_noop();
SELECT mode, array_agg(ms) AS cpu_ms_per_5000_completes, round(avg(ms)) AS avg FROM res GROUP BY mode ORDER BY mode;

-- 2. the hire cycle
SELECT task_market_setup(:'svc', 'mbench/hired', review_window => '1 day') IS NOT NULL AS market;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mbench_client') THEN CREATE ROLE mbench_client; END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mbench_agent') THEN CREATE ROLE mbench_agent; END IF;
END $$;
SELECT task_login_grant('mbench_client', task_account_create('Bench Client', 'Client')) AS _,
       task_login_grant('mbench_agent', task_account_create('Bench Agent', 'Vendor')) AS _ \gset
SELECT task_agent_register(task.account_text(account), ARRAY['bench.work'], 10, capacity => 10000) IS NOT NULL AS agent
  FROM task.login WHERE role = 'mbench_agent'::regrole;
SELECT task_market_deposit(task.account_text(account), 100000000) IS NOT NULL AS deposit
  FROM task.login WHERE role = 'mbench_client'::regrole;
CREATE FUNCTION pg_temp.cycle(n integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE c0 bigint := pg_temp.cpu(); i integer; id task.task_id;
BEGIN
    FOR i IN 1..n LOOP
        PERFORM set_config('role', 'mbench_client', true);
        id := (task_hire('bench.work', '{}', 100) ->> 'id')::task.task_id;
        PERFORM set_config('role', 'mbench_agent', true);
        PERFORM task_complete(id, '{"ok": 1}');
        PERFORM set_config('role', 'mbench_client', true);
        PERFORM task_accept(id);
    END LOOP;
    PERFORM set_config('role', 'none', true);
    RETURN (pg_temp.cpu() - c0) * 10;
END $$;
SELECT 500 AS cycles, pg_temp.cycle(500) AS cpu_ms;
SELECT count(*) AS violations FROM task_market_check();
