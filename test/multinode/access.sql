-- Row-level security through the router, for every kind of caller: each
-- reaches the nodes as its own role, so it sees what it would on one node,
-- and what it may not see is answered exactly like what does not exist.
SET ROLE mn_svc_a;
SELECT (task.task_create('acc', 'a/one', access => ARRAY['ACC-0000-0002'])).id AS v0 \gset
SELECT (task.task_create('acc', 'a/two', access => ARRAY['ACC-0000-0003'])).id AS c1 \gset
SET ROLE mn_svc_b;
SELECT (task.task_create('acc', 'b/one', access => ARRAY['ACC-0000-0003'])).id AS b1 \gset
RESET ROLE;

-- same answer for a task out of scope and for none (the id masked):
-- SQLSTATE, message, detail, hint and context
CREATE FUNCTION mn_try_all(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
    h text;
    c text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
    RETURN concat_ws(E'\n', SQLSTATE || ' ' || SQLERRM, 'DETAIL: ' || d, 'HINT: ' || h, 'CONTEXT: ' || c);
END
$$;
CREATE FUNCTION mn_same_as_missing(call text, id text, missing text) RETURNS boolean LANGUAGE sql AS $$
    SELECT replace(mn_try_all(format(call, id)), id, 'X') = replace(mn_try_all(format(call, missing)), missing, 'X')
       AND mn_try_all(format(call, id)) ~ '^(P0002|23503) .*HINT: .*CONTEXT: '
$$;

SET ROLE mn_svc_b;
SELECT mn_ok(task.task_whoami()->>'id' = 'SVC-0002', 'whoami service B');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_get(%L)', :'v0', 'TSK-0001-0000-0999-9999'), 'service B: another service''s task on node 0 is not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_get(%L)', :'c1', 'TSK-0001-0199-9999-9999'), 'service B: another service''s task on node 1 is not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_get(%L)', :'c1', 'TSK-0001-5000-0000-0001'), 'an id of no node is not found either');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_cancel(%L)', :'v0', 'TSK-0001-0000-0999-9999'), 'service B cannot cancel it: not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_logs(%L)', :'c1', 'TSK-0001-0199-9999-9999'), 'service B cannot read its logs: not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_wait_many(ARRAY[%L]::task.task_id[], ''0 s'')', :'c1', 'TSK-0001-0199-9999-9999'), 'service B cannot wait for it: not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_create(''x'', ''b/one'', parent => %L)', :'c1', 'TSK-0001-0199-9999-9999'), 'service B cannot make it a parent: not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_dequeue(''b/one'', complete => %L, complete_token => 1)', :'c1', 'TSK-0001-0199-9999-9999'), 'service B cannot complete it in a dequeue: not found');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_access_add(%L, ARRAY[''ACC-0000-0002''])', :'c1', 'TSK-0001-0199-9999-9999'), 'service B cannot share it: not found');
SELECT mn_ok(bool_and(j->'owner'->>'id' = 'SVC-0002') AND count(*) > 0, 'service B lists its own tasks only') FROM task.task_list(list_limit => 1000) j;

-- where each queue lives, and whether a queue has work, are the router
-- owner's: another tenant's queue names and owners are not in reach
SELECT mn_ok(mn_try('SELECT count(*) FROM task_router.queue_node') LIKE '42501 %', 'service B cannot read the queues'' placement');
SELECT mn_ok(mn_try('SELECT task_router._runnable_on(0, ''a/one'')') LIKE '42501 %', 'service B cannot ask whether a queue has work');
SELECT mn_ok(task_router.node_of_queue('a/two') = 1, 'routing by queue still works for the caller');
SET ROLE mn_nobody;
SELECT mn_ok(task_router._place('a/one') = 0, 'placing a queue that is placed changes nothing');

SET ROLE mn_vendor;
SELECT mn_ok(task.task_whoami()->>'id' = 'ACC-0000-0002', 'whoami vendor');
SELECT mn_ok(task.task_get(:'v0')->>'id' = :'v0', 'the vendor reads a task on its access list');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_get(%L)', :'c1', 'TSK-0001-0199-9999-9999'), 'vendor: a task not on its list is not found');
SELECT mn_ok(mn_try(format('SELECT task.task_cancel(%L)', :'v0')) LIKE '42501 permission denied to cancel task %', 'the vendor may not cancel a task it sees');
SELECT mn_ok(bool_and(j->'access' @> '[{"id": "ACC-0000-0002"}]') AND count(*) >= 1, 'the vendor lists its access list only')
  FROM task.task_list(list_limit => 1000) j;

SET ROLE mn_client;
SELECT mn_ok(task.task_get(:'c1')->>'id' = :'c1' AND task.task_get(:'b1')->>'id' = :'b1', 'the client reads its tasks of two services on node 1');
SELECT mn_ok(mn_same_as_missing('SELECT task.task_get(%L)', :'v0', 'TSK-0001-0000-0999-9999'), 'client: the vendor''s task is not found');
SELECT mn_ok(count(*) FILTER (WHERE j->>'id' IN (:'c1', :'b1')) = 2
             AND bool_and(j->'access' @> '[{"id": "ACC-0000-0003"}]'), 'the client lists its tasks over every node')
  FROM task.task_list(list_limit => 1000) j;

SET ROLE mn_ops;
SELECT mn_ok(task.task_whoami()->>'operations' = 'true', 'whoami operations');
SELECT mn_ok(count(DISTINCT j->'owner'->>'id') = 2 AND count(DISTINCT task_router.node_of_task((j->>'id')::task.task_id)) = 2,
             'operations list every service''s tasks on every node')
  FROM task.task_list(list_limit => 1000) j;
SELECT mn_ok(task.task_get(:'b1')->>'id' = :'b1', 'operations read any task');

SET ROLE mn_nobody;
SELECT mn_ok(task.task_whoami()->>'kind' = 'none', 'an unmapped role is nobody');
SELECT mn_ok(count(*) = 0, 'nobody lists nothing') FROM task.task_list() j;
SELECT mn_ok(mn_same_as_missing('SELECT task.task_get(%L)', :'v0', 'TSK-0001-0000-0999-9999'), 'nobody: not found');
SELECT mn_ok(mn_try($$SELECT task.task_create('x', 'a/one')$$) LIKE '42501 %', 'nobody creates nothing');
RESET ROLE;
