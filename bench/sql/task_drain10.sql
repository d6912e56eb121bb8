-- W4 task: batches of 10, one transaction per batch: complete the previous batch
-- (ids and lease tokens carried by the client as array literals, 'none' at first,
-- '' after an empty claim) and claim the next 10.
-- task_dequeue's complete => takes one id today, so the previous batch is
-- completed with task_complete over the arrays, in the same transaction.
-- TODO(lead): when task_dequeue(..., complete => task_id[], complete_token => bigint[])
-- exists, replace the three statements by:
--   SELECT coalesce(array_agg(d.id)::text, '') AS prev_ids,
--          coalesce(array_agg(d.lease_token)::text, '') AS prev_tokens
--     FROM task.task_dequeue('bench/q', 10,
--            complete       => NULLIF(NULLIF(:prev_ids, ''), 'none')::task.task_id[],
--            complete_token => NULLIF(NULLIF(:prev_tokens, ''), 'none')::bigint[]) AS d \gset
BEGIN;
SELECT count(task.task_complete(u.id, token => u.token))
  FROM unnest(coalesce(NULLIF(NULLIF(:prev_ids, ''), 'none'), '{}')::task.task_id[],
              coalesce(NULLIF(NULLIF(:prev_tokens, ''), 'none'), '{}')::bigint[]) AS u(id, token);
SELECT coalesce(array_agg(d.id)::text, '') AS prev_ids,
       coalesce(array_agg(d.lease_token)::text, '') AS prev_tokens
  FROM task.task_dequeue('bench/q', 10) AS d \gset
COMMIT;
