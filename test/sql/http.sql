-- The HTTP layer (schema api) replayed as PostgREST v12 drives it: for each
-- request, the transaction PostgREST opens (READ ONLY for GET, READ WRITE
-- for POST to a VOLATILE function), its one set_config statement, the main
-- query in its pgrst_source shape, then COMMIT. Parameters PostgREST binds
-- as "unknown" are written here as untyped literals. http_reply.inc turns
-- the result into the response PostgREST would send: the HTTP status
-- (response.status, or the SQLSTATE mapped as PostgREST maps it), the
-- Location header and the body (with the ids of the tasks for a list).
-- Fixture timestamps are pinned; those written by a request print as <now>.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;
-- the HTTP layer is the extension task_http, in the schema PostgREST serves
CREATE SCHEMA api;
CREATE EXTENSION task_http SCHEMA api;

-- ids: pinned in a range of their own, the sequences put back at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT last_value AS acc_last, is_called AS acc_called FROM task.account_id_seq \gset
SELECT setval('task.service_id_seq', 9000) AS _, setval('task.account_id_seq', 90000000) AS _,
       setval('task.task_serial_seq', 900000) AS _ \gset

SELECT task_service_create('http-platform', 'http/platform') AS svc,
       task_service_create('http-other', 'http/other') AS other \gset
SELECT task_account_create('SoftwareONE (Backoffice)', 'Operations') AS ops,
       task_account_create('Vendor Ltd', 'Vendor') AS vendor,
       task_account_create('Client Inc', 'Client') AS client,
       task_account_create('Stranger Co', 'Client') AS stranger \gset
SELECT :'svc' AS svc, :'other' AS other, :'ops' AS ops, :'vendor' AS vendor, :'client' AS client, :'stranger' AS stranger;
CREATE ROLE http_platform; CREATE ROLE http_other;
SELECT task_login_grant('http_platform', :'svc'), task_login_grant('http_other', :'other');

-- ------------------------------------------------------------ fixtures
-- T1: completed with a resource result, visible to the ops, vendor and client
-- accounts, with three log entries; T2: completed with a JSON result, client
-- only; T3: queued child of T1; T4: another service's task.
SET ROLE http_platform;
SELECT id AS t1 FROM task_create('accounts.buyers.transfer', 'http/platform/internal/buyers/commands',
    name => 'Transferring the buyer to a different account', object => '{"id": "BUY-1190-0394"}',
    description => $$Transferring buyer 'BUY-1190-0394' to account 'ACC-5563-4382'$$,
    parameters => '{"BuyerId": "BUY-1190-0394", "TargetAccountId": "ACC-5563-4382"}',
    access => ARRAY[:'ops', :'vendor', :'client']) \gset
SELECT id AS t2 FROM task_create('accounts.buyers.report', 'http/platform/internal/buyers/commands',
    name => 'Buyer report', access => ARRAY[:'client']) \gset
SELECT lease_token AS tok1 FROM task_dequeue('http/platform/internal/buyers/commands') \gset
SELECT task_log(:'t1', 'moving agreements', total => 20);
SELECT task_log(:'t1', 'moved 10 agreements', success => 10, total => 20);
SELECT task_log(:'t1', 'moved 20 agreements', success => 20, total => 20);
SELECT status FROM task_complete(:'t1', resource => '/public/v1/accounts/buyers/BUY-1190-0394', token => :tok1);
SELECT lease_token AS tok2 FROM task_dequeue('http/platform/internal/buyers/commands') \gset
SELECT status FROM task_complete(:'t2', result => '{"buyers": 20, "agreements": 41}', token => :tok2);
SELECT id AS t3 FROM task_create('accounts.buyers.notify', 'http/platform/internal/buyers/commands',
    name => 'Notify the buyer', parent => :'t1') \gset
RESET ROLE;
SET ROLE http_other;
SELECT id AS t4 FROM task_create('other.thing', 'http/other/q', name => 'Other service task') \gset
RESET ROLE;
SELECT :'t1' AS t1, :'t2' AS t2, :'t3' AS t3, :'t4' AS t4;

-- pin the times: T1 created 09:03:08.790, started 09:03:09.702, completed 09:03:20.668 (seed 001)
ALTER TABLE task.task DISABLE TRIGGER task_transition;
UPDATE task.task t SET
    created_at = '2025-09-04 09:03:08.790Z'::timestamptz + f.k * interval '1 minute',
    updated_at = '2025-09-04 09:03:20.669Z'::timestamptz + f.k * interval '1 minute',
    status_at = '2025-09-04 09:03:20.668Z'::timestamptz + f.k * interval '1 minute',
    run_at = '2025-09-04 09:03:08.790Z'::timestamptz + f.k * interval '1 minute',
    started_at = CASE WHEN t.started_at IS NOT NULL THEN '2025-09-04 09:03:09.702Z'::timestamptz + f.k * interval '1 minute' END,
    completed_at = CASE WHEN t.completed_at IS NOT NULL THEN '2025-09-04 09:03:20.668Z'::timestamptz + f.k * interval '1 minute' END,
    lease_until = NULL
  FROM (VALUES (:'t1'::task_id, 0), (:'t2', 1), (:'t3', 2), (:'t4', 3)) f(id, k)
 WHERE t.id = f.id;
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
UPDATE task.task_log l SET at = '2025-09-04 09:03:10Z'::timestamptz + (l.seq - m.first) * interval '1 second'
  FROM (SELECT min(seq) AS first FROM task.task_log WHERE task_id = :'t1') m
 WHERE l.task_id = :'t1';

