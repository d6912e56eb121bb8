\unset ECHO
-- The shape of the extension, in pgTAP: schema, tables and their keys,
-- column types, the status enum, indexes, the transition trigger, the
-- task_id type and its operator classes, the public functions and their
-- signatures, SECURITY DEFINER with a pinned search_path, comments on
-- every object, privileges, and pg_dump registration of the data tables.
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
\set ON_ERROR_ROLLBACK 1
\set ON_ERROR_STOP true

BEGIN;
SELECT plan(186);

-- ------------------------------------------------------------ extension, schema
SELECT has_extension('task', 'extension task is installed');
SELECT ok((SELECT NOT extrelocatable FROM pg_extension WHERE extname = 'task'),
          'extension task is not relocatable');
SELECT has_schema('task', 'schema task exists');
SELECT is((SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'task'), 'task', 'extension task lives in schema task');

-- ------------------------------------------------------------ tables and keys
SELECT has_table('task', 'service', 'table task.service exists');
SELECT has_table('task', 'account', 'table task.account exists');
SELECT has_table('task', 'login', 'table task.login exists');
SELECT has_table('task', 'queue', 'table task.queue exists');
SELECT has_table('task', 'task', 'table task.task exists');
SELECT has_table('task', 'task_access', 'table task.task_access exists');
SELECT has_table('task', 'task_log', 'table task.task_log exists');
SELECT has_table('task', 'task_dependency', 'table task.task_dependency exists');
SELECT col_is_pk('task', 'task_dependency', ARRAY['owner', 'task_id', 'depends_on']::name[],
    'task.task_dependency primary key is (owner, task_id, depends_on)');
SELECT has_trigger('task', 'task', 'task_settle_dependents', 'task.task has the dependency trigger');

SELECT has_pk('task', 'service', 'task.service has a primary key');
SELECT has_pk('task', 'account', 'task.account has a primary key');
SELECT has_pk('task', 'login', 'task.login has a primary key');
SELECT has_pk('task', 'queue', 'task.queue has a primary key');
SELECT has_pk('task', 'task', 'task.task has a primary key');
SELECT has_pk('task', 'task_access', 'task.task_access has a primary key');
SELECT has_pk('task', 'task_log', 'task.task_log has a primary key');

SELECT col_is_pk('task', 'service', ARRAY['id']::name[], 'task.service primary key is (id)');
SELECT col_is_pk('task', 'account', ARRAY['id']::name[], 'task.account primary key is (id)');
SELECT col_is_pk('task', 'login', ARRAY['role']::name[], 'task.login primary key is (role)');
SELECT col_is_pk('task', 'queue', ARRAY['name']::name[], 'task.queue primary key is (name)');
SELECT col_is_pk('task', 'task', ARRAY['id', 'owner']::name[], 'task.task primary key is (id, owner)');
SELECT col_is_pk('task', 'task_access', ARRAY['owner', 'task_id', 'account']::name[],
                 'task.task_access primary key is (owner, task_id, account)');
SELECT col_is_pk('task', 'task_log', ARRAY['owner', 'task_id', 'seq']::name[],
                 'task.task_log primary key is (owner, task_id, seq)');

-- ------------------------------------------------------------ key columns and types
SELECT col_type_is('task', 'service', 'id', 'integer', 'task.service.id is integer');
SELECT col_type_is('task', 'service', 'namespace', 'text', 'task.service.namespace is text');
SELECT col_type_is('task', 'account', 'id', 'bigint', 'task.account.id is bigint');
SELECT col_type_is('task', 'account', 'type', 'task', 'account_type', 'task.account.type is task.account_type');
SELECT col_type_is('task', 'account', 'status', 'task', 'account_status', 'task.account.status is task.account_status');
SELECT col_type_is('task', 'login', 'role', 'regrole', 'task.login.role is regrole');
SELECT col_type_is('task', 'login', 'service', 'integer', 'task.login.service is integer');
SELECT col_type_is('task', 'login', 'account', 'bigint', 'task.login.account is bigint');
SELECT col_type_is('task', 'queue', 'name', 'text', 'task.queue.name is text');
SELECT col_type_is('task', 'queue', 'owner', 'integer', 'task.queue.owner is integer');
SELECT col_type_is('task', 'queue', 'lease', 'interval', 'task.queue.lease is interval');
SELECT col_type_is('task', 'task', 'owner', 'integer', 'task.task.owner is integer');
SELECT col_type_is('task', 'task', 'id', 'task', 'task_id', 'task.task.id is task.task_id');
SELECT col_type_is('task', 'task', 'revision', 'integer', 'task.task.revision is integer');
SELECT col_type_is('task', 'task', 'status', 'task', 'status', 'task.task.status is task.status');
SELECT col_type_is('task', 'task', 'queue', 'text', 'task.task.queue is text');
SELECT col_type_is('task', 'task', 'parent', 'task', 'task_id', 'task.task.parent is task.task_id');
SELECT col_type_is('task', 'task', 'progress', 'double precision', 'task.task.progress is double precision');
SELECT col_type_is('task', 'task', 'parameters', 'jsonb', 'task.task.parameters is jsonb');
SELECT col_type_is('task', 'task', 'run_at', 'timestamp with time zone', 'task.task.run_at is timestamptz');
SELECT col_type_is('task', 'task', 'lease_token', 'bigint', 'task.task.lease_token is bigint');
SELECT col_type_is('task', 'task', 'lease_until', 'timestamp with time zone', 'task.task.lease_until is timestamptz');
SELECT col_type_is('task', 'task', 'status_at', 'timestamp with time zone', 'task.task.status_at is timestamptz');
SELECT col_type_is('task', 'task_access', 'task_id', 'task', 'task_id', 'task.task_access.task_id is task.task_id');
SELECT col_type_is('task', 'task_access', 'account', 'bigint', 'task.task_access.account is bigint');
SELECT col_type_is('task', 'task_log', 'task_id', 'task', 'task_id', 'task.task_log.task_id is task.task_id');
SELECT col_type_is('task', 'task_log', 'seq', 'bigint', 'task.task_log.seq is bigint');
SELECT col_type_is('task', 'task_log', 'from_status', 'task', 'status', 'task.task_log.from_status is task.status');
SELECT col_type_is('task', 'task_log', 'to_status', 'task', 'status', 'task.task_log.to_status is task.status');
SELECT col_not_null('task', 'task', 'status', 'task.task.status is NOT NULL');
SELECT col_not_null('task', 'task', 'revision', 'task.task.revision is NOT NULL');

