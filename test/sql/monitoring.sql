-- Monitoring: the task_monitor role reads counts, ages and rates per queue
-- and per service, and the same in the Prometheus text format; it sees no
-- task content (parameters, results, names, logs) and can change nothing.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- this test's own id ranges, so ids in messages do not depend on other tests
SELECT setval('task.service_id_seq', 60) AS _, setval('task.task_serial_seq', 600000) AS _ \gset

SELECT task_service_create('monitor-svc', 'mon') AS svc \gset
CREATE ROLE mon_svc;
SELECT task_login_grant('mon_svc', :'svc');
CREATE ROLE mon_scraper LOGIN IN ROLE task_monitor;

SET ROLE mon_svc;
SELECT task_queue_create('mon/a') IS NOT NULL AS made, task_queue_create('mon/b') IS NOT NULL AS made;
SELECT count(*) AS created FROM (
    SELECT task_create('mon.job', 'mon/a', name => 'secret name', parameters => '{"secret": 1}')
      FROM generate_series(1, 4)) c;
SELECT id AS later FROM task_create('mon.job', 'mon/a', run_at => now() + interval '1 hour') \gset
SELECT id AS dep FROM task_create('mon.job', 'mon/b') \gset
SELECT status FROM task_create('mon.job', 'mon/b', status => 'blocked', depends_on => ARRAY[:'dep'::task_id]);
-- two claimed in mon/a: one completed, one failed for good; one still processing in mon/b
SELECT lease_token AS tok, id AS t FROM task_dequeue('mon/a') \gset
SELECT status FROM task_complete(:'t', result => '{"secret": "result"}', token => :tok);
SELECT lease_token AS tok, id AS t FROM task_dequeue('mon/a') \gset
SELECT status FROM task_fail(:'t', 'secret error', token => :tok, retry => false);
SELECT lease_token AS tok, id AS t FROM task_dequeue('mon/b') \gset
RESET ROLE;
-- that worker died: its lease ran out
UPDATE task.task SET lease_until = now() - interval '1 second' WHERE id = :'t';

-- ------------------------------------------------------------ what the monitor reads
SET ROLE mon_scraper;
SELECT queue, runnable, scheduled, processing, expired_leases, blocked,
       oldest_runnable_age > '0' AS has_age, completed_last_minute, completed_last_hour,
       failed_last_minute, failed_last_hour, mean_run_time IS NOT NULL AS has_mean,
       p95_run_time >= mean_run_time AS p95_at_least_mean, waiting_workers
  FROM task.monitor_queues WHERE service = :'svc' ORDER BY queue;
SELECT service, namespace, runnable, scheduled, processing, expired_leases, blocked,
       completed_last_hour, failed_last_hour, waiting_workers
  FROM task.monitor_services WHERE service = :'svc';
-- the Prometheus text: HELP and TYPE once per metric, a sample per queue and service
SELECT line FROM regexp_split_to_table(monitor_prometheus(), E'\n') line
 WHERE line LIKE '%service="' || :'svc' || '"%'
   AND (line LIKE 'task_queue_runnable%' OR line LIKE 'task_queue_expired_leases%' OR line LIKE 'task_service_%blocked%'
        OR line LIKE 'task_queue_completed_last_hour%')
 ORDER BY line;
SELECT count(*) FILTER (WHERE line LIKE '# HELP %') AS helps, count(*) FILTER (WHERE line LIKE '# TYPE % gauge') AS types,
       count(*) FILTER (WHERE line ~ '^task_(queue|service)_[a-z0-9_]+\{service="SVC-[0-9]{4}",namespace="[^"]*"(,queue="[^"]*")?\} (-?[0-9.]+|NaN)$')
         = count(*) FILTER (WHERE line <> '' AND line NOT LIKE '#%') AS every_sample_well_formed
  FROM regexp_split_to_table(monitor_prometheus(), E'\n') line;

-- ------------------------------------------------------------ and nothing else
\set ON_ERROR_STOP 0
SELECT count(*) FROM task.task;
SELECT count(*) FROM task.task_log;
SELECT count(*) FROM task.queue;
SELECT task_get(:'later');
SELECT task_logs(:'later');
SELECT task_cancel(:'later');
SELECT task_create('mon.job', 'mon/a');
SELECT task_dequeue('mon/a');
SELECT task_maintain();
UPDATE task.task SET status = 'cancelled' WHERE id = :'later';
\set ON_ERROR_STOP 1
RESET ROLE;
-- nobody else reads the figures by default
SET ROLE mon_svc;
\set ON_ERROR_STOP 0
SELECT count(*) FROM task.monitor_queues;
SELECT monitor_prometheus();
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT status FROM task.task WHERE id = :'later';
