-- task is NOT in shared_preload_libraries here (check.sh's nopreload suite):
-- no wait slots, and the waits of task_dequeue and task_wait fall back to
-- polling every 50 ms, with a NOTICE once per backend.
\set VERBOSITY terse
SELECT task._wait_attached() AS attached, count(*) AS slots FROM task.wait_stats;
-- the postmaster setting exists only when preloading
SELECT current_setting('task.wait_slots', true) IS NULL AS no_wait_slots_setting;

SELECT setval('task.service_id_seq', 90) IS NOT NULL AS pinned;
SELECT task.task_service_create('fallback', 'fb');
SELECT (task.task_queue_create('fb/q', owner => 'SVC-0091')).name;

-- an empty queue: the wait polls until it runs out; the NOTICE comes once
\set VERBOSITY default
SELECT count(*) AS got, clock_timestamp() - statement_timestamp() >= interval '200 milliseconds' AS waited
  FROM task.task_dequeue('fb/q', wait => '200 milliseconds');
\set VERBOSITY terse
SELECT count(*) AS got FROM task.task_dequeue('fb/q', wait => '100 milliseconds');

-- a task that becomes due during the wait is claimed by a poll
SELECT (task.task_create('fb.later', 'fb/q', run_at => clock_timestamp() + interval '200 milliseconds')).status;
SELECT code, clock_timestamp() - statement_timestamp() < interval '3 seconds' AS early
  FROM task.task_dequeue('fb/q', wait => '10 seconds');

-- task_wait: the timeout returns the current state; a final task at once
SELECT (task.task_create('fb.job', 'fb/q')).status;
SELECT task.task_wait((SELECT id FROM task.task WHERE owner = 91 AND code = 'fb.job'), '150 milliseconds')->>'status' AS status;
SELECT (task.task_cancel((SELECT id FROM task.task WHERE owner = 91 AND code = 'fb.job'), 'not needed')).status;
SELECT task.task_wait((SELECT id FROM task.task WHERE owner = 91 AND code = 'fb.job'), '10 seconds')->>'status' AS status,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once;

-- arguments, scope and isolation as task_get and task_dequeue
SELECT task.task_wait((SELECT id FROM task.task WHERE owner = 91 AND code = 'fb.job'), '2 hours');
SELECT task.task_wait('TSK-0091-0000-0000-9999', '1 second');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT task.task_wait((SELECT id FROM task.task WHERE owner = 91 AND code = 'fb.later'), '1 second');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
-- a final task needs no wait: fine in any isolation level
SELECT task.task_wait((SELECT id FROM task.task WHERE owner = 91 AND code = 'fb.job'), '1 second')->>'status' AS status;
ROLLBACK;

DELETE FROM task.task_log WHERE owner = 91;
DELETE FROM task.task WHERE owner = 91;
DELETE FROM task.queue WHERE owner = 91;
DELETE FROM task.service WHERE id = 91;
