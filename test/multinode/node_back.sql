-- Node 1 is back: its tasks are there, and the directory catches up.
SELECT mn_ok(task_router.directory_sync() = '{"synced": [1], "missed": []}', 'directory_sync reaches node 1 again');
SET ROLE mn_svc_b;
SELECT mn_ok(count(*) = 2, 'node 1''s tasks are still there (b/one and b/wait)') FROM task.task_list() j;
SELECT mn_ok((task.task_create('back', 'b/two')).queue = 'b/two', 'a queue created while node 1 was down works there');
RESET ROLE;
