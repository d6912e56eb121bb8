-- Node 1 is down (the harness stopped it): calls for node 0 keep working,
-- calls for node 1 fail with 08006 "node 1 cannot be reached", listing
-- (which needs every node) fails the same way, and a directory change
-- reaches node 0 and is reported missed for node 1.
SET ROLE mn_svc_a;
SELECT (task.task_create('down', 'a/one')).id AS n0 \gset
SELECT mn_ok(task.task_get(:'n0')->>'status' = 'Queued', 'node 0 answers while node 1 is down');
SELECT mn_ok(count(*) = 1 AND bool_and(task_router.node_of_task(d.id) = 0), 'dequeue on node 0 while node 1 is down') FROM task.task_dequeue('a/one') d;
SELECT mn_try($$SELECT task.task_create('down', 'a/two')$$) AS "the error, for the log";
SELECT mn_ok(mn_try($$SELECT task.task_create('down', 'a/two')$$) ~ '^08006 node 1 cannot be reached: connection to server .* failed', 'a create for node 1 fails: node 1 cannot be reached');
SELECT mn_ok(mn_try($$SELECT task.task_get('TSK-0001-0100-0000-0001')$$) ~ '^08006 node 1 cannot be reached: ', 'a read of a node-1 task fails: node 1 cannot be reached');
SELECT mn_ok(mn_try($$SELECT task.task_list()$$) ~ '^08006 node 1 cannot be reached: ', 'listing needs every node');
RESET ROLE;
SELECT mn_ok(task_router.directory_sync() = '{"synced": [], "missed": [1]}', 'directory_sync reports node 1 missed');
SELECT task.task_queue_create('b/two', 'SVC-0002');
-- A call for every node (task_bulk, task_unschedule) fails as a whole and
-- changes nothing on node 0: PL/Proxy connects to every node before it
-- sends the call to any
SET ROLE mn_svc_a;
SELECT (task.task_create('bulk_down', 'a/one')).id AS bulk0 \gset
SELECT mn_ok(mn_try($$SELECT task.task_bulk('cancel', code => 'bulk_down')$$) ~ '^08006 node 1 cannot be reached: ', 'task_bulk needs every node');
SELECT mn_ok(task.task_get(:'bulk0')->>'status' = 'Queued', 'and changed nothing on node 0');
SELECT mn_ok(mn_try($$SELECT task.task_unschedule('none')$$) ~ '^08006 node 1 cannot be reached: ', 'task_unschedule needs every node');
SELECT (task.task_cancel(:'bulk0')).status;
RESET ROLE;
-- a move from node 1 cannot finish while node 1 is down: 08006 naming it
BEGIN;
SELECT mn_ok((task_router.queue_move('a/two', 0)).draining_from = 1, 'a/two starts moving off node 1');
SELECT mn_ok(mn_try($$SELECT task_router.queue_move_finish('a/two')$$) ~ '^08006 node 1 cannot be reached: connection to server', 'the move cannot finish while node 1 is down: 08006');
ROLLBACK;
