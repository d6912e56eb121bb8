\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The HTTP layer's helpers in schema task: the error mapping, the response
-- headers and PostgREST's pre-request function. The HTTP schema itself
-- (the view and the functions PostgREST exposes) is the extension
-- task_http, installed in a schema of the operator's choice:
--
--   CREATE SCHEMA api;
--   CREATE EXTENSION task_http SCHEMA api;
--
-- Its source is sql/http/api.sql (built into task_http--<version>.sql).
-- Databases created at 0.1.0 had schema api inside extension task; the
-- update leaves it there as plain objects (sql/update/40_ops.sql).

-- PostgREST answers 500 for P0002 and 55000 and 40001; a client of seed 000
-- expects 404 for a missing task and 409 for a conflict. Every route of
-- task_http hands the errors it catches here: which SQLSTATEs a route
-- catches is its choice (the marketplace's add 23514), their status is this
-- function's (PL/pgSQL has no shared handler: each route keeps the two lines
-- that read the error and call this). A SQLSTATE PTxyz
-- makes PostgREST answer HTTP status xyz: re-raise with it, keeping the
-- message, detail and hint (absent ones stay absent, i.e. JSON null).
CREATE FUNCTION task._http_raise(state text, message text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    code text := CASE
        WHEN state = 'P0002' THEN 'PT404'   -- no_data_found: missing, or outside the caller's scope
        WHEN state = '55000' THEN 'PT409'   -- object_not_in_prerequisite_state: wrong status, lease lost
        WHEN state = '40001' THEN 'PT409'   -- serialization_failure: a concurrent change won (revision conflict)
        WHEN state = '54000' THEN 'PT413'   -- program_limit_exceeded: input over a size limit (PostgREST: 500)
        WHEN state LIKE '54%' THEN 'PT400'  -- other program limits: the request asked too much
        WHEN state = '23514' THEN 'PT402'   -- check_violation, caught by the marketplace routes only: an insufficient balance
        ELSE state END;
BEGIN
    detail := nullif(detail, '');
    hint := nullif(hint, '');
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, HINT = hint;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = detail;
    END IF;
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = detail, HINT = hint;
END
$$;
COMMENT ON FUNCTION task._http_raise(text, text, text, text) IS
    'Internal: re-raises an error of the SQL API for PostgREST: P0002 as PT404, 55000 and 40001 as PT409, 54000 as PT413, other 54xxx as PT400, 23514 as PT402 (HTTP 404, 409, 413, 400, 402), others unchanged; message, detail and hint are kept. The one SQLSTATE to HTTP status map of the HTTP routes.';

-- The response header Location (PostgREST reads response.headers, a JSON
-- array of one-header objects, and response.status).
CREATE FUNCTION task._http_respond(status integer, location text) RETURNS void
    LANGUAGE sql
AS $$
    SELECT pg_catalog.set_config('response.status', status::text, true),
           pg_catalog.set_config('response.headers',
               CASE WHEN location IS NOT NULL
                    THEN pg_catalog.json_build_array(pg_catalog.json_build_object('Location', location))::text
                    ELSE '[]' END, true)
$$;
COMMENT ON FUNCTION task._http_respond(integer, text) IS
    'Internal: sets the HTTP status and the Location header of the PostgREST response (transaction-local).';

-- The pre-request function (db-pre-request = "task.http_pre_request"): a
-- web role whose claims name no active service or account of its kind is
-- refused with 401 before anything runs, instead of seeing nothing.
CREATE FUNCTION task.http_pre_request() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF current_user IN (SELECT r.web_role FROM task._roles() r WHERE r.group_role IS NOT NULL)
       AND task.current_kind() = 'none' THEN
        RAISE EXCEPTION 'the token names no active service or account for role %', current_user
            USING ERRCODE = 'PT401',
                  DETAIL = 'The claim "task_identity" must name an existing service (SVC-XXXX) for task_web_service, or an active account (ACC-XXXX-YYYY) of the role''s type for the other web roles.',
                  HINT = 'Ask for a new token.';
    END IF;
END
$$;
COMMENT ON FUNCTION task.http_pre_request() IS
    'PostgREST db-pre-request: answers 401 when a web role''s JWT claim task_identity names no active service or account of that role''s kind.';

-- The web roles only: PUBLIC, logins and task_web_anon get nothing.
REVOKE ALL ON FUNCTION task._http_raise(text, text, text, text) FROM PUBLIC;

REVOKE ALL ON FUNCTION task._http_respond(integer, text) FROM PUBLIC;
