-- Issue 14, bulk operations: task_bulk cancels, retries, reschedules,
-- deletes and purges by filter, one all-or-nothing batch per call,
-- returning how many changed and whether more match.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the service id sequence as this test found it, restored at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT setval('task.service_id_seq', 160) AS _, setval('task.task_serial_seq', 1600000) AS _ \gset
SELECT setval('task.account_id_seq', 1600) AS _ \gset

SELECT task_service_create('feat-bulk', 'fb') AS svc \gset
SELECT task_service_create('feat-bulk-other', 'fbo') AS other \gset
SELECT task_account_create('FB Ops', 'Operations') AS ops \gset
SELECT task_account_create('FB Vendor', 'Vendor') AS vendor \gset
CREATE ROLE fb_svc; CREATE ROLE fb_other; CREATE ROLE fb_ops; CREATE ROLE fb_vendor;
SELECT task_login_grant('fb_svc', :'svc'), task_login_grant('fb_other', :'other'),
       task_login_grant('fb_ops', :'ops'), task_login_grant('fb_vendor', :'vendor');

SET ROLE fb_svc;
SELECT count(*) AS made FROM task_create_many('fb.mail', 'fb/a', array_fill('{}'::jsonb, ARRAY[25]));
SELECT count(*) AS made FROM task_create_many('fb.sms', 'fb/a', array_fill('{}'::jsonb, ARRAY[5]),
                                              ordering_keys => array_fill('user-1'::text, ARRAY[5]));
SELECT count(*) AS made FROM task_create_many('fb.mail', 'fb/b', array_fill('{}'::jsonb, ARRAY[3]));
RESET ROLE;
SET ROLE fb_other;
SELECT count(*) AS made FROM task_create_many('fbo.mail', 'fbo/a', array_fill('{}'::jsonb, ARRAY[4]));
RESET ROLE;

-- ------------------------------------------------------------ cancel in batches
SET ROLE fb_svc;
SELECT * FROM task_bulk('cancel', queue => 'fb/a', code => 'fb.mail', reason => 'campaign stopped', batch_size => 10);
SELECT * FROM task_bulk('cancel', queue => 'fb/a', code => 'fb.mail', reason => 'campaign stopped', batch_size => 10);
SELECT * FROM task_bulk('cancel', queue => 'fb/a', code => 'fb.mail', reason => 'campaign stopped', batch_size => 10);
SELECT * FROM task_bulk('cancel', queue => 'fb/a', code => 'fb.mail', batch_size => 10);
SELECT status, error, count(*) FROM task.task WHERE owner = task.service_number(:'svc')
 GROUP BY status, error ORDER BY status, error;
-- by ordering key
SELECT * FROM task_bulk('cancel', ordering_key => 'user-1');
-- each cancelled task logs the transition and the reason
SELECT message, count(*) FROM task.task_log WHERE owner = task.service_number(:'svc')
 GROUP BY message ORDER BY message;

-- ------------------------------------------------------------ retry, reschedule
RESET ROLE;
UPDATE task.task SET status = 'processing' WHERE owner = task.service_number(:'svc') AND queue = 'fb/b';
UPDATE task.task SET status = 'failed' WHERE owner = task.service_number(:'svc') AND queue = 'fb/b';
SET ROLE fb_svc;
SELECT * FROM task_bulk('retry', queue => 'fb/b');
SELECT status, attempts, count(*) FROM task.task WHERE queue = 'fb/b' GROUP BY status, attempts;
SELECT * FROM task_bulk('reschedule', queue => 'fb/b', run_at => '2030-01-01 00:00:00+00');
SELECT status, run_at = '2030-01-01 00:00:00+00' AS moved, count(*) FROM task.task WHERE queue = 'fb/b' GROUP BY 1, 2;
-- nothing runnable now
SELECT count(*) AS claimed FROM task_dequeue('fb/b', 10);

