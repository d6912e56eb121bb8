-- W5 task: n tasks in status 'completed' in the bench queue, before the W3 backlog.
-- Set-based, 100,000 a transaction: a direct INSERT of queued tasks (the
-- transition trigger accepts only queued or blocked), then the two transitions
-- a worker makes, queued -> processing -> completed, as plain UPDATEs.  The
-- trigger checks them, stamps the audit columns and writes the task_log
-- entries, as for tasks finished through the API (task_dequeue/task_complete),
-- at a fraction of the time.  TODO(lead): keep in step with the model.
CREATE OR REPLACE PROCEDURE bench_task_history(n int)
LANGUAGE plpgsql AS $$
DECLARE done int := 0; k int;
BEGIN
    WHILE done < n LOOP
        k := least(100000, n - done);
        INSERT INTO task.task (owner, id, code, queue, parameters)
        SELECT q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
               'bench.job', q.name, '{"n": 1}'
          FROM task.queue q, generate_series(1, k)
         WHERE q.name = 'bench/q';
        UPDATE task.task
           SET status = 'processing', attempts = attempts + 1,
               lease_token = revision + 1, lease_until = now() + interval '5 minutes'
         WHERE queue = 'bench/q' AND status = 'queued';
        UPDATE task.task SET status = 'completed'
         WHERE queue = 'bench/q' AND status = 'processing';
        COMMIT;
        done := done + k;
    END LOOP;
END $$;

-- The same through the API, 1,000 a transaction (task_dequeue claims at most
-- 1,000 a call); about ten times slower:
--   PERFORM bench_task_preload(1000);
--   PERFORM task.task_complete(d.id, token => d.lease_token)
--      FROM task.task_dequeue('bench/q', 1000) AS d;
