--
-- The marketplace over HTTP (PostgREST, extension task_http; api.sql has the
-- core and the conventions): SECURITY DEFINER wrappers of 87_market.sql
-- that translate its errors into HTTP statuses (P0002 404, 55000 and 40001
-- 409, 42501 403, an insufficient balance (23514) 402 Payment Required,
-- too many or too large artifacts (54000) 413 Content Too Large).
--
--   POST /rpc/task_hire             201 + Location (seed 004 POST /tasks)
--   GET  /rpc/task_list?status=&agent_id=          (GET /tasks?status=&agent_id=)
--   POST /rpc/task_complete, task_fail, task_cancel (95_http.sql; the agent and the client)
--   POST /rpc/task_accept, task_reassign, task_dispute, task_dispute_resolve,
--        task_message, task_artifacts_add, task_payment, task_agent_heartbeat, task_wait
--   GET  /rpc/task_messages, task_artifacts, task_payments, task_agents, task_market_balance
--   GET  /rpc/task_artifact?id=&artifact=   the content, with its media type
--
-- The download returns the domain @extschema@."*/*" (bytea): PostgREST's "any"
-- media type handler, which sends the bytes as they are, under the
-- Content-Type set in response.headers (PostgREST v12 media type handlers).

CREATE DOMAIN @extschema@."*/*" AS bytea;
COMMENT ON DOMAIN @extschema@."*/*" IS 'PostgREST''s any media type handler: a function returning it answers raw bytes with the Content-Type it sets in response.headers.';

