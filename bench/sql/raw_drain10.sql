-- W4 raw: claim and delete up to 10 rows per transaction.
DELETE FROM bench_raw
 WHERE id = ANY (ARRAY(SELECT id FROM bench_raw ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 10))
RETURNING *;
