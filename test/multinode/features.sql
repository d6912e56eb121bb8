-- The arguments and functions of 0.2.0 through the router mean what they
-- mean on one node: priority, unique_key and debounce, force, inline logs,
-- the list's agent and submitted_within, the access list after creation,
-- a wait on tasks of both nodes, a bulk operation over both nodes, and the
-- queue settings (priority, notify channel, archive_after) the directory copies to the
-- queue's node (multinode.sh compares the nodes' directories afterwards).
SET ROLE mn_svc_a;
-- a queue with a default priority, on the node the router picks
SELECT mn_ok((task.task_queue_create('a/feat', priority => 3)).priority = 3, 'task_queue_create with priority');
SELECT mn_ok((task.task_queue_configure('a/feat', priority => 4)).priority = 4, 'task_queue_configure with priority');
SELECT mn_ok((task.task_queue_notify('a/feat', 'mn_feat_done')).notify_channel ~ '^mn_feat_done_[0-9a-f]{16}$', 'task_queue_notify');
SELECT mn_ok((task.task_queue_archive('a/feat', '30 days')).archive_after = '30 days', 'task_queue_archive');
SELECT mn_ok((task.task_create('feat.default', 'a/feat')).priority = 4, 'a task takes the queue''s priority on its node');
SELECT mn_ok((task.task_create('feat.high', 'a/feat', priority => 9)).priority = 9, 'task_create with priority');
SELECT mn_ok(count(*) = 2, 'task_create_many with priority')
  FROM task.task_create_many('feat.many', 'a/feat', ARRAY['{"n": 1}', '{"n": 2}']::jsonb[], priority => 1);
SELECT mn_ok(d.code = 'feat.high', 'the higher priority is claimed first through the router')
  FROM task.task_dequeue('a/feat') d;
-- force: finished without the claim's token (the queue's priority 4 before the batch's 1)
SELECT id AS f1, code AS c1, priority AS p1 FROM task.task_dequeue('a/feat') \gset
SELECT mn_ok(:'c1' = 'feat.default' AND :p1 = 4, 'the queue''s priority before the batch''s');
SELECT mn_ok((task.task_reschedule(:'f1', now() + interval '1 hour', force => true)).status = 'rescheduled', 'task_reschedule with force');
SELECT id AS f2, code AS c2, priority AS p2 FROM task.task_dequeue('a/feat') \gset
SELECT mn_ok(:'c2' = 'feat.many' AND :p2 = 1, 'the batch''s priority');
SELECT mn_ok((task.task_fail(:'f2', 'boom', retry => false, force => true)).status = 'failed', 'task_fail with force');
SELECT id AS f3 FROM task.task_dequeue('a/feat') \gset
SELECT mn_ok((task.task_complete(:'f3', '{"ok": 3}', force => true)).status = 'completed', 'task_complete with force');
-- unique_key and debounce, on node 1's queue
SELECT (task.task_create('feat.uniq', 'a/two', unique_key => 'mn-u1', name => 'first')).id AS u1 \gset
SELECT mn_ok((task.task_create('feat.uniq', 'a/two', unique_key => 'mn-u1', name => 'second')).id::text = :'u1', 'unique_key: a repeat answers the holder');
SELECT (task.task_create('feat.deb', 'a/two', unique_key => 'mn-d1', debounce => '1 hour', name => 'first')).id AS d1 \gset
SELECT mn_ok((task.task_create('feat.deb', 'a/two', unique_key => 'mn-d1', debounce => '1 hour', name => 'second')).name = 'second',
             'debounce: a repeat replaces the pending task');
SELECT mn_ok(task.task_get(:'d1')->>'name' = 'second' AND (task.task_get(:'d1')->>'run_at')::timestamptz > now() + interval '50 minutes',
             'debounce: it waits');
-- inline logs
SELECT task.task_log(:'u1', 'a line on node 1');
SELECT mn_ok(jsonb_array_length(task.task_get(:'u1', log_limit => 10)->'logs') >= 1, 'task_get with log_limit');
SELECT mn_ok(task.task_get(:'u1') ? 'logs' IS NOT TRUE, 'task_get without log_limit has no logs');
-- list: agent (no hired task here) and submitted_within
SELECT mn_ok(count(*) = 0, 'task_list with agent') FROM task.task_list(agent => 'ACC-0000-0002');
SELECT mn_ok(count(*) = (SELECT count(*) FROM task.task_list(list_limit => 1000)), 'task_list with submitted_within null')
  FROM task.task_list(list_limit => 1000, submitted_within => NULL);
