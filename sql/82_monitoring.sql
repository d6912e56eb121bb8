\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Monitoring: counts, ages and rates per queue and per service, for the
-- role task_monitor (a NOLOGIN group: GRANT task_monitor TO a login). It
-- reads no parameters, results, task names or logs, and can change nothing:
-- task._monitor() is the one reader (SECURITY DEFINER, aggregates only),
-- the views and the Prometheus text are built on it. Grants: 90_access.sql.
--
-- Cost: every figure comes from a partial index of task.task (20_tables.sql)
-- -- runnable and scheduled from task_runnable_idx, processing and expired
-- leases from task_lease_idx, blocked from task_blocked_idx, the last hour's
-- completions and failures from task_finished_idx (status_at is the time
-- of the final status) -- so a scrape reads the live tasks and the last
-- hour, never the history (bench/monitoring.sh measures it).

CREATE FUNCTION task._monitor(
    OUT service text, OUT namespace text, OUT queue text,
    OUT runnable bigint, OUT scheduled bigint, OUT processing bigint,
    OUT expired_leases bigint, OUT blocked bigint,
    OUT oldest_runnable_age interval,
    OUT completed_last_minute bigint, OUT completed_last_hour bigint,
    OUT failed_last_minute bigint, OUT failed_last_hour bigint,
    OUT mean_run_time interval, OUT p95_run_time interval,
    OUT waiting_workers bigint)
    RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET jit = off
    SET work_mem = '64MB'
    SET max_parallel_workers_per_gather = 0
AS $$
    WITH ready AS (
        SELECT t.queue,
               count(*) FILTER (WHERE t.run_at <= now()) AS runnable,
               count(*) FILTER (WHERE t.run_at > now()) AS scheduled,
               now() - min(t.run_at) FILTER (WHERE t.run_at <= now()) AS oldest
          FROM task.task t WHERE t.status IN ('queued', 'rescheduled') GROUP BY t.queue
    ), busy AS (
        SELECT t.queue, count(*) AS processing,
               count(*) FILTER (WHERE t.lease_until < now()) AS expired
          FROM task.task t WHERE t.status = 'processing' GROUP BY t.queue
    ), waiting_deps AS (
        SELECT t.queue, count(*) AS blocked
          FROM task.task t WHERE t.status = 'blocked' GROUP BY t.queue
    ), finished AS (
        -- queue by queue, in (owner, queue) order, so that the rates below
        -- need no sort but their percentiles': task_finished_idx leads with
        -- the queue. Run times in seconds (float8: no interval arithmetic
        -- or allocation per task)
        SELECT q.owner, q.name AS queue, f.completed_at, f.failed_at, f.run_time
          FROM (SELECT x.owner, x.name FROM task.queue x ORDER BY x.owner, x.name) q
         CROSS JOIN LATERAL (
               SELECT t.completed_at, t.failed_at,
                      date_part('epoch', t.completed_at) - date_part('epoch', t.started_at) AS run_time
                 FROM task.task t
                WHERE t.queue = q.name AND t.status IN ('completed', 'failed')
                  AND t.status_at >= now() - interval '1 hour'
               OFFSET 0) f   -- not flattened into a join: an index range scan per queue
    ), workers AS (
        SELECT w.name AS queue, sum(w.waiters) AS waiting
          FROM task._wait_stats() w WHERE w.kind = 'queue' GROUP BY w.name
    ), per_queue AS (
        SELECT q.owner, q.name AS queue,
               coalesce(r.runnable, 0) AS runnable, coalesce(r.scheduled, 0) AS scheduled,
               coalesce(b.processing, 0) AS processing, coalesce(b.expired, 0) AS expired,
               coalesce(d.blocked, 0) AS blocked, r.oldest,
               coalesce(w.waiting, 0) AS waiting
          FROM task.queue q
          LEFT JOIN ready r ON r.queue = q.name
          LEFT JOIN busy b ON b.queue = q.name
          LEFT JOIN waiting_deps d ON d.queue = q.name
          LEFT JOIN workers w ON w.queue = q.name
    ), rates AS (
        SELECT f.owner, f.queue,
               count(*) FILTER (WHERE f.completed_at >= now() - interval '1 minute') AS c1,
               count(*) FILTER (WHERE f.completed_at IS NOT NULL) AS c60,
               count(*) FILTER (WHERE f.failed_at >= now() - interval '1 minute') AS f1,
               count(*) FILTER (WHERE f.failed_at IS NOT NULL) AS f60,
               avg(f.run_time) AS mean_run,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY f.run_time) AS p95_run
          FROM finished f
         GROUP BY GROUPING SETS ((f.owner, f.queue), (f.owner))
    ), levels AS (
        SELECT p.owner, p.queue, sum(p.runnable) AS runnable, sum(p.scheduled) AS scheduled,
               sum(p.processing) AS processing, sum(p.expired) AS expired, sum(p.blocked) AS blocked,
               max(p.oldest) AS oldest, sum(p.waiting) AS waiting
          FROM per_queue p
         GROUP BY GROUPING SETS ((p.owner, p.queue), (p.owner))
    )
    SELECT task.service_text(l.owner), s.namespace, l.queue,
           l.runnable::bigint, l.scheduled::bigint, l.processing::bigint, l.expired::bigint, l.blocked::bigint,
           l.oldest,
           coalesce(x.c1, 0), coalesce(x.c60, 0), coalesce(x.f1, 0), coalesce(x.f60, 0),
           x.mean_run * interval '1 second', x.p95_run * interval '1 second', l.waiting::bigint
      FROM levels l
      JOIN task.service s ON s.id = l.owner
      LEFT JOIN rates x ON x.owner = l.owner AND x.queue IS NOT DISTINCT FROM l.queue
     ORDER BY l.owner, l.queue NULLS FIRST
