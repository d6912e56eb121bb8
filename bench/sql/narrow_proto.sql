-- Scratch prototype for issue 15 (docs/QUEUE.md, "A narrow queue-state
-- table: the estimate"): plain SQL tables, no extension, no triggers, no
-- API. It compares what the row writes of a drained task cost in the
-- current layout (the claim and the completion both update the wide task
-- row, which has the ten indexes of task.task) with the narrow layout (a
-- queue_entry row per unfinished task: the claim is a HOT update of it, the
-- completion deletes it and updates the wide row once). bench/narrow_proto.sh
-- runs it and measures CPU and WAL per task like bench/hot_cpu.sh.

DROP TABLE IF EXISTS w_task, w4_task, n_task, n_entry CASCADE;
CREATE SEQUENCE IF NOT EXISTS proto_seq;

-- the wide row: task.task's columns and indexes (20_tables.sql)
CREATE TABLE w_task (
    owner integer NOT NULL, id bigint NOT NULL, revision integer NOT NULL DEFAULT 1,
    status text NOT NULL DEFAULT 'queued', code text NOT NULL, name text, queue text NOT NULL,
    object jsonb, description text, parent bigint, progress double precision, eta timestamptz,
    parameters jsonb, resource text, result jsonb, error text,
    run_at timestamptz NOT NULL DEFAULT now(), attempts integer NOT NULL DEFAULT 0, max_attempts integer,
    lease_token bigint, lease_until timestamptz, ordering_key text, idempotency_key text,
    status_at timestamptz NOT NULL DEFAULT now(), created_at timestamptz NOT NULL DEFAULT now(), created_by text,
    updated_at timestamptz NOT NULL DEFAULT now(), updated_by text, started_at timestamptz, started_by text,
    completed_at timestamptz, completed_by text, failed_at timestamptz, failed_by text,
    rescheduled_at timestamptz, rescheduled_by text, cancelled_at timestamptz, cancelled_by text,
    priority integer NOT NULL DEFAULT 0, unique_key text, max_run_time interval,
    worker_name text, worker_addr inet, worker_pid integer,
    PRIMARY KEY (id, owner));
CREATE INDEX ON w_task (queue, priority DESC, run_at, id) WHERE status IN ('queued', 'rescheduled');
CREATE INDEX ON w_task (owner, status_at DESC);
CREATE UNIQUE INDEX ON w_task (owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX ON w_task (owner, unique_key) WHERE unique_key IS NOT NULL AND status IN ('blocked', 'queued', 'processing', 'rescheduled');
CREATE INDEX ON w_task (owner, parent) WHERE parent IS NOT NULL;
CREATE INDEX ON w_task (queue, lease_until) WHERE status = 'processing';
CREATE INDEX ON w_task (queue, ordering_key, run_at, id) WHERE ordering_key IS NOT NULL AND status IN ('queued', 'rescheduled', 'processing');
CREATE INDEX ON w_task (queue, status_at) INCLUDE (status, started_at, completed_at, failed_at) WHERE status IN ('completed', 'failed', 'cancelled');
CREATE INDEX ON w_task (owner, id) WHERE status = 'blocked';

-- the wide row with only the indexes the queue path itself reads (primary
-- key, runnable, leases) and the listing index every status change writes:
-- what the six other indexes cost each statement, written or not
CREATE TABLE w4_task (LIKE w_task INCLUDING DEFAULTS);
ALTER TABLE w4_task ADD PRIMARY KEY (id, owner);
CREATE INDEX ON w4_task (queue, priority DESC, run_at, id) WHERE status IN ('queued', 'rescheduled');
CREATE INDEX ON w4_task (owner, status_at DESC);
CREATE INDEX ON w4_task (queue, lease_until) WHERE status = 'processing';

-- the narrow layout: the same wide table (written at creation and at the
-- final transition) and the queue state of unfinished tasks
CREATE TABLE n_task (LIKE w_task INCLUDING ALL);
CREATE TABLE n_entry (
    owner integer NOT NULL, queue text NOT NULL, priority integer NOT NULL, run_at timestamptz NOT NULL,
    id bigint NOT NULL, ordering_key text, lease_token bigint, lease_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    PRIMARY KEY (id, owner)) WITH (fillfactor = 70);
-- no status: a claimed entry keeps its place; the claim skips it by lease
CREATE INDEX ON n_entry (queue, priority DESC, run_at, id);

CREATE OR REPLACE FUNCTION proto_preload(layout text, n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    base bigint := nextval('proto_seq');
BEGIN
    PERFORM setval('proto_seq', base + n);
    IF layout = 'wide4' THEN
        INSERT INTO w4_task (owner, id, code, queue, parameters, created_by, updated_by)
        SELECT 1, base + i, 'bench.job', 'bench/q', '{"n": 1}', 'SVC-0001', 'SVC-0001' FROM generate_series(1, n) i;
    ELSIF layout = 'wide' THEN
        INSERT INTO w_task (owner, id, code, queue, parameters, created_by, updated_by)
        SELECT 1, base + i, 'bench.job', 'bench/q', '{"n": 1}', 'SVC-0001', 'SVC-0001' FROM generate_series(1, n) i;
    ELSE
        INSERT INTO n_task (owner, id, code, queue, parameters, created_by, updated_by)
        SELECT 1, base + i, 'bench.job', 'bench/q', '{"n": 1}', 'SVC-0001', 'SVC-0001' FROM generate_series(1, n) i;
        INSERT INTO n_entry (owner, queue, priority, run_at, id)
        SELECT 1, 'bench/q', 0, now(), base + i FROM generate_series(1, n) i;
    END IF;
END
$$;

-- (generated for w_task and w4_task)
DO $do$
DECLARE
    l text;
BEGIN
    FOREACH l IN ARRAY ARRAY['wide', 'wide4'] LOOP
        EXECUTE replace(replace($g$
-- today's row writes: claim = lock + update of the wide row (status,
-- attempts, token, lease, audit), completion = update of the wide row
CREATE OR REPLACE PROCEDURE proto_LAYOUT_drain1(n integer) LANGUAGE plpgsql AS $p$
DECLARE
    prev bigint;
    tok bigint;
    r record;
BEGIN
    FOR i IN 1..n + 1 LOOP
        IF prev IS NOT NULL THEN
            UPDATE TABLE x SET status = 'completed', revision = x.revision + 1, progress = 100,
                   status_at = clock_timestamp(), updated_at = clock_timestamp(), updated_by = 'SVC-0001',
                   completed_at = clock_timestamp(), completed_by = 'SVC-0001', lease_until = NULL
             WHERE x.owner = 1 AND x.id = prev AND x.status = 'processing' AND x.lease_token = tok;
        END IF;
        UPDATE TABLE t SET status = 'processing', attempts = t.attempts + 1, lease_token = t.revision + 1,
               revision = t.revision + 1, lease_until = clock_timestamp() + interval '5 minutes',
               status_at = clock_timestamp(), updated_at = clock_timestamp(), updated_by = 'SVC-0001',
               started_at = clock_timestamp(), started_by = 'SVC-0001', worker_pid = pg_backend_pid()
         WHERE t.owner = 1 AND t.id = ANY (ARRAY(
                SELECT x.id FROM TABLE x
                 WHERE x.queue = 'bench/q' AND x.status IN ('queued', 'rescheduled') AND x.run_at <= clock_timestamp()
                 ORDER BY x.priority DESC, x.run_at, x.id LIMIT 1 FOR UPDATE SKIP LOCKED))
        RETURNING t.id, t.lease_token INTO r;
        COMMIT;
        prev := r.id;
        tok := r.lease_token;
    END LOOP;
END
$p$;

-- enqueue: one task per transaction, wide row alone vs wide row + entry
CREATE OR REPLACE PROCEDURE proto_LAYOUT_enqueue1(n integer) LANGUAGE plpgsql AS $p$
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO TABLE (owner, id, code, queue, parameters, created_by, updated_by)
        VALUES (1, nextval('proto_seq'), 'bench.job', 'bench/q', '{"n": 1}', 'SVC-0001', 'SVC-0001');
        COMMIT;
    END LOOP;
END
$p$;

$g$, 'LAYOUT', l), 'TABLE', CASE l WHEN 'wide' THEN 'w_task' ELSE 'w4_task' END);
    END LOOP;
END
$do$;

-- the narrow layout: claim = lock + HOT update of the entry (no indexed
-- column changes); completion = delete of the entry + one update of the
-- wide row (from queued to completed, with the claim's audit columns)
CREATE OR REPLACE PROCEDURE proto_narrow_drain1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    prev bigint;
    tok bigint;
    r record;
BEGIN
    FOR i IN 1..n + 1 LOOP
        IF prev IS NOT NULL THEN
            WITH e AS (DELETE FROM n_entry e WHERE e.owner = 1 AND e.id = prev AND e.lease_token = tok
                       RETURNING e.attempts, e.lease_token)
            UPDATE n_task x SET status = 'completed', revision = x.revision + 2, progress = 100,
                   attempts = e.attempts, lease_token = e.lease_token,
                   status_at = clock_timestamp(), updated_at = clock_timestamp(), updated_by = 'SVC-0001',
                   started_at = clock_timestamp(), started_by = 'SVC-0001', worker_pid = pg_backend_pid(),
                   completed_at = clock_timestamp(), completed_by = 'SVC-0001'
              FROM e
             WHERE x.owner = 1 AND x.id = prev;
        END IF;
        UPDATE n_entry t SET attempts = t.attempts + 1, lease_token = t.attempts + 1000000,
               lease_until = clock_timestamp() + interval '5 minutes'
         WHERE t.owner = 1 AND t.id = ANY (ARRAY(
                SELECT x.id FROM n_entry x
                 WHERE x.queue = 'bench/q' AND x.run_at <= clock_timestamp()
                   AND (x.lease_until IS NULL OR x.lease_until < clock_timestamp())
                 ORDER BY x.priority DESC, x.run_at, x.id LIMIT 1 FOR UPDATE SKIP LOCKED))
        RETURNING t.id, t.lease_token INTO r;
        COMMIT;
        prev := r.id;
        tok := r.lease_token;
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE proto_narrow_enqueue1(n integer) LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO n_task (owner, id, code, queue, parameters, created_by, updated_by)
        VALUES (1, nextval('proto_seq'), 'bench.job', 'bench/q', '{"n": 1}', 'SVC-0001', 'SVC-0001')
        RETURNING id INTO k;
        INSERT INTO n_entry (owner, queue, priority, run_at, id) VALUES (1, 'bench/q', 0, now(), k);
        COMMIT;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION proto_cpu_ns() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint
$$;