SELECT mn_ok(count(*) = 0, 'task_list with a window of nothing') FROM task.task_list(list_limit => 1000, submitted_within => '0');
-- the access list after creation
SELECT mn_ok(task.task_access_add(:'u1', ARRAY['ACC-0000-0003'])->'access' @> '[{"id": "ACC-0000-0003"}]', 'task_access_add on node 1');
RESET ROLE;
SET ROLE mn_client;
SELECT mn_ok(task.task_get(:'u1')->>'id' = :'u1', 'the added account sees it');
RESET ROLE;
SET ROLE mn_svc_a;
SELECT mn_ok(NOT (task.task_access_remove(:'u1', ARRAY['ACC-0000-0003'])->'access' @> '[{"id": "ACC-0000-0003"}]'), 'task_access_remove');
-- a wait on tasks of both nodes: the answers in the order asked
SELECT (task.task_create('feat.w', 'a/one')).id AS w0 \gset
SELECT mn_ok(task_router.node_of_task(:'w0') = 0 AND task_router.node_of_task(:'u1') = 1, 'tasks on both nodes');
SELECT task.task_cancel(:'w0');
SELECT task.task_cancel(:'u1');
SELECT mn_ok(ARRAY(SELECT e->>'id' FROM jsonb_array_elements(task.task_wait_many(ARRAY[:'u1', :'w0', :'u1']::task.task_id[], '0')) e)
             = ARRAY[:'u1', :'w0'], 'task_wait_many over two nodes, in the order given');
SELECT mn_ok(ARRAY(SELECT e->>'status' FROM jsonb_array_elements(task.task_wait_many(ARRAY[:'w0', :'u1']::task.task_id[], '5 seconds')) e)
             = '{Cancelled,Cancelled}', 'task_wait_many returns at once when all are final');
SELECT mn_ok(mn_try($$SELECT task.task_wait_many(ARRAY[]::task.task_id[], '0')$$) LIKE '22023 task_wait_many takes 1 to 1000 task ids%', 'task_wait_many''s own error');
SELECT mn_ok(mn_try(format('SELECT task.task_wait_many(ARRAY[%L, %L]::task.task_id[], ''2 hours'')', :'w0', :'u1')) = '22023 timeout must be between 0 and 1 hour',
             'task_wait_many over two nodes refuses a timeout out of bounds, its tasks all final or not');
-- a task missing on a later node is not found at once, as on one node,
-- not after the wait on an earlier node's unfinished task
SELECT (task.task_create('feat.w', 'a/one')).id AS w1 \gset
SELECT mn_try(format('SELECT task.task_wait_many(ARRAY[%L, %L]::task.task_id[], ''20 s'')', :'w1', 'TSK-0001-0199-9999-9999')) AS missing,
       clock_timestamp() - statement_timestamp() < '10 s' AS quick \gset
SELECT mn_ok(:'missing' = 'P0002 task TSK-0001-0199-9999-9999 not found' AND :'quick', 'task_wait_many: a task missing on node 1 is not found at once');
SELECT task.task_cancel(:'w1') \g /dev/null
-- one bulk call over both nodes
SELECT task.task_create('feat.bulk', q) FROM unnest(ARRAY['a/one', 'a/two', 'a/two']) q;
SELECT mn_ok(b.changed = 3 AND NOT b.more, 'task_bulk cancels on both nodes, counts summed')
  FROM task.task_bulk('cancel', code => 'feat.bulk', reason => 'bulk through the router') b;
SELECT mn_ok(count(*) = 3, 'the cancelled tasks') FROM task.task_list(code => 'feat.bulk', status => 'cancelled');
RESET ROLE;
SET ROLE mn_client;
SELECT mn_ok(mn_try($$SELECT task.task_bulk('cancel', code => 'feat.bulk')$$) LIKE '42501 permission denied to cancel tasks in bulk', 'task_bulk''s own error');
RESET ROLE;
