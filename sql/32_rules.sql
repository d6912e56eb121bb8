\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Validation rules shared by SQL and C: each rule is written once, in C,
-- and every path calls it.

CREATE FUNCTION task._check_text(field text, value text, max_bytes integer, multiline boolean)
    RETURNS text AS 'MODULE_PATHNAME', 'task_check_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._check_text(text, text, integer, boolean) IS
    'Internal: the text rules of the task trigger (length, no control characters, not blank).';

CREATE FUNCTION task._check_path(kind text, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'task_check_path_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._check_path(text, text) IS
    'Internal: the rule for queue names (kind ''queue'') and service namespaces (kind ''namespace''); 22023 unless valid, else returns the value.';

CREATE FUNCTION task._check_new_status(status task.status) RETURNS void
    AS 'MODULE_PATHNAME', 'task_check_new_status_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._check_new_status(task.status) IS
    'Internal: the rule for the status of a new task (queued or blocked); 22023 otherwise.';
