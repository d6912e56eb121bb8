-- W3 floor: one statement and one transaction per task, as task's call:
-- the completion of the previous task (the columns a completion sets, the
-- token checked) and the claim of the next (the runnable index's order,
-- FOR NO KEY UPDATE SKIP LOCKED, the columns a claim sets). The client
-- carries the previous id and token as task's script does.
WITH done AS (
    UPDATE bench_floor
       SET status = 'completed', revision = revision + 1, progress = 100, lease_until = NULL,
           status_at = now(), updated_at = now(), updated_by = :actor, completed_at = now(), completed_by = :actor
     WHERE owner = :owner AND id = NULLIF(NULLIF(:prev_id, ''), 'none')::task.task_id
       AND status = 'processing' AND lease_token = NULLIF(NULLIF(:prev_token, ''), 'none')::bigint
), claimed AS (
    UPDATE bench_floor
       SET status = 'processing', revision = revision + 1, attempts = attempts + 1,
           lease_token = (revision + 1)::bigint | ((random() * 4194303)::bigint << 31),
           lease_until = now() + interval '5 minutes', status_at = now(), updated_at = now(), updated_by = :actor,
           started_at = now(), started_by = :actor, worker_name = current_setting('application_name'),
           worker_addr = inet_client_addr(), worker_pid = pg_backend_pid()
     WHERE owner = :owner AND id = (SELECT id FROM bench_floor
                                     WHERE hashtext(queue) = hashtext('bench/q') AND queue = 'bench/q'
                                       AND status IN ('queued', 'rescheduled')
                                     ORDER BY hashtext(queue), priority DESC, run_at, id
                                     FOR NO KEY UPDATE SKIP LOCKED LIMIT 1)
    RETURNING id, lease_token
)
SELECT coalesce(c.id::text, '') AS prev_id, coalesce(c.lease_token::text, '') AS prev_token
  FROM (SELECT 1) AS one LEFT JOIN claimed c ON true \gset
