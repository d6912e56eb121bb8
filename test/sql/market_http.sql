-- The marketplace over HTTP (schema api, 97_market_http.sql), replayed as
-- PostgREST v12 drives it, exactly as test/sql/http.sql does for the core:
-- per request the transaction, the set_config of role and request.*, the
-- main query in its pgrst_source shape, COMMIT; http_reply.inc prints the
-- response (HTTP status, Location, body). Each new RPC, by each party:
-- the hiring client, the assigned agent, another client or agent
-- (404), Operations, a service, anonymous.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT last_value AS acc_last, is_called AS acc_called FROM task.account_id_seq \gset
SELECT setval('task.service_id_seq', 6000) AS _, setval('task.account_id_seq', 60000000) AS _,
       setval('task.task_serial_seq', 600000) AS _,
       setval(pg_get_serial_sequence('task.ledger_txn', 'id'), 600000) AS _ \gset
SELECT task_service_create('http-market', 'httpmk') AS svc \gset
SELECT task_account_create('Market Ops', 'Operations') AS ops, task_account_create('Hiring Client', 'Client') AS client,
       task_account_create('Other Client', 'Client') AS stranger, task_account_create('Agent Smith', 'Vendor') AS agent,
       task_account_create('Agent Jones', 'Vendor') AS agent2 \gset
SELECT (task_queue_create('httpmk/hired', owner => :'svc')).name;
SELECT task_market_setup(:'svc', 'httpmk/hired', review_window => '1 hour') ->> 'queue' AS queue;
SELECT task_agent_register(:'agent', ARRAY['writing.blog'], 300, capacity => 4) ->> 'price' AS price,
       task_agent_register(:'agent2', ARRAY['writing.blog'], 450, capacity => 3) ->> 'price' AS price2;
