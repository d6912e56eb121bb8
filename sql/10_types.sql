\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Types: task.task_id (src/task_id.c, src/task_id_parse.c) and the enums.
--
-- task.task_id is the identifier of a task, "TSK-OOOO-SSSS-SSSS-SSSS",
-- stored as an int8 (owner * 10^12 + serial) passed by value, with btree
-- and hash operator classes, casts to and from text, min and max.

-- ---------------------------------------------------------------- task_id
CREATE TYPE task.task_id;

CREATE FUNCTION task.task_id_in(pg_catalog.cstring) RETURNS task.task_id
    AS 'MODULE_PATHNAME', 'task_id_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION task.task_id_out(task.task_id) RETURNS pg_catalog.cstring
    AS 'MODULE_PATHNAME', 'task_id_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION task.task_id_recv(pg_catalog.internal) RETURNS task.task_id
    AS 'MODULE_PATHNAME', 'task_id_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION task.task_id_send(task.task_id) RETURNS pg_catalog.bytea
    AS 'MODULE_PATHNAME', 'task_id_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE task.task_id (
    INPUT = task.task_id_in,
    OUTPUT = task.task_id_out,
    RECEIVE = task.task_id_recv,
    SEND = task.task_id_send,
    INTERNALLENGTH = 8,
    PASSEDBYVALUE,
    ALIGNMENT = double,
    STORAGE = plain
);

COMMENT ON TYPE task.task_id IS
    'Identifier of a task, written TSK-OOOO-SSSS-SSSS-SSSS: the owning service number OOOO (as in SVC-OOOO) and a 12-digit serial. Stored in 8 bytes.';
COMMENT ON FUNCTION task.task_id_in(pg_catalog.cstring) IS
    'Input function of task.task_id: parses TSK-OOOO-SSSS-SSSS-SSSS.';
COMMENT ON FUNCTION task.task_id_out(task.task_id) IS
    'Output function of task.task_id: writes TSK-OOOO-SSSS-SSSS-SSSS.';
COMMENT ON FUNCTION task.task_id_recv(pg_catalog.internal) IS
    'Binary input function of task.task_id: an int8 equal to owner * 10^12 + serial.';
COMMENT ON FUNCTION task.task_id_send(task.task_id) IS
    'Binary output function of task.task_id: an int8 equal to owner * 10^12 + serial.';

CREATE FUNCTION task.task_id_eq(task.task_id, task.task_id) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'task_id_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_ne(task.task_id, task.task_id) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'task_id_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_lt(task.task_id, task.task_id) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'task_id_lt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_le(task.task_id, task.task_id) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'task_id_le'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_gt(task.task_id, task.task_id) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'task_id_gt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_ge(task.task_id, task.task_id) RETURNS pg_catalog.bool
    AS 'MODULE_PATHNAME', 'task_id_ge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_cmp(task.task_id, task.task_id) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'task_id_cmp'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_hash(task.task_id) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'task_id_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_hash_extended(task.task_id, pg_catalog.int8) RETURNS pg_catalog.int8
    AS 'MODULE_PATHNAME', 'task_id_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_sortsupport(pg_catalog.internal) RETURNS pg_catalog.void
    AS 'MODULE_PATHNAME', 'task_id_sortsupport'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION task.task_id_eq(task.task_id, task.task_id) IS
    'Implementation of the = operator on task.task_id.';
COMMENT ON FUNCTION task.task_id_ne(task.task_id, task.task_id) IS
    'Implementation of the <> operator on task.task_id.';
COMMENT ON FUNCTION task.task_id_lt(task.task_id, task.task_id) IS
    'Implementation of the < operator on task.task_id.';
COMMENT ON FUNCTION task.task_id_le(task.task_id, task.task_id) IS
    'Implementation of the <= operator on task.task_id.';
COMMENT ON FUNCTION task.task_id_gt(task.task_id, task.task_id) IS
    'Implementation of the > operator on task.task_id.';
COMMENT ON FUNCTION task.task_id_ge(task.task_id, task.task_id) IS
    'Implementation of the >= operator on task.task_id.';
COMMENT ON FUNCTION task.task_id_cmp(task.task_id, task.task_id) IS
    'Three-way comparison of two task ids (-1, 0, 1): owner first, then serial.';
COMMENT ON FUNCTION task.task_id_hash(task.task_id) IS
    'Hash of a task id, equal to hashint8 of its int8 value.';
COMMENT ON FUNCTION task.task_id_hash_extended(task.task_id, pg_catalog.int8) IS
    'Seeded 64-bit hash of a task id, equal to hashint8extended of its int8 value.';
COMMENT ON FUNCTION task.task_id_sortsupport(pg_catalog.internal) IS
    'B-tree sort support of task.task_id: compares the 8-byte values directly.';

