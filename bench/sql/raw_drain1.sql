-- W3 raw: claim and delete one row per transaction (autocommit = one transaction).
DELETE FROM bench_raw
 WHERE id = (SELECT id FROM bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING *;
