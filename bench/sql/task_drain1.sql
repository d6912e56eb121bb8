-- W3/W5 task: one round trip and one transaction per task.  The call that claims
-- the next task completes the previous one; the client carries the previous
-- task's id and lease token in pgbench variables (run.sh starts them at 'none';
-- \gset stores SQL NULL as '').  The outer join keeps one row when the queue is
-- empty, so \gset never sees zero rows.
SELECT coalesce(d.id::text, '') AS prev_id, coalesce(d.lease_token::text, '') AS prev_token
  FROM (SELECT 1) AS one
  LEFT JOIN task.task_dequeue('bench/q', 1,
              complete       => NULLIF(NULLIF(:prev_id, ''), 'none')::task.task_id,
              complete_token => NULLIF(NULLIF(:prev_token, ''), 'none')::bigint) AS d ON true \gset
