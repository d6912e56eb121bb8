-- W6/W7 raw worker claiming up to :batch rows at once (bench/soak.sh with
-- BENCH_SOAK_BATCH): claim and delete them in one transaction, as
-- raw_drain10.sql, and record each pickup in bench_pickup; when the queue is
-- empty, sleep :poll_ms ms.
WITH d AS (DELETE FROM bench_raw
            WHERE id = ANY (ARRAY(SELECT id FROM bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT :batch))
           RETURNING id, created_at),
     p AS (INSERT INTO bench_pickup (claimed_at, ms)
           SELECT clock_timestamp(), extract(epoch FROM clock_timestamp() - created_at) * 1000 FROM d
           RETURNING 1)
SELECT count(*) AS got FROM p \gset
\if :got = 0
\sleep :poll_ms ms
\endif