-- ------------------------------------------------------------ purge and delete
-- purge takes finished tasks only, by age of their last status change
SELECT * FROM task_bulk('purge', queue => 'fb/a', older_than => '1 hour');
SELECT * FROM task_bulk('purge', queue => 'fb/a', code => 'fb.sms');
SELECT code, count(*) FROM task.task WHERE queue = 'fb/a' GROUP BY code ORDER BY code;
SELECT count(*) AS logs_left FROM task.task_log l JOIN task.task t ON t.owner = l.owner AND t.id = l.task_id
 WHERE t.queue = 'fb/a' AND t.code = 'fb.sms';
-- delete takes unfinished tasks too (not processing)
SELECT * FROM task_bulk('delete', queue => 'fb/b');
SELECT count(*) AS left_in_b FROM task.task WHERE queue = 'fb/b';
-- a task that a blocked task waits for is kept
SELECT id AS dep FROM task_create('fb.dep', 'fb/c') \gset
SELECT status FROM task_create('fb.waiter', 'fb/c', depends_on => ARRAY[:'dep']::task_id[]);
SELECT * FROM task_bulk('delete', queue => 'fb/c');
SELECT code FROM task.task WHERE queue = 'fb/c' ORDER BY code;

-- ------------------------------------------------------------ scope
-- a service's filter never reaches another service's tasks
SELECT * FROM task_bulk('cancel', queue => 'fbo/a');
RESET ROLE;
SET ROLE fb_vendor;
SELECT * FROM task_bulk('cancel', queue => 'fbo/a');
RESET ROLE;
-- Operations act on every service's tasks
SET ROLE fb_ops;
SELECT * FROM task_bulk('cancel', code => 'fbo.mail');
RESET ROLE;

-- ------------------------------------------------------------ bad calls
SET ROLE fb_svc;
SELECT * FROM task_bulk('archive');
SELECT * FROM task_bulk('retry', status => 'queued');
SELECT * FROM task_bulk('reschedule', queue => 'fb/a');
SELECT * FROM task_bulk('cancel', run_at => now());
SELECT * FROM task_bulk('cancel', batch_size => 0);
SELECT * FROM task_bulk('purge', older_than => '-1 day');
SELECT * FROM task_bulk('purge', older_than => '178000000 years');
RESET ROLE;

-- ------------------------------------------------------------ a refused batch takes no serial
-- serials (task.task_serial_seq) are shared by every service and never
-- given back: task_create_many checks the whole batch before it draws the
-- first (it drew one for each task the trigger passed before the one it
-- refused: 99 here, 9,999 for a batch of 10,000)
SELECT setval('task.task_serial_seq', 1650000) AS _ \gset
SET ROLE fb_svc;
SELECT task_create_many('fb.serial', 'fb/serials', array_fill('{}'::jsonb, ARRAY[99]) || '[]'::jsonb);
SELECT task_create_many('fb.serial', 'fb/serials', array_fill('{}'::jsonb, ARRAY[3]), ordering_keys => ARRAY['a', 'b', repeat('k', 256)]);
SELECT task_create_many('fb.serial', 'fb/serials', array_fill('{}'::jsonb, ARRAY[3]), ordering_keys => ARRAY['a', NULL, ' ']);
SELECT task_create_many('fb.serial', 'fb/serials', ARRAY['{}', jsonb_build_object('big', repeat('x', 1048576))]::jsonb[]);
SELECT task_create_many('Bad Code', 'fb/serials', array_fill('{}'::jsonb, ARRAY[3]));
SELECT task_create_many(NULL, 'fb/serials', array_fill('{}'::jsonb, ARRAY[3]));
SELECT task_create_many('fb.serial', 'fb/serials', array_fill('{}'::jsonb, ARRAY[3]), max_run_time => '-1 second');
SELECT task_create_many('fb.serial', 'fb/serials', array_fill('{}'::jsonb, ARRAY[3]), run_at => 'infinity');
-- the next task takes the next serial
SELECT task_create_many('fb.serial', 'fb/serials', ARRAY[NULL, '{}']::jsonb[], ordering_keys => ARRAY[NULL, 'k']) AS next;
RESET ROLE;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _ \gset
