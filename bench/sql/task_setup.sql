-- task: our extension, planned API (docs/INTERFACES.md).  The lead edits the
-- task_*.sql files when the API settles; bench/run.sh only runs them.
CREATE EXTENSION IF NOT EXISTS task CASCADE;
-- task_service_create returns the service id ('SVC-NNNN'); the queue is owned by it.
SELECT task.task_queue_create('bench/q', owner => task.task_service_create('bench', 'bench'));

-- Backlog of n queued tasks.  Uses task_create_many when it exists, else
-- task_create row by row.  Not measured.
CREATE OR REPLACE FUNCTION bench_task_preload(n int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE done bigint := 0; k int;
BEGIN
    IF to_regproc('task.task_create_many') IS NOT NULL THEN
        WHILE done < n LOOP
            k := least(1000, n - done);
            PERFORM task.task_create_many(code => 'bench.job', queue => 'bench/q',
                        parameters => array_fill('{"n": 1}'::jsonb, ARRAY[k]));
            done := done + k;
        END LOOP;
    ELSE
        PERFORM task.task_create('bench.job', 'bench/q', parameters => '{"n": 1}'::jsonb)
           FROM generate_series(1, n);
        done := n;
    END IF;
    RETURN done;
END $$;
