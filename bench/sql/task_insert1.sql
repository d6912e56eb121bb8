-- W1 task: one task_create per transaction.
SELECT id FROM task.task_create('bench.job', 'bench/q', parameters => '{"n": 1}'::jsonb);