-- ------------------------------------------------------------ the status enum
SELECT has_enum('task', 'status', 'enum task.status exists');
SELECT enum_has_labels('task', 'status',
    ARRAY['blocked', 'queued', 'processing', 'completed', 'failed', 'rescheduled', 'cancelled']::name[],
    'task.status has exactly blocked, queued, processing, completed, failed, rescheduled, cancelled, in order');
SELECT enum_has_labels('task', 'account_type', ARRAY['Operations', 'Vendor', 'Client']::name[],
    'task.account_type has Operations, Vendor, Client');

-- ------------------------------------------------------------ indexes
SELECT has_index('task', 'task', 'task_runnable_idx', ARRAY['hashtext(queue)', 'priority', 'run_at', 'id', 'queue'],
                 'task_runnable_idx is on (hashtext(queue), priority DESC, run_at, id) INCLUDE (queue)');
SELECT has_index('task', 'task', 'task_owner_status_at_idx', ARRAY['owner', 'status_at']::name[],
                 'task_owner_status_at_idx is on (owner, status_at)');
SELECT has_index('task', 'task', 'task_lease_idx', ARRAY['queue', 'lease_until']::name[],
                 'task_lease_idx is on (queue, lease_until)');
SELECT has_index('task', 'task', 'task_ordering_idx', ARRAY['queue', 'ordering_key', 'run_at', 'id']::name[],
                 'task_ordering_idx is on (queue, ordering_key, run_at, id)');
SELECT has_index('task', 'task_access', 'task_access_account_idx', ARRAY['account', 'owner', 'task_id']::name[],
                 'task_access_account_idx is on (account, owner, task_id)');
SELECT has_index('task', 'task', 'task_idempotency_idx', ARRAY['owner', 'idempotency_key']::name[],
                 'task_idempotency_idx is on (owner, idempotency_key)');
SELECT index_is_unique('task', 'task', 'task_idempotency_idx', 'task_idempotency_idx is unique');
-- partial indexes keep finished tasks out of the hot paths
SELECT is(
    ARRAY(SELECT c.relname || ': ' || coalesce(pg_get_expr(i.indpred, i.indrelid), 'not partial')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           WHERE i.indrelid = 'task.task'::regclass
             AND c.relname IN ('task_runnable_idx', 'task_lease_idx', 'task_ordering_idx',
                               'task_idempotency_idx', 'task_owner_status_at_idx')
           ORDER BY c.relname),
    ARRAY['task_idempotency_idx: (idempotency_key IS NOT NULL)',
          'task_lease_idx: (status = ''processing''::task.status)',
          'task_ordering_idx: ((ordering_key IS NOT NULL) AND (status = ANY (ARRAY[''queued''::task.status, ''rescheduled''::task.status, ''processing''::task.status])))',
          'task_owner_status_at_idx: not partial',
          'task_runnable_idx: (status = ANY (ARRAY[''queued''::task.status, ''rescheduled''::task.status]))'],
    'partial index predicates: runnable, lease, ordering and idempotency are partial; the listing index is not');
SELECT is((SELECT i.indoption[1] & 1 FROM pg_index i WHERE i.indexrelid = 'task.task_owner_status_at_idx'::regclass)::integer,
          0, 'task_owner_status_at_idx orders status_at ascending (new entries at the right edge; task_list reads it backward)');

-- ------------------------------------------------------------ the transition trigger
SELECT has_trigger('task', 'task', 'task_transition', 'task.task has trigger task_transition');
SELECT trigger_is('task', 'task', 'task_transition', 'task', 'task_transition',
                  'trigger task_transition calls task.task_transition()');
SELECT is((SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
            WHERE t.tgrelid = 'task.task'::regclass AND t.tgname = 'task_transition'),
          'CREATE TRIGGER task_transition BEFORE INSERT OR UPDATE ON task.task FOR EACH ROW EXECUTE FUNCTION task.task_transition()',
          'task_transition fires BEFORE INSERT OR UPDATE FOR EACH ROW');
SELECT is((SELECT t.tgenabled::text FROM pg_trigger t
            WHERE t.tgrelid = 'task.task'::regclass AND t.tgname = 'task_transition'),
          'A', 'task_transition is enabled ALWAYS (under session_replication_role = replica it only takes its notes)');

