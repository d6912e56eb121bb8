-- W6/W7 task worker (bench/soak.sh): as task_drain1.sql (claim the next task and
-- complete the previous one in one call, one transaction per task), but waiting
-- up to :wait for work when the queue is empty (task's wake on commit), and
-- recording the pickup in bench_pickup in the same transaction.
WITH d AS (SELECT id, lease_token, created_at
             FROM task.task_dequeue('bench/q', 1,
                    wait           => :wait::interval,
                    complete       => NULLIF(NULLIF(:prev_id, ''), 'none')::task.task_id,
                    complete_token => NULLIF(NULLIF(:prev_token, ''), 'none')::bigint)),
     p AS (INSERT INTO bench_pickup (claimed_at, ms)
           SELECT clock_timestamp(), extract(epoch FROM clock_timestamp() - created_at) * 1000 FROM d)
SELECT coalesce(d.id::text, '') AS prev_id, coalesce(d.lease_token::text, '') AS prev_token
  FROM (SELECT 1) AS one LEFT JOIN d ON true \gset