$$;
COMMENT ON FUNCTION task._monitor() IS
    'Internal: the monitoring figures per queue and, with queue NULL, per service (backs task.monitor_queues, task.monitor_services and monitor_prometheus).';

CREATE VIEW task.monitor_queues AS
    SELECT m.service, m.namespace, m.queue, m.runnable, m.scheduled, m.processing, m.expired_leases,
           m.blocked, m.oldest_runnable_age, m.completed_last_minute, m.completed_last_hour,
           m.failed_last_minute, m.failed_last_hour, m.mean_run_time, m.p95_run_time, m.waiting_workers
      FROM task._monitor() m WHERE m.queue IS NOT NULL;
COMMENT ON VIEW task.monitor_queues IS
    'Per queue: tasks runnable now, scheduled later, processing, with an expired lease, blocked; age of the oldest runnable task; completed and failed in the last minute and hour; mean and 95th percentile run time (dequeue to completion) of the last hour''s completions; workers waiting in task_dequeue(wait => ...). For task_monitor; no task content.';
COMMENT ON COLUMN task.monitor_queues.service IS 'The owning service, SVC-XXXX.';
COMMENT ON COLUMN task.monitor_queues.queue IS 'The queue name.';
COMMENT ON COLUMN task.monitor_queues.namespace IS 'The owning service''s namespace.';
COMMENT ON COLUMN task.monitor_queues.processing IS 'Tasks being worked on now (claimed, lease running or expired).';
COMMENT ON COLUMN task.monitor_queues.blocked IS 'Tasks waiting for their dependencies or children.';
COMMENT ON COLUMN task.monitor_queues.completed_last_minute IS 'Tasks completed in the last minute.';
COMMENT ON COLUMN task.monitor_queues.completed_last_hour IS 'Tasks completed in the last hour.';
COMMENT ON COLUMN task.monitor_queues.failed_last_minute IS 'Tasks failed for good in the last minute.';
COMMENT ON COLUMN task.monitor_queues.failed_last_hour IS 'Tasks failed for good in the last hour.';
COMMENT ON COLUMN task.monitor_queues.p95_run_time IS '95th percentile of completed_at - started_at over the last hour''s completions.';
COMMENT ON COLUMN task.monitor_queues.runnable IS 'Queued or rescheduled tasks that are due: the backlog.';
COMMENT ON COLUMN task.monitor_queues.scheduled IS 'Queued or rescheduled tasks whose run_at is still ahead.';
COMMENT ON COLUMN task.monitor_queues.expired_leases IS 'Processing tasks whose lease ran out (a worker died); the next dequeue or task_maintain rescues them.';
COMMENT ON COLUMN task.monitor_queues.oldest_runnable_age IS 'How long the oldest due task has been waiting; NULL when none.';
COMMENT ON COLUMN task.monitor_queues.mean_run_time IS 'Mean of completed_at - started_at over the last hour''s completions (started_at is the last claim).';
COMMENT ON COLUMN task.monitor_queues.waiting_workers IS 'Backends sleeping in task_dequeue(wait => ...) on the queue''s wait slot now (0 unless task is preloaded; queues sharing a slot are counted together).';