-- ------------------------------------------------------------ the task_id type
SELECT has_type('task', 'task_id', 'type task.task_id exists');
SELECT is((SELECT ROW(t.typtype, t.typlen, t.typbyval)::text FROM pg_type t WHERE t.oid = 'task.task_id'::regtype),
          '(b,8,t)', 'task.task_id is a base type of 8 bytes passed by value');
SELECT has_opclass('task', 'task_id_ops', 'btree opclass task.task_id_ops exists');
SELECT has_opclass('task', 'task_id_hash_ops', 'hash opclass task.task_id_hash_ops exists');
SELECT is(
    ARRAY(SELECT am.amname || ' ' || oc.opcname || CASE WHEN oc.opcdefault THEN ' default' ELSE '' END
            FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
           WHERE oc.opcintype = 'task.task_id'::regtype ORDER BY am.amname, oc.opcname),
    ARRAY['btree task_id_ops default', 'hash task_id_hash_ops default'],
    'task.task_id has default btree and hash operator classes');

-- ------------------------------------------------------------ public functions
SELECT has_function('task', 'task_create',
    ARRAY['text', 'text', 'text', 'text', 'jsonb', 'task.task_id', 'jsonb', 'timestamp with time zone',
          'text[]', 'task.status', 'timestamp with time zone', 'text', 'text', 'integer',
          'task.task_id[]', 'boolean', 'integer', 'text', 'interval', 'interval']::name[],
    'task_create(code, queue, name, description, object, parent, parameters, eta, access, status, run_at, idempotency_key, ordering_key, max_attempts, depends_on, blocks_parent, priority, unique_key, debounce, max_run_time)');
SELECT has_function('task', 'task_create_many', ARRAY['text', 'text', 'jsonb[]', 'timestamp with time zone', 'text[]', 'integer', 'interval']::name[],
    'task_create_many(code, queue, parameters, run_at, ordering_keys, priority, max_run_time)');
SELECT has_function('task', 'task_unblock', ARRAY['task.task_id']::name[], 'task_unblock(id)');
SELECT has_function('task', 'task_get', ARRAY['task.task_id', 'integer', 'integer']::name[], 'task_get(id, log_limit, log_offset)');
SELECT has_function('task', 'task_list',
    ARRAY['task.status', 'text', 'text', 'text', 'task.task_id', 'timestamp with time zone', 'integer', 'integer', 'text', 'interval']::name[],
    'task_list(status, queue, code, object_id, parent, since, list_limit, list_offset, agent, submitted_within)');
SELECT has_function('task', 'task_progress',
    ARRAY['task.task_id', 'double precision', 'timestamp with time zone', 'jsonb', 'bigint']::name[],
    'task_progress(id, progress, eta, parameters, token)');
SELECT has_function('task', 'task_log', ARRAY['task.task_id', 'text', 'bigint', 'bigint', 'bigint', 'bigint']::name[],
    'task_log(id, message, errors, skips, success, total)');
SELECT has_function('task', 'task_logs', ARRAY['task.task_id', 'integer', 'integer']::name[],
    'task_logs(id, log_limit, log_offset)');
SELECT has_function('task', 'task_complete', ARRAY['task.task_id', 'jsonb', 'text', 'bigint', 'boolean']::name[],
    'task_complete(id, result, resource, token, force)');
SELECT has_function('task', 'task_result', ARRAY['task.task_id']::name[], 'task_result(id)');
SELECT has_function('task', 'task_cancel', ARRAY['task.task_id', 'text']::name[], 'task_cancel(id, reason)');
SELECT has_function('task', 'task_dequeue',
    ARRAY['text', 'integer', 'interval', 'interval', 'task.task_id', 'bigint', 'jsonb', 'text', 'task.task_id[]', 'bigint[]']::name[],
    'task_dequeue(queue, n, lease, wait, complete, complete_token, result, resource, complete_batch, complete_tokens)');
SELECT has_function('task', 'task_heartbeat', ARRAY['task.task_id', 'bigint', 'interval', 'double precision']::name[],
    'task_heartbeat(id, token, lease, progress)');
SELECT has_function('task', 'task_fail', ARRAY['task.task_id', 'text', 'bigint', 'boolean', 'boolean']::name[],
    'task_fail(id, error, token, retry, force)');
SELECT has_function('task', 'task_reschedule', ARRAY['task.task_id', 'timestamp with time zone', 'bigint', 'boolean']::name[],
    'task_reschedule(id, at, token, force)');
SELECT has_function('task', 'task_retry', ARRAY['task.task_id']::name[], 'task_retry(id)');
SELECT has_function('task', 'task_queue_create',
    ARRAY['text', 'text', 'interval', 'integer', 'interval', 'interval', 'interval', 'boolean', 'integer', 'interval',
          'integer', 'integer', 'integer', 'interval', 'boolean', 'integer']::name[],
    'task_queue_create(queue, owner, lease, max_attempts, backoff_base, backoff_max, retention, paused, priority, max_run_time, max_processing, key_concurrency, rate_limit, rate_interval, fair_share, key_rate_limit)');
SELECT has_function('task', 'task_queue_configure',
    ARRAY['text', 'interval', 'integer', 'interval', 'interval', 'interval', 'boolean', 'integer', 'interval',
          'integer', 'integer', 'integer', 'interval', 'boolean', 'integer']::name[],
    'task_queue_configure(queue, lease, max_attempts, backoff_base, backoff_max, retention, paused, priority, max_run_time, max_processing, key_concurrency, rate_limit, rate_interval, fair_share, key_rate_limit)');
