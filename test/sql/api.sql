-- The SQL API of the foundation: create, get, list, progress, log, logs,
-- complete, result, cancel; validation; transitions; direct UPDATEs.
-- Ids and times vary from run to run, so the test prints facts about
-- them rather than the values.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('api-platform', 'api/platform') AS svc \gset
SELECT task_service_create('api-other', 'api/other') AS other \gset
SELECT task_account_create('API Backoffice', 'Operations') AS ops \gset
SELECT task_account_create('API Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('API Client', 'Client') AS client \gset
CREATE ROLE api_svc; CREATE ROLE api_other; CREATE ROLE api_ops;
CREATE ROLE api_vendor; CREATE ROLE api_client; CREATE ROLE api_nobody;
SELECT task_login_grant('api_svc', :'svc'), task_login_grant('api_other', :'other'),
       task_login_grant('api_ops', :'ops'), task_login_grant('api_vendor', :'vendor'),
       task_login_grant('api_client', :'client');
GRANT USAGE ON SCHEMA task TO api_svc, api_other, api_ops, api_vendor, api_client, api_nobody;

-- whoami
SET ROLE api_svc;
SELECT task_whoami() - 'id' AS whoami;
SELECT task_whoami()->>'id' = :'svc' AS whoami_is_the_service;
RESET ROLE;

-- management is for the operator only
SET ROLE api_svc;
SELECT task_service_create('x', 'x');
SELECT task_login_grant('api_svc', :'other');
RESET ROLE;

-- ------------------------------------------------------------ create
SET ROLE api_svc;
SELECT t.id AS t1, t.status, t.revision, t.progress IS NULL AS no_progress,
       t.created_by = :'svc' AS created_by_svc, task_id_owner(t.id) = service_number(:'svc') AS id_has_owner
  FROM task_create('accounts.buyers.transfer', 'api/platform/buyers/commands',
                   name => 'Transfer', object => '{"id": "BUY-1"}', parameters => '{"a": 1}',
                   access => ARRAY[:'vendor']) t \gset
SELECT :'status' AS status, :'revision' AS revision, :'no_progress' AS no_progress,
       :'created_by_svc' AS created_by_svc, :'id_has_owner' AS id_has_owner;
SELECT :'t1' ~ '^TSK-[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}$' AS id_form;
-- the queue was made on first use, owned by the service
RESET ROLE;
SELECT name, task.service_text(owner) = :'svc' AS owned, paused, lease, max_attempts, retention
  FROM task.queue WHERE name = 'api/platform/buyers/commands';
SET ROLE api_svc;

-- a second task, blocked, with a parent and a scheduled start
SELECT t.id AS t2, t.status AS t2_status, t.parent = :'t1'::task_id AS parent_ok,
       t.run_at > now() AS scheduled
  FROM task_create('accounts.buyers.notify', 'api/platform/buyers/commands',
                   status => 'blocked', parent => :'t1', run_at => now() + interval '1 hour') t \gset
SELECT :'t2_status' AS t2_status, :'parent_ok' AS parent_ok, :'scheduled' AS scheduled;

-- idempotency: the same key returns the same task
SELECT (task_create('a.b', 'api/platform/q', idempotency_key => 'k-1')).id = (task_create('a.b', 'api/platform/q', idempotency_key => 'k-1')).id AS same_task;
SELECT count(*) FROM task_list(queue => 'api/platform/q');

-- bad input: each fails with its SQLSTATE and nothing is written
\set ON_ERROR_STOP 0
SELECT task_create('accounts..transfer', 'api/platform/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('1accounts', 'api/platform/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform//q');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', '/api/platform/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/other/q');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', name => E'bad\nname');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', name => '   ');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', name => repeat('n', 256));
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', description => repeat('d', 4097));
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', object => '"BUY-1"');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', parameters => '[1,2]');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', parameters => jsonb_build_object('big', repeat('x', 1100000)));
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', status => 'processing');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', parent => 'TSK-0001-9999-9999-9999');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', access => ARRAY['ACC-9999-9999']);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', access => ARRAY['ACC-1']);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', max_attempts => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task_create('a.b', 'api/platform/q', parent => 'TSK-0001-0000');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT count(*) AS tasks_in_q FROM task.task WHERE queue = 'api/platform/q';

