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

CREATE FUNCTION task._check_time(field text, at timestamptz) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'task_check_time_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._check_time(text, timestamptz) IS
    'Internal: the rule for a time a caller gives (the trigger''s for run_at and eta): 22023 unless finite, 22008 outside the years 1 to 9999 (UTC) that RFC 3339 writes; else returns it.';

CREATE FUNCTION task._check_new_status(status task.status) RETURNS void
    AS 'MODULE_PATHNAME', 'task_check_new_status_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._check_new_status(task.status) IS
    'Internal: the rule for the status of a new task (queued or blocked); 22023 otherwise.';

CREATE FUNCTION task._check_batch(code text, parameters jsonb[], ordering_keys text[]) RETURNS void
    AS 'MODULE_PATHNAME', 'task_check_batch' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION task._check_batch(text, jsonb[], text[]) IS
    'Internal: the trigger''s rules for the code, parameters and ordering keys of a task_create_many batch, checked before it takes serials (the CONTEXT names the task); a NULL code is refused, other NULLs are left to the trigger.';

-- A value of an enum given as text (the HTTP layer's status, an account's
-- type): the value when it is a label of the enum, else 22023 naming the
-- parameter, instead of the cast's raw 22P02. The hint lists the values
-- to use: named, or else all the enum's labels, then extra (how the caller
-- reads the value, e.g. in any case). The caller casts the value it gets.
CREATE FUNCTION task._enum_arg(param text, value text, type regtype, extra text DEFAULT NULL,
                               named text[] DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    labels text[] := ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                            WHERE e.enumtypid = _enum_arg.type ORDER BY e.enumsortorder);
BEGIN
    IF _enum_arg.value IS NULL OR _enum_arg.value = ANY (labels) THEN
        RETURN _enum_arg.value;
    END IF;
    labels := coalesce(_enum_arg.named, labels);
    RAISE EXCEPTION 'invalid % "%"', param, left(_enum_arg.value, 40)
        USING ERRCODE = 'invalid_parameter_value',
              HINT = format('Use %s or %s%s.',
                            array_to_string(labels[1:cardinality(labels) - 1], ', '), labels[cardinality(labels)],
                            _enum_arg.extra);
END
$$;
COMMENT ON FUNCTION task._enum_arg(text, text, regtype, text, text[]) IS
    'Internal: a text argument checked to be a label of an enum before the caller casts it; 22023 naming the parameter and listing the values to use (named, else all the labels) otherwise.';