SELECT has_function('task', 'task_service_create', ARRAY['text', 'text']::name[], 'task_service_create(name, namespace)');
SELECT has_function('task', 'task_account_create', ARRAY['text', 'task.account_type', 'task.account_status']::name[],
    'task_account_create(name, type, status)');
SELECT has_function('task', 'task_login_grant', ARRAY['regrole', 'text']::name[], 'task_login_grant(role, identity)');
SELECT has_function('task', 'task_login_revoke', ARRAY['regrole']::name[], 'task_login_revoke(role)');
SELECT has_function('task', 'task_whoami', ARRAY[]::name[], 'task_whoami()');

-- the named arguments are part of the contract (callers use name => value)
SELECT is((SELECT pg_get_function_identity_arguments('task.task_dequeue'::regproc)),
    'queue text, n integer, lease interval, wait interval, complete task.task_id, complete_token bigint, result jsonb, resource text, complete_batch task.task_id[], complete_tokens bigint[]',
    'task_dequeue argument names');
SELECT is((SELECT pg_get_function_identity_arguments('task.task_complete'::regproc)),
    'id task.task_id, result jsonb, resource text, token bigint, force boolean', 'task_complete argument names');
SELECT is((SELECT pg_get_function_identity_arguments('task.task_progress'::regproc)),
    'id task.task_id, progress double precision, eta timestamp with time zone, parameters jsonb, token bigint',
    'task_progress argument names');
SELECT is((SELECT pg_get_function_identity_arguments('task.task_logs'::regproc)),
    'id task.task_id, log_limit integer, log_offset integer', 'task_logs argument names');

-- each is SECURITY DEFINER
SELECT is_definer('task', 'task_create',
    ARRAY['text', 'text', 'text', 'text', 'jsonb', 'task.task_id', 'jsonb', 'timestamp with time zone',
          'text[]', 'task.status', 'timestamp with time zone', 'text', 'text', 'integer',
          'task.task_id[]', 'boolean', 'integer', 'text', 'interval', 'interval']::name[],
    'task_create is SECURITY DEFINER');
SELECT is_definer('task', 'task_get', ARRAY['task.task_id', 'integer', 'integer']::name[], 'task_get is SECURITY DEFINER');
SELECT is_definer('task', 'task_list',
    ARRAY['task.status', 'text', 'text', 'text', 'task.task_id', 'timestamp with time zone', 'integer', 'integer', 'text', 'interval']::name[],
    'task_list is SECURITY DEFINER');
SELECT is_definer('task', 'task_progress',
    ARRAY['task.task_id', 'double precision', 'timestamp with time zone', 'jsonb', 'bigint']::name[],
    'task_progress is SECURITY DEFINER');
SELECT is_definer('task', 'task_log', ARRAY['task.task_id', 'text', 'bigint', 'bigint', 'bigint', 'bigint']::name[],
    'task_log is SECURITY DEFINER');
SELECT is_definer('task', 'task_logs', ARRAY['task.task_id', 'integer', 'integer']::name[], 'task_logs is SECURITY DEFINER');
SELECT is_definer('task', 'task_complete', ARRAY['task.task_id', 'jsonb', 'text', 'bigint', 'boolean']::name[],
    'task_complete is SECURITY DEFINER');
SELECT is_definer('task', 'task_result', ARRAY['task.task_id']::name[], 'task_result is SECURITY DEFINER');
SELECT is_definer('task', 'task_cancel', ARRAY['task.task_id', 'text']::name[], 'task_cancel is SECURITY DEFINER');
SELECT is_definer('task', 'task_dequeue',
    ARRAY['text', 'integer', 'interval', 'interval', 'task.task_id', 'bigint', 'jsonb', 'text', 'task.task_id[]', 'bigint[]']::name[],
    'task_dequeue is SECURITY DEFINER');
SELECT is_definer('task', 'task_heartbeat', ARRAY['task.task_id', 'bigint', 'interval', 'double precision']::name[],
    'task_heartbeat is SECURITY DEFINER');
SELECT is_definer('task', 'task_fail', ARRAY['task.task_id', 'text', 'bigint', 'boolean', 'boolean']::name[],
    'task_fail is SECURITY DEFINER');
SELECT is_definer('task', 'task_reschedule', ARRAY['task.task_id', 'timestamp with time zone', 'bigint', 'boolean']::name[],
    'task_reschedule is SECURITY DEFINER');
SELECT is_definer('task', 'task_retry', ARRAY['task.task_id']::name[], 'task_retry is SECURITY DEFINER');
SELECT is_definer('task', 'task_queue_create',
    ARRAY['text', 'text', 'interval', 'integer', 'interval', 'interval', 'interval', 'boolean', 'integer', 'interval',
          'integer', 'integer', 'integer', 'interval', 'boolean', 'integer']::name[],
    'task_queue_create is SECURITY DEFINER');
SELECT is_definer('task', 'task_queue_configure',
    ARRAY['text', 'interval', 'integer', 'interval', 'interval', 'interval', 'boolean', 'integer', 'interval',
          'integer', 'integer', 'integer', 'interval', 'boolean', 'integer']::name[],
    'task_queue_configure is SECURITY DEFINER');
