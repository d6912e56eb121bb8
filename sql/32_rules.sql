\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Validation rules shared by SQL and C: each rule is written once, in C,
-- and every path calls it.

CREATE FUNCTION task._check_text(field text, value text, max_bytes integer, multiline boolean)
    RETURNS text AS 'MODULE_PATHNAME', 'task_check_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._check_text(text, text, integer, boolean) IS
    'Internal: the text rules of the task trigger (length, no control characters, not blank).';
