-- W6/W7 task worker claiming up to :batch tasks at once (bench/soak.sh with
-- BENCH_SOAK_BATCH): as task_drain10.sql (complete the previous batch and
-- claim the next in one call, one transaction per batch), but waiting up to
-- :wait for work when the queue is empty, and recording each pickup in
-- bench_pickup in the same transaction.
WITH d AS (SELECT id, lease_token, created_at
             FROM task.task_dequeue('bench/q', :batch,
                    wait            => :wait::interval,
                    complete_batch  => NULLIF(NULLIF(:prev_ids, ''), 'none')::task.task_id[],
                    complete_tokens => NULLIF(NULLIF(:prev_tokens, ''), 'none')::bigint[])),
     p AS (INSERT INTO bench_pickup (claimed_at, ms)
           SELECT clock_timestamp(), extract(epoch FROM clock_timestamp() - created_at) * 1000 FROM d)
SELECT coalesce(array_agg(id)::text, '') AS prev_ids, coalesce(array_agg(lease_token)::text, '') AS prev_tokens
  FROM d \gset
