\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Names (issue 10): the two result columns of task.task are named after the
-- task_complete arguments that fill them -- result (the JSON value) and
-- resource (the URI of a resource result) -- instead of result_value and
-- result. The functions that read or write them are replaced.

ALTER TABLE task.task RENAME COLUMN result TO resource;
ALTER TABLE task.task RENAME COLUMN result_value TO result;
COMMENT ON COLUMN task.task.resource IS 'Relative URI of a resource holding the result (task_complete(resource => ...)); NULL when the result is a JSON value.';
COMMENT ON COLUMN task.task.result IS 'The JSON result (task_complete(result => ...)), served at the task''s result endpoint.';

CREATE OR REPLACE FUNCTION task._result_uri(t task.task) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(t.resource,
        CASE WHEN t.result IS NOT NULL THEN
            coalesce(nullif(current_setting('task.result_uri_prefix', true), ''), '/public/v1/system/tasks')
            || '/' || t.id::text || '/result' END)
$$;
COMMENT ON FUNCTION task._result_uri(task.task) IS
    'Internal: the result field of a task: the resource URI, or the URI of its JSON result endpoint.';


CREATE OR REPLACE FUNCTION task.task_result(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
BEGIN
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(task_result.id) AND x.id = task_result.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(task_result.id);
    END IF;
    IF t.status <> 'completed' THEN
        RAISE EXCEPTION 'task % has no result: it is %', task_result.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait until the task is completed (task_get shows its status).';
    END IF;
    IF t.resource IS NOT NULL THEN
        RETURN to_jsonb(t.resource);
    END IF;
    RETURN t.result;
END
$$;
COMMENT ON FUNCTION task.task_result(task.task_id) IS
    'The result of a completed task: its JSON value, or, for a resource result, the resource URI as a JSON string (task_get''s result field tells them apart). Visible to whoever may see the task.';


CREATE OR REPLACE FUNCTION task._complete(id task.task_id, token bigint, result jsonb, resource text) RETURNS task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    IF result IS NOT NULL AND resource IS NOT NULL THEN
        RAISE EXCEPTION 'a task result is either a JSON value or a resource URI, not both'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass result => a JSON value, or resource => ''/relative/uri''.';
    END IF;
    UPDATE task.task x
       SET status = 'completed', result = _complete.result, resource = _complete.resource
     WHERE x.owner = task.task_id_owner(_complete.id) AND x.id = _complete.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (_complete.token IS NULL OR x.lease_token = _complete.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(_complete.id, 'complete', false, _complete.token, '{processing}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task._complete(task.task_id, bigint, jsonb, text) IS 'Internal: completes a processing task (fenced by token when given).';


CREATE OR REPLACE FUNCTION api.task_result(id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    tid task.task_id;
    value jsonb;
    resource text;
    s text; m text; d text; h text;
BEGIN
    tid := task_result.id::task.task_id;
    value := task.task_result(tid);     -- checks visibility and status
    SELECT t.resource INTO resource FROM task.task t
     WHERE t.owner = task.task_id_owner(tid) AND t.id = tid;
    IF resource IS NOT NULL THEN
        PERFORM task._http_respond(303, resource);
    END IF;
    RETURN value;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_result(text) IS
    'Gets the result of a completed task: a JSON result answers 200 with the value; a resource result answers 303 See Other with Location: the resource URI. 404 when missing or out of scope, 409 while the task is not completed.';


-- api.tasks expands task.task's columns in a subquery: re-read them under their new names
CREATE OR REPLACE VIEW api.tasks WITH (security_invoker = true) AS
SELECT t.id,
       t.name,
       t.revision,
       pg_catalog.initcap(t.status::text) AS status,
       t.code,
       t.queue,
       t.object,
       t.description,
       j.doc -> 'parent' AS parent,
       t.progress,
       j.doc ->> 'eta' AS eta,
       t.parameters,
       j.doc ->> 'result' AS result,
       t.error,
       j.doc -> 'owner' AS owner,
       j.doc -> 'access' AS access,
       j.doc -> 'audit' AS audit
  FROM (SELECT * FROM task.task x ORDER BY x.status_at DESC, x.id DESC) t
 CROSS JOIN LATERAL (SELECT task.task_get(t.id) AS doc OFFSET 0) j;