CREATE FUNCTION @extschema@.task_hire(
    capability text,
    input jsonb DEFAULT NULL,
    max_price numeric DEFAULT NULL,
    execution_mode text DEFAULT 'async',
    agent text DEFAULT NULL,
    name text DEFAULT NULL,
    description text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_hire(task_hire.capability, task_hire.input, task_hire.max_price, task_hire.execution_mode, task_hire.agent, task_hire.name, task_hire.description);
    PERFORM task._http_respond(201, '/tasks?id=eq.' || (r ->> 'id'));
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_hire(text, jsonb, numeric, text, text, text, text) IS
    'Client: hires an agent (seed 004 POST /tasks). Body: capability, input, max_price (whole minor units), execution_mode (async, sync: then POST /rpc/task_wait), optional agent, name, description. Holds max_price in escrow and auto-assigns an agent; answers 201 with the task and Location. 402 when max_price is above the balance, 400 for bad input, 409 when no agent is available.';

CREATE FUNCTION @extschema@.task_list(
    status text DEFAULT NULL,
    agent_id text DEFAULT NULL,
    list_limit integer DEFAULT 50,
    list_offset integer DEFAULT 0,
    queue text DEFAULT NULL,
    code text DEFAULT NULL,
    object_id text DEFAULT NULL,
    parent text DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    submitted_within interval DEFAULT '10 days')
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    -- seed 004's words for two statuses: pending (queued), in progress (processing)
    RETURN QUERY SELECT j FROM task.task_list(status => task._enum_arg('status', CASE lower(task_list.status)
                                                            WHEN 'pending' THEN 'queued'
                                                            WHEN 'in_progress' THEN 'processing'
                                                            WHEN 'in-progress' THEN 'processing'
                                                            ELSE lower(task_list.status) END, 'task.status',
                                                            ' (in any case); pending and in_progress stand for queued and processing')::task.status,
                                              agent => task_list.agent_id, list_limit => task_list.list_limit, list_offset => task_list.list_offset,
                                              queue => task_list.queue, code => task_list.code, object_id => task_list.object_id,
                                              parent => task_list.parent::task.task_id, since => task_list.since,
                                              submitted_within => task_list.submitted_within) j;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_list(text, text, integer, integer, text, text, text, text, timestamptz, interval) IS
    'Lists the tasks the caller may see (seed 004 GET /tasks?status=&agent_id=), most recent status change first, among those submitted within submitted_within (default 10 days; null for all): status (queued, processing, completed, failed, cancelled, ...; seed 004''s pending and in_progress are queued and processing), agent_id (ACC-XXXX-YYYY: hired tasks assigned to that agent), queue, code, object_id, parent, since (status changed at or after), list_limit (1..1000), list_offset.';

CREATE FUNCTION @extschema@.task_accept(
    id text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_accept(task_accept.id::task.task_id);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_accept(text) IS
    'Client: accepts a completed task''s result during its review window; the escrow is released. Answers the task; 409 unless the escrow is in review.';

CREATE FUNCTION @extschema@.task_reassign(
    id text,
    new_agent_id text DEFAULT NULL,
    reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_reassign(task_reassign.id::task.task_id, task_reassign.new_agent_id, task_reassign.reason);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_reassign(text, text, text) IS
    'Client or Operations: reassigns an unfinished task to new_agent_id (or the next available agent). Answers the task; 400 when the agent lacks the capability or charges above max_price, 409 when the escrow is not held or the agent is full.';

CREATE FUNCTION @extschema@.task_dispute(
    id text,
    reason text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_dispute(task_dispute.id::task.task_id, task_dispute.reason);
    PERFORM task._http_respond(201, NULL);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_dispute(text, text) IS
    'Client or agent: opens a dispute (tier 1); the escrow stays held until it closes. Answers 201 with the dispute; 409 when the escrow is already released, refunded or disputed.';

CREATE FUNCTION @extschema@.task_dispute_resolve(
    id text,
    decision text,
    agent_amount numeric DEFAULT NULL,
    note text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_dispute_resolve(task_dispute_resolve.id::task.task_id, task_dispute_resolve.decision, task_dispute_resolve.agent_amount, task_dispute_resolve.note);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_dispute_resolve(text, text, numeric, text) IS
    'Moves a dispute on: decision propose (agent_amount), accept (pass the agent_amount read: 409 when another split was proposed meanwhile), escalate, decide (tier 3, Operations). Answers the dispute with its audit trail.';

CREATE FUNCTION @extschema@.task_message(
    id text,
    content text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_message(task_message.id::task.task_id, task_message.content);
    PERFORM task._http_respond(201, NULL);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_message(text, text) IS
    'Client, agent or Operations: adds a message to the task''s conversation. Answers 201 with the message.';

CREATE FUNCTION @extschema@.task_messages(
    id text,
    msg_limit integer DEFAULT 50,
    msg_offset integer DEFAULT 0)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY SELECT j FROM task.task_messages(task_messages.id::task.task_id, task_messages.msg_limit, task_messages.msg_offset) j;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_messages(text, integer, integer) IS
    'The task''s conversation, oldest first (msg_limit, msg_offset). 404 out of scope.';

CREATE FUNCTION @extschema@.task_artifacts_add(
    id text,
    artifacts jsonb)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY SELECT j FROM task.task_artifacts_add(task_artifacts_add.id::task.task_id, task_artifacts_add.artifacts) j;
    PERFORM task._http_respond(201, NULL);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_artifacts_add(text, jsonb) IS
    'Agent or client: adds up to 50 artifacts ({artifact_type, name, content, media_type}; 9 types) in one all-or-nothing request. Answers 201 with their metadata and download URLs; 400 for an unknown type, oversized content, more than 50.';

CREATE FUNCTION @extschema@.task_artifacts(
    id text)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY SELECT j FROM task.task_artifacts(task_artifacts.id::task.task_id) j;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_artifacts(text) IS
    'The artifacts of a task: metadata and download URLs. 404 out of scope.';

CREATE FUNCTION @extschema@.task_payment(
    id text,
    amount numeric,
    kind text DEFAULT 'tip',
    memo text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_payment(task_payment.id::task.task_id, task_payment.amount, task_payment.kind, task_payment.memo);
    PERFORM task._http_respond(201, NULL);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_payment(text, numeric, text, text) IS
    'Client: pays the agent a tip or bonus beyond the price (seed 004 POST /tasks/:id/payments). Answers 201 with the payment history; 402 when the balance is short, 409 for a refunded task.';

CREATE FUNCTION @extschema@.task_payments(
    id text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_payments(task_payments.id::task.task_id);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_payments(text) IS
    'Payment status and history of a task: escrow state, amounts, every ledger transaction. 404 out of scope.';

CREATE FUNCTION @extschema@.task_agents(
    capability text DEFAULT NULL)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY SELECT j FROM task.task_agents(task_agents.capability) j;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION @extschema@.task_agents(text) IS
    'The agent directory: active agents (optionally those with a capability), cheapest first, with price, capacity, load and responsiveness.';

CREATE FUNCTION @extschema@.task_agent_heartbeat()
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_agent_heartbeat();
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_agent_heartbeat() IS
    'Agent: says it is alive (auto-assignment skips unresponsive agents). Answers the agent profile.';

CREATE FUNCTION @extschema@.task_market_balance(
    account text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_market_balance(task_market_balance.account);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_market_balance(text) IS
    'The caller''s wallet balance and what it holds in escrow (Operations: any account''s).';

CREATE FUNCTION @extschema@.task_wait(
    id text,
    timeout interval DEFAULT '30 seconds')
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb;
    s text; m text; d text; h text;
BEGIN
    r := task.task_wait(task_wait.id::task.task_id, task_wait.timeout);
    RETURN r;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure OR check_violation OR program_limit_exceeded THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_wait(text, interval) IS
    'Waits until the task is final or the timeout passes (0..1 hour, default 30 s) and answers it: the sync execution mode after POST /rpc/task_hire. POST, since it waits.';

-- The download: the artifact's bytes under its media type.
CREATE FUNCTION @extschema@.task_artifact(id text, artifact integer)
    RETURNS @extschema@."*/*"
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    s text; m text; d text; h text;
BEGIN
    SELECT * INTO a FROM task.task_artifact(task_artifact.id::task.task_id, task_artifact.artifact);
    PERFORM pg_catalog.set_config('response.headers',
        pg_catalog.json_build_array(
            pg_catalog.json_build_object('Content-Type', a.media_type),
            pg_catalog.json_build_object('Content-Disposition',
                pg_catalog.format('inline; filename="%s"',
                    pg_catalog.regexp_replace(coalesce(a.name, 'artifact-' || task_artifact.artifact), '["\\]', '_', 'g'))),
            -- the agent chose the media type: an HTML or SVG artifact
            -- shown from the API's origin runs no script and reads nothing
            -- of it (a sandbox is an origin of its own), and no browser
            -- guesses another type
            pg_catalog.json_build_object('Content-Security-Policy', 'sandbox; default-src ''none''; img-src data:; style-src ''unsafe-inline'''),
            pg_catalog.json_build_object('X-Content-Type-Options', 'nosniff'))::text,
        true);
    RETURN a.content;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.task_artifact(text, integer) IS
    'Downloads one artifact (the download_url of task_artifacts): its content as raw bytes with Content-Type: its media type and Content-Disposition: inline with its name, in a sandbox (Content-Security-Policy: sandbox, no script; X-Content-Type-Options: nosniff). 404 when it does not exist or the task is out of scope.';

-- As for the core routes (95_http.sql): nothing for PUBLIC, everything for
-- the web roles with an identity (task._roles()); what each kind may do is
-- checked by the SQL API, so granting all web roles keeps one error path.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;

DO $$
DECLARE
    r name;
BEGIN
    FOR r IN SELECT x.web_role FROM task._roles() x WHERE x.group_role IS NOT NULL LOOP
        EXECUTE pg_catalog.format('GRANT USAGE ON DOMAIN @extschema@."*/*" TO %I', r);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO %I', r);
    END LOOP;
END
$$;
