-- Node 2 has joined (task_router.node_add). Queue b/one moves from node 1
-- to node 2 while it holds runnable tasks: new tasks are created on node 2,
-- dequeues drain node 1 first, and the move finishes once node 1 holds no
-- unfinished task of the queue. Finished tasks stay on node 1, found by id.
SET ROLE mn_svc_b;
SELECT task.task_create('old', 'b/one') FROM generate_series(1, 2);
SELECT (task.task_create('old', 'b/one')).id AS old \gset
RESET ROLE;
SELECT mn_ok((task_router.queue_move('b/one', 2)).draining_from = 1, 'the move starts');
SET ROLE mn_svc_b;
SELECT (task.task_create('new', 'b/one')).id AS new \gset
SELECT mn_ok(task_router.node_of_task(:'new') = 2, 'new tasks of a moving queue go to the new node');
RESET ROLE;
SELECT mn_ok(mn_try($$SELECT task_router.queue_move_finish('b/one')$$) LIKE '55000 node 1 still holds % unfinished tasks or schedules of queue b/one', 'the move cannot finish early');
SET ROLE mn_svc_b;
-- FIFO across the move: the old node's tasks first, then the new node's
CREATE TEMP TABLE mn_drained (ord serial, node integer);
SELECT task.task_complete(d.id, token => d.lease_token) FROM task.task_dequeue('b/one') d \g /dev/null
INSERT INTO mn_drained (node) SELECT task_router.node_of_task(c.id) FROM task.task_dequeue('b/one') d, task.task_complete(d.id, token => d.lease_token) c;
INSERT INTO mn_drained (node) SELECT task_router.node_of_task(c.id) FROM task.task_dequeue('b/one') d, task.task_complete(d.id, token => d.lease_token) c;
INSERT INTO mn_drained (node) SELECT task_router.node_of_task(c.id) FROM task.task_dequeue('b/one') d, task.task_complete(d.id, token => d.lease_token) c;
INSERT INTO mn_drained (node) SELECT task_router.node_of_task(c.id) FROM task.task_dequeue('b/one') d, task.task_complete(d.id, token => d.lease_token) c;
SELECT mn_ok(array_agg(node ORDER BY ord) = '{1,1,1,2}', 'dequeues drain the old node first, then the new one') FROM mn_drained;
RESET ROLE;
SELECT mn_ok((task_router.queue_move_finish('b/one')).draining_from IS NULL, 'the move finishes');
SET ROLE mn_svc_b;
SELECT mn_ok(task.task_get(:'old')->>'status' = 'Completed', 'a finished task stays on its node, found by id');
SELECT mn_ok(task_router.node_of_task((task.task_create('after', 'b/one')).id) = 2, 'the queue lives on node 2');
RESET ROLE;
