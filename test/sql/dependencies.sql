-- Dependencies, parent/child, unblock, bulk enqueue and waiting dequeue.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
SELECT setval('task.service_id_seq', 20) AS _, setval('task.task_serial_seq', 200000) AS _ \gset

SELECT task_service_create('deps-svc', 'dp') AS svc \gset
CREATE ROLE dp_svc;
SELECT task_login_grant('dp_svc', :'svc');
SET ROLE dp_svc;
SELECT task_queue_create('dp/q') IS NOT NULL AS made;

-- ------------------------------------------------------------ release when the last dependency completes
SELECT id AS a FROM task_create('dp.a', 'dp/q') \gset
SELECT id AS b FROM task_create('dp.b', 'dp/q') \gset
SELECT id AS c, status FROM task_create('dp.c', 'dp/q', depends_on => ARRAY[:'a', :'b']::task_id[]) \gset
SELECT :'status' AS c_created;
SELECT code FROM task_dequeue('dp/q', 10) ORDER BY code;
SELECT status FROM task_complete(:'a', token => (SELECT lease_token FROM task.task WHERE id = :'a'));
SELECT status AS c_after_a FROM task.task_list(code => 'dp.c') j, LATERAL (SELECT j->>'status' AS status) x;
SELECT status FROM task_complete(:'b', token => (SELECT lease_token FROM task.task WHERE id = :'b'));
SELECT j->>'status' AS c_after_b FROM task_list(code => 'dp.c') j;
SELECT message FROM task_logs(:'c') WHERE message LIKE 'released%' OR message LIKE '%->%';
-- released tasks are runnable
SELECT code FROM task_dequeue('dp/q');

-- dependencies already completed: created queued
SELECT status AS d_created FROM task_create('dp.d', 'dp/q', depends_on => ARRAY[:'a']::task_id[]);

-- ------------------------------------------------------------ a dependency fails for good: dependents are cancelled
SELECT id AS e FROM task_create('dp.e', 'dp/q2', max_attempts => 1) \gset
SELECT id AS f FROM task_create('dp.f', 'dp/q2', depends_on => ARRAY[:'e']::task_id[]) \gset
SELECT lease_token AS tok FROM task_dequeue('dp/q2') \gset
SELECT status FROM task_fail(:'e', 'broken', token => :tok);
SELECT j->>'status' AS f_status, j->>'error' AS f_error FROM task_list(code => 'dp.f') j;
SELECT message FROM task_logs(:'f', log_limit => 1);
-- ... and a new task cannot depend on it
\set ON_ERROR_STOP 0
SELECT task_create('dp.g', 'dp/q2', depends_on => ARRAY[:'e']::task_id[]);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('dp.g', 'dp/q2', depends_on => ARRAY['TSK-0021-9999-9999-9999']::task_id[]);
\echo :LAST_ERROR_SQLSTATE
-- a NULL among the dependencies: 22004 with a hint, not "not found: ."
SELECT task_create('dp.g', 'dp/q2', depends_on => ARRAY[:'e', NULL]::task_id[]);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
-- a cancelled dependency cancels too
SELECT id AS h FROM task_create('dp.h', 'dp/q3') \gset
SELECT id AS i FROM task_create('dp.i', 'dp/q3', depends_on => ARRAY[:'h']::task_id[]) \gset
SELECT status FROM task_cancel(:'h', 'not needed');
SELECT j->>'status' AS i_status FROM task_list(code => 'dp.i') j;

-- ------------------------------------------------------------ a parent blocked on its children
SELECT id AS p FROM task_create('dp.parent', 'dp/q4', status => 'blocked') \gset
SELECT id AS k1 FROM task_create('dp.child', 'dp/q4', parent => :'p', blocks_parent => true) \gset
SELECT id AS k2 FROM task_create('dp.child', 'dp/q4', parent => :'p', blocks_parent => true) \gset
SELECT count(*) AS children_claimed FROM task_dequeue('dp/q4', 10);
SELECT status FROM task_complete(:'k1', token => (SELECT lease_token FROM task.task WHERE id = :'k1'));
SELECT j->>'status' AS parent_after_one FROM task_list(code => 'dp.parent') j;
SELECT status FROM task_complete(:'k2', token => (SELECT lease_token FROM task.task WHERE id = :'k2'));
SELECT j->>'status' AS parent_after_both FROM task_list(code => 'dp.parent') j;
\set ON_ERROR_STOP 0
SELECT task_create('dp.child', 'dp/q4', parent => :'p', blocks_parent => true);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('dp.child', 'dp/q4', blocks_parent => true);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1