CREATE VIEW task.monitor_services AS
    SELECT m.service, m.namespace, m.runnable, m.scheduled, m.processing, m.expired_leases,
           m.blocked, m.oldest_runnable_age, m.completed_last_minute, m.completed_last_hour,
           m.failed_last_minute, m.failed_last_hour, m.mean_run_time, m.p95_run_time, m.waiting_workers
      FROM task._monitor() m WHERE m.queue IS NULL;
COMMENT ON VIEW task.monitor_services IS
    'task.monitor_queues rolled up per service (the percentile over all its queues'' completions). For task_monitor.';
COMMENT ON COLUMN task.monitor_services.service IS 'The service, SVC-XXXX.';
COMMENT ON COLUMN task.monitor_services.namespace IS 'The owning service''s namespace.';
COMMENT ON COLUMN task.monitor_services.processing IS 'Tasks being worked on now (claimed, lease running or expired).';
COMMENT ON COLUMN task.monitor_services.blocked IS 'Tasks waiting for their dependencies or children.';
COMMENT ON COLUMN task.monitor_services.completed_last_minute IS 'Tasks completed in the last minute.';
COMMENT ON COLUMN task.monitor_services.completed_last_hour IS 'Tasks completed in the last hour.';
COMMENT ON COLUMN task.monitor_services.failed_last_minute IS 'Tasks failed for good in the last minute.';
COMMENT ON COLUMN task.monitor_services.failed_last_hour IS 'Tasks failed for good in the last hour.';
COMMENT ON COLUMN task.monitor_services.p95_run_time IS '95th percentile of completed_at - started_at over the last hour''s completions.';
COMMENT ON COLUMN task.monitor_services.runnable IS 'Due queued or rescheduled tasks of all the service''s queues.';
COMMENT ON COLUMN task.monitor_services.scheduled IS 'Queued or rescheduled tasks whose run_at is still ahead, all queues.';
COMMENT ON COLUMN task.monitor_services.expired_leases IS 'Processing tasks whose lease ran out, all queues.';
COMMENT ON COLUMN task.monitor_services.oldest_runnable_age IS 'How long the oldest due task of any of its queues has been waiting.';
COMMENT ON COLUMN task.monitor_services.mean_run_time IS 'Mean run time over the last hour''s completions, all queues.';
COMMENT ON COLUMN task.monitor_services.waiting_workers IS 'Backends sleeping in task_dequeue(wait => ...) on its queues now.';

-- Who holds what: the processing tasks per worker (the identity the
-- trigger stamps at each claim: application_name, client address, backend
-- pid), from task_lease_idx like the processing count above.
CREATE FUNCTION task._monitor_workers(
    OUT service text, OUT queue text, OUT worker_name text, OUT worker_addr inet, OUT worker_pid integer,
    OUT processing bigint, OUT expired_leases bigint, OUT oldest_claim_age interval)
    RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET jit = off
AS $$
    SELECT task.service_text(t.owner), t.queue, t.worker_name, t.worker_addr, t.worker_pid,
           count(*), count(*) FILTER (WHERE t.lease_until < now()), now() - min(t.started_at)
      FROM task.task t
     WHERE t.status = 'processing'
     GROUP BY t.owner, t.queue, t.worker_name, t.worker_addr, t.worker_pid
     ORDER BY t.owner, t.queue, t.worker_name, t.worker_addr, t.worker_pid
$$;
COMMENT ON FUNCTION task._monitor_workers() IS
    'Internal: processing tasks per service, queue and worker (backs task.monitor_workers).';

CREATE VIEW task.monitor_workers AS
    SELECT m.service, m.queue, m.worker_name, m.worker_addr, m.worker_pid, m.processing, m.expired_leases,
           m.oldest_claim_age
      FROM task._monitor_workers() m;
COMMENT ON VIEW task.monitor_workers IS
    'Per service, queue and worker: the tasks it is processing now, how many of them have an expired lease, and the age of its oldest claim. A worker is the session that claimed: application_name, client address and backend pid (join pg_stat_activity on pid while it lives). For task_monitor; no task content.';
COMMENT ON COLUMN task.monitor_workers.service IS 'The owning service, SVC-XXXX.';
COMMENT ON COLUMN task.monitor_workers.queue IS 'The queue name.';
COMMENT ON COLUMN task.monitor_workers.worker_name IS 'application_name of the worker''s session (what a worker calls itself in its connection string).';
COMMENT ON COLUMN task.monitor_workers.worker_addr IS 'Client address of the worker''s session (NULL for a Unix socket).';
COMMENT ON COLUMN task.monitor_workers.worker_pid IS 'Backend process id of the worker''s session (pg_stat_activity.pid).';
COMMENT ON COLUMN task.monitor_workers.processing IS 'Tasks it holds now.';
COMMENT ON COLUMN task.monitor_workers.expired_leases IS 'Of those, tasks whose lease ran out (the worker stopped sending heartbeats, or ran past the maximum run time).';
COMMENT ON COLUMN task.monitor_workers.oldest_claim_age IS 'How long ago it claimed the oldest task it holds.';