SELECT is_definer('task', 'task_service_create', ARRAY['text', 'text']::name[], 'task_service_create is SECURITY DEFINER');
SELECT is_definer('task', 'task_account_create', ARRAY['text', 'task.account_type', 'task.account_status']::name[],
    'task_account_create is SECURITY DEFINER');
SELECT is_definer('task', 'task_login_grant', ARRAY['regrole', 'text']::name[], 'task_login_grant is SECURITY DEFINER');
SELECT is_definer('task', 'task_login_revoke', ARRAY['regrole']::name[], 'task_login_revoke is SECURITY DEFINER');
SELECT is_definer('task', 'task_whoami', ARRAY[]::name[], 'task_whoami is SECURITY DEFINER');

-- Every public API function (task_*, but not the task_id_* type support
-- functions nor the trigger function) is SECURITY DEFINER and pins its
-- search_path, with pg_temp last so no temporary object can shadow one.
-- Procedures are not: one that commits (task_hire_sync) may have neither;
-- it only calls SECURITY DEFINER functions, by qualified names.
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'task'::regnamespace
         AND p.proname ~ '^task_' AND p.proname !~ '^task_id_'
         AND p.prorettype <> 'trigger'::regtype AND p.prokind = 'f'
         AND NOT p.prosecdef
       ORDER BY 1$$,
    'every public task_* function is SECURITY DEFINER');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'task'::regnamespace
         AND p.proname ~ '^task_' AND p.proname !~ '^task_id_'
         AND p.prorettype <> 'trigger'::regtype AND p.prokind = 'f'
         AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c
                          WHERE c LIKE 'search\_path=%' AND c LIKE '%pg\_temp')
       ORDER BY 1$$,
    'every public task_* function sets search_path (ending in pg_temp)');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'task'::regnamespace AND p.prosecdef
         AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')
       ORDER BY 1$$,
    'no SECURITY DEFINER function of schema task runs without a pinned search_path');

-- ------------------------------------------------------------ comments
-- Every function, table, view, type and column that belongs to the
-- extension (schemas task and api) has a comment: they are the
-- documentation and, under PostgREST, the OpenAPI descriptions. A failure
-- lists the objects to comment (in sql/ and sql/update/).
CREATE TEMP VIEW regress_task_members AS
    SELECT d.classid, d.objid FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'task');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE (p.oid IN (SELECT objid FROM regress_task_members WHERE classid = 'pg_proc'::regclass)
              OR p.pronamespace = 'task'::regnamespace)
         AND obj_description(p.oid, 'pg_proc') IS NULL
       ORDER BY 1$$,
    'every function of the extension has a comment');
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c
       WHERE (c.oid IN (SELECT objid FROM regress_task_members WHERE classid = 'pg_class'::regclass)
              OR c.relnamespace = 'task'::regnamespace)
         AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND obj_description(c.oid, 'pg_class') IS NULL
       ORDER BY 1$$,
    'every table and view of the extension has a comment');
SELECT is_empty(
    $$SELECT c.oid::regclass::text || '.' || a.attname FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE c.oid IN (SELECT objid FROM regress_task_members WHERE classid = 'pg_class'::regclass)
         AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND col_description(c.oid, a.attnum) IS NULL
       ORDER BY 1$$,
    'every column of a table or view of the extension has a comment');