-- ------------------------------------------------------------ unblock
SELECT id AS u FROM task_create('dp.u', 'dp/q5', status => 'blocked') \gset
SELECT count(*) AS blocked_not_claimed FROM task_dequeue('dp/q5');
SELECT status FROM task_unblock(:'u');
SELECT code FROM task_dequeue('dp/q5');
\set ON_ERROR_STOP 0
SELECT task_unblock(:'u');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1

-- ------------------------------------------------------------ bulk enqueue
SELECT count(*) AS created FROM task_create_many('dp.bulk', 'dp/bulk',
    ARRAY(SELECT jsonb_build_object('n', g) FROM generate_series(1, 500) g));
-- ids follow the array, so FIFO follows it too: the first ten come back, in order
SELECT array_agg((parameters->>'n')::int) AS fifo_order
  FROM (SELECT parameters FROM task_dequeue('dp/bulk', 10)) x;
SELECT count(*) AS keyed FROM task_create_many('dp.bulk', 'dp/bulk2', ARRAY['{}', '{}', '{}']::jsonb[],
                                               ordering_keys => ARRAY['k', 'k', NULL]);
SELECT count(*) AS one_per_key_plus_unkeyed FROM task_dequeue('dp/bulk2', 10);
\set ON_ERROR_STOP 0
SELECT task_create_many('dp.bulk', 'dp/bulk', ARRAY[]::jsonb[]);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create_many('dp.bulk', 'dp/bulk', ARRAY['{}']::jsonb[], ordering_keys => ARRAY['a', 'b']);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create_many('dp..bulk', 'dp/bulk', ARRAY['{}']::jsonb[]);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
SELECT count(*) AS nothing_half_written FROM task.task_list(code => 'dp..bulk');

-- ------------------------------------------------------------ settling needs READ COMMITTED
SELECT id AS ra FROM task_create('dp.ra', 'dp/q6') \gset
SELECT id AS rb FROM task_create('dp.rb', 'dp/q6', depends_on => ARRAY[:'ra']::task_id[]) \gset
SELECT count(*) AS claimed FROM task_dequeue('dp/q6');
\set ON_ERROR_STOP 0
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT task_complete(:'ra', token => (SELECT lease_token FROM task.task WHERE id = :'ra'));
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
\set ON_ERROR_STOP 1
SELECT status FROM task_complete(:'ra', token => (SELECT lease_token FROM task.task WHERE id = :'ra'));
SELECT j->>'status' AS rb_released FROM task_list(code => 'dp.rb') j;

-- ------------------------------------------------------------ settling from a batch completion
-- complete_batch is one statement, and the settle gate keeps what it
-- found for the next task of it: the first task has no dependent, the
-- second has one, which is released all the same (the claim of the same
-- call reads another queue, empty, so the released task stays queued)
SELECT task_queue_create('dp/q7') IS NOT NULL AND task_queue_create('dp/q8') IS NOT NULL AS made;
SELECT id AS ba FROM task_create('dp.ba', 'dp/q7') \gset
SELECT id AS bb FROM task_create('dp.bb', 'dp/q7') \gset
SELECT id AS bc FROM task_create('dp.bc', 'dp/q7', depends_on => ARRAY[:'bb']::task_id[]) \gset
CREATE TEMP TABLE dp_batch AS SELECT id, lease_token FROM task_dequeue('dp/q7', 2);
SELECT count(*) AS claimed FROM task_dequeue('dp/q8', 1,
    complete_batch => (SELECT array_agg(id ORDER BY id) FROM dp_batch),
    complete_tokens => (SELECT array_agg(lease_token ORDER BY id) FROM dp_batch));
SELECT c AS code, (SELECT j->>'status' FROM task_list(code => c) j) AS status
  FROM unnest(ARRAY['dp.ba', 'dp.bb', 'dp.bc']) c;
DROP TABLE dp_batch;

-- ------------------------------------------------------------ wait
SELECT task_queue_create('dp/empty') IS NOT NULL AS made;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS got FROM task_dequeue('dp/empty', wait => '200 milliseconds');
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '200 milliseconds' AS waited;
\set ON_ERROR_STOP 0
SELECT task_dequeue('dp/empty', wait => '2 hours');
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT task_dequeue('dp/empty', wait => '1 second');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
\set ON_ERROR_STOP 1
RESET ROLE;
