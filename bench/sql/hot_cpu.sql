-- The cost per task of the queue path inside one backend (issue 15): the
-- procedures bench/hot_cpu.sh calls, and the measurement around them.
-- Each procedure commits once per transaction of its workload, so no client
-- round trip and no parse of a client statement is counted; the backend's
-- CPU is read from /proc/self/schedstat (ns on CPU), the WAL from
-- pg_current_wal_insert_lsn() and pg_stat_wal (after a forced stats flush).
-- Needs a superuser (pg_read_file) and a database where task is installed
-- with a service 'bench' and queue 'bench/q' (bench/hot_cpu.sh sets it up).

CREATE TABLE IF NOT EXISTS public.bench_raw (
    id         bigserial PRIMARY KEY,
    payload    jsonb,
    created_at timestamptz DEFAULT now()
);

-- drain, 1 per transaction: complete the previous task and claim the next
-- in one call (bench/sql/task_drain1.sql)
CREATE OR REPLACE PROCEDURE public.hot_task_drain1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    prev task.task_id;
    tok bigint;
    r record;
BEGIN
    FOR i IN 1..n + 1 LOOP
        SELECT d.id, d.lease_token INTO r
          FROM task.task_dequeue('bench/q', 1, complete => prev, complete_token => tok) d;
        COMMIT;
        prev := r.id;
        tok := r.lease_token;
    END LOOP;
END
$$;

-- drain, 10 per transaction: complete the previous batch, claim the next
CREATE OR REPLACE PROCEDURE public.hot_task_drain10(n integer) LANGUAGE plpgsql AS $$
DECLARE
    ids task.task_id[];
    toks bigint[];