CREATE OPERATOR task.= (
    LEFTARG = task.task_id, RIGHTARG = task.task_id,
    FUNCTION = task.task_id_eq,
    COMMUTATOR = OPERATOR(task.=), NEGATOR = OPERATOR(task.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
    HASHES, MERGES
);

CREATE OPERATOR task.<> (
    LEFTARG = task.task_id, RIGHTARG = task.task_id,
    FUNCTION = task.task_id_ne,
    COMMUTATOR = OPERATOR(task.<>), NEGATOR = OPERATOR(task.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR task.< (
    LEFTARG = task.task_id, RIGHTARG = task.task_id,
    FUNCTION = task.task_id_lt,
    COMMUTATOR = OPERATOR(task.>), NEGATOR = OPERATOR(task.>=),
    RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR task.<= (
    LEFTARG = task.task_id, RIGHTARG = task.task_id,
    FUNCTION = task.task_id_le,
    COMMUTATOR = OPERATOR(task.>=), NEGATOR = OPERATOR(task.>),
    RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR task.> (
    LEFTARG = task.task_id, RIGHTARG = task.task_id,
    FUNCTION = task.task_id_gt,
    COMMUTATOR = OPERATOR(task.<), NEGATOR = OPERATOR(task.<=),
    RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR task.>= (
    LEFTARG = task.task_id, RIGHTARG = task.task_id,
    FUNCTION = task.task_id_ge,
    COMMUTATOR = OPERATOR(task.<=), NEGATOR = OPERATOR(task.<),
    RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR CLASS task.task_id_ops
    DEFAULT FOR TYPE task.task_id USING btree AS
        OPERATOR 1 task.<,
        OPERATOR 2 task.<=,
        OPERATOR 3 task.=,
        OPERATOR 4 task.>=,
        OPERATOR 5 task.>,
        FUNCTION 1 task.task_id_cmp(task.task_id, task.task_id),
        FUNCTION 2 task.task_id_sortsupport(pg_catalog.internal);

CREATE OPERATOR CLASS task.task_id_hash_ops
    DEFAULT FOR TYPE task.task_id USING hash AS
        OPERATOR 1 task.=,
        FUNCTION 1 task.task_id_hash(task.task_id),
        FUNCTION 2 task.task_id_hash_extended(task.task_id, pg_catalog.int8);

CREATE FUNCTION task.task_id_make(owner pg_catalog.int4, serial pg_catalog.int8)
    RETURNS task.task_id
    AS 'MODULE_PATHNAME', 'task_id_make'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION task.task_id_owner(id task.task_id) RETURNS pg_catalog.int4
    AS 'MODULE_PATHNAME', 'task_id_owner'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION task.task_id_serial(id task.task_id) RETURNS pg_catalog.int8
    AS 'MODULE_PATHNAME', 'task_id_serial'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

COMMENT ON FUNCTION task.task_id_make(pg_catalog.int4, pg_catalog.int8) IS
    'Builds a task id from the owning service number (0..9999) and a serial (0..999999999999).';
COMMENT ON FUNCTION task.task_id_owner(task.task_id) IS
    'The owning service number of a task id: 1 for TSK-0001-...; the service is SVC-0001.';
COMMENT ON FUNCTION task.task_id_serial(task.task_id) IS
    'The 12-digit serial of a task id, as an int8.';

CREATE CAST (pg_catalog.text AS task.task_id) WITH INOUT AS ASSIGNMENT;

CREATE CAST (task.task_id AS pg_catalog.text) WITH INOUT AS ASSIGNMENT;

COMMENT ON CAST (pg_catalog.text AS task.task_id) IS
    'Parses TSK-OOOO-SSSS-SSSS-SSSS through the input function.';
COMMENT ON CAST (task.task_id AS pg_catalog.text) IS
    'Writes TSK-OOOO-SSSS-SSSS-SSSS through the output function.';

-- min() and max(), as for the built-in types
CREATE FUNCTION task.task_id_smaller(a task.task_id, b task.task_id) RETURNS task.task_id
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN a OPERATOR(task.<=) b THEN a ELSE b END;
COMMENT ON FUNCTION task.task_id_smaller(task.task_id, task.task_id) IS 'The smaller of two task ids (min() support).';

CREATE FUNCTION task.task_id_larger(a task.task_id, b task.task_id) RETURNS task.task_id
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN a OPERATOR(task.>=) b THEN a ELSE b END;
COMMENT ON FUNCTION task.task_id_larger(task.task_id, task.task_id) IS 'The larger of two task ids (max() support).';

CREATE AGGREGATE task.min(task.task_id) (
    SFUNC = task.task_id_smaller, STYPE = task.task_id, SORTOP = OPERATOR(task.<), PARALLEL = SAFE, COMBINEFUNC = task.task_id_smaller);
COMMENT ON AGGREGATE task.min(task.task_id) IS 'The smallest task id.';

CREATE AGGREGATE task.max(task.task_id) (
    SFUNC = task.task_id_larger, STYPE = task.task_id, SORTOP = OPERATOR(task.>), PARALLEL = SAFE, COMBINEFUNC = task.task_id_larger);
COMMENT ON AGGREGATE task.max(task.task_id) IS 'The largest task id.';

-- ---------------------------------------------------------------- enums
CREATE TYPE task.status AS ENUM (
    'blocked', 'queued', 'processing', 'completed', 'failed', 'rescheduled', 'cancelled'
);
COMMENT ON TYPE task.status IS
    'Task status. New tasks are queued (default) or blocked; completed, failed and cancelled are final (a failed task can be retried).';

CREATE TYPE task.account_type AS ENUM ('Operations', 'Vendor', 'Client');
COMMENT ON TYPE task.account_type IS 'Kind of account: Operations see every task; Vendor and Client accounts see the tasks whose access list holds them.';

CREATE TYPE task.account_status AS ENUM ('Active', 'Disabled');
COMMENT ON TYPE task.account_status IS 'A Disabled account sees nothing.';