CREATE FUNCTION task.monitor_prometheus() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = task, pg_catalog, pg_temp
    SET jit = off
AS $$
    WITH m AS (SELECT * FROM task._monitor()),
    metric(ord, name, kind, help) AS (VALUES
        (1, 'runnable', 'gauge', 'Tasks due to run (queued or rescheduled).'),
        (2, 'scheduled', 'gauge', 'Tasks queued or rescheduled for later.'),
        (3, 'processing', 'gauge', 'Tasks claimed by a worker.'),
        (4, 'expired_leases', 'gauge', 'Processing tasks whose lease ran out.'),
        (5, 'blocked', 'gauge', 'Tasks waiting on dependencies.'),
        (6, 'oldest_runnable_age_seconds', 'gauge', 'Age of the oldest due task (0 when none).'),
        (7, 'completed_last_minute', 'gauge', 'Tasks completed in the last minute.'),
        (8, 'completed_last_hour', 'gauge', 'Tasks completed in the last hour.'),
        (9, 'failed_last_minute', 'gauge', 'Tasks failed for good in the last minute.'),
        (10, 'failed_last_hour', 'gauge', 'Tasks failed for good in the last hour.'),
        (11, 'run_time_mean_seconds', 'gauge', 'Mean run time of the last hour''s completions.'),
        (12, 'run_time_p95_seconds', 'gauge', '95th percentile run time of the last hour''s completions.'),
        (13, 'waiting_workers', 'gauge', 'Workers sleeping in task_dequeue(wait => ...).')),
    level(lvl, prefix) AS (VALUES (1, 'task_queue_'), (2, 'task_service_')),
    sample AS (
        SELECT l.lvl, x.ord,
               l.prefix || x.name
               || format('{service="%s",namespace="%s"', m.service, m.namespace)
               || CASE WHEN l.lvl = 1 THEN format(',queue="%s"', replace(replace(m.queue, '\', '\\'), '"', '\"')) ELSE '' END
               || '} '
               || CASE x.ord
                    WHEN 1 THEN m.runnable::text WHEN 2 THEN m.scheduled::text
                    WHEN 3 THEN m.processing::text WHEN 4 THEN m.expired_leases::text
                    WHEN 5 THEN m.blocked::text
                    WHEN 6 THEN coalesce(round(extract(epoch FROM m.oldest_runnable_age), 3), 0)::text
                    WHEN 7 THEN m.completed_last_minute::text WHEN 8 THEN m.completed_last_hour::text
                    WHEN 9 THEN m.failed_last_minute::text WHEN 10 THEN m.failed_last_hour::text
                    WHEN 11 THEN coalesce(round(extract(epoch FROM m.mean_run_time), 3)::text, 'NaN')
                    WHEN 12 THEN coalesce(round(extract(epoch FROM m.p95_run_time), 3)::text, 'NaN')
                    WHEN 13 THEN m.waiting_workers::text END AS line,
               m.service, m.queue
          FROM m CROSS JOIN metric x
          JOIN level l ON (l.lvl = 1) = (m.queue IS NOT NULL))
    SELECT coalesce(string_agg(block, '' ORDER BY lvl, ord), '')
      FROM (SELECT l.lvl, x.ord,
                   format(E'# HELP %s%s %s\n# TYPE %s%s %s\n', l.prefix, x.name, x.help, l.prefix, x.name, x.kind)
                   || coalesce((SELECT string_agg(s.line || E'\n', '' ORDER BY s.service, s.queue)
                                  FROM sample s WHERE s.lvl = l.lvl AND s.ord = x.ord), '') AS block
              FROM level l CROSS JOIN metric x) b
$$;
COMMENT ON FUNCTION task.monitor_prometheus() IS
    'The figures of task.monitor_queues (task_queue_*) and task.monitor_services (task_service_*) in the Prometheus text exposition format (durations in seconds, NaN for a run time with no completion in the last hour). For task_monitor: e.g. a postgres_exporter custom query or a scraper that serves SELECT task.monitor_prometheus().';
