-- CPU of the claim path in one backend (docs/FEATURES.md, claim-time
-- limits: what an unlimited queue pays). Needs a database with task and
-- service SVC-0001. Per block: 2000 tasks created, then claimed and
-- completed one at a time (complete-and-claim, one call per task), in one
-- transaction, after a VACUUM (a drain leaves dead index entries that slow
-- the next one); prints the time of each block (ms). Run by bench/claim_cpu.sh.
\set ON_ERROR_STOP 1
SELECT task.task_queue_create('bench/cpu', owner => 'SVC-0001') IS NOT NULL AS made \gset
CREATE OR REPLACE FUNCTION pg_temp.block(n integer) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    prev task.task_id;
    tok bigint;
    r record;
BEGIN
    PERFORM task.task_create_many('bench.cpu', 'bench/cpu', array_fill('{}'::jsonb, ARRAY[n]));
    t0 := clock_timestamp();
    LOOP
        SELECT d.id, d.lease_token INTO r FROM task.task_dequeue('bench/cpu', complete => prev, complete_token => tok) d;
        EXIT WHEN r.id IS NULL;
        prev := r.id; tok := r.lease_token;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
VACUUM task.task;
SELECT round(pg_temp.block(2000)::numeric, 1) AS ms;
