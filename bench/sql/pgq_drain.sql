-- W3/W4/W5 pgq: each pgbench client consumes its own queue (:qprefix || :client_id),
-- one batch per transaction: next_batch, get_batch_events (rows go to the client),
-- finish_batch.  The batch size is fixed by the ticks laid down by the preload
-- (1 event for W3/W5, 10 for W4).
BEGIN;
SELECT coalesce(pgq.next_batch(:qprefix || :client_id, 'bench_c'), 0) AS batch_id \gset
\if :batch_id > 0
SELECT ev_id, ev_type, ev_data FROM pgq.get_batch_events(:batch_id);
SELECT pgq.finish_batch(:batch_id);
\endif
COMMIT;