SELECT task_market_deposit(:'client', 5000) ->> 'balance' AS balance;
-- T2 and T3 hired in SQL (as the client's login), T1 over HTTP below
CREATE ROLE httpmk_client;
SELECT task_login_grant('httpmk_client', :'client');
SET ROLE httpmk_client;
SELECT task_hire('writing.blog', '{"topic": "disputes"}', 800) ->> 'id' AS t2 \gset
SELECT task_hire('writing.blog', '{"topic": "reassign"}', 800) ->> 'id' AS t3 \gset
SELECT task_hire('writing.blog', '{"topic": "failure"}', 800) ->> 'id' AS t4 \gset
RESET ROLE;
SELECT :'t2' AS t2, :'t3' AS t3, :'t4' AS t4;

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
    b text := regexp_replace(body, '"(?!2025-09-04)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"', '"<now>"', 'g');
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
                WHEN 'raw' THEN b
                ELSE CASE WHEN b = '' OR status = '204' THEN '' ELSE jsonb_pretty(b::jsonb) END END;
    END IF;
END
$$;

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
\set svc_claims '{"role":"task_web_service","task_identity":"' :svc '"}'
\set ops_claims '{"role":"task_web_operations","task_identity":"' :ops '"}'
\set client_claims '{"role":"task_web_client","task_identity":"' :client '"}'
\set stranger_claims '{"role":"task_web_client","task_identity":"' :stranger '"}'
\set agent_claims '{"role":"task_web_vendor","task_identity":"' :agent '"}'
\set agent2_claims '{"role":"task_web_vendor","task_identity":"' :agent2 '"}'
\set any_hdr '{"accept":"*/*"}'
-- the download: the any handler sends the bytes as they are (shown as UTF-8 text here)
\set call_raw 'SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce(pg_catalog.convert_from(pg_catalog.string_agg(_postgrest_t.pgrst_scalar, ''''), ''UTF8''), '''') AS body, nullif(current_setting(''response.headers'', true), '''') AS response_headers, nullif(current_setting(''response.status'', true), '''') AS response_status FROM (SELECT "pgrst_source".* FROM "pgrst_source") _postgrest_t'
SET SESSION AUTHORIZATION http_authenticator;

-- ============================================================ POST /rpc/task_hire
-- POST /rpc/task_hire as client: 201 with Location; auto-assigned to the cheaper agent
\set payload '{"capability":"writing.blog","input":{"topic":"escrow"},"max_price":1000,"name":"A blog post"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_hire \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability", "input", "max_price", "name" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text, "input" jsonb, "max_price" numeric, "name" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_hire"("capability" := pgrst_body."capability", "input" := pgrst_body."input", "max_price" := pgrst_body."max_price", "name" := pgrst_body."name") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
RESET SESSION AUTHORIZATION;
SELECT id AS t1 FROM task.task WHERE name = 'A blog post' \gset
SET SESSION AUTHORIZATION http_authenticator;
-- POST /rpc/task_hire as client: a fraction of a cent is 400
\set payload '{"capability":"writing.blog","input":{},"max_price":10.5}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_hire \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability", "input", "max_price" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text, "input" jsonb, "max_price" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_hire"("capability" := pgrst_body."capability", "input" := pgrst_body."input", "max_price" := pgrst_body."max_price") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_hire as client: more than the balance is 402
\set payload '{"capability":"writing.blog","input":{},"max_price":99999}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_hire \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability", "input", "max_price" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text, "input" jsonb, "max_price" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_hire"("capability" := pgrst_body."capability", "input" := pgrst_body."input", "max_price" := pgrst_body."max_price") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_hire as client: no agent has the capability: 400
\set payload '{"capability":"cooking","input":{},"max_price":100}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_hire \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability", "input", "max_price" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text, "input" jsonb, "max_price" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_hire"("capability" := pgrst_body."capability", "input" := pgrst_body."input", "max_price" := pgrst_body."max_price") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_hire as svc: services do not hire: 403
\set payload '{"capability":"writing.blog","input":{},"max_price":100}'
\set role task_web_service \set claims :svc_claims \set method POST \set path /rpc/task_hire \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability", "input", "max_price" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text, "input" jsonb, "max_price" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_hire"("capability" := pgrst_body."capability", "input" := pgrst_body."input", "max_price" := pgrst_body."max_price") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_hire as anon: 401
\set role task_web_anon \set claims :anon_claims \set method POST \set path /rpc/task_hire \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability", "input", "max_price" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text, "input" jsonb, "max_price" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_hire"("capability" := pgrst_body."capability", "input" := pgrst_body."input", "max_price" := pgrst_body."max_price") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ============================================================ GET /rpc/task_list?status=&agent_id=
-- GET /rpc/task_list?status=pending&agent_id= as client (seed 004's words:
-- pending is queued): the client's queued tasks of Agent Smith
\set payload '{"status":"pending","agent_id":"' :agent '"}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept rpc \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "status", "agent_id" FROM json_to_record(pgrst_payload.json_data) AS _("status" text, "agent_id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("status" := pgrst_body."status", "agent_id" := pgrst_body."agent_id") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_list as agent: the agent's own
\set payload '{"agent_id":"' :agent '"}'
\set role task_web_vendor \set claims :agent_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept rpc \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "agent_id" FROM json_to_record(pgrst_payload.json_data) AS _("agent_id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("agent_id" := pgrst_body."agent_id") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_list as stranger: another client sees none
\set role task_web_client \set claims :stranger_claims \set method GET \set path /rpc/task_list \set hdr :json_hdr \set mode :get \set accept rpc \set show ids
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "agent_id" FROM json_to_record(pgrst_payload.json_data) AS _("agent_id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_list"("agent_id" := pgrst_body."agent_id") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc

-- ============================================================ messages
-- POST /rpc/task_message as agent: 201
\set payload '{"id":"' :t1 '","content":"Draft by Friday."}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_message \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "content" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "content" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_message"("id" := pgrst_body."id", "content" := pgrst_body."content") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_message as stranger: 404 for a stranger
\set role task_web_client \set claims :stranger_claims \set method POST \set path /rpc/task_message \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "content" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "content" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_message"("id" := pgrst_body."id", "content" := pgrst_body."content") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_messages as client
\set payload '{"id":"' :t1 '"}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_messages \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_messages"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc

-- ============================================================ artifacts
-- POST /rpc/task_artifacts_add as agent: 201 with download URLs
\set payload '{"id":"' :t1 '","artifacts":[{"artifact_type":"markdown","name":"draft.md","content":"# Escrow\\nHeld until done."},{"artifact_type":"link","name":"source","content":"https://example.com/escrow"}]}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_artifacts_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "artifacts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "artifacts" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_artifacts_add"("id" := pgrst_body."id", "artifacts" := pgrst_body."artifacts") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_artifacts_add as agent: an unknown type is 400, nothing written
\set payload '{"id":"' :t1 '","artifacts":[{"artifact_type":"markdown","name":"ok.md","content":"ok"},{"artifact_type":"video","name":"x","content":"x"}]}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_artifacts_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "artifacts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "artifacts" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_artifacts_add"("id" := pgrst_body."id", "artifacts" := pgrst_body."artifacts") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
SELECT json_build_object('id', :'t1', 'artifacts', (SELECT json_agg(json_build_object('artifact_type', 'text', 'content', 'x')) FROM generate_series(1, 51)))::text AS payload \gset
-- POST /rpc/task_artifacts_add as agent: 51 artifacts are 400
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_artifacts_add \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "artifacts" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "artifacts" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_artifacts_add"("id" := pgrst_body."id", "artifacts" := pgrst_body."artifacts") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_artifacts as client
\set payload '{"id":"' :t1 '"}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_artifacts \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_artifacts"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- GET /rpc/task_artifact as client: the content with Content-Type text/markdown
\set payload '{"id":"' :t1 '","artifact":1}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_artifact \set hdr :any_hdr \set mode :get \set accept rpc \set show raw
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "artifact" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "artifact" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_artifact"("id" := pgrst_body."id", "artifact" := pgrst_body."artifact") pgrst_scalar) pgrst_call) :call_raw \gset r_
SELECT :'r_response_headers' AS download_headers;
\ir http_reply.inc
-- GET /rpc/task_artifact as stranger: 404 for a stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /rpc/task_artifact \set hdr :any_hdr \set mode :get \set accept rpc \set show raw
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "artifact" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "artifact" integer) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_artifact"("id" := pgrst_body."id", "artifact" := pgrst_body."artifact") pgrst_scalar) pgrst_call) :call_raw \gset r_
\ir http_reply.inc

-- ============================================================ complete (the agent), accept (the client)
-- POST /rpc/task_complete as agent: the assigned agent completes: the escrow goes to review
\set payload '{"id":"' :t1 '","result":{"url":"https://example.com/post"}}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_complete \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "result" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "result" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_complete"("id" := pgrst_body."id", "result" := pgrst_body."result") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_complete as agent2: another agent: 404
\set role task_web_vendor \set claims :agent2_claims \set method POST \set path /rpc/task_complete \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "result" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "result" jsonb) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_complete"("id" := pgrst_body."id", "result" := pgrst_body."result") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_accept as agent: the agent cannot accept: 403
\set payload '{"id":"' :t1 '"}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_accept \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_accept"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_accept as client: released
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_accept \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_accept"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_accept as client: again: 409
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_accept \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_accept"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ============================================================ payments
-- POST /rpc/task_payment as client: a tip: 201
\set payload '{"id":"' :t1 '","amount":100,"kind":"tip","memo":"great post"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_payment \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "amount", "kind", "memo" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "amount" numeric, "kind" text, "memo" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_payment"("id" := pgrst_body."id", "amount" := pgrst_body."amount", "kind" := pgrst_body."kind", "memo" := pgrst_body."memo") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_payment as client: more than the balance: 402
\set payload '{"id":"' :t1 '","amount":1000000}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_payment \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "amount" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "amount" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_payment"("id" := pgrst_body."id", "amount" := pgrst_body."amount") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_payment as client: a negative amount: 400
\set payload '{"id":"' :t1 '","amount":-3}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_payment \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "amount" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "amount" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_payment"("id" := pgrst_body."id", "amount" := pgrst_body."amount") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_payment as agent: the agent cannot pay: 403
\set payload '{"id":"' :t1 '","amount":5}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_payment \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "amount" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "amount" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_payment"("id" := pgrst_body."id", "amount" := pgrst_body."amount") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_payments as agent: the history
\set payload '{"id":"' :t1 '"}'
\set role task_web_vendor \set claims :agent_claims \set method GET \set path /rpc/task_payments \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_payments"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_payments as stranger: 404 for a stranger
\set role task_web_client \set claims :stranger_claims \set method GET \set path /rpc/task_payments \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_payments"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ============================================================ disputes (T2)
-- POST /rpc/task_dispute as client: 201, escrow held
\set payload '{"id":"' :t2 '","reason":"off topic"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_dispute \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dispute"("id" := pgrst_body."id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_dispute as client: again: 409
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_dispute \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dispute"("id" := pgrst_body."id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_dispute_resolve as client: tier 1: the client proposes
\set payload '{"id":"' :t2 '","decision":"propose","agent_amount":200,"note":"a quarter"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_dispute_resolve \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "decision", "agent_amount", "note" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "decision" text, "agent_amount" numeric, "note" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dispute_resolve"("id" := pgrst_body."id", "decision" := pgrst_body."decision", "agent_amount" := pgrst_body."agent_amount", "note" := pgrst_body."note") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_dispute_resolve as ops: Operations decide at tier 3, not at tier 1: 409
\set payload '{"id":"' :t2 '","decision":"decide","agent_amount":0}'
\set role task_web_operations \set claims :ops_claims \set method POST \set path /rpc/task_dispute_resolve \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "decision", "agent_amount" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "decision" text, "agent_amount" numeric) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dispute_resolve"("id" := pgrst_body."id", "decision" := pgrst_body."decision", "agent_amount" := pgrst_body."agent_amount") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_dispute_resolve as agent: the agent accepts: settled
\set payload '{"id":"' :t2 '","decision":"accept"}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_dispute_resolve \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "decision" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "decision" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_dispute_resolve"("id" := pgrst_body."id", "decision" := pgrst_body."decision") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ============================================================ reassign and cancel (T3), fail (T4)
-- POST /rpc/task_reassign as client: to Agent Jones
\set payload '{"id":"' :t3 '","new_agent_id":"' :agent2 '","reason":"faster"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_reassign \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "new_agent_id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "new_agent_id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_reassign"("id" := pgrst_body."id", "new_agent_id" := pgrst_body."new_agent_id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_reassign as client: to a client account: 404
\set payload '{"id":"' :t3 '","new_agent_id":"' :stranger '"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_reassign \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "new_agent_id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "new_agent_id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_reassign"("id" := pgrst_body."id", "new_agent_id" := pgrst_body."new_agent_id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_reassign as agent: the old agent no longer sees it: 404
\set payload '{"id":"' :t3 '"}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_reassign \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id" FROM json_to_record(pgrst_payload.json_data) AS _("id" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_reassign"("id" := pgrst_body."id") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_cancel as client: the client cancels: refunded
\set payload '{"id":"' :t3 '","reason":"not needed"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_cancel \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "reason" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "reason" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_cancel"("id" := pgrst_body."id", "reason" := pgrst_body."reason") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_fail as agent: the agent fails T4: refunded
\set payload '{"id":"' :t4 '","error":"topic too broad"}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_fail \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "error" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "error" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_fail"("id" := pgrst_body."id", "error" := pgrst_body."error") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ============================================================ agents, balance, wait
-- GET /rpc/task_agents as client
\set payload '{"capability":"writing.blog"}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_agents \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "capability" FROM json_to_record(pgrst_payload.json_data) AS _("capability" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_agents"("capability" := pgrst_body."capability") pgrst_scalar) pgrst_call) :call_scalars \gset r_
\ir http_reply.inc
-- POST /rpc/task_agent_heartbeat as agent
\set payload '{}'
\set role task_web_vendor \set claims :agent_claims \set method POST \set path /rpc/task_agent_heartbeat \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_agent_heartbeat"() pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_agent_heartbeat as client: a client is not an agent: 403
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_agent_heartbeat \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_agent_heartbeat"() pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_market_balance as client
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_market_balance \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT 1) pgrst_body , LATERAL (SELECT "api"."task_market_balance"() pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- GET /rpc/task_market_balance as client: another account's: 404
\set payload '{"account":"' :agent '"}'
\set role task_web_client \set claims :client_claims \set method GET \set path /rpc/task_market_balance \set hdr :json_hdr \set mode :get \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "account" FROM json_to_record(pgrst_payload.json_data) AS _("account" text) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_market_balance"("account" := pgrst_body."account") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_wait as client: the sync mode's wait: T1 is final
\set payload '{"id":"' :t1 '","timeout":"0"}'
\set role task_web_client \set claims :client_claims \set method POST \set path /rpc/task_wait \set hdr :post_hdr \set mode :post \set accept rpc \set show id
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "timeout" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "timeout" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_wait"("id" := pgrst_body."id", "timeout" := pgrst_body."timeout") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc
-- POST /rpc/task_wait as stranger: 404 for a stranger
\set role task_web_client \set claims :stranger_claims \set method POST \set path /rpc/task_wait \set hdr :post_hdr \set mode :post \set accept rpc \set show full
\ir http_begin.inc
WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar FROM (SELECT :'payload'::json AS json_data) pgrst_payload, LATERAL (SELECT "id", "timeout" FROM json_to_record(pgrst_payload.json_data) AS _("id" text, "timeout" interval) LIMIT 1) pgrst_body , LATERAL (SELECT "api"."task_wait"("id" := pgrst_body."id", "timeout" := pgrst_body."timeout") pgrst_scalar) pgrst_call) :call_scalar \gset r_
\ir http_reply.inc

-- ------------------------------------------------------------ the ledger after all of it
RESET SESSION AUTHORIZATION;
SELECT count(*) AS violations FROM task.task_market_check();
SELECT t.id, t.status, m.escrow, a.name AS agent FROM task.market_task m JOIN task.task t ON t.id = m.task_id
  JOIN task.account a ON a.id = m.agent WHERE m.owner = service_number(:'svc') ORDER BY t.id;

-- ------------------------------------------------------------ clean up
DROP SCHEMA replay CASCADE;
DROP ROLE http_authenticator;
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _, setval('task.account_id_seq', :acc_last, :'acc_called') AS _ \gset
