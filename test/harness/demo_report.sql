-- make demo, part 3: what the service, the clients and nobody else see.
\set QUIET on
\set SHOW_CONTEXT never
\pset footer off
SET search_path = task, public;

\echo
\echo '== 4. The service sees every task: all completed, one after a retry'
SET ROLE platform_app;
SELECT j->>'status' AS status, count(*) FROM task_list(list_limit => 100) j GROUP BY 1;
SELECT r.buyer, t->>'status' AS status, t->>'progress' AS progress, t->>'result' AS result
  FROM public.transfer_request r, task_get(r.task) t ORDER BY r.buyer LIMIT 4;
SELECT r.task AS retried FROM public.transfer_request r WHERE r.buyer LIKE '%7' \gset
SELECT r.task AS mine FROM public.transfer_request r WHERE r.buyer = 'BUY-1190-0002' \gset
SELECT r.task AS theirs FROM public.transfer_request r WHERE r.buyer = 'BUY-1190-0001' \gset
\echo
\echo '-- the log of the retried task (newest first): transitions, the failure, the worker''s counters'
SELECT to_char(at, 'HH24:MI:SS.MS') AS at, message, success, total, by FROM task_logs(:'retried');
\echo
\echo '-- the task as JSON (seed 001 shape)'
SELECT jsonb_pretty(task_get(:'retried'));
RESET ROLE;

\echo
\echo '== 5. A client account lists only the tasks whose access list holds it'
SET ROLE buyer_co;
SELECT task_whoami()->>'name' AS client, count(*) AS visible_tasks FROM task_list(list_limit => 100);
SELECT j->>'id' AS id, j->'object'->>'id' AS buyer, task_result((j->>'id')::task_id) AS result
  FROM task_list(list_limit => 3) j;
\set ON_ERROR_STOP off
\echo '-- logs are for operations and the owning service:'
SELECT * FROM task_logs(:'mine');
\echo '-- a task outside the client''s scope is simply not found:'
SELECT task_get(:'theirs');
\set ON_ERROR_STOP on
RESET ROLE;
SET ROLE other_buyer;
SELECT task_whoami()->>'name' AS client, count(*) AS visible_tasks FROM task_list(list_limit => 100);
RESET ROLE;
