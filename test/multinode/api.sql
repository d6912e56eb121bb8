-- The API through the router as service A: ids name their node, reads,
-- dequeue and complete on queues of both nodes, fencing, dependencies,
-- parents, and the refusal of a parent or dependency on another node.
SET ROLE mn_svc_a;
SELECT (task.task_create('job', 'a/one', access => ARRAY['ACC-0000-0002'])).id AS a1 \gset
SELECT (task.task_create('job', 'a/two', access => ARRAY['ACC-0000-0003'])).id AS a2 \gset
SELECT mn_ok(task_router.node_of_task(:'a1') = 0 AND task_router.node_of_task(:'a2') = 1, 'ids name their nodes');
SELECT mn_ok(:'a1' LIKE 'TSK-0001-00%' AND :'a2' LIKE 'TSK-0001-01%', 'the serial''s first two digits are the node');
SELECT mn_ok(task.task_get(:'a1')->>'queue' = 'a/one' AND task.task_get(:'a2')->>'queue' = 'a/two', 'task_get on both nodes');
SELECT mn_ok(task.task_get(:'a2')->'audit'->'created'->'by'->>'id' = 'SVC-0001', 'audit records the caller, not a shared role');
SELECT mn_ok(task.task_whoami()->>'id' = 'SVC-0001', 'task_whoami');

-- more tasks on both nodes, one batch too
SELECT task.task_create('job', q, name => q || ' ' || g) FROM generate_series(1, 3) g, unnest(ARRAY['a/one', 'a/two']) q;
SELECT mn_ok(count(*) = 3, 'task_create_many on node 1')
  FROM task.task_create_many('batch', 'a/two', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[]) i
 WHERE task_router.node_of_task(i) = 1;
SELECT mn_ok(count(*) = 11, 'task_list over both nodes') FROM task.task_list(list_limit => 100);
SELECT mn_ok(count(DISTINCT task_router.node_of_task((j->>'id')::task.task_id)) = 2, 'the list holds both nodes'' tasks')
  FROM task.task_list(list_limit => 100) j;
SELECT mn_ok(ARRAY(SELECT j->>'id' FROM task.task_list(list_limit => 4, list_offset => 3) j)
             = (ARRAY(SELECT j->>'id' FROM task.task_list(list_limit => 100) j))[4:7], 'paging: limit and offset over the merge');
SELECT mn_ok(count(*) = 4, 'filters reach every node') FROM task.task_list(queue => 'a/one');
SELECT mn_ok(mn_try($$SELECT task.task_list(list_limit => 0)$$) LIKE '22023 list_limit must be between 1 and 1000%', 'task_list''s own error');

-- dequeue and complete on queues of both nodes in one session
SELECT id AS d1, lease_token AS t1 FROM task.task_dequeue('a/one') \gset
SELECT id AS d2, lease_token AS t2 FROM task.task_dequeue('a/two') \gset
SELECT mn_ok(:'d1' = :'a1' AND :'d2' = :'a2', 'FIFO on each node');
SELECT mn_ok(task.task_get(:'d2')->>'status' = 'Processing', 'claimed on node 1');
-- fencing: a wrong token loses, the right one wins
SELECT mn_ok(mn_try(format('SELECT task.task_complete(%L, token => %s)', :'d1', :t1 + 1000))
             LIKE '55000 lease lost: task % is no longer claimed with that token', 'fencing through the router');
SELECT mn_ok((task.task_complete(:'d1', '{"ok": true}', token => :t1)).status = 'completed', 'complete on node 0');
-- the one-round-trip loop: complete the previous task and claim the next on node 1
SELECT mn_ok(count(*) = 1, 'dequeue with complete => on node 1')
  FROM task.task_dequeue('a/two', complete => :'d2', complete_token => :t2, result => '{"ok": 2}');
SELECT mn_ok(task.task_result(:'d2') = '{"ok": 2}', 'task_result on node 1');
SELECT mn_ok(mn_try(format('SELECT * FROM task.task_dequeue(%L, complete => %L)', 'a/two', :'d1'))
             LIKE '0A000 task % is on node 0, queue a/two on node 1', 'completing a task of another node in a dequeue is refused');
SELECT mn_ok((task.task_heartbeat(d.id, d.lease_token, progress => 50)).progress = 50, 'heartbeat')
  FROM task.task_dequeue('a/one') d;
SELECT task.task_log(:'a2', 'a message on node 1', success => 1);
SELECT mn_ok(count(*) >= 1, 'task_logs on node 1') FROM task.task_logs(:'a2', 20) l WHERE l.message = 'a message on node 1';
SELECT mn_ok((task.task_fail(d.id, 'boom', d.lease_token, retry => false)).status = 'failed', 'fail')
  FROM task.task_dequeue('a/two') d;

-- dependencies and parents settle on their node
SELECT (task.task_create('dep', 'a/one')).id AS p1 \gset
SELECT (task.task_create('dep', 'a/one', depends_on => ARRAY[:'p1']::task.task_id[])).id AS c1 \gset
SELECT mn_ok(task.task_get(:'c1')->>'status' = 'Blocked', 'a dependent task waits');
SELECT (task.task_create('child', 'a/one', parent => :'p1')).id AS k1 \gset
SELECT mn_ok(task.task_get(:'k1')->'parent'->>'id' = :'p1', 'a parent on the same node');
SELECT task.task_cancel(:'k1');
SELECT mn_ok((task.task_complete(d.id, token => d.lease_token)).status = 'completed', 'the dependency completes')
  FROM task.task_dequeue('a/one', n => 10) d WHERE d.id::text = :'p1';
SELECT task.task_complete(d.id, token => d.lease_token) FROM task.task_dequeue('a/one', n => 10) d;
SELECT mn_ok(task.task_get(:'c1')->>'status' IN ('Queued', 'Processing', 'Completed'), 'the dependent task is released on its node');
SELECT mn_ok(mn_try(format('SELECT task.task_create(%L, %L, depends_on => ARRAY[%L]::task.task_id[])', 'dep', 'a/two', :'p1'))
             LIKE '0A000 dependency % is on node 0, queue a/two on node 1', 'a dependency on another node is refused');
SELECT mn_ok(mn_try(format('SELECT task.task_create(%L, %L, parent => %L)', 'child', 'a/two', :'p1'))
             LIKE '0A000 parent % is on node 0, queue a/two on node 1', 'a parent on another node is refused');
-- one call, one transaction on one node: a ROLLBACK on the router does not undo it
BEGIN;
SELECT (task.task_create('rolled_back', 'a/one')).id AS rb \gset
ROLLBACK;
SELECT mn_ok(task.task_get(:'rb')->>'code' = 'rolled_back', 'a call through the router has committed on its node when it returns');
-- a queue never created (the node accepts it in the service's namespace) lives on node 0
SELECT mn_ok(task_router.node_of_task((task.task_create('x', 'a/implicit')).id) = 0, 'an implicit queue lives on node 0');
RESET ROLE;
