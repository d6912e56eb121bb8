-- W5 raw: as W3, on a table that also holds finished rows (done = true);
-- the claim filters on NOT done and uses the partial index.
DELETE FROM bench_raw_hist
 WHERE id = (SELECT id FROM bench_raw_hist WHERE NOT done ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING *;
