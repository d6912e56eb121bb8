-- W1 floor: the row task_create writes, as one INSERT per transaction
-- (floor_setup.sql; :owner and :actor are set by run.sh).
INSERT INTO bench_floor (owner, id, code, queue, parameters, priority, created_by, updated_by)
VALUES (:owner, task.task_id_make(:owner, nextval('bench_floor_serial')), 'bench.job', 'bench/q', '{"n": 1}', 0, :actor, :actor)
RETURNING id;