-- other callers cannot create tasks in the service's queue
SET ROLE api_other;
\set ON_ERROR_STOP 0
SELECT task_create('a.b', 'api/platform/q');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE; SET ROLE api_client;
SELECT task_create('a.b', 'api/platform/q');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE; SET ROLE api_nobody;
SELECT task_create('a.b', 'api/platform/q');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;

-- ------------------------------------------------------------ get
SET ROLE api_svc;
SELECT j->>'status' AS status, j->'object' AS object, j->'owner'->>'name' AS owner_name,
       j->'access'->0->>'type' AS access_type, j ? 'progress' AS has_progress,
       (j->'audit') ?& ARRAY['created', 'updated'] AS audited, j->'audit' ? 'started' AS started
  FROM task_get(:'t1') j;
SELECT j->'parent'->>'name' AS parent_name, j->>'status' AS status FROM task_get(:'t2') j;
RESET ROLE;
-- scope: the vendor on the access list sees it; the client and the other service do not
SET ROLE api_vendor;
SELECT task_get(:'t1')->>'code' AS vendor_sees;
RESET ROLE; SET ROLE api_ops;
SELECT task_get(:'t1')->>'code' AS ops_sees;
RESET ROLE; SET ROLE api_client;
\set ON_ERROR_STOP 0
SELECT task_get(:'t1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE; SET ROLE api_other;
SELECT task_get(:'t1');
\echo :LAST_ERROR_SQLSTATE
SELECT task_get('TSK-0001-9999-9999-9999');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;

-- ------------------------------------------------------------ worker path
-- dequeue arrives with the workers issue; here the operator claims directly
UPDATE task.task SET status = 'processing', attempts = attempts + 1 WHERE id = :'t1';
SET ROLE api_svc;
SELECT revision, status, progress FROM task_progress(:'t1', 21.3, eta => '2030-01-01T00:00:00Z');
SELECT task_get(:'t1')->>'eta' AS eta, task_get(:'t1')->'progress' AS progress;
SELECT revision, parameters FROM task_progress(:'t1', parameters => '{"b": 2}');
-- nothing to set: no write (revision and updated stamp unchanged), the task as it is
SELECT revision AS t1_revision, updated_at AS t1_updated FROM task.task WHERE id = :'t1' \gset
SELECT revision = :t1_revision AS same_revision, updated_at = :'t1_updated' AS same_updated, progress, parameters
  FROM task_progress(:'t1');
SELECT revision = :t1_revision AS same_revision FROM task_progress(:'t1', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
SELECT task_log(:'t1', 'exported', errors => 1, skips => 2, success => 3, total => 6);
\set ON_ERROR_STOP 0
SELECT task_progress(:'t1', 101);
\echo :LAST_ERROR_SQLSTATE
SELECT task_progress(:'t1', 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT task_progress(:'t2', 10);
\echo :LAST_ERROR_SQLSTATE
-- with nothing to set, the same checks: another's or no task, a stale token
SELECT task_progress('TSK-0001-9999-9999-9999');
\echo :LAST_ERROR_SQLSTATE
SELECT task_progress(:'t1', token => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT task_log(:'t1', 'x', errors => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT task_log(:'t1', E'nul\x01');
\echo :LAST_ERROR_SQLSTATE
SELECT task_complete(:'t1', result => '{"a":1}', resource => '/x', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
\echo :LAST_ERROR_SQLSTATE
SELECT task_complete(:'t1', resource => 'http://evil.example/x', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
-- nor a path that a normaliser turns into another host's ("/.//evil" is "//evil")
SELECT task_complete(:'t1', resource => '/.//evil.example/x', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
SELECT task_complete(:'t1', resource => '/a//b', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
SELECT task_complete(:'t1', resource => '/a/../..//evil', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
SELECT task_complete(:'t1', resource => '/a/%2e%2e/%2Fevil.example/x', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
-- the query and the fragment are not path: these are fine, as are dots inside names
BEGIN;
SELECT status, resource FROM task_complete(:'t1', resource => '/x/.well-known/a.b?next=https://a.example/&p=/./a#/../y', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
ROLLBACK;
-- a NULL status is refused as such (the trigger runs ahead of NOT NULL)
UPDATE task.task SET status = NULL WHERE id = :'t1';
\echo :LAST_ERROR_SQLSTATE
SELECT task_complete(:'t2', result => '{}', token => (SELECT lease_token FROM task.task WHERE id = :'t2'));
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;
-- the failed calls changed nothing
SELECT revision, progress FROM task.task WHERE id = :'t1';

-- non-owners cannot write
SET ROLE api_vendor;
\set ON_ERROR_STOP 0
SELECT task_progress(:'t1', 50);
\echo :LAST_ERROR_SQLSTATE
SELECT task_complete(:'t1', token => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task_log(:'t1', 'hello');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE; SET ROLE api_other;
SELECT task_progress(:'t1', 50);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;

SET ROLE api_svc;
SELECT status, progress, resource IS NULL AS no_uri, result FROM task_complete(:'t1', result => '{"rows": 1000000}', token => (SELECT lease_token FROM task.task WHERE id = :'t1'));
SELECT task_get(:'t1')->>'result' = '/public/v1/system/tasks/' || :'t1' || '/result' AS result_uri;
SELECT task_result(:'t1') AS result;
SELECT message, errors, skips, success, total, by = :'svc' AS by_svc FROM task_logs(:'t1');
SELECT count(*) AS first_two FROM task_logs(:'t1', log_limit => 2);
SELECT message FROM task_logs(:'t1', log_limit => 2, log_offset => 3);
\set ON_ERROR_STOP 0
SELECT * FROM task_logs(:'t1', log_limit => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task_result(:'t2');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;

-- results and logs by role
SET ROLE api_vendor;
SELECT task_result(:'t1') AS vendor_result;
\set ON_ERROR_STOP 0
SELECT * FROM task_logs(:'t1');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE; SET ROLE api_client;
SELECT task_result(:'t1');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE; SET ROLE api_ops;
SELECT count(*) > 0 AS ops_reads_logs FROM task_logs(:'t1');
RESET ROLE;

-- ------------------------------------------------------------ cancel
SET ROLE api_client;
\set ON_ERROR_STOP 0
SELECT task_cancel(:'t2');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE; SET ROLE api_vendor;
SELECT task_cancel(:'t2');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE; SET ROLE api_ops;
SELECT status, error, cancelled_by = :'ops' AS by_ops FROM task_cancel(:'t2', 'no longer needed');
\set ON_ERROR_STOP 0
SELECT task_cancel(:'t2');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT message FROM task_logs(:'t2');

-- ------------------------------------------------------------ list
SET ROLE api_svc;
SELECT count(*) AS svc_total FROM task_list();
SELECT j->>'status' AS status FROM task_list(list_limit => 2) j;
SELECT count(*) AS completed FROM task_list(status => 'completed');
SELECT count(*) AS by_code FROM task_list(code => 'accounts.buyers.notify');
SELECT count(*) AS by_object FROM task_list(object_id => 'BUY-1');
SELECT count(*) AS by_parent FROM task_list(parent => :'t1');
SELECT count(*) AS since_future FROM task_list(since => now() + interval '1 day');
SELECT count(*) AS offset_past_end FROM task_list(list_offset => 100);
\set ON_ERROR_STOP 0
SELECT task_list(list_limit => 1001);
\echo :LAST_ERROR_SQLSTATE
-- a status as the Task object spells it: 22023 with the values to use, not the enum's bare 22P02
SELECT task_list(status => 'Completed');
\echo :LAST_ERROR_SQLSTATE
SELECT task_list('done', 'api/platform/q');
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1
-- a quoted status that is one, typed or not, and none at all, list as before
SELECT (SELECT count(*) FROM task_list(status => 'completed')) = (SELECT count(*) FROM task_list('completed'::task.status)) AS same_completed,
       (SELECT count(*) FROM task_list(status => NULL)) = (SELECT count(*) FROM task_list()) AS same_all;
RESET ROLE;
SET ROLE api_vendor;
SELECT count(*) AS vendor_total FROM task_list();
RESET ROLE; SET ROLE api_client;
SELECT count(*) AS client_total FROM task_list();
RESET ROLE; SET ROLE api_other;
SELECT count(*) AS other_total FROM task_list();
RESET ROLE; SET ROLE api_nobody;
SELECT count(*) AS nobody_total FROM task_list();
RESET ROLE;

-- newest status change first
SET ROLE api_svc;
SELECT t.id AS t3 FROM task_create('a.c', 'api/platform/order') t \gset
SELECT t.id AS t4 FROM task_create('a.c', 'api/platform/order') t \gset
RESET ROLE;
UPDATE task.task SET status = 'processing' WHERE id = :'t3';
SET ROLE api_svc;
SELECT (array_agg(j->>'id'))[1] = :'t3' AS changed_first FROM task_list(queue => 'api/platform/order') j;
RESET ROLE;

-- ------------------------------------------------------------ trigger
-- direct UPDATEs go through the same checks and audit
\set ON_ERROR_STOP 0
UPDATE task.task SET status = 'completed' WHERE id = :'t4';
UPDATE task.task SET status = 'blocked' WHERE id = :'t3';
UPDATE task.task SET revision = 99 WHERE id = :'t3';
UPDATE task.task SET created_at = now() WHERE id = :'t3';
UPDATE task.task SET completed_by = 'me' WHERE id = :'t3';
UPDATE task.task SET id = 'TSK-0001-0000-0000-0000' WHERE id = :'t3';
UPDATE task.task SET code = 'other.code' WHERE id = :'t3';
UPDATE task.task SET resource = '/x', result = '1' WHERE id = :'t3';
\set ON_ERROR_STOP 1
SELECT revision AS before FROM task.task WHERE id = :'t3';
UPDATE task.task SET description = 'edited' WHERE id = :'t3';
SELECT revision AS after, updated_by, status_at < updated_at AS status_unchanged FROM task.task WHERE id = :'t3';
UPDATE task.task SET status = 'rescheduled' WHERE id = :'t3';
UPDATE task.task SET status = 'queued' WHERE id = :'t3';
SELECT message FROM task_logs(:'t3');
-- the whole transition table: allowed pairs only
CREATE TEMP TABLE transitions AS
SELECT f.s AS from_status, t.s AS to_status
  FROM unnest(enum_range(NULL::task.status)) f(s), unnest(enum_range(NULL::task.status)) t(s)
 WHERE f.s <> t.s;
CREATE FUNCTION pg_temp.try(from_s task.status, to_s task.status) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    tid task.task_id;
    path task.status[];
    s task.status;
BEGIN
    -- reach from_s by an allowed path, then try to_s
    path := CASE from_s
        WHEN 'blocked' THEN '{}'
        WHEN 'queued' THEN '{}'
        WHEN 'processing' THEN '{processing}'
        WHEN 'completed' THEN '{processing,completed}'
        WHEN 'failed' THEN '{processing,failed}'
        WHEN 'rescheduled' THEN '{processing,rescheduled}'
        WHEN 'cancelled' THEN '{cancelled}' END;
    tid := (task.task_create('t.t', 'api/platform/matrix',
            status => CASE WHEN from_s = 'blocked' THEN 'blocked'::task.status ELSE 'queued' END)).id;
    FOREACH s IN ARRAY path LOOP
        UPDATE task.task SET status = s WHERE id = tid;
    END LOOP;
    BEGIN
        UPDATE task.task SET status = to_s WHERE id = tid;
        RETURN true;
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        RETURN false;
    END;
END
$$;
SELECT task_queue_create('api/platform/matrix', owner => :'svc') IS NOT NULL AS matrix_queue;
SELECT from_status, string_agg(to_status::text, ', ' ORDER BY to_status) AS allowed
  FROM transitions WHERE pg_temp.try(from_status, to_status)
 GROUP BY from_status ORDER BY from_status;

-- no code: 22004 from the trigger, which runs before the NOT NULL
-- constraint (it dereferenced the NULL and crashed the server), on every
-- path that inserts: the C task_create, task._create, task_create_many
\set ON_ERROR_STOP 0
SELECT task_create(NULL, 'api/platform/matrix');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create(NULL, 'api/platform/matrix', idempotency_key => 'no-code');
\echo :LAST_ERROR_SQLSTATE
SELECT task_create_many(NULL, 'api/platform/matrix', ARRAY['{}']::jsonb[]);
\echo :LAST_ERROR_SQLSTATE
\set ON_ERROR_STOP 1

-- a finished task does not change: an UPDATE that keeps a completed,
-- cancelled or failed status is refused (55000) whatever the column
RESET ROLE;
SET ROLE api_svc;
SELECT task_queue_create('api/platform/final') IS NOT NULL AS made;
SELECT id AS f1 FROM task_create('a.f', 'api/platform/final') \gset
SELECT id AS f2 FROM task_create('a.f', 'api/platform/final') \gset
SELECT id AS f3 FROM task_create('a.f', 'api/platform/final') \gset
SELECT lease_token AS ftok FROM task_dequeue('api/platform/final') \gset
SELECT status FROM task_complete(:'f1', result => '{"rows": 1}', token => :ftok);
SELECT status FROM task_cancel(:'f2');
SELECT lease_token AS ftok3 FROM task_dequeue('api/platform/final') \gset
SELECT progress FROM task_progress(:'f3', 40);
SELECT status FROM task_fail(:'f3', 'broken', token => :ftok3, retry => false);
RESET ROLE;
\set ON_ERROR_STOP 0
UPDATE task.task SET result = '{"rows": 999}' WHERE id = :'f1';
UPDATE task.task SET priority = 9 WHERE id = :'f1';
UPDATE task.task SET name = 'changed' WHERE id = :'f2';
UPDATE task.task SET error = NULL, progress = 5 WHERE id = :'f3';
\set ON_ERROR_STOP 1
-- an update that changes nothing passes (an access change does that)
UPDATE task.task SET status = status WHERE id = :'f1';
SET ROLE api_svc;
SELECT task_result(:'f1') AS result;
-- the same completion for the same claim again: lease lost, saying how the claim ended
\set ON_ERROR_STOP 0
SELECT task_complete(:'f1', result => '{}', token => :ftok);
\set ON_ERROR_STOP 1
-- a retried task starts a new run: no progress until it is claimed again
SELECT status, progress FROM task_retry(:'f3');
\set ON_ERROR_STOP 0
SELECT task_progress(:'f3', 10);
\set ON_ERROR_STOP 1
SELECT lease_token AS ftok3 FROM task_dequeue('api/platform/final') \gset
SELECT progress FROM task_progress(:'f3', 10);
RESET ROLE;

-- bad input gets a SQLSTATE, a message and a hint, on every path
SET ROLE api_svc;
\set ON_ERROR_STOP 0
SELECT task_queue_create('api/platform/badpolicy', lease => '0');
SELECT task_queue_create('api/platform/badpolicy', backoff_base => '2 hours', backoff_max => '1 hour');
SELECT task_create('a.b', 'api/platform/final', unique_key => repeat('k', 256));
SELECT task_create('a.b', 'api/platform/final', run_at => '-infinity');
SELECT task_create('a.b', 'api/platform/final', eta => 'infinity');
SELECT task_create_many('a.b', 'api/platform/final', ARRAY['{}']::jsonb[], run_at => 'infinity');
SELECT task_log(:'f3', 'counted', success => 5, total => 1);
\set ON_ERROR_STOP 1
SELECT count(*) AS nothing_written FROM task_list(queue => 'api/platform/badpolicy');
RESET ROLE;

-- times a call would add to the clock are bounded: past PostgreSQL's range
-- one queue's policy failed task_maintain for every tenant, and one task's
-- maximum run time every claim of its queue
SET ROLE api_svc;
\set ON_ERROR_STOP 0
SELECT task_queue_create('api/platform/forever', retention => '7000 years');
SELECT task_queue_configure('api/platform/final', lease => '2 years');
SELECT task_queue_configure('api/platform/final', max_run_time => '300000 years');
SELECT task_queue_archive('api/platform/final', '200 years');
SELECT task_create('a.b', 'api/platform/final', max_run_time => '300000 years');
SELECT task_create_many('a.b', 'api/platform/final', ARRAY['{}']::jsonb[], max_run_time => '2 years');
SELECT task_create('a.b', 'api/platform/final', unique_key => 'u', debounce => '2 years');
SELECT task_dequeue('api/platform/final', lease => '2 years');
SELECT task_wait_many(ARRAY[ARRAY[:'f1', :'f2']]::task_id[], '0');
SELECT task_queue_create('api/platform/year', lease => '367 days');
\set ON_ERROR_STOP 1
RESET ROLE;
-- Operations see a queue but do not configure it: the hint says so (it
-- spoke of running workers only)
SET ROLE api_ops;
\set ON_ERROR_STOP 0
SELECT task_queue_configure('api/platform/final', paused => true);
\set ON_ERROR_STOP 1
RESET ROLE;
SET ROLE api_svc;
-- "1 year" is a year of 365 or 366 days, not PostgreSQL's 360 when it
-- compares intervals
SELECT lease, max_run_time, retention
  FROM task_queue_create('api/platform/year', lease => '365 days', max_run_time => '366 days',
                         retention => '36525 days');
SELECT status FROM task_create('a.y', 'api/platform/year');
SELECT lease_until - now() > '364 days' AS year_lease FROM task_dequeue('api/platform/year', lease => '365 days');
RESET ROLE;
SELECT (task_maintain())->>'leases_rescued' IS NOT NULL AS maintenance_runs;
-- the operator's calls too
\set ON_ERROR_STOP 0
SELECT task_service_create(NULL, 'api/none');
SELECT task_account_create(NULL, 'Client');
SELECT task_login_grant(NULL, :'svc');
SELECT task_market_setup(:'svc', 'api/platform/final', review_window => '2 years');
\set ON_ERROR_STOP 1

-- progress belongs to an attempt: refused while a task waits for its next
-- one (rescheduled after a failure with retries left)
SET ROLE api_svc;
SELECT id AS r1 FROM task_create('a.r', 'api/platform/final') \gset
SELECT lease_token AS rtok FROM task_dequeue('api/platform/final') \gset
SELECT status FROM task_fail(:'r1', 'try again', token => :rtok);
\set ON_ERROR_STOP 0
SELECT task_progress(:'r1', 50);
\set ON_ERROR_STOP 1
RESET ROLE;

-- errors say what is wrong and what to do: a NULL id or token, a NULL in
-- an access list, a claim that ended, a result that will never come
SET ROLE api_svc;
SELECT task_queue_create('api/platform/errors') IS NOT NULL AS made;
SELECT id AS e1 FROM task_create('a.e', 'api/platform/errors') \gset
SELECT id AS e2 FROM task_create('a.e', 'api/platform/errors') \gset
SELECT id AS e3 FROM task_create('a.e', 'api/platform/errors') \gset
SELECT lease_token AS etok FROM task_dequeue('api/platform/errors') \gset
\set ON_ERROR_STOP 0
SELECT task_get(NULL);
SELECT task_cancel(NULL);
SELECT task_result(NULL);
SELECT task_heartbeat(:'e1', NULL);
SELECT task_access_add(:'e1', ARRAY[NULL]);
SELECT task_create('a.e', 'api/platform/errors', access => ARRAY[:'vendor', NULL]);
-- (a NULL among the dependencies was "not found: ." with 23503)
SELECT task_create('a.e', 'api/platform/errors', depends_on => ARRAY[:'e2', NULL]::task_id[]);
\set ON_ERROR_STOP 1
SELECT status FROM task_complete(:'e1', result => '{}', token => :etok);
\set ON_ERROR_STOP 0
-- a stale token on a finished task: nothing to retry
SELECT task_heartbeat(:'e1', :etok + 1000);
\set ON_ERROR_STOP 1
SELECT lease_token AS etok2 FROM task_dequeue('api/platform/errors') \gset
SELECT status FROM task_fail(:'e2', 'broken', token => :etok2, retry => false);
SELECT status FROM task_cancel(:'e3');
\set ON_ERROR_STOP 0
SELECT task_result(:'e2');
SELECT task_result(:'e3');
\set ON_ERROR_STOP 1
RESET ROLE;
-- the operator's: an unknown account type, a login role that does not exist
\set ON_ERROR_STOP 0
SELECT task_account_create('API Nobody', 'Bogus');
SELECT task_account_create('API Nobody', 'Client', 'Sleeping');
SELECT task_login_grant('api_no_such_role', :'svc');
SELECT task_login_revoke('api_no_such_role');
\set ON_ERROR_STOP 1
-- texts in UTF-8 (at the end: failed creates use up task ids): a C1
-- control character (U+0085), a name of no-break and ideographic spaces, a
-- description of a zero-width space and newlines
SET ROLE api_svc;
\set ON_ERROR_STOP 0
SELECT task_create('a.b', 'api/platform/q', name => E'bad\u0085name');
SELECT task_create('a.b', 'api/platform/q', name => E'\u00a0\u3000\u00a0');
SELECT task_create('a.b', 'api/platform/q', description => E'\u200b\n\t');
\set ON_ERROR_STOP 1
BEGIN;
SELECT name FROM task_create('a.b', 'api/platform/q', name => E'caf\u00e9\u00a0cr\u00e8me');
ROLLBACK;
RESET ROLE;
