-- W2 floor: the rows task_create_many writes, 100 in one INSERT per transaction.
INSERT INTO bench_floor (owner, id, code, queue, parameters, priority, created_by, updated_by)
SELECT :owner, task.task_id_make(:owner, nextval('bench_floor_serial')), 'bench.job', 'bench/q', '{"n": 1}', 0, :actor, :actor
  FROM generate_series(1, 100)
RETURNING id;