-- ------------------------------------------------------------ PostgREST
-- the authenticator PostgREST logs in as: LOGIN NOINHERIT, granted the web roles
CREATE ROLE http_authenticator LOGIN NOINHERIT;
GRANT task_web_operations, task_web_service, task_web_vendor, task_web_client, task_web_anon TO http_authenticator;

-- The response PostgREST sends for a replayed request (see the header).
CREATE SCHEMA replay;
GRANT USAGE ON SCHEMA replay TO PUBLIC;
-- PostgREST's SQLSTATE -> HTTP status table (PTxyz is status xyz)
CREATE FUNCTION replay.http_status(sqlstate text, role text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN CASE
        WHEN sqlstate ~ '^PT[0-9]{3}$' THEN substr(sqlstate, 3)::integer
        WHEN sqlstate = '42501' THEN CASE WHEN role = 'task_web_anon' THEN 401 ELSE 403 END
        WHEN sqlstate IN ('23503', '23505') THEN 409
        WHEN sqlstate = '25006' THEN 405
        WHEN sqlstate = 'P0001' THEN 400
        WHEN sqlstate IN ('42883', '42P01') THEN 404
        WHEN sqlstate = '53400' THEN 500
        WHEN sqlstate ~ '^(08|53)' THEN 503
        WHEN sqlstate ~ '^(0L|0P|28)' THEN 403
        WHEN sqlstate ~ '^(09|25|2D|38|39|3B|40|54|55|57|58|F0|HV|P0|XX|42P17)' THEN 500
        ELSE 400 END;
CREATE FUNCTION replay.reply(accept text, role text, sqlstate text, page_total text, body text,
                             headers text, status text, show text)
    RETURNS TABLE (http integer, location text, response text)
    LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    -- (and the pid of the worker holding a task, as 0; a notify channel's
    -- suffix, derived from the install's random secret, as <secret>)
    b text := regexp_replace(regexp_replace(regexp_replace(body,
                  '"(?!2025-09-04)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"', '"<now>"', 'g'),
                  '"pid": ?[0-9]+', '"pid": 0', 'g'),
                  '("notify_channel": ?"[a-z0-9_]*_)[0-9a-f]{16}"', '\1<secret>"', 'g');
BEGIN
    IF sqlstate <> '00000' THEN
        RETURN QUERY SELECT replay.http_status(sqlstate, role), NULL::text, format('{"code": "%s", ...}', sqlstate);
    ELSIF accept = 'object' AND page_total <> '1' THEN
        RETURN QUERY SELECT 406, NULL::text,
            format('{"code": "PGRST116", "details": "The result contains %s rows", ...}', page_total);
    ELSE
        RETURN QUERY SELECT coalesce(nullif(status, '')::integer, CASE WHEN b = '' THEN 204 ELSE 200 END),
            (SELECT h->>'Location' FROM json_array_elements(nullif(headers, '')::json) h WHERE h->>'Location' IS NOT NULL),
            CASE show
                WHEN 'ids' THEN coalesce((SELECT string_agg(e->>'id', ' ' ORDER BY n) FROM json_array_elements(b::json) WITH ORDINALITY x(e, n)), '[]')
                WHEN 'rows' THEN page_total || ' rows'
                WHEN 'id' THEN b::json->>'id'
                ELSE CASE WHEN b = '' OR status = '204' THEN '' ELSE jsonb_pretty(b::jsonb) END END;
    END IF;
END
$$;

-- Whether a query, run as the caller, scans task.task at all (a node on
-- it that ran): for a vendor or a client it must not (see api.tasks)
CREATE FUNCTION replay.scans_tasks(query text) RETURNS boolean
    LANGUAGE plpgsql
AS $$
DECLARE
    line text;
    scanned boolean := false;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        scanned := scanned OR (line ~ ' on task x' AND line !~ 'never executed');
    END LOOP;
    RETURN scanned;
END
$$;

\set svc_claims '{"role":"task_web_service","task_identity":"' :svc '"}'
\set other_claims '{"role":"task_web_service","task_identity":"' :other '"}'
\set ops_claims '{"role":"task_web_operations","task_identity":"' :ops '"}'
\set vendor_claims '{"role":"task_web_vendor","task_identity":"' :vendor '"}'
\set client_claims '{"role":"task_web_client","task_identity":"' :client '"}'
\set stranger_claims '{"role":"task_web_client","task_identity":"' :stranger '"}'
\set vendor_filter '[{"id":"' :vendor '"}]'
\set anon_claims '{"role":"task_web_anon"}'
\set json_hdr '{"accept":"application/json"}'
\set object_hdr '{"accept":"application/vnd.pgrst.object+json"}'
\set stripped_hdr '{"accept":"application/vnd.pgrst.object+json;nulls=stripped"}'
\set post_hdr '{"accept":"application/json","content-type":"application/json"}'
-- the part of the main query after the pgrst_source CTE: a read (array or
-- one object), a call returning a scalar, a set of rows, a set of scalars
\set read_array 'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), ''[]'') AS body, nullif(current_setting(''response.headers'', true), '''') AS response_headers, nullif(current_setting(''response.status'', true), '''') AS response_status FROM ( SELECT * FROM pgrst_source ) _postgrest_t'
\set read_object 'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t)->0, ''null'') AS body, nullif(current_setting(''response.headers'', true), '''') AS response_headers, nullif(current_setting(''response.status'', true), '''') AS response_status FROM ( SELECT * FROM pgrst_source ) _postgrest_t'
\set call_scalar 'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, ''null'') AS body, nullif(current_setting(''response.headers'', true), '''') AS response_headers, nullif(current_setting(''response.status'', true), '''') AS response_status FROM (SELECT "pgrst_source".* FROM "pgrst_source") _postgrest_t'
\set call_rows 'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), ''[]'') AS body, nullif(current_setting(''response.headers'', true), '''') AS response_headers, nullif(current_setting(''response.status'', true), '''') AS response_status FROM (SELECT "pgrst_source".* FROM "pgrst_source") _postgrest_t'
\set call_scalars 'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t.pgrst_scalar), ''[]'') AS body, nullif(current_setting(''response.headers'', true), '''') AS response_headers, nullif(current_setting(''response.status'', true), '''') AS response_status FROM (SELECT "pgrst_source".* FROM "pgrst_source") _postgrest_t'
\set get 'READ ONLY'
\set post 'READ WRITE'
-- (the counts of pg_stat_xact_user_functions below: those not yet sent,
-- read before and after a request in its transaction)
SET track_functions = 'pl';
SET SESSION AUTHORIZATION http_authenticator;

-- ============================================================ GET /tasks
-- each caller lists what it may see, most recent status change first
-- GET /tasks?queue=like.http/* as ops (Operations see every task: of this test's services here)
\set role task_web_operations \set claims :ops_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."queue" like 'http/%' ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks as svc
\set role task_web_service \set claims :svc_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks as other
\set role task_web_service \set claims :other_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks as vendor
\set role task_web_vendor \set claims :vendor_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks as client
\set role task_web_client \set claims :client_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks?code=eq.http.nothing as client and as vendor: a filter of
-- the request did make the view read every row of task.task (of every
-- tenant, for none: row-level security lets none through for accounts);
-- the scan does not run
\set role task_web_client \set claims :client_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
SELECT replay.scans_tasks($$SELECT * FROM api.tasks WHERE code = 'http.nothing'$$) AS client_scans_every_task;
COMMIT;
\set role task_web_vendor \set claims :vendor_claims
\ir http_begin.inc
SELECT replay.scans_tasks($$SELECT * FROM api.tasks WHERE code = 'http.nothing'$$) AS vendor_scans_every_task;
COMMIT;
\set role task_web_service \set claims :svc_claims
\ir http_begin.inc
SELECT replay.scans_tasks($$SELECT * FROM api.tasks WHERE code = 'http.nothing'$$) AS service_scans_its_tasks;
COMMIT;
-- GET /tasks?limit=1 and GET /tasks?code=eq.http.nothing as client: only
-- the tasks of the page are made whole (task._task_json, by task_get),
-- not every task on the account's list for each request (100,000 of them
-- took 7 s, whatever the limit)
\set role task_web_client \set claims :client_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'task' AND funcname = '_task_json'), 0) AS before_calls \gset
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" LIMIT '1' ) :read_array \gset r_
SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'task' AND funcname = '_task_json'), 0) - :before_calls AS made_whole;
\ir http_reply.inc
\ir http_begin.inc
SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'task' AND funcname = '_task_json'), 0) AS before_calls \gset
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."code" = 'http.nothing' ) :read_array \gset r_
SELECT coalesce((SELECT calls FROM pg_stat_xact_user_functions WHERE schemaname = 'task' AND funcname = '_task_json'), 0) - :before_calls AS made_whole;
\ir http_reply.inc
-- GET /tasks as stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks as anon
\set role task_web_anon \set claims :anon_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks?status=eq.Completed&queue=eq.http/platform/internal/buyers/commands&code=like.accounts.*&limit=1&offset=1 as svc: the second page of one
\set role task_web_service \set claims :svc_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."status" = 'Completed' AND "api"."tasks"."queue" = 'http/platform/internal/buyers/commands' AND "api"."tasks"."code" like 'accounts.%' LIMIT '1' OFFSET '1' ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks?access=cs.[{"id":"<vendor>"}]&select=id,status,owner as ops: filter on a JSON column, some columns
\set role task_web_operations \set claims :ops_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks"."id", "api"."tasks"."status", "api"."tasks"."owner" FROM "api"."tasks" WHERE "api"."tasks"."access" @> :'vendor_filter' ) :read_array \gset r_
\ir http_reply.inc
-- ============================================================ GET /tasks?id=eq.<T1>, one object
-- Accept: application/vnd.pgrst.object+json; no row is 406 (PGRST116)
-- GET /tasks?id=eq.<T1> as ops: the whole object (null fields are null here; see task_get)
\set role task_web_operations \set claims :ops_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show full
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as client with Accept: application/vnd.pgrst.object+json;nulls=stripped: task_get's shape
\set role task_web_client \set claims :client_claims \set method GET \set path /tasks \set hdr :stripped_hdr \set mode :get \set accept object \set show full
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_strip_nulls(json_agg(_postgrest_t)->0), 'null') AS body, nullif(current_setting('response.headers', true), '') AS response_headers, nullif(current_setting('response.status', true), '') AS response_status FROM ( SELECT * FROM pgrst_source ) _postgrest_t \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as svc
\set role task_web_service \set claims :svc_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as vendor
\set role task_web_vendor \set claims :vendor_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as client
\set role task_web_client \set claims :client_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as other
\set role task_web_service \set claims :other_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.<T1> as anon
\set role task_web_anon \set claims :anon_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = :'t1' ) :read_object \gset r_
\ir http_reply.inc
-- GET /tasks?id=eq.TSK-1 as ops: a malformed id is 400
\set role task_web_operations \set claims :ops_claims \set method GET \set path /tasks \set hdr :object_hdr \set mode :get \set accept object \set show id
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."id" = 'TSK-1' ) :read_object \gset r_
\ir http_reply.inc
-- ============================================================ GET /rpc/task_get?id=<T1>
-- the task as task_get returns it: absent fields left out; 404 out of scope
\set payload '{"id":"' :t1 '"}'
-- GET /rpc/task_get?id=<T1> as client
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_get?id=<T1> as ops
\set role task_web_operations \set claims :ops_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_get?id=<T1> as svc
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_get?id=<T1> as vendor
\set role task_web_vendor \set claims :vendor_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_get?id=<T1> as other
\set role task_web_service \set claims :other_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_get?id=<T1> as stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_get?id=<T1> as anon
\set role task_web_anon \set claims :anon_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
\set payload '{"id":"TSK-1"}'
-- GET /rpc/task_get?id=TSK-1 as client: malformed, 400
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_get \set hdr :json_hdr \set mode :get \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_get"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- ============================================================ GET /rpc/task_result?id=
-- T1's result is a resource: 303 See Other with its Location
\set payload '{"id":"' :t1 '"}'
-- GET /rpc/task_result?id=<T1> as ops
\set role task_web_operations \set claims :ops_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T1> as svc
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T1> as vendor
\set role task_web_vendor \set claims :vendor_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T1> as client
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T1> as other
\set role task_web_service \set claims :other_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T1> as stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T1> as anon
\set role task_web_anon \set claims :anon_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- T2's result is a JSON value: 200 with the value (the vendor is not on T2's list)
\set payload '{"id":"' :t2 '"}'
-- GET /rpc/task_result?id=<T2> as client
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T2> as ops
\set role task_web_operations \set claims :ops_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T2> as svc
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T2> as vendor
\set role task_web_vendor \set claims :vendor_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- T3 is queued: no result yet, 409
\set payload '{"id":"' :t3 '"}'
-- GET /rpc/task_result?id=<T3> as svc
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- ============================================================ GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=
-- Operations and the owning service; pages of two, newest first
\set payload '{"id":"' :t1 '","log_limit":"2","log_offset":"0"}'
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=0 as ops
\set role task_web_operations \set claims :ops_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
\set payload '{"id":"' :t1 '","log_limit":"2","log_offset":"2"}'
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=2 as svc: the next page
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
\set payload '{"id":"' :t1 '","log_limit":"2","log_offset":"4"}'
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=4 as svc: the last page
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=4 as vendor
\set role task_web_vendor \set claims :vendor_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=4 as client
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=4 as other
\set role task_web_service \set claims :other_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=4 as stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- GET /rpc/task_logs?id=<T1>&log_limit=2&log_offset=4 as anon
\set role task_web_anon \set claims :anon_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "log_limit", "log_offset" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "log_limit" integer, "log_offset" integer) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id", "log_limit" := pgrst_body."log_limit", "log_offset" := pgrst_body."log_offset") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- ============================================================ POST /rpc/task_create
-- services only: 201 with Location; accounts 403; another service's queue 403
\set payload '{"code":"accounts.buyers.transfer","queue":"http/platform/internal/buyers/commands","name":"Transfer BUY-2","object":{"id":"BUY-2"},"parameters":{"BuyerId":"BUY-2"},"access":["' :client '"]}'
-- POST /rpc/task_create as svc
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create as ops
\set role task_web_operations \set claims :ops_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create as vendor
\set role task_web_vendor \set claims :vendor_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create as client
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create as other
\set role task_web_service \set claims :other_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create as svc with parameters over the 1 MB limit: 413 (54000), not 500
SELECT format('{"code":"accounts.buyers.transfer","queue":"http/platform/internal/buyers/commands","parameters":{"blob":"%s"}}', repeat('x', 1100000)) AS big_payload \gset
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
\set ECHO none
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'big_payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\set ECHO all
\ir http_reply.inc
\unset big_payload
-- POST /rpc/task_create as anon
\set role task_web_anon \set claims :anon_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_create?code=...&queue=... as svc: GET runs READ ONLY, so a write is 405 (25006)
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_create \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "object", "parameters", "access" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "object" jsonb, "parameters" jsonb, "access" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "object" := pgrst_body."object", "parameters" := pgrst_body."parameters", "access" := pgrst_body."access") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /tasks?code=eq.accounts.buyers.transfer as client: the new task is there (and nothing was created by the refused calls)
\set role task_web_client \set claims :client_claims \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" WHERE "api"."tasks"."code" = 'accounts.buyers.transfer' ) :read_array \gset r_
\ir http_reply.inc
-- ============================================================ worker operations
-- POST /rpc/<operation> as the owning service, in READ WRITE transactions
RESET SESSION AUTHORIZATION;
SELECT id AS t5 FROM task.task WHERE code = 'accounts.buyers.transfer' AND name = 'Transfer BUY-2' \gset
SELECT :'t5' AS t5;
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_dequeue {queue, n: 1} as svc: claims T3 (FIFO), with its token
\set payload '{"queue":"http/platform/internal/buyers/commands","n":1}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
RESET SESSION AUTHORIZATION;
SELECT lease_token AS tok3 FROM task.task WHERE id = :'t3' \gset
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_progress {id: T3, progress: 50, token} as svc
\set payload '{"id":"' :t3 '","progress":50,"token":' :tok3 '}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_progress \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "progress", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "progress" double precision, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_progress"("id" := pgrst_body."id", "progress" := pgrst_body."progress", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_progress?id=<T3>&progress=50 as svc: a write under READ ONLY is 405
\set payload '{"id":"' :t3 '","progress":50,"token":' :tok3 '}'
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_progress \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "progress", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "progress" double precision, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_progress"("id" := pgrst_body."id", "progress" := pgrst_body."progress", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_progress as ops: ops see it but may not write (403), others 404
\set payload '{"id":"' :t3 '","progress":50,"token":' :tok3 '}'
\set role task_web_operations \set claims :ops_claims \set method POST \set path /rpc/task_progress \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "progress", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "progress" double precision, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_progress"("id" := pgrst_body."id", "progress" := pgrst_body."progress", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_progress as other: ops see it but may not write (403), others 404
\set payload '{"id":"' :t3 '","progress":50,"token":' :tok3 '}'
\set role task_web_service \set claims :other_claims \set method POST \set path /rpc/task_progress \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "progress", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "progress" double precision, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_progress"("id" := pgrst_body."id", "progress" := pgrst_body."progress", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_progress as client: ops see it but may not write (403), others 404
\set payload '{"id":"' :t3 '","progress":50,"token":' :tok3 '}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_progress \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "progress", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "progress" double precision, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_progress"("id" := pgrst_body."id", "progress" := pgrst_body."progress", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_log {id: T3, message, success, total} as svc: 204
\set payload '{"id":"' :t3 '","message":"notified 1 of 2","success":1,"total":2}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_log \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "message", "success", "total" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "message" text, "success" bigint, "total" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_log"("id" := pgrst_body."id", "message" := pgrst_body."message", "success" := pgrst_body."success", "total" := pgrst_body."total") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_heartbeat {id: T3, token, lease: "10 minutes"} as svc
\set payload '{"id":"' :t3 '","token":' :tok3 ',"lease":"10 minutes"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_heartbeat \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "token", "lease" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "token" bigint, "lease" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_heartbeat"("id" := pgrst_body."id", "token" := pgrst_body."token", "lease" := pgrst_body."lease") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_heartbeat with a stale token as svc: lease lost, 409
\set payload '{"id":"' :t3 '","token":1,"lease":"10 minutes"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_heartbeat \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "token", "lease" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "token" bigint, "lease" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_heartbeat"("id" := pgrst_body."id", "token" := pgrst_body."token", "lease" := pgrst_body."lease") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_complete {id: T3, result, token} as svc
\set payload '{"id":"' :t3 '","result":{"notified":2},"token":' :tok3 '}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_complete \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "result", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "result" jsonb, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_complete"("id" := pgrst_body."id", "result" := pgrst_body."result", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_complete again as svc: not processing any more, 409
\set payload '{"id":"' :t3 '","result":{"notified":2},"token":' :tok3 '}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_complete \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "result", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "result" jsonb, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_complete"("id" := pgrst_body."id", "result" := pgrst_body."result", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_logs?id=<T3> as svc: the worker's log and the transitions
\set payload '{"id":"' :t3 '"}'
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_logs \set hdr :json_hdr \set mode :get \set accept array \set show rows
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.* FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL "api"."task_logs"("id" := pgrst_body."id") pgrst_call) :call_rows \gset r_
\ir http_reply.inc
-- POST /rpc/task_dequeue as svc: claims T5
\set payload '{"queue":"http/platform/internal/buyers/commands","n":1}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_fail {id: T5, error, retry: false, token} as svc: Failed
RESET SESSION AUTHORIZATION;
SELECT lease_token AS tok5 FROM task.task WHERE id = :'t5' \gset
SET SESSION AUTHORIZATION http_authenticator;
\set payload '{"id":"' :t5 '","error":"buyer BUY-2 is locked","retry":false,"token":' :tok5 '}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_fail \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "error", "retry", "token" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "error" text, "retry" boolean, "token" bigint) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_fail"("id" := pgrst_body."id", "error" := pgrst_body."error", "retry" := pgrst_body."retry", "token" := pgrst_body."token") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_retry {id: T5} as ops: Queued again
\set payload '{"id":"' :t5 '"}'
\set role task_web_operations \set claims :ops_claims \set method POST \set path /rpc/task_retry \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_retry"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_cancel {id: T5, reason} as client: on the list 403, not on it 404
\set payload '{"id":"' :t5 '","reason":"the buyer asked to stop"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_cancel \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_cancel"("id" := pgrst_body."id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_cancel {id: T5, reason} as stranger: on the list 403, not on it 404
\set payload '{"id":"' :t5 '","reason":"the buyer asked to stop"}'
\set role task_web_client \set claims :stranger_claims \set method POST \set path /rpc/task_cancel \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_cancel"("id" := pgrst_body."id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_cancel {id: T5, reason} as ops: Cancelled
\set payload '{"id":"' :t5 '","reason":"the buyer asked to stop"}'
\set role task_web_operations \set claims :ops_claims \set method POST \set path /rpc/task_cancel \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_cancel"("id" := pgrst_body."id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_reschedule {id: T5, at} as svc: it is cancelled, 409
\set payload '{"id":"' :t5 '","at":"2030-01-01T00:00:00Z"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_reschedule \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "at" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "at" timestamptz) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_reschedule"("id" := pgrst_body."id", "at" := pgrst_body."at") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_dequeue as svc: nothing left, []
\set payload '{"queue":"http/platform/internal/buyers/commands","n":1}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_dequeue {queue: http/other/q} as svc: another service's queue is 404
\set payload '{"queue":"http/other/q","n":1}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- ============================================================ 0.2.0 routes
-- queues, the new arguments of task_create and task_dequeue, force, unblock,
-- access changes, bulk operations, waits on several tasks, the list filters,
-- schedules and whoami: each by its caller, and the errors that map to a status
-- POST /rpc/task_queue_create {queue, lease} as svc: 201 with the queue
\set payload '{"queue":"http/platform/jobs","lease":"1 minute"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_queue_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "lease" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "lease" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_create"("queue" := pgrst_body."queue", "lease" := pgrst_body."lease") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_create again as svc: the name is taken, 409
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_queue_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "lease" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "lease" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_create"("queue" := pgrst_body."queue", "lease" := pgrst_body."lease") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_create as client: 403
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_queue_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "lease" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "lease" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_create"("queue" := pgrst_body."queue", "lease" := pgrst_body."lease") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_configure {queue, max_attempts} as svc
\set payload '{"queue":"http/platform/jobs","max_attempts":2}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_queue_configure \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "max_attempts" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "max_attempts" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_configure"("queue" := pgrst_body."queue", "max_attempts" := pgrst_body."max_attempts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_configure as other: not its queue, 404
\set role task_web_service \set claims :other_claims \set method POST \set path /rpc/task_queue_configure \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "max_attempts" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "max_attempts" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_configure"("queue" := pgrst_body."queue", "max_attempts" := pgrst_body."max_attempts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_notify {queue, channel} as svc
\set payload '{"queue":"http/platform/jobs","channel":"http_jobs_done"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_queue_notify \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "channel" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "channel" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_notify"("queue" := pgrst_body."queue", "channel" := pgrst_body."channel") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_notify {queue, channel: "Bad-Name"} as svc: 400
\set payload '{"queue":"http/platform/jobs","channel":"Bad-Name"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_queue_notify \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "channel" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "channel" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_notify"("queue" := pgrst_body."queue", "channel" := pgrst_body."channel") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_archive {queue, archive_after} as svc
\set payload '{"queue":"http/platform/jobs","archive_after":"30 days"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_queue_archive \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "archive_after" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "archive_after" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_archive"("queue" := pgrst_body."queue", "archive_after" := pgrst_body."archive_after") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_queue_archive as other: not its queue, 404
\set role task_web_service \set claims :other_claims \set method POST \set path /rpc/task_queue_archive \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "archive_after" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "archive_after" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_queue_archive"("queue" := pgrst_body."queue", "archive_after" := pgrst_body."archive_after") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create {code, queue, name, priority, unique_key} as svc: T6, priority 9
\set payload '{"code":"jobs.index","queue":"http/platform/jobs","name":"Index the catalog","priority":9,"unique_key":"index-catalog"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "priority", "unique_key" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "priority" integer, "unique_key" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "priority" := pgrst_body."priority", "unique_key" := pgrst_body."unique_key") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
RESET SESSION AUTHORIZATION;
SELECT id AS t6 FROM task.task WHERE queue = 'http/platform/jobs' AND name = 'Index the catalog' \gset
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_create with the same unique_key as svc: T6 again, no new task
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "priority", "unique_key" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "priority" integer, "unique_key" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "priority" := pgrst_body."priority", "unique_key" := pgrst_body."unique_key") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create_many {code, queue, parameters} as svc: 201 with the ids T7, T8
\set payload '{"code":"jobs.resize","queue":"http/platform/jobs","parameters":[{"image":1},{"image":2}]}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create_many \set hdr :post_hdr \set mode :post \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "parameters" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "parameters" jsonb[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create_many"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "parameters" := pgrst_body."parameters") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
RESET SESSION AUTHORIZATION;
SELECT min(id) AS t7, max(id) AS t8 FROM task.task WHERE queue = 'http/platform/jobs' AND code = 'jobs.resize' \gset
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_create_many as client: 403
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_create_many \set hdr :post_hdr \set mode :post \set accept array \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "parameters" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "parameters" jsonb[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create_many"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "parameters" := pgrst_body."parameters") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_dequeue {queue, n: 1} as svc: T6 first (priority 9)
\set payload '{"queue":"http/platform/jobs","n":1}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
RESET SESSION AUTHORIZATION;
SELECT lease_token AS tok6 FROM task.task WHERE id = :'t6' \gset
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_dequeue {queue, complete: T6, complete_token: 1, result} as svc: lease lost, 409, nothing claimed
\set payload '{"queue":"http/platform/jobs","n":1,"complete":"' :t6 '","complete_token":1,"result":{"indexed":120}}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n", "complete", "complete_token", "result" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer, "complete" text, "complete_token" bigint, "result" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n", "complete" := pgrst_body."complete", "complete_token" := pgrst_body."complete_token", "result" := pgrst_body."result") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_dequeue {queue, complete: T6, complete_token, result} as svc: T6 completed, T7 claimed
\set payload '{"queue":"http/platform/jobs","n":1,"complete":"' :t6 '","complete_token":' :tok6 ',"result":{"indexed":120}}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_dequeue \set hdr :post_hdr \set mode :post \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "n", "complete", "complete_token", "result" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "n" integer, "complete" text, "complete_token" bigint, "result" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dequeue"("queue" := pgrst_body."queue", "n" := pgrst_body."n", "complete" := pgrst_body."complete", "complete_token" := pgrst_body."complete_token", "result" := pgrst_body."result") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_result?id=<T6> as svc: the result the dequeue completed it with
\set payload '{"id":"' :t6 '"}'
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_result \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_result"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_complete {id: T7, result} as svc without the token: 409
\set payload '{"id":"' :t7 '","result":{"resized":1}}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_complete \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "result" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "result" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_complete"("id" := pgrst_body."id", "result" := pgrst_body."result") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_complete {id: T7, result, force: true} as svc: Completed without the token
\set payload '{"id":"' :t7 '","result":{"resized":1},"force":true}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_complete \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "result", "force" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "result" jsonb, "force" boolean) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_complete"("id" := pgrst_body."id", "result" := pgrst_body."result", "force" := pgrst_body."force") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_fail {id: T8, error, force: true} as svc: T8 is queued, 409
\set payload '{"id":"' :t8 '","error":"no image","force":true}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_fail \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "error", "force" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "error" text, "force" boolean) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_fail"("id" := pgrst_body."id", "error" := pgrst_body."error", "force" := pgrst_body."force") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_reschedule {id: T8, at, force: true} as svc: T8 is queued, 409
\set payload '{"id":"' :t8 '","at":"2030-01-01T00:00:00Z","force":true}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_reschedule \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "at", "force" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "at" timestamptz, "force" boolean) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_reschedule"("id" := pgrst_body."id", "at" := pgrst_body."at", "force" := pgrst_body."force") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_create {code, queue, name, status: "blocked"} as svc: T9
\set payload '{"code":"jobs.publish","queue":"http/platform/jobs","name":"Publish the catalog","status":"blocked"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "name", "status" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "name" text, "status" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "name" := pgrst_body."name", "status" := pgrst_body."status") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
RESET SESSION AUTHORIZATION;
SELECT id AS t9 FROM task.task WHERE queue = 'http/platform/jobs' AND code = 'jobs.publish' \gset
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_access_add {id: T9, accounts: [client]} as client: out of scope, 404
\set payload '{"id":"' :t9 '","accounts":["' :client '"]}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_access_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "accounts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "accounts" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_access_add"("id" := pgrst_body."id", "accounts" := pgrst_body."accounts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_access_add {id: T9, accounts: [client]} as svc: audited, the task with its access list
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_access_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "accounts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "accounts" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_access_add"("id" := pgrst_body."id", "accounts" := pgrst_body."accounts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_access_add as client, now on the list: 403
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_access_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "accounts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "accounts" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_access_add"("id" := pgrst_body."id", "accounts" := pgrst_body."accounts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_access_add as other: 404
\set role task_web_service \set claims :other_claims \set method POST \set path /rpc/task_access_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "accounts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "accounts" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_access_add"("id" := pgrst_body."id", "accounts" := pgrst_body."accounts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_access_add {id: T9, accounts: ["ACC-9"]} as svc: malformed account, 400
\set payload '{"id":"' :t9 '","accounts":["ACC-9"]}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_access_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "accounts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "accounts" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_access_add"("id" := pgrst_body."id", "accounts" := pgrst_body."accounts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_unblock {id: T9} as client: on the list but not the owner, 403
\set payload '{"id":"' :t9 '"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_unblock \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_unblock"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_unblock {id: T9} as svc: Queued
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_unblock \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_unblock"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_unblock {id: T9} again as svc: not blocked, 409
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_unblock \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_unblock"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_access_remove {id: T9, accounts: [client]} as ops
\set payload '{"id":"' :t9 '","accounts":["' :client '"]}'
\set role task_web_operations \set claims :ops_claims \set method POST \set path /rpc/task_access_remove \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "accounts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "accounts" text[]) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_access_remove"("id" := pgrst_body."id", "accounts" := pgrst_body."accounts") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_unblock {id: T9} as client, off the list again: 404
\set payload '{"id":"' :t9 '"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_unblock \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_unblock"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_wait_many {ids: [T6, T7], timeout: "0"} as svc: both final, in the order given
\set payload '{"ids":["' :t7 '","' :t6 '"],"timeout":"0"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_wait_many \set hdr :post_hdr \set mode :post \set accept rpc \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "ids", "timeout" FROM json_to_record(pgrst_payload.json_data) AS _("ids" text[], "timeout" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_wait_many"("ids" := pgrst_body."ids", "timeout" := pgrst_body."timeout") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_wait_many as stranger: out of scope, 404
\set role task_web_client \set claims :stranger_claims \set method POST \set path /rpc/task_wait_many \set hdr :post_hdr \set mode :post \set accept rpc \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "ids", "timeout" FROM json_to_record(pgrst_payload.json_data) AS _("ids" text[], "timeout" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_wait_many"("ids" := pgrst_body."ids", "timeout" := pgrst_body."timeout") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_wait_many {ids: [], timeout: "0"} as svc: 400
\set payload '{"ids":[],"timeout":"0"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_wait_many \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "ids", "timeout" FROM json_to_record(pgrst_payload.json_data) AS _("ids" text[], "timeout" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_wait_many"("ids" := pgrst_body."ids", "timeout" := pgrst_body."timeout") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_list?queue=http/platform/jobs&status=completed as svc
\set payload '{"queue":"http/platform/jobs","status":"completed"}'
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "status" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "status" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("queue" := pgrst_body."queue", "status" := pgrst_body."status") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_list?queue=http/platform/jobs as other: none of its tasks
\set payload '{"queue":"http/platform/jobs"}'
\set role task_web_service \set claims :other_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("queue" := pgrst_body."queue") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_bulk {action: cancel, queue, reason} as client: 403
\set payload '{"action":"cancel","queue":"http/platform/jobs","reason":"catalog frozen"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_bulk \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "action", "queue", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("action" text, "queue" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_bulk"("action" := pgrst_body."action", "queue" := pgrst_body."queue", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_bulk {action: cancel, queue, reason} as svc: T8 and T9 cancelled
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_bulk \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "action", "queue", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("action" text, "queue" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_bulk"("action" := pgrst_body."action", "queue" := pgrst_body."queue", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_bulk {action: explode} as svc: 400
\set payload '{"action":"explode","queue":"http/platform/jobs"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_bulk \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "action", "queue", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("action" text, "queue" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_bulk"("action" := pgrst_body."action", "queue" := pgrst_body."queue", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_bulk {action: cancel, queue, status: bogus} as svc: 400 naming the parameter, with the statuses
\set payload '{"action":"cancel","queue":"http/platform/jobs","status":"bogus"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_bulk \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "action", "queue", "status" FROM json_to_record(pgrst_payload.json_data) AS _("action" text, "queue" text, "status" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_bulk"("action" := pgrst_body."action", "queue" := pgrst_body."queue", "status" := pgrst_body."status") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_list?queue=http/platform/jobs&status=bogus as svc: 400, the statuses and seed 004's words in the hint
\set payload '{"queue":"http/platform/jobs","status":"bogus"}'
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "status" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "status" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("queue" := pgrst_body."queue", "status" := pgrst_body."status") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_create {code, queue, status: bogus} as svc: 400, queued or blocked in the hint
\set payload '{"code":"jobs.index","queue":"http/platform/jobs","status":"bogus"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_create \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "code", "queue", "status" FROM json_to_record(pgrst_payload.json_data) AS _("code" text, "queue" text, "status" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_create"("code" := pgrst_body."code", "queue" := pgrst_body."queue", "status" := pgrst_body."status") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_list?queue=http/platform/jobs&status=Cancelled as ops
\set payload '{"queue":"http/platform/jobs","status":"Cancelled"}'
\set role task_web_operations \set claims :ops_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "queue", "status" FROM json_to_record(pgrst_payload.json_data) AS _("queue" text, "status" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("queue" := pgrst_body."queue", "status" := pgrst_body."status") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_schedule {name, cron, template} as svc: 201 with the schedule
\set payload '{"name":"nightly-index","cron":"0 3 * * *","template":{"code":"jobs.index","queue":"http/platform/jobs"}}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_schedule \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "name", "cron", "template" FROM json_to_record(pgrst_payload.json_data) AS _("name" text, "cron" text, "template" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_schedule"("name" := pgrst_body."name", "cron" := pgrst_body."cron", "template" := pgrst_body."template") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_schedule as client: 403
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_schedule \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "name", "cron", "template" FROM json_to_record(pgrst_payload.json_data) AS _("name" text, "cron" text, "template" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_schedule"("name" := pgrst_body."name", "cron" := pgrst_body."cron", "template" := pgrst_body."template") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_schedules as svc
\set payload '{}'
\set role task_web_service \set claims :svc_claims \set method GET \set path /rpc/task_schedules \set hdr :json_hdr \set mode :get \set accept array \set show rows
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_schedules"() pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_schedules as other: none
\set payload '{}'
\set role task_web_service \set claims :other_claims \set method GET \set path /rpc/task_schedules \set hdr :json_hdr \set mode :get \set accept array \set show rows
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_schedules"() pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_unschedule {name} as svc: true
\set payload '{"name":"nightly-index"}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_unschedule \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "name" FROM json_to_record(pgrst_payload.json_data) AS _("name" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_unschedule"("name" := pgrst_body."name") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_unschedule {name} again as svc: false
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_unschedule \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "name" FROM json_to_record(pgrst_payload.json_data) AS _("name" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_unschedule"("name" := pgrst_body."name") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_whoami as client
\set payload '{}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_whoami \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_whoami"() pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_whoami as anon: 401
\set payload '{}'
\set role task_web_anon \set claims :anon_claims \set method GET \set path /rpc/task_whoami \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_whoami"() pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ============================================================ db-pre-request
-- task.http_pre_request() runs after the set_config statement: a token whose
-- task_identity is not of the web role's kind (or not active) is 401
\set claims_wrong '{"role":"task_web_client","task_identity":"' :svc '"}'
-- GET /tasks as task_web_client claiming a service
\set role task_web_client \set claims :claims_wrong \set method GET \set path /tasks \set hdr :json_hdr \set mode :get \set accept array \set show ids
\ir http_begin.inc
select "task"."http_pre_request"() \gset r_
\ir http_reply.inc
-- the same as the client it should be: passes (and the request goes on)
\set role task_web_client \set claims :client_claims
\ir http_begin.inc
select "task"."http_pre_request"();
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc
-- GET /tasks as anon: the pre-request lets it through, the view refuses (401)
\set role task_web_anon \set claims :anon_claims
\ir http_begin.inc
select "task"."http_pre_request"();
WITH pgrst_source AS ( SELECT "api"."tasks".* FROM "api"."tasks" ) :read_array \gset r_
\ir http_reply.inc

-- ============================================================ grants
RESET SESSION AUTHORIZATION;
-- the anonymous role can reach nothing in api; the web roles everything
SELECT r.rolname,
       has_schema_privilege(r.oid, 'api', 'USAGE') AS api_usage,
       has_table_privilege(r.oid, 'api.tasks', 'SELECT') AS tasks,
       (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace
           AND has_function_privilege(r.oid, p.oid, 'EXECUTE')) AS functions,
       has_table_privilege(r.oid, 'api.tasks', 'INSERT, UPDATE, DELETE') AS writes_view
  FROM pg_roles r WHERE r.rolname LIKE 'task\_web\_%' OR r.rolname = 'http_platform' ORDER BY 1;
-- every api function writes only if VOLATILE; reads are STABLE (GET-able)
SELECT p.proname, p.provolatile, p.prosecdef, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace ORDER BY 1;
SELECT obj_description('api.tasks'::regclass, 'pg_class') IS NOT NULL AS view_commented,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = 'api.tasks'::regclass AND a.attnum > 0
           AND col_description(a.attrelid, a.attnum) IS NULL) AS columns_without_comment,
       (SELECT reloptions FROM pg_class WHERE oid = 'api.tasks'::regclass) AS options;

-- ------------------------------------------------------------ clean up
DROP SCHEMA replay CASCADE;
DROP ROLE http_authenticator;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _, setval('task.account_id_seq', :acc_last, :'acc_called') AS _ \gset

