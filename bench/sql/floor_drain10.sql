-- W4 floor: batches of 10, one statement and one transaction per batch, as
-- task's call: the completion of the previous batch and the claim of the
-- next 10 (floor_drain1.sql, for arrays).
WITH done AS (
    UPDATE bench_floor
       SET status = 'completed', revision = revision + 1, progress = 100, lease_until = NULL,
           status_at = now(), updated_at = now(), updated_by = :actor, completed_at = now(), completed_by = :actor
     WHERE owner = :owner AND id = ANY (NULLIF(NULLIF(:prev_ids, ''), 'none')::task.task_id[])
       AND status = 'processing' AND lease_token = ANY (NULLIF(NULLIF(:prev_tokens, ''), 'none')::bigint[])
), claimed AS (
    UPDATE bench_floor
       SET status = 'processing', revision = revision + 1, attempts = attempts + 1,
           lease_token = (revision + 1)::bigint | ((random() * 4194303)::bigint << 31),
           lease_until = now() + interval '5 minutes', status_at = now(), updated_at = now(), updated_by = :actor,
           started_at = now(), started_by = :actor, worker_name = current_setting('application_name'),
           worker_addr = inet_client_addr(), worker_pid = pg_backend_pid()
     WHERE owner = :owner AND id = ANY (ARRAY(SELECT id FROM bench_floor
                                     WHERE hashtext(queue) = hashtext('bench/q') AND queue = 'bench/q'
                                       AND status IN ('queued', 'rescheduled')
                                     ORDER BY hashtext(queue), priority DESC, run_at, id
                                     FOR NO KEY UPDATE SKIP LOCKED LIMIT 10))
    RETURNING id, lease_token
)
SELECT coalesce(array_agg(id)::text, '') AS prev_ids, coalesce(array_agg(lease_token)::text, '') AS prev_tokens
  FROM claimed \gset