BEGIN
    FOR i IN 1..n / 10 + 1 LOOP
        SELECT array_agg(d.id), array_agg(d.lease_token) INTO ids, toks
          FROM task.task_dequeue('bench/q', 10, complete_batch => ids, complete_tokens => toks) d;
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_task_enqueue1(n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        PERFORM task.task_create('bench.job', 'bench/q', parameters => '{"n": 1}'::jsonb);
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_task_enqueue100(n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n / 100 LOOP
        PERFORM task.task_create_many(code => 'bench.job', queue => 'bench/q',
                                      parameters => array_fill('{"n": 1}'::jsonb, ARRAY[100]));
        COMMIT;
    END LOOP;
END
$$;

-- The idle turn of a blocking worker: a dequeue that finds the queue empty
-- and waits 1 ms (no commit wakes it), one per transaction.
CREATE OR REPLACE PROCEDURE public.hot_task_idle1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    k integer;
BEGIN
    FOR i IN 1..n LOOP
        SELECT count(*) INTO k FROM task.task_dequeue('bench/q', 1, wait => '1 ms') d;
        COMMIT;
    END LOOP;
END
$$;
CREATE OR REPLACE PROCEDURE public.hot_raw_idle1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR i IN 1..n LOOP
        DELETE FROM public.bench_raw
         WHERE id = (SELECT id FROM public.bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING * INTO r;
        IF NOT FOUND THEN
            PERFORM pg_sleep(0.001);
        END IF;
        COMMIT;
    END LOOP;
END
$$;
CREATE OR REPLACE PROCEDURE public.hot_raw_drain1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR i IN 1..n + 1 LOOP
        DELETE FROM public.bench_raw
         WHERE id = (SELECT id FROM public.bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING * INTO r;
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_raw_drain10(n integer) LANGUAGE plpgsql AS $$
DECLARE
    k integer;
BEGIN
    FOR i IN 1..n / 10 + 1 LOOP
        WITH d AS (DELETE FROM public.bench_raw
         WHERE id = ANY (ARRAY(SELECT id FROM public.bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 10))
        RETURNING *)
        SELECT count(*) INTO k FROM d;
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_raw_enqueue1(n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO public.bench_raw (payload) VALUES ('{"n": 1}');
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_raw_enqueue100(n integer) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n / 100 LOOP
        INSERT INTO public.bench_raw (payload) SELECT '{"n": 1}' FROM generate_series(1, 100);
        COMMIT;
    END LOOP;
END
$$;

-- floor: raw SQL writing task's own row and indexes (bench/sql/floor_setup.sql
-- has the table and says what it is; the statements are those of
-- floor_insert1/100.sql and floor_drain1/10.sql).
CREATE OR REPLACE PROCEDURE public.hot_floor_drain1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    o integer := public.bench_floor_owner();
    a text := task.service_text(o);
    prev task.task_id;
    tok bigint;
    r record;
BEGIN
    FOR i IN 1..n + 1 LOOP
        WITH done AS (
            UPDATE public.bench_floor
               SET status = 'completed', revision = revision + 1, progress = 100, lease_until = NULL,
                   status_at = now(), updated_at = now(), updated_by = a, completed_at = now(), completed_by = a
             WHERE owner = o AND id = prev AND status = 'processing' AND lease_token = tok
        ), claimed AS (
            UPDATE public.bench_floor
               SET status = 'processing', revision = revision + 1, attempts = attempts + 1,
                   lease_token = (revision + 1)::bigint | ((random() * 4194303)::bigint << 31),
                   lease_until = now() + interval '5 minutes', status_at = now(), updated_at = now(), updated_by = a,
                   started_at = now(), started_by = a, worker_name = current_setting('application_name'),
                   worker_addr = inet_client_addr(), worker_pid = pg_backend_pid()
             WHERE owner = o AND id = (SELECT f.id FROM public.bench_floor f
                                        WHERE hashtext(f.queue) = hashtext('bench/q') AND f.queue = 'bench/q'
                                          AND f.status IN ('queued', 'rescheduled')
                                        ORDER BY hashtext(f.queue), f.priority DESC, f.run_at, f.id
                                        FOR NO KEY UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, lease_token
        )
        SELECT c.id, c.lease_token INTO r FROM (SELECT 1) AS one LEFT JOIN claimed c ON true;
        COMMIT;
        prev := r.id;
        tok := r.lease_token;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_floor_drain10(n integer) LANGUAGE plpgsql AS $$
DECLARE
    o integer := public.bench_floor_owner();
    a text := task.service_text(o);
    ids task.task_id[];
    toks bigint[];
BEGIN
    FOR i IN 1..n / 10 + 1 LOOP
        WITH done AS (
            UPDATE public.bench_floor
               SET status = 'completed', revision = revision + 1, progress = 100, lease_until = NULL,
                   status_at = now(), updated_at = now(), updated_by = a, completed_at = now(), completed_by = a
             WHERE owner = o AND id = ANY (ids) AND status = 'processing' AND lease_token = ANY (toks)
        ), claimed AS (
            UPDATE public.bench_floor
               SET status = 'processing', revision = revision + 1, attempts = attempts + 1,
                   lease_token = (revision + 1)::bigint | ((random() * 4194303)::bigint << 31),
                   lease_until = now() + interval '5 minutes', status_at = now(), updated_at = now(), updated_by = a,
                   started_at = now(), started_by = a, worker_name = current_setting('application_name'),
                   worker_addr = inet_client_addr(), worker_pid = pg_backend_pid()
             WHERE owner = o AND id = ANY (ARRAY(SELECT f.id FROM public.bench_floor f
                                        WHERE hashtext(f.queue) = hashtext('bench/q') AND f.queue = 'bench/q'
                                          AND f.status IN ('queued', 'rescheduled')
                                        ORDER BY hashtext(f.queue), f.priority DESC, f.run_at, f.id
                                        FOR NO KEY UPDATE SKIP LOCKED LIMIT 10))
            RETURNING id, lease_token
        )
        SELECT array_agg(c.id), array_agg(c.lease_token) INTO ids, toks FROM claimed c;
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_floor_enqueue1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    o integer := public.bench_floor_owner();
    a text := task.service_text(o);
    id task.task_id;
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO public.bench_floor (owner, id, code, queue, parameters, priority, created_by, updated_by)
        VALUES (o, task.task_id_make(o, nextval('public.bench_floor_serial')), 'bench.job', 'bench/q', '{"n": 1}', 0, a, a)
        RETURNING bench_floor.id INTO id;
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE public.hot_floor_enqueue100(n integer) LANGUAGE plpgsql AS $$
DECLARE
    o integer := public.bench_floor_owner();
    a text := task.service_text(o);
    k integer;
BEGIN
    FOR i IN 1..n / 100 LOOP
        WITH ins AS (
            INSERT INTO public.bench_floor (owner, id, code, queue, parameters, priority, created_by, updated_by)
            SELECT o, task.task_id_make(o, nextval('public.bench_floor_serial')), 'bench.job', 'bench/q', '{"n": 1}', 0, a, a
              FROM generate_series(1, 100)
            RETURNING bench_floor.id)
        SELECT count(*) INTO k FROM ins;
        COMMIT;
    END LOOP;
END
$$;

-- The backlog a drain works on (not measured).
CREATE OR REPLACE FUNCTION public.hot_preload(sys text, n integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF sys = 'raw' THEN
        INSERT INTO public.bench_raw (payload) SELECT '{"n": 1}' FROM generate_series(1, n);
    ELSIF sys = 'floor' THEN
        PERFORM public.bench_floor_preload(n);
    ELSE
        -- exactly n tasks, in batches of up to 1,000 (hot_ir.sh's first
        -- run preloads 220: with whole batches only it had none to drain)
        FOR i IN 0..(n - 1) / 1000 LOOP
            PERFORM task.task_create_many(code => 'bench.job', queue => 'bench/q',
                                          parameters => array_fill('{"n": 1}'::jsonb, ARRAY[least(1000, n - i * 1000)]));
        END LOOP;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION public.hot_cpu_ns() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint
$$;
