-- W4 task: batches of 10, one transaction and one round trip per batch: the
-- call completes the previous batch (ids and lease tokens carried by the
-- client as array literals; 'none' at first, '' after an empty claim) and
-- claims the next 10.
SELECT coalesce(array_agg(d.id)::text, '') AS prev_ids,
       coalesce(array_agg(d.lease_token)::text, '') AS prev_tokens
  FROM task.task_dequeue('bench/q', 10,
         complete_batch  => NULLIF(NULLIF(:prev_ids, ''), 'none')::task.task_id[],
         complete_tokens => NULLIF(NULLIF(:prev_tokens, ''), 'none')::bigint[]) AS d \gset
