-- W6/W7 raw worker (bench/soak.sh): claim and delete one row per transaction, as
-- raw_drain1.sql, and record the pickup in bench_pickup; when the queue is empty,
-- sleep :poll_ms ms (a SKIP LOCKED queue has no wake-up; polling is what it does).
WITH d AS (DELETE FROM bench_raw
            WHERE id = (SELECT id FROM bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
           RETURNING id, created_at),
     p AS (INSERT INTO bench_pickup (claimed_at, ms)
           SELECT clock_timestamp(), extract(epoch FROM clock_timestamp() - created_at) * 1000 FROM d
           RETURNING 1)
SELECT count(*) AS got FROM p \gset
\if :got = 0
\sleep :poll_ms ms
\endif
