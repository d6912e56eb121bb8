-- CPU cost of the per-queue NOTIFY inside one backend (no commit: the
-- NOTIFY lock is taken at commit, see bench/notify_cost.sh for that): 2000
-- create + cancel per block, three variants alternated 7 times, the
-- fastest block of each kept (the least disturbed by other load):
--   baseline     task._settle_dependents without its notify block (0.1.0)
--   no-channel   as installed, the queue without a channel
--   channel      as installed, the queue with a channel (nobody listening)
-- Run as a superuser on a scratch database with task installed:
--   psql -X -f bench/sql/notify_cpu.sql
SET client_min_messages = warning;
SELECT task.task_service_create('bench-cpu', 'bench-cpu')
 WHERE NOT EXISTS (SELECT FROM task.service WHERE name = 'bench-cpu');
SELECT task.task_queue_create('bench-cpu/q', owner => (SELECT task.service_text(id) FROM task.service WHERE name = 'bench-cpu'))
 WHERE NOT EXISTS (SELECT FROM task.queue WHERE name = 'bench-cpu/q');
CREATE TEMP TABLE notify_cpu (variant text, round int, ms double precision);
CREATE TEMP TABLE notify_fn AS
SELECT pg_get_functiondef('task._settle_dependents()'::regprocedure) AS installed,
       regexp_replace(pg_get_functiondef('task._settle_dependents()'::regprocedure),
                      '    -- notify: .*-- notify end\n', '') AS baseline;
DO $$
DECLARE
    t0 timestamptz;
    v text;
BEGIN
    FOR r IN 1..7 LOOP
        FOREACH v IN ARRAY (ARRAY['baseline', 'no-channel', 'channel', 'baseline', 'no-channel'])[1 + r % 3 : 3 + r % 3] LOOP
            EXECUTE (SELECT CASE WHEN v = 'baseline' THEN baseline ELSE installed END FROM notify_fn);
            UPDATE task.queue SET notify_channel = CASE WHEN v = 'channel' THEN 'bench_cpu' ELSE '' END
             WHERE name = 'bench-cpu/q';
            t0 := clock_timestamp();
            PERFORM task.task_cancel((task.task_create('bench.cpu', 'bench-cpu/q')).id)
               FROM generate_series(1, 2000);
            INSERT INTO notify_cpu VALUES (v, r, extract(epoch FROM clock_timestamp() - t0) * 1000);
            COMMIT;
        END LOOP;
    END LOOP;
    EXECUTE (SELECT installed FROM notify_fn);
    UPDATE task.queue SET notify_channel = '' WHERE name = 'bench-cpu/q';
END
$$;
SELECT variant, round(min(ms)::numeric, 1) AS best_ms_per_2000,
       round((min(ms) * 1000 / 2000)::numeric, 1) AS us_per_task,
       round((min(ms) / (SELECT min(ms) FROM notify_cpu WHERE variant = 'baseline'))::numeric, 3) AS ratio
  FROM notify_cpu GROUP BY variant ORDER BY min(ms);
