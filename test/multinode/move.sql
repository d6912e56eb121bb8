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

-- A worker that completes the last runnable task the node a moving queue
-- left, in its dequeue with a wait, does not sleep on that node (where no
-- new task of the queue arrives) while the new node holds work: the call
-- completes the task there and returns at once, and the next dequeue takes
-- the new node's task. b/one moves back from node 2 to node 1.
SET ROLE mn_svc_b;
SELECT mn_ok((task.task_bulk('cancel', queue => 'b/one', code => 'after')).changed = 1, 'the task made above cancelled');
SELECT (task.task_create('last_old', 'b/one')).id AS last_old \gset
RESET ROLE;
SELECT mn_ok((task_router.queue_move('b/one', 1)).draining_from = 2, 'b/one starts moving back to node 1');
SET ROLE mn_svc_b;
SELECT (task.task_create('first_new', 'b/one')).id AS first_new \gset
SELECT d.id AS taken, d.lease_token AS taken_token FROM task.task_dequeue('b/one') d \gset
SELECT mn_ok(:'taken' = :'last_old', 'the old node''s task first');
SELECT count(*) AS got, clock_timestamp() - statement_timestamp() < '10 s' AS quick
  FROM task.task_dequeue('b/one', wait => '20 s', complete => :'taken', complete_token => :taken_token) \gset
SELECT mn_ok(:'quick' AND :got = 0, 'completing the old node''s last task does not wait there (returned at once, nothing taken)');
SELECT mn_ok(task.task_get(:'taken')->>'status' = 'Completed', 'and the task it completed is completed');
SELECT d.id AS next_id, d.lease_token AS next_token, clock_timestamp() - statement_timestamp() < '10 s' AS quick
  FROM task.task_dequeue('b/one', wait => '20 s') d \gset
SELECT mn_ok(:'next_id' = :'first_new' AND :'quick', 'the next dequeue takes the new node''s task at once');
SELECT task.task_complete(:'next_id', token => :next_token) \g /dev/null
RESET ROLE;
SELECT mn_ok((task_router.queue_move_finish('b/one')).node = 1, 'the move back finishes');
