-- raw: the SKIP LOCKED baseline (plain tables, no extension).
DROP TABLE IF EXISTS bench_raw, bench_raw_hist;
CREATE TABLE bench_raw (
    id         bigserial PRIMARY KEY,
    payload    jsonb,
    created_at timestamptz DEFAULT now()
);
-- W5 only: the same queue with finished rows kept in the table, flagged done,
-- and a partial index over the pending rows.
CREATE TABLE bench_raw_hist (
    id         bigserial PRIMARY KEY,
    payload    jsonb,
    created_at timestamptz DEFAULT now(),
    done       boolean NOT NULL DEFAULT false
);
CREATE INDEX bench_raw_hist_pending ON bench_raw_hist (id) WHERE NOT done;

-- Backlog of n pending rows (not measured).
CREATE OR REPLACE FUNCTION bench_raw_preload(n int) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO bench_raw (payload) SELECT '{"n": 1}' FROM generate_series(1, n);
    SELECT count(*) FROM bench_raw;
$$;

-- W5: h finished rows (done = true), then n pending rows after them.
CREATE OR REPLACE FUNCTION bench_raw_hist_preload(h int, n int) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO bench_raw_hist (payload, done) SELECT '{"n": 1}', true FROM generate_series(1, h);
    INSERT INTO bench_raw_hist (payload) SELECT '{"n": 1}' FROM generate_series(1, n);
    SELECT count(*) FROM bench_raw_hist WHERE NOT done;
$$;