SELECT is_empty(
    $$SELECT t.oid::regtype::text FROM pg_type t
       WHERE (t.oid IN (SELECT objid FROM regress_task_members WHERE classid = 'pg_type'::regclass)
              OR t.typnamespace = 'task'::regnamespace)
         AND t.typtype IN ('b', 'e', 'd', 'r', 'c')
         AND t.typelem = 0 AND (t.typrelid = 0 OR t.typtype = 'c' AND
              (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
         AND obj_description(t.oid, 'pg_type') IS NULL
       ORDER BY 1$$,
    'every type of the extension (base, enum, domain, range, composite) has a comment');

-- ------------------------------------------------------------ privileges
CREATE ROLE regress_schema_nobody;

SELECT table_privs_are('task', 'service', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.service');
SELECT table_privs_are('task', 'account', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.account');
SELECT table_privs_are('task', 'login', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.login');
SELECT table_privs_are('task', 'queue', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.queue');
SELECT table_privs_are('task', 'task', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.task');
SELECT table_privs_are('task', 'task_access', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.task_access');
SELECT table_privs_are('task', 'task_log', 'regress_schema_nobody', ARRAY[]::name[],
                       'a fresh role has no privilege on task.task_log');
-- PUBLIC (grantee 0) holds nothing on any relation of the schema, sequences included
SELECT is_empty(
    $$SELECT c.oid::regclass::text || ' ' || a.privilege_type FROM pg_class c,
             LATERAL aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's'::"char" ELSE 'r'::"char" END, c.relowner))) a
       WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
         AND a.grantee = 0
       ORDER BY 1$$,
    'PUBLIC has no privilege on any table, view or sequence of schema task');
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c
       WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND has_table_privilege('regress_schema_nobody', c.oid,
                                 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
       ORDER BY 1$$,
    'a fresh role has no privilege on any table of schema task');
-- Internal functions (_name) are reached through the SECURITY DEFINER API
-- only: EXECUTE is revoked from PUBLIC. The exceptions tell nothing: the
-- list of role names, task._roles(), which http_pre_request reads as a web
-- role, task._can_commit(), which task_hire_sync (a procedure that
-- commits runs as its caller) asks before it hires, and task._settles(),
-- a function of two statuses, the WHEN of a trigger that runs as whoever
-- updates task.task.
SELECT is(
    ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
           WHERE p.pronamespace = 'task'::regnamespace AND p.proname LIKE '\_%'
             AND has_function_privilege('regress_schema_nobody', p.oid, 'EXECUTE')
           ORDER BY 1),
    ARRAY['task._can_commit()', 'task._roles()', 'task._settles(task.status,task.status)'],
    'a fresh role cannot execute the internal _functions of schema task, but for task._can_commit(), task._roles() and task._settles()');
-- The public API is callable by any role (USAGE on the schema, EXECUTE on
-- task_*): what a caller may do is decided by task.login, not by grants.
SELECT ok(has_schema_privilege('regress_schema_nobody', 'task', 'USAGE'),
          'a fresh role has USAGE on schema task');
SELECT is_empty(
    $$SELECT p.oid::regprocedure::text FROM pg_proc p
       WHERE p.pronamespace = 'task'::regnamespace
         AND p.proname ~ '^task_' AND p.proname !~ '^task_id_'
         AND p.prorettype <> 'trigger'::regtype
         AND NOT has_function_privilege('regress_schema_nobody', p.oid, 'EXECUTE')
       ORDER BY 1$$,
    'a fresh role can execute every public task_* function');
SELECT ok(NOT has_schema_privilege('regress_schema_nobody', 'task', 'CREATE'),
          'a fresh role cannot create objects in schema task');

-- ------------------------------------------------------------ row-level security
-- Every table has RLS enabled and forced (the owner too is filtered, but
-- for the SECURITY DEFINER API, which runs as the owner and checks the
-- caller itself).
SELECT is(ARRAY(SELECT c.relname || ' ' || CASE WHEN c.relrowsecurity THEN 'rls' ELSE 'no-rls' END
                                  || ' ' || CASE WHEN c.relforcerowsecurity THEN 'forced' ELSE 'not-forced' END
                  FROM pg_class c
                 WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p')
                 ORDER BY c.relname)::text[],
          ARRAY['account rls forced', 'key_rate rls forced', 'ledger_account rls forced', 'ledger_entry rls forced', 'ledger_txn rls forced',
                'login rls forced', 'maintenance_run rls forced', 'market rls forced', 'market_agent rls forced', 'market_artifact rls forced',
                'market_assignment rls forced', 'market_dispute rls forced', 'market_dispute_event rls forced',
                'market_message rls forced', 'market_task rls forced', 'queue rls forced',
                'queue_rate rls forced', 'queue_share rls forced', 'schedule rls forced',
                'service rls forced', 'task rls forced', 'task_access rls forced', 'task_dependency rls forced',
                'task_log rls forced'],
          'every table of schema task has row-level security enabled and forced');
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c
       WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p')
         AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
       ORDER BY 1$$,
    'no table of schema task lacks ENABLE and FORCE ROW LEVEL SECURITY');

-- The group roles (one per kind of caller) and the web roles (PostgREST)
-- exist, cannot log in and hold no attribute that would bypass RLS.
SELECT has_role('task_operations', 'group role task_operations exists');
SELECT has_role('task_service', 'group role task_service exists');
SELECT has_role('task_vendor', 'group role task_vendor exists');
SELECT has_role('task_client', 'group role task_client exists');
SELECT has_role('task_web_operations', 'web role task_web_operations exists');
SELECT has_role('task_web_service', 'web role task_web_service exists');
SELECT has_role('task_web_vendor', 'web role task_web_vendor exists');
SELECT has_role('task_web_client', 'web role task_web_client exists');
SELECT has_role('task_web_anon', 'web role task_web_anon exists');
SELECT is(ARRAY(SELECT r.rolname || ' ' || CASE WHEN r.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END
                  FROM pg_roles r
                 WHERE r.rolname ~ '^task_(web_)?(operations|service|vendor|client|anon)$'
                 ORDER BY r.rolname)::text[],
          ARRAY['task_client NOLOGIN', 'task_operations NOLOGIN', 'task_service NOLOGIN', 'task_vendor NOLOGIN',
                'task_web_anon NOLOGIN', 'task_web_client NOLOGIN', 'task_web_operations NOLOGIN',
                'task_web_service NOLOGIN', 'task_web_vendor NOLOGIN'],
          'the group and web roles are NOLOGIN');
SELECT is_empty(
    $$SELECT r.rolname::text FROM pg_roles r
       WHERE r.rolname ~ '^task_(web_)?(operations|service|vendor|client|anon)$'
         AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls)
       ORDER BY 1$$,
    'no group or web role is superuser, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS');
-- each web role is a member of its group role, and of no other role
SELECT is_member_of('task_operations', ARRAY['task_web_operations']::name[],
                    'task_web_operations is a member of task_operations');
SELECT is_member_of('task_service', ARRAY['task_web_service']::name[],
                    'task_web_service is a member of task_service');
SELECT is_member_of('task_vendor', ARRAY['task_web_vendor']::name[],
                    'task_web_vendor is a member of task_vendor');
SELECT is_member_of('task_client', ARRAY['task_web_client']::name[],
                    'task_web_client is a member of task_client');
SELECT is(ARRAY(SELECT m.rolname || ' in ' || g.rolname
                  FROM pg_auth_members a
                  JOIN pg_roles m ON m.oid = a.member
                  JOIN pg_roles g ON g.oid = a.roleid
                 WHERE m.rolname LIKE 'task\_web\_%'
                 ORDER BY 1)::text[],
          ARRAY['task_web_client in task_client', 'task_web_operations in task_operations',
                'task_web_service in task_service', 'task_web_vendor in task_vendor'],
          'the web roles belong to their group role only (task_web_anon to none)');
SELECT is_empty(
    $$SELECT g.rolname::text FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
       WHERE g.rolname ~ '^task_(operations|service|vendor|client)$' AND a.admin_option
       ORDER BY 1$$,
    'nobody holds ADMIN OPTION on a group role');

-- Policies: each table has its own, each attached to group roles (never
-- PUBLIC), only for SELECT (and the owner's UPDATE of task.task), and
-- each one checks the caller's identity.
SELECT policies_are('task', 'service', ARRAY['service_operations', 'service_self']::name[],
                    'task.service has its policies');
SELECT policies_are('task', 'account', ARRAY['account_operations']::name[],
                    'task.account has its policies');
SELECT policies_are('task', 'login', ARRAY['login_operations']::name[],
                    'task.login has its policies');
SELECT policies_are('task', 'queue', ARRAY['queue_operations', 'queue_owner']::name[],
                    'task.queue has its policies');
SELECT policies_are('task', 'task', ARRAY['task_operations', 'task_owner', 'task_owner_update']::name[],
                    'task.task has its policies');
SELECT policies_are('task', 'task_access', ARRAY['task_access_operations', 'task_access_owner']::name[],
                    'task.task_access has its policies');
SELECT policies_are('task', 'task_log', ARRAY['task_log_operations', 'task_log_owner']::name[],
                    'task.task_log has its policies');
SELECT policies_are('task', 'task_dependency', ARRAY['task_dependency_operations', 'task_dependency_owner']::name[],
                    'task.task_dependency has its policies');
SELECT is(ARRAY(SELECT p.tablename || '.' || p.policyname || ' ' || p.permissive || ' ' || p.cmd || ' TO '
                       || array_to_string(ARRAY(SELECT r FROM unnest(p.roles) r ORDER BY 1), ',')
                  FROM pg_policies p WHERE p.schemaname = 'task'
                 ORDER BY 1)::text[],
          ARRAY['account.account_operations PERMISSIVE SELECT TO task_operations',
                'ledger_account.ledger_account_operations PERMISSIVE SELECT TO task_operations',
                'ledger_entry.ledger_entry_operations PERMISSIVE SELECT TO task_operations',
                'ledger_txn.ledger_txn_operations PERMISSIVE SELECT TO task_operations',
                'login.login_operations PERMISSIVE SELECT TO task_operations',
                'market.market_operations PERMISSIVE SELECT TO task_operations',
                'market_agent.market_agent_directory PERMISSIVE SELECT TO task_service',
                'market_agent.market_agent_operations PERMISSIVE SELECT TO task_operations',
                'market_artifact.market_artifact_operations PERMISSIVE SELECT TO task_operations',
                'market_artifact.market_artifact_owner PERMISSIVE SELECT TO task_service',
                'market_assignment.market_assignment_operations PERMISSIVE SELECT TO task_operations',
                'market_assignment.market_assignment_owner PERMISSIVE SELECT TO task_service',
                'market_dispute.market_dispute_operations PERMISSIVE SELECT TO task_operations',
                'market_dispute.market_dispute_owner PERMISSIVE SELECT TO task_service',
                'market_dispute_event.market_dispute_event_operations PERMISSIVE SELECT TO task_operations',
                'market_dispute_event.market_dispute_event_owner PERMISSIVE SELECT TO task_service',
                'market_message.market_message_operations PERMISSIVE SELECT TO task_operations',
                'market_message.market_message_owner PERMISSIVE SELECT TO task_service',
                'market_task.market_task_operations PERMISSIVE SELECT TO task_operations',
                'market_task.market_task_owner PERMISSIVE SELECT TO task_service',
                'queue.queue_operations PERMISSIVE SELECT TO task_operations',
                'queue.queue_owner PERMISSIVE SELECT TO task_service',
                'schedule.schedule_operations PERMISSIVE SELECT TO task_operations',
                'schedule.schedule_owner PERMISSIVE SELECT TO task_service',
                'service.service_operations PERMISSIVE SELECT TO task_operations',
                'service.service_self PERMISSIVE SELECT TO task_service',
                'task.task_operations PERMISSIVE SELECT TO task_operations',
                'task.task_owner PERMISSIVE SELECT TO task_service',
                'task.task_owner_update PERMISSIVE UPDATE TO task_service',
                'task_access.task_access_operations PERMISSIVE SELECT TO task_operations',
                'task_access.task_access_owner PERMISSIVE SELECT TO task_service',
                'task_dependency.task_dependency_operations PERMISSIVE SELECT TO task_operations',
                'task_dependency.task_dependency_owner PERMISSIVE SELECT TO task_service',
                'task_log.task_log_operations PERMISSIVE SELECT TO task_operations',
                'task_log.task_log_owner PERMISSIVE SELECT TO task_service'],
          'each policy: its table, command and group roles');
SELECT is_empty(
    $$SELECT p.tablename || '.' || p.policyname FROM pg_policies p
       WHERE p.schemaname = 'task'
         AND (p.qual IS NULL OR p.qual !~ 'current_(service|account|is_operations)\(\)'
              OR (p.cmd = 'UPDATE' AND (p.with_check IS NULL OR p.with_check !~ 'current_service\(\)')))
       ORDER BY 1$$,
    'every policy checks the caller''s identity (and an UPDATE policy its WITH CHECK too)');

-- The foreign keys a task's delete checks, one trigger a deleted row each
-- (the purge deletes every finished task): its children, access rows and
-- dependency rows, and its market_task row, which refuses the delete
-- (RESTRICT) -- the hired task's other records hang off market_task.
SELECT is(ARRAY(SELECT c.conrelid::regclass::text || ' ' || c.confdeltype::text
                  FROM pg_constraint c
                 WHERE c.contype = 'f' AND c.confrelid = 'task.task'::regclass
                 ORDER BY 1),
          ARRAY['task.market_task r', 'task.task n', 'task.task_access c', 'task.task_dependency c'],
          'four foreign keys reference task.task: market_task restricts, access and dependency rows cascade, a child''s parent is set null');
SELECT is(ARRAY(SELECT c.conrelid::regclass::text || ' ' || c.confdeltype::text
                  FROM pg_constraint c
                 WHERE c.contype = 'f' AND c.confrelid = 'task.market_task'::regclass
                 ORDER BY 1),
          ARRAY['task.market_artifact c', 'task.market_assignment c', 'task.market_dispute c',
                'task.market_dispute_event c', 'task.market_message c'],
          'a hired task''s records reference its market_task row');

-- Grants: reads per group; the one write around the API is the service's
-- UPDATE of some columns of task.task (the trigger checks and audits it).
-- Nobody but the owner may INSERT, DELETE or TRUNCATE.
SELECT is_empty(
    $$SELECT c.oid::regclass::text || ' ' || a.privilege_type || ' to ' || a.grantee::regrole::text
        FROM pg_class c, LATERAL aclexplode(c.relacl) a
       WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p', 'S')
         AND a.grantee <> c.relowner AND a.privilege_type <> 'SELECT'
       ORDER BY 1$$,
    'no role but the owner holds a table privilege other than SELECT on schema task');
SELECT is(ARRAY(SELECT a.attname::text FROM pg_attribute a
                 WHERE a.attrelid = 'task.task'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                   AND has_column_privilege('task_service', a.attrelid, a.attnum, 'UPDATE')
                 ORDER BY a.attnum),
          ARRAY['status', 'name', 'object', 'description', 'progress', 'eta', 'parameters',
                'resource', 'result', 'error'],
          'task_service may UPDATE exactly these columns of task.task');
SELECT is(ARRAY(SELECT g.rolname || ' ' || c.relname
                  FROM pg_class c, pg_roles g
                 WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p')
                   AND g.rolname ~ '^task_(operations|service|vendor|client)$'
                   AND has_table_privilege(g.oid, c.oid, 'SELECT')
                 ORDER BY g.rolname, c.relname)::text[],
          ARRAY['task_operations account', 'task_operations ledger_account', 'task_operations ledger_entry',
                'task_operations ledger_txn', 'task_operations login', 'task_operations market', 'task_operations market_agent',
                'task_operations market_artifact', 'task_operations market_assignment', 'task_operations market_dispute',
                'task_operations market_dispute_event', 'task_operations market_message', 'task_operations market_task',
                'task_operations queue', 'task_operations schedule',
                'task_operations service', 'task_operations task', 'task_operations task_access',
                'task_operations task_dependency', 'task_operations task_log',
                'task_service market_agent', 'task_service market_artifact', 'task_service market_assignment',
                'task_service market_dispute', 'task_service market_dispute_event', 'task_service market_message',
                'task_service market_task',
                'task_service queue', 'task_service schedule', 'task_service service', 'task_service task', 'task_service task_access',
                'task_service task_dependency'],
          'each group role reads these tables (its policies choose the rows; vendors and clients none)');
SELECT is(ARRAY(SELECT a.attname::text FROM pg_attribute a
                 WHERE a.attrelid = 'task.task_log'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                   AND has_column_privilege('task_service', a.attrelid, a.attnum, 'SELECT')
                 ORDER BY a.attnum),
          ARRAY['owner', 'task_id', 'at', 'message', 'from_status', 'to_status', 'errors', 'skips',
                'success', 'total', 'by'],
          'task_service reads every column of task.task_log but seq (one sequence for all tenants)');

-- ------------------------------------------------------------ pg_dump
SELECT set_has(
    $$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'task'$$,
    $$VALUES ('task.service'), ('task.account'), ('task.login'), ('task.queue'),
             ('task.task'), ('task.task_access'), ('task.task_log'), ('task.task_dependency')$$,
    'pg_extension_config_dump registers the data tables');
SELECT set_has(
    $$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'task'$$,
    $$VALUES ('task.service_id_seq'), ('task.account_id_seq'), ('task.task_serial_seq'), ('task.task_log_seq')$$,
    'pg_extension_config_dump registers the id sequences');
SELECT is_empty(
    $$SELECT c.oid::regclass::text FROM pg_class c
       WHERE c.relnamespace = 'task'::regnamespace AND c.relkind IN ('r', 'p')
         AND c.oid <> ALL (coalesce((SELECT e.extconfig FROM pg_extension e WHERE e.extname = 'task'), '{}'))
       ORDER BY 1$$,
    'every table of schema task is registered with pg_extension_config_dump');

SELECT * FROM finish();
ROLLBACK;
