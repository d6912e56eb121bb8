-- The released 0.1.0 install script, frozen: never edit it. Changes reach 0.1.0 installs through task--0.1.0--<next>.sql.
\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit

-- ---- sql/010_task_id.sql

-- task.task_id: the identifier of a task, "TSK-OOOO-SSSS-SSSS-SSSS".
-- Stored as an int8 (owner * 10^12 + serial) passed by value; the C side is
-- src/task_id.c and src/task_id_parse.c.

-- ---------------------------------------------------------------- the type

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

-- ---------------------------------------------------------------- comparison

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

-- ---------------------------------------------------------------- parts

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

-- ---------------------------------------------------------------- casts

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

-- ---- sql/020_model.sql
--
-- The model: services, accounts, logins, queues, tasks, task logs and the
-- access list. Every table holding user data is registered with
-- pg_extension_config_dump so pg_dump keeps its rows.
--
-- Citus: task, task_log, task_access and task_dependency carry the owning
-- service in `owner`, part of every primary key; distribute them by
-- `owner` (co-located) and make service, account, login and queue
-- reference tables. See the README, "Beyond one machine".

CREATE TYPE task.status AS ENUM (
    'blocked', 'queued', 'processing', 'completed', 'failed', 'rescheduled', 'cancelled'
);
COMMENT ON TYPE task.status IS
    'Task status. New tasks are queued (default) or blocked; completed, failed and cancelled are final (a failed task can be retried).';

CREATE TYPE task.account_type AS ENUM ('Operations', 'Vendor', 'Client');
COMMENT ON TYPE task.account_type IS 'Kind of account: Operations see every task; Vendor and Client accounts see the tasks whose access list holds them.';

CREATE TYPE task.account_status AS ENUM ('Active', 'Disabled');
COMMENT ON TYPE task.account_status IS 'A Disabled account sees nothing.';

-- ---------------------------------------------------------------- services
CREATE SEQUENCE task.service_id_seq MINVALUE 1 MAXVALUE 9999 NO CYCLE;

CREATE TABLE task.service (
    id          integer PRIMARY KEY DEFAULT pg_catalog.nextval('task.service_id_seq')
                CHECK (id BETWEEN 1 AND 9999),
    name        text NOT NULL UNIQUE,
    namespace   text NOT NULL UNIQUE,
    revision    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE task.service_id_seq OWNED BY task.service.id;
COMMENT ON TABLE task.service IS 'Services own queues and tasks. Text id SVC-XXXX (XXXX = id).';
COMMENT ON COLUMN task.service.namespace IS 'Queue namespace: the service''s queues are named <namespace>/...';

-- ---------------------------------------------------------------- accounts
CREATE SEQUENCE task.account_id_seq MINVALUE 1 MAXVALUE 99999999 NO CYCLE;

CREATE TABLE task.account (
    id          bigint PRIMARY KEY DEFAULT pg_catalog.nextval('task.account_id_seq')
                CHECK (id BETWEEN 0 AND 99999999),
    name        text NOT NULL,
    type        task.account_type NOT NULL,
    status      task.account_status NOT NULL DEFAULT 'Active',
    revision    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE task.account_id_seq OWNED BY task.account.id;
COMMENT ON TABLE task.account IS 'Accounts that may see tasks. Text id ACC-XXXX-YYYY (the 8 digits of id).';

-- ---------------------------------------------------------------- logins
-- A database role acts as exactly one service or one account. The role is
-- stored as regrole (an oid that dumps as the role's name), so renaming a
-- role keeps its mapping and no session setting can change it.
CREATE TABLE task.login (
    role        regrole PRIMARY KEY,
    service     integer REFERENCES task.service ON DELETE CASCADE,
    account     bigint REFERENCES task.account ON DELETE CASCADE,
    CHECK (pg_catalog.num_nonnulls(service, account) = 1)
);
COMMENT ON TABLE task.login IS 'Maps a database role to the service or account it acts as. Managed with task_login_grant / task_login_revoke.';

-- ---------------------------------------------------------------- queues
CREATE TABLE task.queue (
    name          text PRIMARY KEY,
    owner         integer NOT NULL REFERENCES task.service,
    paused        boolean NOT NULL DEFAULT false,
    lease         interval NOT NULL DEFAULT '5 minutes' CHECK (lease > '0'),
    max_attempts  integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 1000),
    backoff_base  interval NOT NULL DEFAULT '10 seconds' CHECK (backoff_base >= '0'),
    backoff_max   interval NOT NULL DEFAULT '1 hour' CHECK (backoff_max >= backoff_base),
    retention     interval NOT NULL DEFAULT '10 days' CHECK (retention >= '0'),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX queue_owner_idx ON task.queue (owner);
COMMENT ON TABLE task.queue IS 'FIFO queues, each owned by one service, with its worker policy.';
COMMENT ON COLUMN task.queue.lease IS 'How long a dequeued task stays claimed without a heartbeat.';
COMMENT ON COLUMN task.queue.max_attempts IS 'Attempts before task_fail marks a task failed for good.';
COMMENT ON COLUMN task.queue.retention IS 'How long finished tasks are kept; 0 keeps them forever.';

-- ---------------------------------------------------------------- tasks
-- CACHE 100: 17% faster bulk enqueue (measured). FIFO ties only occur within
-- one transaction (same run_at), i.e. one backend, whose cached ids ascend.
CREATE SEQUENCE task.task_serial_seq MINVALUE 1 MAXVALUE 999999999999 NO CYCLE CACHE 100;

CREATE TABLE task.task (
    owner           integer NOT NULL,
    id              task.task_id NOT NULL,
    revision        integer NOT NULL DEFAULT 1,
    status          task.status NOT NULL DEFAULT 'queued',
    code            text NOT NULL,
    name            text,
    queue           text NOT NULL,
    object          jsonb,
    description     text,
    parent          task.task_id,
    progress        double precision,
    eta             timestamptz,
    parameters      jsonb,
    result          text,
    result_value    jsonb,
    error           text,
    -- worker state
    run_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer,
    lease_token     bigint,
    lease_until     timestamptz,
    ordering_key    text,
    idempotency_key text,
    -- audit, stamped by the trigger task.task_transition()
    status_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by      text,
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_by      text,
    started_at      timestamptz,
    started_by      text,
    completed_at    timestamptz,
    completed_by    text,
    failed_at       timestamptz,
    failed_by       text,
    rescheduled_at  timestamptz,
    rescheduled_by  text,
    cancelled_at    timestamptz,
    cancelled_by    text,
    -- (id, owner): an id already sorts by its owner (owner * 10^12 +
    -- serial), so this orders rows as (owner, id) would, answers lookups
    -- by id alone, and still holds the distribution column for Citus
    PRIMARY KEY (id, owner),
    -- a parent is a task of the same service; purging it keeps the child
    FOREIGN KEY (parent, owner) REFERENCES task.task (id, owner) ON DELETE SET NULL (parent)
);

-- The dequeue index: only runnable rows, FIFO by the time they became
-- runnable. Finished tasks are not in it, so history never slows a queue.
CREATE INDEX task_runnable_idx ON task.task (queue, run_at, id)
    WHERE status IN ('queued', 'rescheduled');
-- Listing: newest status change first.
CREATE INDEX task_owner_status_at_idx ON task.task (owner, status_at DESC);
CREATE UNIQUE INDEX task_idempotency_idx ON task.task (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX task_parent_idx ON task.task (owner, parent) WHERE parent IS NOT NULL;

COMMENT ON TABLE task.task IS 'Tasks: the state of long-running operations (seed 001 Task object) plus worker state.';
COMMENT ON COLUMN task.task.owner IS 'The owning service (SVC-XXXX number); equal to task_id_owner(id).';
COMMENT ON COLUMN task.task.id IS 'TSK-XXXX-YYYY-YYYY-YYYY, XXXX being the owning service number.';
COMMENT ON COLUMN task.task.revision IS 'Bumped on every change: a version for optimistic concurrency.';
COMMENT ON COLUMN task.task.progress IS 'Percent 0..100; NULL until the task has started.';
COMMENT ON COLUMN task.task.result IS 'Relative URI of a resource holding the result (NULL when the result is a JSON value).';
COMMENT ON COLUMN task.task.result_value IS 'The JSON result, served at the task''s result endpoint.';
COMMENT ON COLUMN task.task.run_at IS 'When the task becomes runnable: its FIFO position.';
COMMENT ON COLUMN task.task.lease_token IS 'Fencing token of the current claim (the revision at dequeue).';
COMMENT ON COLUMN task.task.status_at IS 'Time of the last status change (listing order).';

-- ---------------------------------------------------------------- access
CREATE TABLE task.task_access (
    owner    integer NOT NULL,
    task_id  task.task_id NOT NULL,
    account  bigint NOT NULL REFERENCES task.account ON DELETE CASCADE,
    PRIMARY KEY (owner, task_id, account),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
CREATE INDEX task_access_account_idx ON task.task_access (account, owner, task_id);
COMMENT ON TABLE task.task_access IS 'The access list of each task: accounts that may see it and its result.';

-- ---------------------------------------------------------------- dependencies
-- task_id waits (blocked) until every depends_on task has completed. Both
-- belong to the same service, as a parent and its children do.
CREATE TABLE task.task_dependency (
    owner       integer NOT NULL,
    task_id     task.task_id NOT NULL,
    depends_on  task.task_id NOT NULL,
    PRIMARY KEY (owner, task_id, depends_on),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);
CREATE INDEX task_dependency_on_idx ON task.task_dependency (owner, depends_on);
COMMENT ON TABLE task.task_dependency IS 'Dependencies: a blocked task is queued when all the tasks it depends on have completed, and cancelled when one fails for good or is cancelled.';

-- ---------------------------------------------------------------- logs
CREATE SEQUENCE task.task_log_seq;

CREATE TABLE task.task_log (
    owner        integer NOT NULL,
    task_id      task.task_id NOT NULL,
    seq          bigint NOT NULL DEFAULT pg_catalog.nextval('task.task_log_seq'),
    at           timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    message      text NOT NULL,
    from_status  task.status,
    to_status    task.status,
    errors       bigint,
    skips        bigint,
    success      bigint,
    total        bigint,
    by           text,
    PRIMARY KEY (owner, task_id, seq)
);
ALTER SEQUENCE task.task_log_seq OWNED BY task.task_log.seq;
COMMENT ON TABLE task.task_log IS 'Task log entries: messages from workers (with optional counters) and one entry per status transition.';
COMMENT ON COLUMN task.task_log.from_status IS 'For transition entries: the status left (NULL for messages).';

SELECT pg_catalog.pg_extension_config_dump('task.service', '');
SELECT pg_catalog.pg_extension_config_dump('task.service_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('task.account', '');
SELECT pg_catalog.pg_extension_config_dump('task.account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('task.login', '');
SELECT pg_catalog.pg_extension_config_dump('task.queue', '');
SELECT pg_catalog.pg_extension_config_dump('task.task', '');
SELECT pg_catalog.pg_extension_config_dump('task.task_serial_seq', '');
SELECT pg_catalog.pg_extension_config_dump('task.task_access', '');
SELECT pg_catalog.pg_extension_config_dump('task.task_dependency', '');
SELECT pg_catalog.pg_extension_config_dump('task.task_log', '');
SELECT pg_catalog.pg_extension_config_dump('task.task_log_seq', '');

-- ---- sql/030_identity.sql
--
-- Identity: which service or account the caller acts as.
--
-- Decided in C (src/identity.c) from the role in effect at the outer level
-- (the login, or the role chosen with SET ROLE) looked up in task.login.
-- No setting a session can change takes part. SECURITY DEFINER functions
-- do not change the answer. An unmapped superuser is "system" (the
-- operator); any other unmapped role is "none" and can do nothing.

CREATE FUNCTION task.current_actor() RETURNS text
    AS 'MODULE_PATHNAME', 'task_current_actor' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_actor() IS
    'The caller as recorded in audit and logs: SVC-XXXX, ACC-XXXX-YYYY, or the role name of an unmapped role.';

CREATE FUNCTION task.current_kind() RETURNS text
    AS 'MODULE_PATHNAME', 'task_current_kind' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_kind() IS
    'What the caller is: service, account, system (an unmapped superuser) or none.';

CREATE FUNCTION task.current_service() RETURNS integer
    AS 'MODULE_PATHNAME', 'task_current_service' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_service() IS 'The number of the service the caller acts as, or NULL.';

CREATE FUNCTION task.current_account() RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_current_account' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_account() IS 'The number of the active account the caller acts as, or NULL.';

CREATE FUNCTION task.current_is_operations() RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_current_is_operations' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION task.current_is_operations() IS
    'True for an active Operations account and for the system (an unmapped superuser).';

CREATE FUNCTION task._identity_invalidate() RETURNS void
    AS 'MODULE_PATHNAME', 'task_identity_invalidate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._identity_invalidate() IS 'Internal: forget the identity cached for this transaction.';

CREATE FUNCTION task._check_text(field text, value text, max_bytes integer, multiline boolean)
    RETURNS text AS 'MODULE_PATHNAME', 'task_check_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._check_text(text, text, integer, boolean) IS
    'Internal: the text rules of the task trigger (length, no control characters, not blank).';

-- ---------------------------------------------------------------- text ids
CREATE FUNCTION task.service_text(id integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'SVC-' OPERATOR(pg_catalog.||) pg_catalog.lpad(id::text, 4, '0');
COMMENT ON FUNCTION task.service_text(integer) IS 'The text id SVC-XXXX of a service number.';

CREATE FUNCTION task.account_text(id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'ACC-' OPERATOR(pg_catalog.||) pg_catalog.lpad((id OPERATOR(pg_catalog./) 10000)::text, 4, '0')
           OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) pg_catalog.lpad((id OPERATOR(pg_catalog.%) 10000)::text, 4, '0');
COMMENT ON FUNCTION task.account_text(bigint) IS 'The text id ACC-XXXX-YYYY of an account number.';

CREATE FUNCTION task.service_number(id text) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF id !~ '^SVC-[0-9]{4}$' THEN
        RAISE EXCEPTION 'invalid service id: "%"', left(id, 40)
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = 'A service id has the form SVC-XXXX, four decimal digits.',
                  HINT = 'Use an id such as SVC-0001.';
    END IF;
    RETURN substr(id, 5)::integer;
END
$$;
COMMENT ON FUNCTION task.service_number(text) IS 'The number of a service text id SVC-XXXX; 22P02 when malformed.';

CREATE FUNCTION task.account_number(id text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    IF id !~ '^ACC-[0-9]{4}-[0-9]{4}$' THEN
        RAISE EXCEPTION 'invalid account id: "%"', left(id, 40)
            USING ERRCODE = 'invalid_text_representation',
                  DETAIL = 'An account id has the form ACC-XXXX-YYYY, two groups of four decimal digits.',
                  HINT = 'Use an id such as ACC-0000-0001.';
    END IF;
    RETURN (substr(id, 5, 4) || substr(id, 10, 4))::bigint;
END
$$;
COMMENT ON FUNCTION task.account_number(text) IS 'The number of an account text id ACC-XXXX-YYYY; 22P02 when malformed.';

-- ---------------------------------------------------------------- checks
CREATE FUNCTION task._require_system(what text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF task.current_kind() <> 'system' THEN
        RAISE EXCEPTION 'permission denied to %', what
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Services, accounts and logins are managed by a superuser that is not mapped to a service or account.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._require_system(text) IS 'Internal: 42501 unless the caller is the system (an unmapped superuser).';

-- ---------------------------------------------------------------- management
CREATE FUNCTION task.task_service_create(name text, namespace text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id integer;
BEGIN
    PERFORM task._require_system('create a service');
    PERFORM task._check_text('service name', task_service_create.name, 255, false);
    IF task_service_create.namespace IS NULL
       OR task_service_create.namespace !~ '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$'
       OR octet_length(task_service_create.namespace) > 200 THEN
        RAISE EXCEPTION 'invalid service namespace: "%"', left(task_service_create.namespace, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A namespace is one or more segments of letters, digits, "_", "-" or "." separated by single slashes, at most 200 bytes.',
                  HINT = 'Use a namespace such as "marketplace/platform"; the service''s queues are named <namespace>/...';
    END IF;
    BEGIN
        INSERT INTO task.service AS s (name, namespace)
        VALUES (task_service_create.name, task_service_create.namespace)
        RETURNING s.id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'a service with this name or namespace already exists'
            USING ERRCODE = 'unique_violation',
                  DETAIL = format('Name "%s", namespace "%s".', task_service_create.name, task_service_create.namespace),
                  HINT = 'Pick another name and namespace, or use the existing service.';
    END;
    RETURN task.service_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_service_create(text, text) IS
    'Creates a service (owner of queues and tasks) and returns its id SVC-XXXX. Superuser only.';

CREATE FUNCTION task.task_account_create(name text, type task.account_type,
                                         status task.account_status DEFAULT 'Active')
    RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM task._require_system('create an account');
    PERFORM task._check_text('account name', task_account_create.name, 255, false);
    IF task_account_create.type IS NULL THEN
        RAISE EXCEPTION 'an account needs a type'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use Operations, Vendor or Client.';
    END IF;
    INSERT INTO task.account AS a (name, type, status)
    VALUES (task_account_create.name, task_account_create.type, coalesce(task_account_create.status, 'Active'))
    RETURNING a.id INTO new_id;
    RETURN task.account_text(new_id);
END
$$;
COMMENT ON FUNCTION task.task_account_create(text, task.account_type, task.account_status) IS
    'Creates an account (Operations, Vendor or Client) and returns its id ACC-XXXX-YYYY. Superuser only.';

CREATE FUNCTION task.task_login_grant(role regrole, identity text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    svc integer;
    acc bigint;
BEGIN
    PERFORM task._require_system('map a login');
    IF task_login_grant.identity LIKE 'SVC-%' THEN
        svc := task.service_number(task_login_grant.identity);
        IF NOT EXISTS (SELECT FROM task.service s WHERE s.id = svc) THEN
            RAISE EXCEPTION 'service % does not exist', task_login_grant.identity
                USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
        END IF;
    ELSE
        acc := task.account_number(task_login_grant.identity);
        IF NOT EXISTS (SELECT FROM task.account a WHERE a.id = acc) THEN
            RAISE EXCEPTION 'account % does not exist', task_login_grant.identity
                USING ERRCODE = 'no_data_found', HINT = 'Create it with task_account_create().';
        END IF;
    END IF;
    IF task_login_grant.role::text LIKE 'task\_web\_%' OR task_login_grant.role::text IN
           ('task_operations', 'task_service', 'task_vendor', 'task_client') THEN
        RAISE EXCEPTION 'role % is one of the extension''s own roles', task_login_grant.role
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Map login roles. Web roles take their identity from the JWT claim task_identity.';
    END IF;
    INSERT INTO task.login AS l (role, service, account)
    VALUES (task_login_grant.role, svc, acc)
    ON CONFLICT ON CONSTRAINT login_pkey DO UPDATE SET service = excluded.service, account = excluded.account;
    -- direct table access: membership of the identity's group role
    PERFORM task._set_group(task_login_grant.role, task._group_role(task_login_grant.identity));
    PERFORM task._identity_invalidate();
END
$$;
COMMENT ON FUNCTION task.task_login_grant(regrole, text) IS
    'Maps a database role to the service (SVC-XXXX) or account (ACC-XXXX-YYYY) it acts as, and makes it a member of the matching group role (task_service, task_operations, task_vendor or task_client) for direct reads. Superuser only.';

CREATE FUNCTION task.task_login_revoke(role regrole) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_system('unmap a login');
    DELETE FROM task.login l WHERE l.role = task_login_revoke.role;
    PERFORM task._set_group(task_login_revoke.role, NULL);
    PERFORM task._identity_invalidate();
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION task.task_login_revoke(regrole) IS 'Removes the mapping of a database role. Superuser only.';

CREATE FUNCTION task.task_whoami() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'kind', task.current_kind(),
        'id', task.current_actor(),
        'name', coalesce((SELECT s.name FROM task.service s WHERE s.id = task.current_service()),
                         (SELECT a.name FROM task.account a WHERE a.id = task.current_account())),
        'operations', task.current_is_operations())
$$;
COMMENT ON FUNCTION task.task_whoami() IS 'Who the caller acts as: kind, id, name, and whether it has operations rights.';

-- ---- sql/040_trigger.sql
--
-- The transition and audit trigger (src/transition.c). It checks every
-- INSERT and UPDATE of task.task -- API call or direct statement alike --
-- rejects forbidden transitions, stamps the audit columns, bumps the
-- revision and writes "from -> to" entries into task.task_log.

CREATE FUNCTION task.task_transition() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_transition' LANGUAGE C;
COMMENT ON FUNCTION task.task_transition() IS
    'Trigger: checks status transitions and field rules, stamps audit {at, by}, bumps revision, logs transitions.';

CREATE TRIGGER task_transition
    BEFORE INSERT OR UPDATE ON task.task
    FOR EACH ROW EXECUTE FUNCTION task.task_transition();

-- ---- sql/050_api.sql
--
-- The SQL API: queues, task_create, task_get, task_list, task_progress,
-- task_log, task_logs, task_complete, task_result, task_cancel.
--
-- Internal helpers (names starting with "_") carry no SET search_path:
-- they only run inside the API's SECURITY DEFINER functions, whose fixed
-- search_path they inherit (PUBLIC cannot execute them), and a SET clause
-- would cost a settings save/restore per call and block SQL inlining.
--
-- Every function is SECURITY DEFINER with a fixed search_path and checks
-- the caller itself: a task outside the caller's scope is "not found"
-- (P0002), a visible task the caller may not change is 42501. Writes are
-- a single guarded UPDATE; only when it misses do we look at why.

-- ---------------------------------------------------------------- helpers
CREATE FUNCTION task._iso(at timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
COMMENT ON FUNCTION task._iso(timestamptz) IS 'Internal: ISO 8601 in UTC with milliseconds, as in seed 001.';

CREATE FUNCTION task._actor_json(actor text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN actor ~ '^SVC-[0-9]{4}$' THEN
            (SELECT jsonb_build_object('id', actor, 'name', s.name, 'revision', s.revision)
               FROM task.service s WHERE s.id = task.service_number(actor))
        WHEN actor ~ '^ACC-[0-9]{4}-[0-9]{4}$' THEN
            (SELECT jsonb_build_object('id', actor, 'name', a.name, 'revision', a.revision)
               FROM task.account a WHERE a.id = task.account_number(actor))
        -- an unmapped role (the operator, a maintenance job): its name only
        ELSE jsonb_build_object('name', actor)
        END
$$;
COMMENT ON FUNCTION task._actor_json(text) IS 'Internal: the {id, name, revision} object of an audit or log author.';

CREATE FUNCTION task._stamp(at timestamptz, by text) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN at IS NOT NULL
        THEN jsonb_build_object('at', task._iso(at), 'by', task._actor_json(by)) END
$$;
COMMENT ON FUNCTION task._stamp(timestamptz, text) IS 'Internal: one audit entry {at, by}.';

CREATE FUNCTION task._strip_nulls(obj jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(pg_catalog.jsonb_object_agg(e.key, e.value), '{}'::jsonb)
      FROM pg_catalog.jsonb_each(obj) e
     WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'null'
$$;
COMMENT ON FUNCTION task._strip_nulls(jsonb) IS 'Internal: drops the top-level keys whose value is null (nested values are kept as they are).';

CREATE FUNCTION task._result_uri(t task.task) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(t.result,
        CASE WHEN t.result_value IS NOT NULL THEN
            coalesce(nullif(current_setting('task.result_uri_prefix', true), ''), '/public/v1/system/tasks')
            || '/' || t.id::text || '/result' END)
$$;
COMMENT ON FUNCTION task._result_uri(task.task) IS
    'Internal: the result field of a task: the resource URI, or the URI of its JSON result endpoint.';

-- The task as JSON, in the shape of seed 001's FULL EXAMPLE.
CREATE FUNCTION task._task_json(t task.task) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT task._strip_nulls(jsonb_build_object(
        'id', t.id::text,
        'name', t.name,
        'revision', t.revision,
        'status', initcap(t.status::text),
        'code', t.code,
        'queue', t.queue,
        'object', t.object,
        'description', t.description,
        'parent', CASE WHEN t.parent IS NOT NULL THEN
            task._strip_nulls(jsonb_build_object('id', t.parent::text,
                'name', (SELECT p.name FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent))) END,
        'progress', t.progress,
        'eta', task._iso(t.eta),
        'parameters', t.parameters,
        'result', task._result_uri(t),
        'error', t.error,
        'owner', (SELECT jsonb_build_object('id', task.service_text(s.id), 'name', s.name, 'revision', s.revision)
                    FROM task.service s WHERE s.id = t.owner),
        'access', coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'id', task.account_text(a.id), 'name', a.name, 'revision', a.revision,
                        'type', a.type, 'status', a.status) ORDER BY a.id)
                     FROM task.task_access x JOIN task.account a ON a.id = x.account
                    WHERE x.owner = t.owner AND x.task_id = t.id), '[]'::jsonb),
        'audit', task._strip_nulls(jsonb_build_object(
            'created', task._stamp(t.created_at, t.created_by),
            'updated', task._stamp(t.updated_at, t.updated_by),
            'started', task._stamp(t.started_at, t.started_by),
            'completed', task._stamp(t.completed_at, t.completed_by),
            'failed', task._stamp(t.failed_at, t.failed_by),
            'rescheduled', task._stamp(t.rescheduled_at, t.rescheduled_by),
            'cancelled', task._stamp(t.cancelled_at, t.cancelled_by)))
    ))
$$;
COMMENT ON FUNCTION task._task_json(task.task) IS 'Internal: a task row as the JSON Task object of seed 001.';

-- May the caller see this task? Operations see all, a service its own,
-- an account the tasks whose access list holds it.
CREATE FUNCTION task._visible(owner integer, id task.task_id) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    -- coalesce: a NULL identity must mean "no", never "unknown"
    SELECT coalesce(task.current_is_operations()
        OR _visible.owner = task.current_service()
        OR EXISTS (SELECT FROM task.task_access a
                    WHERE a.owner = _visible.owner AND a.task_id = _visible.id
                      AND a.account = task.current_account()), false)
$$;
COMMENT ON FUNCTION task._visible(integer, task.task_id) IS 'Internal: whether the caller may see the task.';

-- May the caller change this task? The owning service and the system;
-- operations accounts too where ops_allowed (cancel, retry).
CREATE FUNCTION task._may_write(owner integer, ops_allowed boolean) RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(_may_write.owner = task.current_service(), false)
        OR task.current_kind() = 'system'
        OR (coalesce(ops_allowed, false) AND task.current_is_operations())
$$;
COMMENT ON FUNCTION task._may_write(integer, boolean) IS 'Internal: whether the caller may change a task of this owner.';

CREATE FUNCTION task._not_found(id task.task_id) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'task % not found', id
        USING ERRCODE = 'no_data_found',
              HINT = 'Check the id; tasks outside your scope are reported as not found.';
END
$$;
COMMENT ON FUNCTION task._not_found(task.task_id) IS 'Internal: the not-found error (P0002), the same for missing and out-of-scope tasks.';

-- A guarded write matched no row: say why, most specific reason first.
CREATE FUNCTION task._write_failed(id task.task_id, operation text, ops_allowed boolean,
                                   token bigint DEFAULT NULL, expected task.status[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    t task.task;
BEGIN
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(_write_failed.id) AND x.id = _write_failed.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(_write_failed.id);
    END IF;
    IF NOT task._may_write(t.owner, ops_allowed) THEN
        RAISE EXCEPTION 'permission denied to % task %', operation, _write_failed.id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The task belongs to %s; the caller acts as %s.',
                                  task.service_text(t.owner), task.current_actor()),
                  HINT = CASE WHEN ops_allowed
                              THEN 'Only the owning service or an Operations account can do this.'
                              ELSE 'Only the owning service can do this.' END;
    END IF;
    IF token IS NOT NULL AND (t.status <> 'processing' OR t.lease_token IS DISTINCT FROM token) THEN
        RAISE EXCEPTION 'lease lost: task % is no longer claimed with token %', _write_failed.id, token
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The task is %s%s.', t.status,
                                  CASE WHEN t.status = 'processing'
                                       THEN format(' under token %s', t.lease_token) ELSE '' END),
                  HINT = 'Another worker owns the task now: drop this result and dequeue again.';
    END IF;
    IF expected IS NOT NULL AND t.status <> ALL (expected) THEN
        RAISE EXCEPTION 'cannot % task %: it is %', operation, _write_failed.id, t.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s applies to a task that is %s.', initcap(operation),
                                  array_to_string(expected, ' or ')),
                  HINT = 'Read the task again (task_get) and act on its current status.';
    END IF;
    -- nothing explains the miss: a concurrent change won the race
    RAISE EXCEPTION 'task % changed concurrently', _write_failed.id
        USING ERRCODE = 'serialization_failure',
              HINT = 'Retry the call.';
END
$$;
COMMENT ON FUNCTION task._write_failed(task.task_id, text, boolean, bigint, task.status[]) IS
    'Internal: raises the precise error for a write that matched no row (not found, 42501, lease lost, wrong status).';

-- ---------------------------------------------------------------- queues
CREATE FUNCTION task.task_queue_create(
    queue        text,
    owner        text DEFAULT NULL,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT false)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
    ns text;
    q task.queue;
BEGIN
    IF task_queue_create.queue IS NULL
       OR task_queue_create.queue !~ '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$'
       OR octet_length(task_queue_create.queue) > 255 THEN
        RAISE EXCEPTION 'invalid task queue name: "%"', left(task_queue_create.queue, 255)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A queue name is one or more segments of letters, digits, "_", "-" or "." separated by single slashes, with no slash at either end, at most 255 bytes.',
                  HINT = 'Use a name such as "marketplace/platform/internal/buyers/commands".';
    END IF;
    IF task.current_kind() = 'system' THEN
        IF task_queue_create.owner IS NULL THEN
            RAISE EXCEPTION 'a queue needs an owning service'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Pass owner => ''SVC-XXXX''.';
        END IF;
        owner_id := task.service_number(task_queue_create.owner);
    ELSIF svc IS NOT NULL THEN
        IF task_queue_create.owner IS NOT NULL AND task.service_number(task_queue_create.owner) <> svc THEN
            RAISE EXCEPTION 'permission denied to create a queue for %', task_queue_create.owner
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'A service creates queues for itself only; leave owner out.';
        END IF;
        owner_id := svc;
    ELSE
        RAISE EXCEPTION 'permission denied to create a queue'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Queues are created by services.';
    END IF;

    SELECT s.namespace INTO ns FROM task.service s WHERE s.id = owner_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'service % does not exist', task.service_text(owner_id)
            USING ERRCODE = 'no_data_found', HINT = 'Create it with task_service_create().';
    END IF;
    IF left(task_queue_create.queue, length(ns) + 1) <> ns || '/' THEN
        RAISE EXCEPTION 'queue "%" is outside the namespace of %', task_queue_create.queue, task.service_text(owner_id)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Queues of %s are named %s/...', task.service_text(owner_id), ns),
                  HINT = format('Use a name such as "%s/commands".', ns);
    END IF;

    INSERT INTO task.queue AS x (name, owner, paused, lease, max_attempts, backoff_base, backoff_max, retention)
    VALUES (task_queue_create.queue, owner_id, coalesce(task_queue_create.paused, false),
            coalesce(task_queue_create.lease, '5 minutes'),
            coalesce(task_queue_create.max_attempts, 5),
            coalesce(task_queue_create.backoff_base, '10 seconds'),
            coalesce(task_queue_create.backoff_max, '1 hour'),
            coalesce(task_queue_create.retention, '10 days'))
    ON CONFLICT (name) DO NOTHING
    RETURNING * INTO q;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" already exists', task_queue_create.queue
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Change its policy with task_queue_configure().';
    END IF;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task.task_queue_create(text, text, interval, integer, interval, interval, interval, boolean) IS
    'Creates a FIFO queue under the owning service''s namespace, with its worker policy. Services create their own; the operator names the owner.';

-- The queue a task is created in: existing, or made on first use by a
-- service under its namespace.
CREATE FUNCTION task._queue_for_create(queue text) RETURNS task.queue
    LANGUAGE plpgsql
AS $$
DECLARE
    q task.queue;
    svc integer := task.current_service();
BEGIN
    SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
    -- the common case in one lookup: the owner (or the system) in an existing queue
    IF FOUND AND task._may_write(q.owner, false) THEN
        RETURN q;
    END IF;
    IF NOT FOUND THEN
        IF svc IS NULL THEN
            IF task.current_kind() = 'system' THEN
                RAISE EXCEPTION 'queue "%" does not exist', _queue_for_create.queue
                    USING ERRCODE = 'no_data_found',
                          HINT = 'Create it first with task_queue_create(queue, owner => ''SVC-XXXX'').';
            END IF;
            RAISE EXCEPTION 'permission denied to create a task'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = format('The caller acts as %s.', task.current_actor()),
                      HINT = 'Tasks are created by services.';
        END IF;
        -- first task of a new queue: make it with the default policy
        BEGIN
            q := task.task_queue_create(_queue_for_create.queue);
        EXCEPTION WHEN duplicate_object THEN
            SELECT * INTO q FROM task.queue x WHERE x.name = _queue_for_create.queue;
        END;
    END IF;
    IF NOT task._may_write(q.owner, false) THEN
        RAISE EXCEPTION 'permission denied to create a task in queue "%"', _queue_for_create.queue
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s; the caller acts as %s.',
                                  task.service_text(q.owner), task.current_actor()),
                  HINT = 'Only the service that owns a queue creates tasks in it.';
    END IF;
    RETURN q;
END
$$;
COMMENT ON FUNCTION task._queue_for_create(text) IS 'Internal: resolves (or creates) the queue of a new task and checks the caller may use it.';

-- ---------------------------------------------------------------- create
CREATE FUNCTION task.task_create(
    code            text,
    queue           text,
    name            text DEFAULT NULL,
    description     text DEFAULT NULL,
    object          jsonb DEFAULT NULL,
    parent          task.task_id DEFAULT NULL,
    parameters      jsonb DEFAULT NULL,
    eta             timestamptz DEFAULT NULL,
    access          text[] DEFAULT NULL,
    status          task.status DEFAULT 'queued',
    run_at          timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL,
    ordering_key    text DEFAULT NULL,
    max_attempts    integer DEFAULT NULL,
    depends_on      task.task_id[] DEFAULT NULL,
    blocks_parent   boolean DEFAULT false)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    t task.task;
    accounts bigint[];
    deps task.task_id[];
    initial task.status := task_create.status;
    n_found integer;
    n_pending integer;
    settled text;
BEGIN
    q := task._queue_for_create(task_create.queue);

    IF task_create.status IS NULL OR task_create.status NOT IN ('queued', 'blocked') THEN
        RAISE EXCEPTION 'a new task must be queued or blocked, not %', coalesce(task_create.status::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave status out (queued) or pass status => ''blocked''.';
    END IF;
    IF task_create.max_attempts IS NOT NULL AND task_create.max_attempts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it out to use the queue''s policy.';
    END IF;
    IF task_create.parent IS NOT NULL AND NOT EXISTS (
            SELECT FROM task.task p WHERE p.owner = q.owner AND p.id = task_create.parent) THEN
        RAISE EXCEPTION 'parent task % not found', task_create.parent
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'A parent is an existing task of the same service.';
    END IF;
    IF task_create.access IS NOT NULL THEN
        SELECT array_agg(DISTINCT task.account_number(a)) INTO accounts
          FROM unnest(task_create.access) a;
        IF EXISTS (SELECT FROM unnest(accounts) n WHERE n IS NULL OR NOT EXISTS (SELECT FROM task.account x WHERE x.id = n)) THEN
            RAISE EXCEPTION 'access list names an account that does not exist'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Accounts: %s.', array_to_string(task_create.access, ', ', 'NULL')),
                      HINT = 'Create accounts with task_account_create() first.';
        END IF;
    END IF;

    IF task_create.depends_on IS NOT NULL AND cardinality(task_create.depends_on) > 0 THEN
        SELECT array_agg(DISTINCT d ORDER BY d) INTO deps FROM unnest(task_create.depends_on) d;
        -- share-lock the dependencies: none can settle unseen while we look,
        -- and one completing right after us finds our dependency rows
        PERFORM FROM task.task d WHERE d.owner = q.owner AND d.id = ANY (deps) ORDER BY d.id FOR SHARE;
        SELECT count(*), count(*) FILTER (WHERE d.status <> 'completed'),
               string_agg(format('%s is %s', d.id, d.status), ', ') FILTER (WHERE d.status IN ('failed', 'cancelled'))
          INTO n_found, n_pending, settled
          FROM task.task d WHERE d.owner = q.owner AND d.id = ANY (deps);
        IF n_found < cardinality(deps) THEN
            RAISE EXCEPTION 'a dependency of the new task was not found'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('depends_on: %s.', array_to_string(deps, ', ')),
                      HINT = 'A task depends on existing tasks of the same service.';
        END IF;
        IF settled IS NOT NULL THEN
            RAISE EXCEPTION 'a dependency of the new task will never complete'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('%s.', settled),
                      HINT = 'Retry or replace the failed dependency first.';
        END IF;
        IF n_pending > 0 THEN
            initial := 'blocked';
        END IF;
    END IF;
    IF task_create.blocks_parent AND task_create.parent IS NULL THEN
        RAISE EXCEPTION 'blocks_parent needs a parent'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass parent => the blocked task that waits for this one.';
    END IF;

    IF task_create.idempotency_key IS NULL THEN
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts)
        RETURNING * INTO t;
    ELSE
        INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, parent,
                                    parameters, eta, run_at, ordering_key, max_attempts, idempotency_key)
        VALUES (q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')),
                initial, task_create.code, task_create.name, task_create.queue,
                task_create.object, task_create.description, task_create.parent,
                task_create.parameters, task_create.eta, coalesce(task_create.run_at, now()),
                task_create.ordering_key, task_create.max_attempts, task_create.idempotency_key)
        ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING * INTO t;
        IF NOT FOUND THEN
            -- the same request again: answer with the task it created
            SELECT * INTO t FROM task.task x
             WHERE x.owner = q.owner AND x.idempotency_key = task_create.idempotency_key;
            RETURN t;
        END IF;
    END IF;

    IF accounts IS NOT NULL THEN
        INSERT INTO task.task_access (owner, task_id, account)
        SELECT t.owner, t.id, n FROM unnest(accounts) n;
    END IF;
    IF n_pending > 0 THEN
        INSERT INTO task.task_dependency (owner, task_id, depends_on)
        SELECT t.owner, t.id, d FROM unnest(deps) d;
    END IF;
    IF task_create.blocks_parent THEN
        -- the parent, blocked, now also waits for this child
        PERFORM FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent FOR UPDATE;
        IF NOT EXISTS (SELECT FROM task.task p WHERE p.owner = t.owner AND p.id = t.parent AND p.status = 'blocked') THEN
            RAISE EXCEPTION 'parent task % is not blocked', t.parent
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Create the parent with status => ''blocked'' to make it wait for its children.';
        END IF;
        INSERT INTO task.task_dependency (owner, task_id, depends_on) VALUES (t.owner, t.parent, t.id);
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean) IS
    'Creates a task in a queue of the calling service, in the caller''s transaction, and returns it. Options: name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at (not before), idempotency_key (a repeat returns the first task), ordering_key (one at a time, in order), max_attempts, depends_on (blocked until those tasks complete), blocks_parent (the blocked parent also waits for this task).';

CREATE FUNCTION task.task_create_many(
    code          text,
    queue         text,
    parameters    jsonb[],
    run_at        timestamptz DEFAULT NULL,
    ordering_keys text[] DEFAULT NULL)
    RETURNS SETOF task.task_id
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
BEGIN
    q := task._queue_for_create(task_create_many.queue);
    IF task_create_many.parameters IS NULL OR cardinality(task_create_many.parameters) NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'task_create_many takes 1 to 10000 tasks a call'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass one parameters object per task; split larger loads.';
    END IF;
    IF task_create_many.ordering_keys IS NOT NULL
       AND cardinality(task_create_many.ordering_keys) <> cardinality(task_create_many.parameters) THEN
        RAISE EXCEPTION 'ordering_keys must have one entry per task'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use NULL entries for tasks without a key.';
    END IF;
    -- one statement; unnest keeps the order, so ids follow the array
    RETURN QUERY
    INSERT INTO task.task AS x (owner, id, status, code, queue, parameters, run_at, ordering_key)
    SELECT q.owner, task.task_id_make(q.owner, nextval('task.task_serial_seq')), 'queued',
           task_create_many.code, q.name, p.v, coalesce(task_create_many.run_at, now()), p.k
      FROM unnest(task_create_many.parameters, task_create_many.ordering_keys) AS p(v, k)
    RETURNING x.id;
END
$$;
COMMENT ON FUNCTION task.task_create_many(text, text, jsonb[], timestamptz, text[]) IS
    'Bulk enqueue: creates one queued task per parameters object (up to 10000) in one statement, and returns their ids in order. Optional common run_at and one ordering key per task.';

-- ---------------------------------------------------------------- read
CREATE FUNCTION task.task_get(id task.task_id) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
BEGIN
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(task_get.id) AND x.id = task_get.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(task_get.id);
    END IF;
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task.task_get(task.task_id) IS
    'The task as a JSON Task object (seed 001): id, name, revision, status, code, queue, object, description, parent, progress, eta, parameters, result, owner, access, audit. Not found (P0002) when missing or outside the caller''s scope.';

CREATE FUNCTION task.task_list(
    status      task.status DEFAULT NULL,
    queue       text DEFAULT NULL,
    code        text DEFAULT NULL,
    object_id   text DEFAULT NULL,
    parent      task.task_id DEFAULT NULL,
    since       timestamptz DEFAULT NULL,
    list_limit  integer DEFAULT 50,
    list_offset integer DEFAULT 0)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    acc bigint := task.current_account();
BEGIN
    IF list_limit IS NULL OR list_limit NOT BETWEEN 1 AND 1000 OR list_offset IS NULL OR list_offset < 0 THEN
        RAISE EXCEPTION 'list_limit must be between 1 and 1000 and list_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long lists with list_offset.';
    END IF;

    -- One static query per kind of caller, so each gets its own plan: a
    -- service walks its (owner, status_at) index, an account starts from
    -- its access list; operations sort all tasks (an operator's view: add
    -- filters, or an index on status_at if you list everything often).
    IF task.current_is_operations() THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE (task_list.status IS NULL OR t.status = task_list.status)
           AND (task_list.queue IS NULL OR t.queue = task_list.queue)
           AND (task_list.code IS NULL OR t.code = task_list.code)
           AND (task_list.object_id IS NULL OR t.object->>'id' = task_list.object_id)
           AND (task_list.parent IS NULL OR t.parent = task_list.parent)
           AND (task_list.since IS NULL OR t.status_at >= task_list.since)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF svc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE t.owner = svc
           AND (task_list.status IS NULL OR t.status = task_list.status)
           AND (task_list.queue IS NULL OR t.queue = task_list.queue)
           AND (task_list.code IS NULL OR t.code = task_list.code)
           AND (task_list.object_id IS NULL OR t.object->>'id' = task_list.object_id)
           AND (task_list.parent IS NULL OR t.parent = task_list.parent)
           AND (task_list.since IS NULL OR t.status_at >= task_list.since)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    ELSIF acc IS NOT NULL THEN
        RETURN QUERY
        SELECT task._task_json(t) FROM task.task t
         WHERE (t.owner, t.id) IN (SELECT a.owner, a.task_id FROM task.task_access a WHERE a.account = acc)
           AND (task_list.status IS NULL OR t.status = task_list.status)
           AND (task_list.queue IS NULL OR t.queue = task_list.queue)
           AND (task_list.code IS NULL OR t.code = task_list.code)
           AND (task_list.object_id IS NULL OR t.object->>'id' = task_list.object_id)
           AND (task_list.parent IS NULL OR t.parent = task_list.parent)
           AND (task_list.since IS NULL OR t.status_at >= task_list.since)
         ORDER BY t.status_at DESC, t.id DESC
         LIMIT list_limit OFFSET list_offset;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer) IS
    'Lists the tasks the caller may see as JSON Task objects, most recent status change first. Filters: status, queue, code, object_id (object.id), parent, since (status changed at or after); list_limit (1..1000, default 50), list_offset.';

-- ---------------------------------------------------------------- progress
CREATE FUNCTION task.task_progress(
    id         task.task_id,
    progress   double precision DEFAULT NULL,
    eta        timestamptz DEFAULT NULL,
    parameters jsonb DEFAULT NULL,
    token      bigint DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    UPDATE task.task x
       SET progress = coalesce(task_progress.progress, x.progress),
           eta = coalesce(task_progress.eta, x.eta),
           parameters = coalesce(task_progress.parameters, x.parameters)
     WHERE x.owner = task.task_id_owner(task_progress.id) AND x.id = task_progress.id
       AND task._may_write(x.owner, false)
       AND x.status NOT IN ('completed', 'failed', 'cancelled')
       AND (task_progress.token IS NULL OR (x.status = 'processing' AND x.lease_token = task_progress.token))
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_progress.id, 'update', false, task_progress.token,
                                   '{blocked,queued,processing,rescheduled}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_progress(task.task_id, double precision, timestamptz, jsonb, bigint) IS
    'Owner only: sets progress (0..100, once started), eta and parameters (replaced whole) of an unfinished task. With token, only while that claim holds.';

-- ---------------------------------------------------------------- logs
CREATE FUNCTION task.task_log(
    id      task.task_id,
    message text,
    errors  bigint DEFAULT NULL,
    skips   bigint DEFAULT NULL,
    success bigint DEFAULT NULL,
    total   bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    o integer := task.task_id_owner(task_log.id);
BEGIN
    IF task_log.message IS NULL THEN
        RAISE EXCEPTION 'a task log entry needs a message'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass message => ''...''.';
    END IF;
    PERFORM task._check_text('log message', task_log.message, 8192, true);
    IF least(task_log.errors, task_log.skips, task_log.success, task_log.total) < 0 THEN
        RAISE EXCEPTION 'task log counters must not be negative'
            USING ERRCODE = 'numeric_value_out_of_range',
                  HINT = 'Counters errors, skips, success and total count items.';
    END IF;
    IF NOT EXISTS (SELECT FROM task.task x WHERE x.owner = o AND x.id = task_log.id AND task._may_write(x.owner, false)) THEN
        PERFORM task._write_failed(task_log.id, 'log to', false);
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, errors, skips, success, total, by)
    VALUES (o, task_log.id, task_log.message, task_log.errors, task_log.skips,
            task_log.success, task_log.total, task.current_actor());
END
$$;
COMMENT ON FUNCTION task.task_log(task.task_id, text, bigint, bigint, bigint, bigint) IS
    'Owner only: appends a log entry to a task, with optional counters errors, skips, success, total (seed 003).';

CREATE FUNCTION task.task_logs(id task.task_id, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at timestamptz, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF log_limit IS NULL OR log_limit NOT BETWEEN 1 AND 1000 OR log_offset IS NULL OR log_offset < 0 THEN
        RAISE EXCEPTION 'log_limit must be between 1 and 1000 and log_offset at least 0'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Page through long logs with log_offset.';
    END IF;
    SELECT * INTO t FROM task.task x
     WHERE x.owner = task.task_id_owner(task_logs.id) AND x.id = task_logs.id;
    IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
        PERFORM task._not_found(task_logs.id);
    END IF;
    IF NOT (task.current_is_operations() OR t.owner IS NOT DISTINCT FROM task.current_service()) THEN
        RAISE EXCEPTION 'permission denied to read the logs of task %', task_logs.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Task logs are for Operations and the owning service; use task_get for the task itself.';
    END IF;

    -- Stored entries, plus three derived from the audit columns (the
    -- trigger stores no row for them, see src/transition.c): the creation,
    -- the first claim while no later claim has stored it, and the
    -- completion. A task is created blocked exactly when it is blocked or
    -- has a stored entry leaving blocked. Newest first.
    RETURN QUERY
    SELECT e.at, e.message, e.errors, e.skips, e.success, e.total, e.by
      FROM (SELECT l.at, l.seq, l.message, l.errors, l.skips, l.success, l.total, l.by
              FROM task.task_log l
             WHERE l.owner = t.owner AND l.task_id = t.id
            UNION ALL
            SELECT t.created_at, -3,
                   CASE WHEN t.status = 'blocked' OR EXISTS (
                            SELECT FROM task.task_log f
                             WHERE f.owner = t.owner AND f.task_id = t.id AND f.from_status = 'blocked')
                        THEN 'create -> blocked' ELSE 'create -> queued' END,
                   NULL, NULL, NULL, NULL, t.created_by
            UNION ALL
            SELECT t.started_at, -2, 'queued -> processing', NULL, NULL, NULL, NULL, t.started_by
             WHERE t.started_at IS NOT NULL
               AND NOT EXISTS (SELECT FROM task.task_log f
                                WHERE f.owner = t.owner AND f.task_id = t.id AND f.to_status = 'processing')
            UNION ALL
            SELECT t.completed_at, -1, 'processing -> completed', NULL, NULL, NULL, NULL, t.completed_by
             WHERE t.status = 'completed') e
     ORDER BY e.at DESC, e.seq DESC
     LIMIT log_limit OFFSET log_offset;
END
$$;
COMMENT ON FUNCTION task.task_logs(task.task_id, integer, integer) IS
    'The log of a task, newest first (seed 003): worker messages with counters and one "from -> to" entry per status change, creation included. Operations and the owning service only.';

-- ---------------------------------------------------------------- finish
-- task_complete is in 060_worker.sql, beside the dequeue that shares its body.

CREATE FUNCTION task.task_result(id task.task_id) RETURNS jsonb
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
    IF t.result IS NOT NULL THEN
        RETURN to_jsonb(t.result);
    END IF;
    RETURN t.result_value;
END
$$;
COMMENT ON FUNCTION task.task_result(task.task_id) IS
    'The result of a completed task: its JSON value, or, for a resource result, the resource URI as a JSON string (task_get''s result field tells them apart). Visible to whoever may see the task.';

CREATE FUNCTION task.task_cancel(id task.task_id, reason text DEFAULT NULL) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    PERFORM task._check_text('cancel reason', task_cancel.reason, 8192, true);
    UPDATE task.task x
       SET status = 'cancelled', error = coalesce(task_cancel.reason, x.error)
     WHERE x.owner = task.task_id_owner(task_cancel.id) AND x.id = task_cancel.id
       AND task._may_write(x.owner, true)
       AND x.status IN ('blocked', 'queued', 'processing', 'rescheduled')
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_cancel.id, 'cancel', true, NULL, '{blocked,queued,processing,rescheduled}');
    END IF;
    IF task_cancel.reason IS NOT NULL THEN
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, 'cancelled: ' || task_cancel.reason, task.current_actor());
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_cancel(task.task_id, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason kept in error and the log.';

-- ---- sql/055_wait.sql
--
-- Wake on commit (src/wait.c): the primitives behind the blocking
-- task_dequeue(..., wait => ...) (060_worker.sql) and task_wait, the
-- task.wait_stats view.
--
-- A waiter reads the generation of its key's slot (task._wait_seq) BEFORE
-- it looks for work with a new snapshot, and sleeps (task._wait_sleep)
-- only while that generation has not moved: a commit that made work for
-- the key moves it after becoming visible, so no commit is missed between
-- the look and the sleep. Without shared_preload_libraries, _wait_seq is
-- NULL and _wait_sleep sleeps one 50 ms poll interval (NOTICE once).

CREATE FUNCTION task._wait_key(queue text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_queue_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._wait_key(text) IS 'Internal: the 64-bit wait key of a queue name.';

CREATE FUNCTION task._wait_key(id task.task_id) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_task_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION task._wait_key(task.task_id) IS 'Internal: the 64-bit wait key of a task.';

CREATE FUNCTION task._wait_seq(key bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'task_wait_seq' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._wait_seq(bigint) IS
    'Internal: the wake generation of the key''s wait slot, read before looking for work; NULL when task is not preloaded.';

CREATE FUNCTION task._wait_sleep(key bigint, seq bigint, timeout_ms double precision,
                                 label text DEFAULT NULL, is_task boolean DEFAULT false)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_wait_sleep' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._wait_sleep(bigint, bigint, double precision, text, boolean) IS
    'Internal: sleeps until a commit moves the key''s wake generation past seq (true) or timeout_ms pass (false); one 50 ms poll when task is not preloaded.';

CREATE FUNCTION task._wait_attached() RETURNS boolean
    AS 'MODULE_PATHNAME', 'task_wait_attached' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION task._wait_attached() IS
    'Internal: whether this server has the shared wait slots (task is in shared_preload_libraries).';

-- Milliseconds from now to a deadline, for _wait_sleep.
CREATE FUNCTION task._ms_until(deadline timestamptz) RETURNS double precision
    LANGUAGE sql VOLATILE
    RETURN greatest(0, extract(epoch FROM _ms_until.deadline - clock_timestamp()) * 1000);
COMMENT ON FUNCTION task._ms_until(timestamptz) IS 'Internal: milliseconds from now until a deadline, at least 0.';

-- Waiting needs a new snapshot for every look.
CREATE FUNCTION task._check_wait_isolation(what text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% cannot wait in a % transaction', what, current_setting('transaction_isolation')
            USING ERRCODE = 'active_sql_transaction', DETAIL = detail, HINT = hint;
    END IF;
END
$$;
COMMENT ON FUNCTION task._check_wait_isolation(text, text, text) IS 'Internal: the 25001 error of a wait outside READ COMMITTED.';

CREATE FUNCTION task._wait_stats(
    OUT slot integer, OUT kind text, OUT name text, OUT waiters integer,
    OUT sleeps bigint, OUT wakeups bigint, OUT broadcasts bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'task_wait_stats' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION task._wait_stats() IS 'Internal: the wait slots in use (backs task.wait_stats).';

CREATE VIEW task.wait_stats AS SELECT * FROM task._wait_stats();
COMMENT ON VIEW task.wait_stats IS
    'Wake-on-commit wait slots that were ever used since the server started (empty when task is not in shared_preload_libraries).';
COMMENT ON COLUMN task.wait_stats.slot IS 'Slot number, 0 .. task.wait_slots - 1 (hash of the queue name or task id).';
COMMENT ON COLUMN task.wait_stats.kind IS 'queue (task_dequeue) or task (task_wait): what the last waiter of the slot waited for.';
COMMENT ON COLUMN task.wait_stats.name IS 'The queue name or task id of the last waiter (first 63 bytes); other keys may share the slot.';
COMMENT ON COLUMN task.wait_stats.waiters IS 'Backends sleeping on the slot now.';
COMMENT ON COLUMN task.wait_stats.sleeps IS 'Waits that went to sleep on the slot.';
COMMENT ON COLUMN task.wait_stats.wakeups IS 'Commits that made work for a key of the slot (runnable task in a queue, final task status).';
COMMENT ON COLUMN task.wait_stats.broadcasts IS 'Of those wakeups, the ones that found waiters and woke them.';

CREATE FUNCTION task.task_wait(id task.task_id, timeout interval DEFAULT '30 seconds') RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    key bigint := task._wait_key(task_wait.id);
    seq bigint;
    deadline timestamptz;
BEGIN
    IF task_wait.timeout IS NULL OR task_wait.timeout < '0' OR task_wait.timeout > '1 hour' THEN
        RAISE EXCEPTION 'timeout must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Wait a few seconds and call again; a long wait holds a connection.';
    END IF;
    deadline := clock_timestamp() + task_wait.timeout;
    LOOP
        seq := task._wait_seq(key);
        -- a new snapshot each time round (READ COMMITTED)
        SELECT * INTO t FROM task.task x
         WHERE x.owner = task.task_id_owner(task_wait.id) AND x.id = task_wait.id;
        IF NOT FOUND OR NOT task._visible(t.owner, t.id) THEN
            PERFORM task._not_found(task_wait.id);
        END IF;
        EXIT WHEN t.status IN ('completed', 'failed', 'cancelled') OR clock_timestamp() >= deadline;
        PERFORM task._check_wait_isolation('task_wait',
            'Its snapshot would never see the task change after it started.',
            'Call it in READ COMMITTED (the default), or read the task with task_get.');
        PERFORM task._wait_sleep(key, seq, task._ms_until(deadline), t.id::text, true);
    END LOOP;
    RETURN task._task_json(t);
END
$$;
COMMENT ON FUNCTION task.task_wait(task.task_id, interval) IS
    'Waits until the task is completed, failed or cancelled, or the timeout (0..1 hour, default 30 s) passes, and returns it as task_get does. Wakes on the commit that finishes the task when task is in shared_preload_libraries, else polls every 50 ms. READ COMMITTED only. Not found (P0002) when missing or outside the caller''s scope.';

-- ---- sql/060_worker.sql
--
-- The worker API: task_dequeue (FIFO, SKIP LOCKED, leases, fencing
-- tokens, complete-and-claim in one round trip), task_heartbeat,
-- task_fail (retries with exponential backoff and jitter), task_reschedule,
-- task_retry, lease rescue, task_queue_configure.
--
-- A claim stamps lease_token with the task's new revision: it is unique
-- per claim and never reused, so a worker whose lease expired and whose
-- task was claimed again cannot complete, fail or reschedule it.

-- Leases to rescue, per queue (only processing rows are in it).
CREATE INDEX task_lease_idx ON task.task (queue, lease_until) WHERE status = 'processing';
-- Ordering keys: at most one task of a key runs at a time.
CREATE INDEX task_ordering_idx ON task.task (queue, ordering_key, run_at, id)
    WHERE ordering_key IS NOT NULL AND status IN ('queued', 'rescheduled', 'processing');

-- The queue a worker call acts on, checked: the owning service (or the
-- system) only; a queue outside the caller's scope is not found.
CREATE FUNCTION task._worker_queue(queue text) RETURNS task.queue
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q task.queue;
BEGIN
    SELECT * INTO q FROM task.queue x WHERE x.name = _worker_queue.queue;
    IF FOUND AND task._may_write(q.owner, false) THEN
        RETURN q;
    END IF;
    IF FOUND AND task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to work on queue "%"', _worker_queue.queue
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s.', task.service_text(q.owner)),
                  HINT = 'Only the owning service runs workers on a queue.';
    END IF;
    RAISE EXCEPTION 'queue "%" not found', _worker_queue.queue
        USING ERRCODE = 'no_data_found',
              HINT = 'Check the name; queues of other services are reported as not found.';
END
$$;
COMMENT ON FUNCTION task._worker_queue(text) IS 'Internal: the queue row for a worker call, after checking the caller owns it.';

-- Put the expired leases of one queue back: queued while attempts remain,
-- failed otherwise, each with a log entry saying why. Returns how many.
CREATE FUNCTION task._rescue_leases(q task.queue, max_rows integer DEFAULT 100) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        UPDATE task.task t
           SET status = CASE WHEN t.attempts < coalesce(t.max_attempts, q.max_attempts)
                             THEN 'queued'::task.status ELSE 'failed' END,
               error = 'lease expired: the worker stopped sending heartbeats'
          FROM (SELECT x.owner, x.id FROM task.task x
                 WHERE x.queue = q.name AND x.status = 'processing' AND x.lease_until < clock_timestamp()
                 ORDER BY x.lease_until
                 LIMIT max_rows
                 FOR UPDATE SKIP LOCKED) e
         WHERE t.owner = e.owner AND t.id = e.id
        RETURNING t.owner, t.id, t.attempts, t.status
    LOOP
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (r.owner, r.id,
                format('lease expired during attempt %s: %s', r.attempts,
                       CASE WHEN r.status = 'failed' THEN 'no attempts left' ELSE 'queued again' END),
                task.current_actor());
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._rescue_leases(task.queue, integer) IS
    'Internal: returns tasks whose lease expired to queued (or failed when no attempts are left), logging why.';

-- Complete one claimed task: the shared body of task_complete and the
-- complete-and-claim form of task_dequeue.
CREATE FUNCTION task._complete(id task.task_id, token bigint, result jsonb, resource text) RETURNS task.task
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
       SET status = 'completed', result_value = _complete.result, result = _complete.resource
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

-- Complete a batch of claimed tasks in one statement (the batch form of
-- complete-and-claim). All or nothing: if one of them cannot be completed,
-- the precise error for the first such task is raised and none is.
CREATE FUNCTION task._complete_many(ids task.task_id[], tokens bigint[]) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    n integer;
    missing task.task_id;
BEGIN
    IF tokens IS NOT NULL AND cardinality(tokens) <> cardinality(ids) THEN
        RAISE EXCEPTION 'complete_tokens must have one token per task of complete_batch'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the lease_token of each task, in the same order, or no tokens.';
    END IF;
    IF cardinality(ids) <> (SELECT count(DISTINCT u) FROM unnest(ids) u) THEN
        RAISE EXCEPTION 'complete_batch lists a task more than once'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'List each claimed task once.';
    END IF;
    -- id = ANY(...) probes the (id, owner) primary key, whatever the plan
    UPDATE task.task x SET status = 'completed'
     WHERE x.id = ANY (ids)
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (tokens IS NULL OR x.lease_token = tokens[array_position(ids, x.id)]);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n < cardinality(ids) THEN
        -- the first task of the batch this statement did not complete
        SELECT u.id INTO missing
          FROM unnest(ids) WITH ORDINALITY AS u(id, i)
         WHERE NOT EXISTS (SELECT FROM task.task x
                            WHERE x.id = u.id AND x.status = 'completed'
                              AND x.completed_at >= statement_timestamp())
         ORDER BY u.i LIMIT 1;
        PERFORM task._write_failed(missing, 'complete', false,
                                   tokens[array_position(ids, missing)], '{processing}');
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._complete_many(task.task_id[], bigint[]) IS
    'Internal: completes a batch of processing tasks in one statement, all or nothing (fenced by tokens when given).';

CREATE FUNCTION task.task_complete(
    id       task.task_id,
    result   jsonb DEFAULT NULL,
    resource text DEFAULT NULL,
    token    bigint DEFAULT NULL)
    RETURNS task.task
    LANGUAGE sql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
    RETURN task._complete(id, token, result, resource);
COMMENT ON FUNCTION task.task_complete(task.task_id, jsonb, text, bigint) IS
    'Owner only: completes a processing task with a JSON result (served at the task''s result URI) or a resource URI. With token, only while that claim holds (fencing).';

-- The claim: up to n runnable tasks of q in FIFO order, locked with SKIP
-- LOCKED and set processing. Every task of a queue belongs to the queue's
-- owner, so the update is a primary-key probe (owner, id = ANY(...)): a
-- plan that stays good as a generic plan, which the worker functions
-- force (see the end of this file) to skip planning on every call.
CREATE FUNCTION task._claim(q task.queue, n integer, lease interval) RETURNS SETOF task.task
    LANGUAGE plpgsql
AS $$
DECLARE
    -- the real clock, read once: now() stands still for a whole transaction,
    -- so a waiting dequeue would never see tasks created while it waits,
    -- and a lease claimed late would start in the past
    at timestamptz := clock_timestamp();
BEGIN
    -- returned in FIFO order too (UPDATE ... RETURNING follows the scan)
    RETURN QUERY
    WITH claimed AS (
    UPDATE task.task t
       SET status = 'processing',
           attempts = t.attempts + 1,
           lease_token = t.revision + 1,
           lease_until = at + coalesce(_claim.lease, q.lease)
     WHERE t.owner = q.owner
       AND t.id = ANY (ARRAY(
            SELECT x.id FROM task.task x
             WHERE x.queue = q.name
               AND x.status IN ('queued', 'rescheduled')
               AND x.run_at <= at
               -- ordering keys: tasks of a key run one at a time, in the
               -- order they were created (ids of one queue share an owner,
               -- so they sort by creation): none while another task of the
               -- key is processing or an older one waits, even for a retry
               AND (x.ordering_key IS NULL OR NOT EXISTS (
                        SELECT FROM task.task k
                         WHERE k.queue = q.name AND k.ordering_key = x.ordering_key
                           AND k.status IN ('queued', 'rescheduled', 'processing')
                           AND (k.status = 'processing' OR k.id < x.id)))
             ORDER BY x.run_at, x.id
             LIMIT _claim.n
             FOR UPDATE SKIP LOCKED))
    RETURNING t.*)
    SELECT * FROM claimed c ORDER BY c.run_at, c.id;
END
$$;
COMMENT ON FUNCTION task._claim(task.queue, integer, interval) IS 'Internal: claims up to n runnable tasks of a queue (FIFO, SKIP LOCKED).';

CREATE FUNCTION task.task_dequeue(
    queue          text,
    n              integer DEFAULT 1,
    lease          interval DEFAULT NULL,
    wait           interval DEFAULT '0',
    complete       task.task_id DEFAULT NULL,
    complete_token bigint DEFAULT NULL,
    result         jsonb DEFAULT NULL,
    resource       text DEFAULT NULL,
    complete_batch  task.task_id[] DEFAULT NULL,
    complete_tokens bigint[] DEFAULT NULL)
    RETURNS SETOF task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue;
    claimed integer;
    deadline timestamptz;
    key bigint;
    seq bigint;
    next_due timestamptz;
BEGIN
    -- the one-round-trip loop: finish the previous task first
    IF task_dequeue.complete IS NOT NULL THEN
        PERFORM task._complete(task_dequeue.complete, task_dequeue.complete_token,
                               task_dequeue.result, task_dequeue.resource);
    END IF;
    -- ... or the previous batch, in one statement
    IF cardinality(task_dequeue.complete_batch) > 0 THEN
        PERFORM task._complete_many(task_dequeue.complete_batch, task_dequeue.complete_tokens);
    END IF;

    IF task_dequeue.n IS NULL OR task_dequeue.n NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'n must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Claim at most 1000 tasks a call.';
    END IF;
    IF task_dequeue.wait IS NULL OR task_dequeue.wait < '0' OR task_dequeue.wait > '1 hour' THEN
        RAISE EXCEPTION 'wait must be between 0 and 1 hour'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Wait a few seconds and loop; a long wait holds a connection.';
    END IF;
    IF task_dequeue.lease IS NOT NULL AND task_dequeue.lease <= '0' THEN
        RAISE EXCEPTION 'lease must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    q := task._worker_queue(task_dequeue.queue);
    IF q.paused THEN
        RETURN;
    END IF;

    -- a waiting call reads the queue's wake generation before it looks
    -- (see 055_wait.sql): a commit after this point wakes its sleep
    IF task_dequeue.wait > '0' THEN
        key := task._wait_key(q.name);
        seq := task._wait_seq(key);
    END IF;

    claimed := 0;
    RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
    GET DIAGNOSTICS claimed = ROW_COUNT;

    -- a short queue: also look for expired leases to take over
    IF claimed < task_dequeue.n AND task._rescue_leases(q, task_dequeue.n - claimed) > 0 THEN
        RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n - claimed, task_dequeue.lease);
        GET DIAGNOSTICS claimed = ROW_COUNT;
    END IF;

    -- nothing to do: sleep until a commit makes work for the queue, the
    -- earliest scheduled task of the queue is due (no commit announces
    -- that), or the wait is over; then claim again with a new snapshot
    -- (hence READ COMMITTED). Not preloaded: a 50 ms poll each time round.
    IF claimed = 0 AND task_dequeue.wait > '0' THEN
        PERFORM task._check_wait_isolation('task_dequeue',
            'Its snapshot would never see tasks committed after it started.',
            'Call it in READ COMMITTED (the default), or with wait => ''0''.');
        deadline := clock_timestamp() + task_dequeue.wait;
        LOOP
            SELECT min(x.run_at) INTO next_due FROM task.task x
             WHERE x.queue = q.name AND x.status IN ('queued', 'rescheduled') AND x.run_at > clock_timestamp();
            PERFORM task._wait_sleep(key, seq, task._ms_until(least(deadline, next_due)), q.name);
            seq := task._wait_seq(key);
            RETURN QUERY SELECT * FROM task._claim(q, task_dequeue.n, task_dequeue.lease);
            GET DIAGNOSTICS claimed = ROW_COUNT;
            EXIT WHEN claimed > 0 OR clock_timestamp() >= deadline;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION task.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[]) IS
    'Worker: claims up to n runnable tasks of the queue in FIFO order (FOR UPDATE SKIP LOCKED), sets them processing, counts the attempt and starts the lease; each row carries lease_token for the calls that follow. With complete => id (and complete_token, result or resource) it first completes the previous task: one round trip per task; complete_batch (with complete_tokens) does the same for a batch, in one statement, all or nothing. A paused queue returns nothing. With wait (0..1 hour), an empty queue is waited on until a commit makes work for it (wake on commit; 50 ms polling when task is not in shared_preload_libraries), a scheduled task is due, or wait passes (READ COMMITTED only).';

CREATE FUNCTION task.task_heartbeat(
    id       task.task_id,
    token    bigint,
    lease    interval DEFAULT NULL,
    progress double precision DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_heartbeat.lease IS NOT NULL AND task_heartbeat.lease <= '0' THEN
        RAISE EXCEPTION 'lease must be positive'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave lease out to use the queue''s policy.';
    END IF;
    UPDATE task.task x
       SET lease_until = clock_timestamp() + coalesce(task_heartbeat.lease,
                                          (SELECT q.lease FROM task.queue q WHERE q.name = x.queue)),
           progress = coalesce(task_heartbeat.progress, x.progress)
     WHERE x.owner = task.task_id_owner(task_heartbeat.id) AND x.id = task_heartbeat.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing' AND x.lease_token = task_heartbeat.token
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_heartbeat.id, 'heartbeat', false,
                                   coalesce(task_heartbeat.token, -1), '{processing}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_heartbeat(task.task_id, bigint, interval, double precision) IS
    'Worker: extends the lease of a claimed task (by lease, or the queue''s lease length), optionally reporting progress. Fails with "lease lost" when the claim is gone.';

-- Backoff before retry number `attempt`: base * 2^(attempt-1) with +-25%
-- jitter, so failed tasks do not come back in lockstep; backoff_max is a
-- hard cap (applied after the jitter).
CREATE FUNCTION task._backoff(q task.queue, attempt integer) RETURNS interval
    LANGUAGE sql VOLATILE
AS $$
    SELECT least(q.backoff_base * power(2, least(greatest(attempt, 1) - 1, 30)) * (0.75 + random() * 0.5),
                 q.backoff_max)
$$;
COMMENT ON FUNCTION task._backoff(task.queue, integer) IS 'Internal: exponential backoff with jitter for a retry.';

CREATE FUNCTION task.task_fail(
    id    task.task_id,
    error text,
    token bigint DEFAULT NULL,
    retry boolean DEFAULT true)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
    q task.queue;
BEGIN
    IF task_fail.error IS NULL THEN
        RAISE EXCEPTION 'task_fail needs an error'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Say what went wrong: error => ''...''.';
    END IF;
    PERFORM task._check_text('error', task_fail.error, 8192, true);
    SELECT x.* INTO q FROM task.queue x
     WHERE x.name = (SELECT y.queue FROM task.task y
                      WHERE y.owner = task.task_id_owner(task_fail.id) AND y.id = task_fail.id);
    UPDATE task.task x
       SET status = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN 'rescheduled'::task.status ELSE 'failed' END,
           run_at = CASE WHEN task_fail.retry AND x.attempts < coalesce(x.max_attempts, q.max_attempts)
                         THEN clock_timestamp() + task._backoff(q, x.attempts) ELSE x.run_at END,
           error = task_fail.error
     WHERE x.owner = task.task_id_owner(task_fail.id) AND x.id = task_fail.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (task_fail.token IS NULL OR x.lease_token = task_fail.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_fail.id, 'fail', false, task_fail.token, '{processing}');
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id,
            format('attempt %s of %s failed: %s', t.attempts, coalesce(t.max_attempts, q.max_attempts), task_fail.error),
            task.current_actor());
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_fail(task.task_id, text, bigint, boolean) IS
    'Worker: reports a failed attempt. The task is rescheduled with exponential backoff and jitter while attempts remain (and retry is true), else failed for good; the error is kept on the task and in its log.';

CREATE FUNCTION task.task_reschedule(id task.task_id, at timestamptz, token bigint DEFAULT NULL)
    RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    IF task_reschedule.at IS NULL OR NOT isfinite(task_reschedule.at) THEN
        RAISE EXCEPTION 'task_reschedule needs a finite time'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass at => now() + interval ''...''.';
    END IF;
    UPDATE task.task x
       SET status = 'rescheduled', run_at = task_reschedule.at
     WHERE x.owner = task.task_id_owner(task_reschedule.id) AND x.id = task_reschedule.id
       AND task._may_write(x.owner, false)
       AND x.status = 'processing'
       AND (task_reschedule.token IS NULL OR x.lease_token = task_reschedule.token)
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_reschedule.id, 'reschedule', false, task_reschedule.token, '{processing}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_reschedule(task.task_id, timestamptz, bigint) IS
    'Worker: gives a claimed task back to run again at a given time (status rescheduled); dequeue picks it up when due.';

CREATE FUNCTION task.task_retry(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    UPDATE task.task x
       SET status = 'queued', run_at = now(), attempts = 0
     WHERE x.owner = task.task_id_owner(task_retry.id) AND x.id = task_retry.id
       AND task._may_write(x.owner, true)
       AND x.status = 'failed'
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_retry.id, 'retry', true, NULL, '{failed}');
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_retry(task.task_id) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations).';

CREATE FUNCTION task.task_queue_configure(
    queue        text,
    lease        interval DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    backoff_base interval DEFAULT NULL,
    backoff_max  interval DEFAULT NULL,
    retention    interval DEFAULT NULL,
    paused       boolean DEFAULT NULL)
    RETURNS task.queue
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    q task.queue := task._worker_queue(task_queue_configure.queue);
BEGIN
    UPDATE task.queue x
       SET lease = coalesce(task_queue_configure.lease, x.lease),
           max_attempts = coalesce(task_queue_configure.max_attempts, x.max_attempts),
           backoff_base = coalesce(task_queue_configure.backoff_base, x.backoff_base),
           backoff_max = coalesce(task_queue_configure.backoff_max, x.backoff_max),
           retention = coalesce(task_queue_configure.retention, x.retention),
           paused = coalesce(task_queue_configure.paused, x.paused)
     WHERE x.name = q.name
    RETURNING * INTO q;
    RETURN q;
EXCEPTION WHEN check_violation THEN
    RAISE EXCEPTION 'invalid queue policy for "%"', task_queue_configure.queue
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'lease must be positive, max_attempts 1..1000, backoff_base at least 0 and at most backoff_max, retention at least 0.',
              HINT = 'Pass only the settings to change.';
END
$$;
COMMENT ON FUNCTION task.task_queue_configure(text, interval, integer, interval, interval, interval, boolean) IS
    'Changes a queue''s worker policy: lease length, max attempts, backoff base and cap, retention (0 keeps forever), paused. Owning service only.';

-- The hot path runs generic plans: every statement in these functions is
-- a key lookup or the claim above, whose generic plans are the custom
-- ones, and planning each call cost more than the work (measured: a
-- dequeue-and-complete went from ~0.9 ms to ~0.3 ms of CPU). task_list
-- and the other catch-all queries keep the default.
ALTER FUNCTION task.task_create(text, text, text, text, jsonb, task.task_id, jsonb, timestamptz, text[], task.status, timestamptz, text, text, integer, task.task_id[], boolean)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION task.task_dequeue(text, integer, interval, interval, task.task_id, bigint, jsonb, text, task.task_id[], bigint[])
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION task.task_complete(task.task_id, jsonb, text, bigint)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION task.task_heartbeat(task.task_id, bigint, interval, double precision)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION task.task_progress(task.task_id, double precision, timestamptz, jsonb, bigint)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION task.task_fail(task.task_id, text, bigint, boolean)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION task.task_log(task.task_id, text, bigint, bigint, bigint, bigint)
    SET plan_cache_mode = force_generic_plan;

-- ---- sql/070_dependencies.sql
--
-- Dependencies settle in the transaction that settles their last
-- dependency: an AFTER trigger on completion, failure and cancellation
-- queues the blocked tasks whose dependencies have now all completed, and
-- cancels those that depend on a task that failed for good or was
-- cancelled, each with a log entry naming the cause.
--
-- Two dependencies of one task completing at the same time: each
-- transaction first locks the blocked dependents (in id order), then
-- checks them in a new statement. Under READ COMMITTED the second
-- transaction waits for the first's lock and its check sees the first's
-- completion, so the last one to commit releases the task.

-- Queue the blocked tasks among ids (all of one owner) whose dependencies
-- have all completed, each with a log entry; returns how many. Shared by
-- the settle trigger and the safety net in task_maintain().
CREATE FUNCTION task._release_ready(owner integer, ids task.task_id[], message text) RETURNS integer
    LANGUAGE plpgsql
AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN
        UPDATE task.task t SET status = 'queued', run_at = greatest(t.run_at, now())
         WHERE t.owner = _release_ready.owner AND t.id = ANY (_release_ready.ids)
           AND t.status = 'blocked'
           AND NOT EXISTS (SELECT FROM task.task_dependency d
                             JOIN task.task x ON x.owner = d.owner AND x.id = d.depends_on
                            WHERE d.owner = t.owner AND d.task_id = t.id AND x.status <> 'completed')
        RETURNING t.owner, t.id
    LOOP
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (r.owner, r.id, _release_ready.message, task.current_actor());
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION task._release_ready(integer, task.task_id[], text) IS
    'Internal: queues those of the given blocked tasks whose dependencies have all completed, logging the message; returns how many.';

CREATE FUNCTION task._settle_dependents() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    PERFORM FROM task.task t
     WHERE t.owner = NEW.owner AND t.status = 'blocked'
       AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                     WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
     ORDER BY t.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- a snapshot transaction cannot see a concurrent completion of another
    -- dependency, and both could commit leaving the task blocked for good
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'tasks with dependents must settle in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = format('Task %s has blocked dependents; this transaction is %s.',
                                  NEW.id, current_setting('transaction_isolation')),
                  HINT = 'Complete, fail or cancel it in READ COMMITTED (the default).';
    END IF;

    IF NEW.status = 'completed' THEN
        PERFORM task._release_ready(NEW.owner,
                                    ARRAY(SELECT d.task_id FROM task.task_dependency d
                                           WHERE d.owner = NEW.owner AND d.depends_on = NEW.id),
                                    format('released: its last dependency %s completed', NEW.id));
    ELSE
        FOR r IN
            UPDATE task.task t
               SET status = 'cancelled', error = format('dependency %s is %s', NEW.id, NEW.status)
             WHERE t.owner = NEW.owner AND t.status = 'blocked'
               AND t.id IN (SELECT d.task_id FROM task.task_dependency d
                             WHERE d.owner = NEW.owner AND d.depends_on = NEW.id)
            RETURNING t.owner, t.id
        LOOP
            INSERT INTO task.task_log (owner, task_id, message, by)
            VALUES (r.owner, r.id, format('cancelled: dependency %s is %s', NEW.id, NEW.status),
                    task.current_actor());
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION task._settle_dependents() IS
    'Trigger: releases (queued) or cancels the blocked tasks that depend on a task that just completed, failed for good or was cancelled.';

CREATE TRIGGER task_settle_dependents
    AFTER UPDATE OF status ON task.task
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION task._settle_dependents();

CREATE FUNCTION task.task_unblock(id task.task_id) RETURNS task.task
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t task.task;
BEGIN
    UPDATE task.task x SET status = 'queued', run_at = greatest(x.run_at, now())
     WHERE x.owner = task.task_id_owner(task_unblock.id) AND x.id = task_unblock.id
       AND task._may_write(x.owner, false)
       AND x.status = 'blocked'
    RETURNING * INTO t;
    IF NOT FOUND THEN
        PERFORM task._write_failed(task_unblock.id, 'unblock', false, NULL, '{blocked}');
    END IF;
    INSERT INTO task.task_log (owner, task_id, message, by)
    VALUES (t.owner, t.id, 'unblocked by its owner', task.current_actor());
    RETURN t;
END
$$;
COMMENT ON FUNCTION task.task_unblock(task.task_id) IS
    'Owner only: queues a blocked task now, whatever it was waiting for.';

-- ---- sql/075_maintenance.sql
--
-- Housekeeping and recurring tasks.
--
-- task_maintain() is the one call any scheduler makes: it rescues
-- expired leases, releases blocked tasks whose dependencies have all
-- completed (a safety net for the settle trigger), and purges finished
-- tasks past their queue's retention with their logs, access rows and
-- dependency rows. Every step locks only the rows it takes (SKIP LOCKED)
-- and does at most max_rows of work, so it can run beside workers and
-- beside itself.
--
-- pg_cron is optional: task_cron_enable() / task_cron_disable() install
-- and remove the job that calls task_maintain() every minute, and
-- task_schedule() creates one pg_cron job per recurring task. Nothing
-- here refers to pg_cron until one of those is called, so the extension
-- installs and works without it.

-- The purge walks finished tasks per queue, oldest first, and never reads
-- the tasks of a queue that keeps them forever.
CREATE INDEX task_finished_idx ON task.task (queue, status_at)
    WHERE status IN ('completed', 'failed', 'cancelled');
-- The dependency safety net reads blocked tasks only (few, and only while
-- they wait: the index holds no other row).
CREATE INDEX task_blocked_idx ON task.task (owner, id) WHERE status = 'blocked';

-- ---------------------------------------------------------------- checks
CREATE FUNCTION task._require_operations(what text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF NOT task.current_is_operations() THEN
        RAISE EXCEPTION 'permission denied to %', what
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Housekeeping is run by the system (an unmapped superuser) or an Operations account.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._require_operations(text) IS
    'Internal: 42501 unless the caller is the system or an active Operations account.';

-- ---------------------------------------------------------------- task_maintain
CREATE FUNCTION task.task_maintain(max_rows integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    q task.queue;
    r record;
    rescued integer := 0;
    released integer := 0;
    purged integer := 0;
    logs_purged integer := 0;
    n integer;
    n_logs integer;
BEGIN
    PERFORM task._require_operations('run maintenance');
    IF task_maintain.max_rows IS NULL OR task_maintain.max_rows NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 100000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep batches small and call again while "more" is true.';
    END IF;

    -- 1. expired leases, queue by queue (the rescue is the one dequeue uses)
    FOR q IN
        SELECT x.* FROM task.queue x
         WHERE EXISTS (SELECT FROM task.task t
                        WHERE t.queue = x.name AND t.status = 'processing'
                          AND t.lease_until < clock_timestamp())
         ORDER BY x.name
    LOOP
        EXIT WHEN rescued >= task_maintain.max_rows;
        rescued := rescued + task._rescue_leases(q, task_maintain.max_rows - rescued);
    END LOOP;

    -- 2. blocked tasks whose dependencies have all completed: the settle
    -- trigger releases them as the last dependency completes; this finds
    -- any it could not (rows written with triggers disabled, restores)
    FOR r IN
        SELECT c.owner, array_agg(c.id ORDER BY c.id) AS ids
          FROM (SELECT t.owner, t.id FROM task.task t
                 WHERE t.status = 'blocked'
                   AND EXISTS (SELECT FROM task.task_dependency d
                                WHERE d.owner = t.owner AND d.task_id = t.id)
                   AND NOT EXISTS (SELECT FROM task.task_dependency d
                                     JOIN task.task x ON x.owner = d.owner AND x.id = d.depends_on
                                    WHERE d.owner = t.owner AND d.task_id = t.id
                                      AND x.status <> 'completed')
                 ORDER BY t.owner, t.id
                 LIMIT task_maintain.max_rows
                 FOR UPDATE OF t SKIP LOCKED) c
         GROUP BY c.owner
         ORDER BY c.owner
    LOOP
        released := released + task._release_ready(r.owner, r.ids,
                                                    'released by maintenance: all its dependencies completed');
    END LOOP;

    -- 3. finished tasks past their queue's retention, oldest first, with
    -- their logs (no foreign key) and the dependency rows naming them
    -- (access rows and their own dependency rows go by cascade). A task
    -- that a blocked task still waits for is kept.
    FOR q IN SELECT x.* FROM task.queue x WHERE x.retention > '0' ORDER BY x.name LOOP
        EXIT WHEN purged >= task_maintain.max_rows;
        WITH victim AS MATERIALIZED (
            SELECT t.owner, t.id FROM task.task t
             WHERE t.queue = q.name
               AND t.status IN ('completed', 'failed', 'cancelled')
               AND t.status_at < now() - q.retention
               AND NOT EXISTS (SELECT FROM task.task_dependency d
                                 JOIN task.task b ON b.owner = d.owner AND b.id = d.task_id
                                WHERE d.owner = t.owner AND d.depends_on = t.id AND b.status = 'blocked')
             ORDER BY t.status_at
             LIMIT task_maintain.max_rows - purged
             FOR UPDATE OF t SKIP LOCKED),
        logs AS (
            DELETE FROM task.task_log l USING victim v
             WHERE l.owner = v.owner AND l.task_id = v.id
            RETURNING 1),
        deps AS (
            DELETE FROM task.task_dependency d USING victim v
             WHERE d.owner = v.owner AND d.depends_on = v.id
            RETURNING 1),
        gone AS (
            DELETE FROM task.task t USING victim v
             WHERE t.owner = v.owner AND t.id = v.id
            RETURNING 1)
        -- (deps runs too: PostgreSQL runs every data-modifying WITH)
        SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM logs)
          INTO n, n_logs;
        purged := purged + n;
        logs_purged := logs_purged + n_logs;
    END LOOP;

    RETURN jsonb_build_object(
        'leases_rescued', rescued,
        'released', released,
        'purged', purged,
        'logs_purged', logs_purged,
        -- a step stopped at max_rows: there may be more to do now
        'more', rescued >= task_maintain.max_rows OR released >= task_maintain.max_rows
                OR purged >= task_maintain.max_rows);
END
$$;
COMMENT ON FUNCTION task.task_maintain(integer) IS
    'Housekeeping, safe to run at any time and concurrently: rescues expired leases, releases blocked tasks whose dependencies have all completed, and purges finished tasks older than their queue''s retention (0 keeps forever) with their logs, access and dependency rows; at most max_rows of each a call. Returns the counts and "more" (a batch was full: call again). System or Operations only. Call it every minute from pg_cron (task_cron_enable) or any other scheduler.';

-- ---------------------------------------------------------------- pg_cron
-- Can this database schedule pg_cron jobs? Raises a clear error if not;
-- elsewhere is the statement to run in the pg_cron database instead
-- (NULL: there is none).
CREATE FUNCTION task._cron_check(elsewhere text) RETURNS void
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
BEGIN
    IF cron_db IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not available'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The pg_cron library is not loaded (there is no cron.database_name setting).',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, restart, then CREATE EXTENSION pg_cron; or call task.task_maintain() every minute from another scheduler.';
    END IF;
    IF cron_db <> current_database() THEN
        RAISE EXCEPTION 'pg_cron runs its jobs from database "%", not "%"', cron_db, current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_cron''s functions exist only in the database named by cron.database_name.',
                  HINT = CASE WHEN elsewhere IS NULL
                              THEN format('Install the extension in database "%s", or set cron.database_name to "%s" and restart.',
                                          cron_db, current_database())
                              ELSE format('Connected to database "%s" as a superuser, run: %s', cron_db, elsewhere) END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron')
       OR to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run CREATE EXTENSION pg_cron as a superuser; or call task.task_maintain() every minute from another scheduler.';
    END IF;
    IF to_regprocedure('cron.schedule(text,text,text)') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is too old: named jobs need pg_cron 1.4 or later'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run ALTER EXTENSION pg_cron UPDATE after installing pg_cron 1.4 or later.';
    END IF;
END
$$;
COMMENT ON FUNCTION task._cron_check(text) IS
    'Internal: 55000 with a hint unless pg_cron is loaded, installed here and runs jobs in this database.';

-- Schedule (or replace) a named pg_cron job owned by the extension's owner,
-- turning pg_cron's bare "invalid schedule" into an error with a hint.
CREATE FUNCTION task._cron_schedule(job text, schedule text, command text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'a cron schedule is required'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Use a five-field cron expression such as ''* * * * *'' (every minute).';
    END IF;
    RETURN cron.schedule(job, schedule, command);
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION 'invalid cron schedule: "%"', left(schedule, 100)
        USING ERRCODE = 'invalid_parameter_value',
              DETAIL = 'pg_cron could not parse it.',
              HINT = 'Use five fields, minute hour day-of-month month day-of-week, such as ''*/5 * * * *''; pg_cron 1.4 has minute granularity.';
END
$$;
COMMENT ON FUNCTION task._cron_schedule(text, text, text) IS
    'Internal: cron.schedule(job, schedule, command) with a clear error for a bad schedule.';

-- Remove a named pg_cron job of the extension's owner if it exists.
CREATE FUNCTION task._cron_unschedule(job text) RETURNS boolean
    LANGUAGE plpgsql
AS $$
BEGIN
    -- two statements: the second does not parse without pg_cron
    IF to_regnamespace('cron') IS NULL THEN
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT FROM cron.job j WHERE j.jobname = _cron_unschedule.job AND j.username = current_user) THEN
        RETURN false;
    END IF;
    RETURN cron.unschedule(_cron_unschedule.job);
END
$$;
COMMENT ON FUNCTION task._cron_unschedule(text) IS
    'Internal: removes the named pg_cron job of the extension owner; false when there is none (or no pg_cron).';

CREATE FUNCTION task.task_cron_enable(schedule text DEFAULT '* * * * *') RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('schedule maintenance');
    PERFORM task._cron_check(format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                    'task-maintain:' || current_database(), task_cron_enable.schedule,
                                    'SELECT task.task_maintain()', current_database()));
    RETURN task._cron_schedule('task-maintain', task_cron_enable.schedule, 'SELECT task.task_maintain()');
END
$$;
COMMENT ON FUNCTION task.task_cron_enable(text) IS
    'Installs (or reschedules) the pg_cron job "task-maintain" running SELECT task.task_maintain() on the given cron schedule (default every minute); returns the pg_cron job id. Needs pg_cron installed in this database (cron.database_name); the error''s hint says what to run otherwise. System or Operations only.';

CREATE FUNCTION task.task_cron_disable() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM task._require_operations('schedule maintenance');
    PERFORM task._cron_check(format('SELECT cron.unschedule(%L);', 'task-maintain:' || current_database()));
    RETURN task._cron_unschedule('task-maintain');
END
$$;
COMMENT ON FUNCTION task.task_cron_disable() IS
    'Removes the pg_cron job "task-maintain"; false when it was not installed. System or Operations only.';

-- ---------------------------------------------------------------- recurring tasks
CREATE TABLE task.schedule (
    owner          integer NOT NULL REFERENCES task.service ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,40}$'),
    cron           text NOT NULL,
    queue          text NOT NULL,
    template       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by     text NOT NULL,
    last_run_at    timestamptz,
    last_task      task.task_id,
    runs           bigint NOT NULL DEFAULT 0,
    failures       bigint NOT NULL DEFAULT 0,
    last_error     text,
    last_error_at  timestamptz,
    PRIMARY KEY (owner, name)
);
COMMENT ON TABLE task.schedule IS
    'Recurring tasks: on each tick of cron, pg_cron calls task._run_schedule, which creates a task from the template for the owning service.';
COMMENT ON COLUMN task.schedule.owner IS 'The service that scheduled it (SVC-XXXX number); its tasks belong to this service.';
COMMENT ON COLUMN task.schedule.name IS 'Name, unique per service: letters, digits, "_", "-", ".", at most 40.';
COMMENT ON COLUMN task.schedule.cron IS 'pg_cron schedule, five fields (minute granularity).';
COMMENT ON COLUMN task.schedule.template IS 'The task_create arguments as JSON: code and queue, optionally name, description, object, parameters, access, ordering_key, max_attempts.';
COMMENT ON COLUMN task.schedule.last_run_at IS 'The last tick, successful or not.';
COMMENT ON COLUMN task.schedule.last_task IS 'The task the last successful tick created.';
COMMENT ON COLUMN task.schedule.last_error IS 'SQLSTATE and message of the last tick that failed to create its task (kept after later successes; compare last_error_at with last_run_at).';
SELECT pg_catalog.pg_extension_config_dump('task.schedule', '');

CREATE FUNCTION task._schedule_job(owner integer, name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN 'task-schedule:' OPERATOR(pg_catalog.||) task.service_text(owner)
           OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) name;
COMMENT ON FUNCTION task._schedule_job(integer, text) IS 'Internal: the pg_cron job name of a schedule.';

-- Create the task a template describes, as the caller.
CREATE FUNCTION task._schedule_task(template jsonb) RETURNS task.task
    LANGUAGE plpgsql
AS $$
BEGIN
    RETURN task.task_create(
        code         => template->>'code',
        queue        => template->>'queue',
        name         => template->>'name',
        description  => template->>'description',
        object       => template->'object',
        parameters   => template->'parameters',
        access       => CASE WHEN template ? 'access'
                             THEN ARRAY(SELECT jsonb_array_elements_text(template->'access')) END,
        ordering_key => template->>'ordering_key',
        max_attempts => (template->>'max_attempts')::integer);
END
$$;
COMMENT ON FUNCTION task._schedule_task(jsonb) IS 'Internal: task_create with the arguments of a schedule template.';

CREATE FUNCTION task.task_schedule(name text, cron text, template jsonb) RETURNS task.schedule
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    allowed constant text[] := ARRAY['code', 'queue', 'name', 'description', 'object', 'parameters',
                                     'access', 'ordering_key', 'max_attempts'];
    unknown text;
    q task.queue;
    owner_id integer;
    s task.schedule;
BEGIN
    IF task_schedule.name IS NULL OR task_schedule.name !~ '^[A-Za-z0-9_.-]{1,40}$' THEN
        RAISE EXCEPTION 'invalid schedule name: "%"', left(task_schedule.name, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A schedule name is 1 to 40 letters, digits, "_", "-" or ".".',
                  HINT = 'Use a name such as "nightly-report".';
    END IF;
    IF task_schedule.template IS NULL OR jsonb_typeof(task_schedule.template) <> 'object' THEN
        RAISE EXCEPTION 'a schedule template must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the task_create arguments, e.g. ''{"code": "report", "queue": "ns/reports"}''.';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
      FROM jsonb_object_keys(task_schedule.template) k WHERE k <> ALL (allowed);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown key in schedule template: %', unknown
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('A template takes %s.', array_to_string(allowed, ', ')),
                  HINT = 'Each tick creates a new task now: run_at, status, parent, dependencies and idempotency keys do not apply.';
    END IF;
    IF task_schedule.template->>'queue' IS NULL OR task_schedule.template->>'code' IS NULL THEN
        RAISE EXCEPTION 'a schedule template needs a code and a queue'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass e.g. ''{"code": "report", "queue": "ns/reports"}''.';
    END IF;

    -- who: a service schedules in its own queues; the system for a queue's owner
    IF task.current_kind() NOT IN ('service', 'system') THEN
        RAISE EXCEPTION 'permission denied to schedule tasks'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Recurring tasks are scheduled by the service that owns the queue.';
    END IF;
    PERFORM task._cron_check(NULL);
    SELECT * INTO q FROM task.queue x WHERE x.name = task_schedule.template->>'queue';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" not found', task_schedule.template->>'queue'
            USING ERRCODE = 'no_data_found',
                  HINT = 'Create the queue first with task_queue_create().';
    END IF;
    IF task.current_kind() = 'service' AND q.owner <> task.current_service() THEN
        RAISE EXCEPTION 'permission denied to schedule tasks in queue "%"', q.name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The queue belongs to %s; the caller acts as %s.',
                                  task.service_text(q.owner), task.current_actor()),
                  HINT = 'A service schedules tasks in its own queues only.';
    END IF;
    owner_id := q.owner;

    -- try the template now, so a bad one fails here and not at every tick
    -- (the trial task is rolled back; it only uses up one task number)
    BEGIN
        PERFORM task._schedule_task(task_schedule.template);
        RAISE EXCEPTION USING ERRCODE = 'TKD01';
    EXCEPTION WHEN SQLSTATE 'TKD01' THEN
        NULL;
    END;

    INSERT INTO task.schedule AS x (owner, name, cron, queue, template, created_by)
    VALUES (owner_id, task_schedule.name, task_schedule.cron, q.name, task_schedule.template, task.current_actor())
    ON CONFLICT (owner, name) DO UPDATE
       SET cron = excluded.cron, queue = excluded.queue, template = excluded.template
    RETURNING * INTO s;
    PERFORM task._cron_schedule(task._schedule_job(owner_id, task_schedule.name), task_schedule.cron,
                                format('SELECT task._run_schedule(%s, %L)', owner_id, task_schedule.name));
    RETURN s;
END
$$;
COMMENT ON FUNCTION task.task_schedule(text, text, jsonb) IS
    'Creates (or replaces) the recurring task name: on each tick of the pg_cron schedule cron, a task is created from template (the task_create arguments as JSON: code, queue, name, description, object, parameters, access, ordering_key, max_attempts) in a queue of the calling service, owned by it. The template is tried once at once. A tick that fails records last_error (task_schedules). Needs pg_cron in this database.';

-- The pg_cron job of a schedule calls this (as the extension's owner, so
-- it is SECURITY DEFINER only to pin its search_path). It creates the
-- task for the schedule's owner; a failure is recorded on the schedule,
-- never raised, so it is not lost in pg_cron's run log.
CREATE FUNCTION task._run_schedule(owner integer, name text) RETURNS task.task_id
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    s task.schedule;
    q task.queue;
    t task.task;
    state text;
    message text;
BEGIN
    SELECT * INTO s FROM task.schedule x
     WHERE x.owner = _run_schedule.owner AND x.name = _run_schedule.name
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- gone (its service was deleted): remove the orphan job; or busy: skip this tick
        IF NOT EXISTS (SELECT FROM task.schedule x
                        WHERE x.owner = _run_schedule.owner AND x.name = _run_schedule.name) THEN
            PERFORM task._cron_unschedule(task._schedule_job(_run_schedule.owner, _run_schedule.name));
        END IF;
        RETURN NULL;
    END IF;
    BEGIN
        SELECT * INTO q FROM task.queue x WHERE x.name = s.queue;
        IF NOT FOUND OR q.owner <> s.owner THEN
            RAISE EXCEPTION 'queue "%" no longer belongs to %', s.queue, task.service_text(s.owner)
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Unschedule it (task_unschedule) and schedule it again in a queue of the service.';
        END IF;
        t := task._schedule_task(s.template);
        INSERT INTO task.task_log (owner, task_id, message, by)
        VALUES (t.owner, t.id, format('created by schedule "%s" of %s (%s)', s.name, task.service_text(s.owner), s.cron),
                task.current_actor());
        UPDATE task.schedule x SET last_run_at = now(), last_task = t.id, runs = x.runs + 1
         WHERE x.owner = s.owner AND x.name = s.name;
        RETURN t.id;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        UPDATE task.schedule x
           SET last_run_at = now(), failures = x.failures + 1,
               last_error = format('%s: %s', state, message), last_error_at = now()
         WHERE x.owner = s.owner AND x.name = s.name;
        RAISE WARNING 'schedule "%" of % could not create its task: %', s.name, task.service_text(s.owner), message;
        RETURN NULL;
    END;
END
$$;
COMMENT ON FUNCTION task._run_schedule(integer, text) IS
    'Internal, called by the pg_cron job of a schedule: creates its task for the owning service and records the run, or the error, on the schedule.';

CREATE FUNCTION task.task_unschedule(name text, owner text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    svc integer := task.current_service();
    owner_id integer;
BEGIN
    IF svc IS NOT NULL THEN
        IF task_unschedule.owner IS NOT NULL AND task.service_number(task_unschedule.owner) <> svc THEN
            RAISE EXCEPTION 'permission denied to unschedule tasks of %', task_unschedule.owner
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'A service removes its own schedules only; leave owner out.';
        END IF;
        owner_id := svc;
    ELSIF task.current_is_operations() THEN
        IF task_unschedule.owner IS NULL THEN
            RAISE EXCEPTION 'which service''s schedule?'
                USING ERRCODE = 'null_value_not_allowed',
                      HINT = 'Pass owner => ''SVC-XXXX''.';
        END IF;
        owner_id := task.service_number(task_unschedule.owner);
    ELSE
        RAISE EXCEPTION 'permission denied to unschedule tasks'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The caller acts as %s.', task.current_actor()),
                  HINT = 'Schedules are removed by their service or by Operations.';
    END IF;
    DELETE FROM task.schedule x WHERE x.owner = owner_id AND x.name = task_unschedule.name;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM task._cron_unschedule(task._schedule_job(owner_id, task_unschedule.name));
    RETURN true;
END
$$;
COMMENT ON FUNCTION task.task_unschedule(text, text) IS
    'Removes a recurring task and its pg_cron job; false when there was none. A service removes its own; Operations name the owner (SVC-XXXX).';

CREATE FUNCTION task.task_schedules() RETURNS SETOF task.schedule
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
    SELECT * FROM task.schedule s
     WHERE task.current_is_operations() OR s.owner = task.current_service()
     ORDER BY s.owner, s.name
$$;
COMMENT ON FUNCTION task.task_schedules() IS
    'The recurring tasks the caller may see (a service its own, Operations all), with their last run, last task and last error.';

-- ---- sql/080_access.sql
--
-- Direct table access: group roles, grants and row-level security.
--
-- The SQL API (SECURITY DEFINER) checks the caller itself; these policies
-- govern what a role may read, and a service may update, directly. Every
-- table has FORCE ROW LEVEL SECURITY. INSERT and DELETE are granted to
-- nobody: rows are created and removed through the API only.
--
-- Policies are attached TO the group role of each kind of caller, so the
-- planner applies only the caller's own rule and can use its index: a
-- client's read of task.task is a primary-key probe per task on its access
-- list, a service's a range of its (owner, ...) indexes. Each rule still checks
-- the identity from task.login (or the JWT claims of a web role), so a
-- role in the wrong group sees nothing, never more.
--
-- Roles are cluster-wide and outlive DROP EXTENSION; they are created here
-- when missing and never dropped by the extension.

DO $$
DECLARE
    r text;
BEGIN
    -- group roles, one per kind of caller
    FOREACH r IN ARRAY ARRAY['task_operations', 'task_service', 'task_vendor', 'task_client'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    -- web roles for PostgREST: NOLOGIN, granted only to its authenticator;
    -- their identity comes from the verified JWT claim "task_identity"
    FOREACH r IN ARRAY ARRAY['operations', 'service', 'vendor', 'client'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'task_web_' || r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN IN ROLE %I', 'task_web_' || r, 'task_' || r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'task_web_anon') THEN
        CREATE ROLE task_web_anon NOLOGIN;
    END IF;
END
$$;

-- ---------------------------------------------------------------- grants
GRANT SELECT ON task.service, task.account, task.login, task.queue, task.task,
                task.task_access, task.task_log, task.task_dependency TO task_operations;
GRANT SELECT ON task.service, task.queue, task.task, task.task_access,
                task.task_log, task.task_dependency TO task_service;
-- the owning service may change these directly; the trigger checks and
-- audits them exactly as for an API call
GRANT UPDATE (name, description, object, progress, eta, parameters, status,
              result, result_value, error) ON task.task TO task_service;
GRANT SELECT ON task.account, task.task, task.task_access TO task_vendor, task_client;

-- ---------------------------------------------------------------- policies
ALTER TABLE task.service ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.service FORCE ROW LEVEL SECURITY;
CREATE POLICY service_operations ON task.service FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY service_self ON task.service FOR SELECT TO task_service
    USING (id = (SELECT task.current_service()));

ALTER TABLE task.account ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.account FORCE ROW LEVEL SECURITY;
CREATE POLICY account_operations ON task.account FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY account_self ON task.account FOR SELECT TO task_vendor, task_client
    USING (id = (SELECT task.current_account()));

ALTER TABLE task.login ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.login FORCE ROW LEVEL SECURITY;
CREATE POLICY login_operations ON task.login FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));

ALTER TABLE task.queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.queue FORCE ROW LEVEL SECURITY;
CREATE POLICY queue_operations ON task.queue FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY queue_owner ON task.queue FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

ALTER TABLE task.task ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.task FORCE ROW LEVEL SECURITY;
CREATE POLICY task_operations ON task.task FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY task_owner ON task.task FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));
CREATE POLICY task_owner_update ON task.task FOR UPDATE TO task_service
    USING (owner = (SELECT task.current_service()))
    WITH CHECK (owner = (SELECT task.current_service()));
-- An array, not IN (SELECT ...): sublinks in policies are never turned into
-- joins, but id = ANY(array) is a primary-key probe per visible task (ids
-- are unique across owners, so the id alone is exact).
CREATE POLICY task_access_list ON task.task FOR SELECT TO task_vendor, task_client
    USING (id = ANY (ARRAY(SELECT a.task_id FROM task.task_access a
                            WHERE a.account = (SELECT task.current_account()))));

ALTER TABLE task.task_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.task_access FORCE ROW LEVEL SECURITY;
CREATE POLICY task_access_operations ON task.task_access FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY task_access_owner ON task.task_access FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));
CREATE POLICY task_access_self ON task.task_access FOR SELECT TO task_vendor, task_client
    USING (account = (SELECT task.current_account()));

ALTER TABLE task.task_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.task_log FORCE ROW LEVEL SECURITY;
CREATE POLICY task_log_operations ON task.task_log FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY task_log_owner ON task.task_log FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

ALTER TABLE task.task_dependency ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.task_dependency FORCE ROW LEVEL SECURITY;
CREATE POLICY task_dependency_operations ON task.task_dependency FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY task_dependency_owner ON task.task_dependency FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

ALTER TABLE task.schedule ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.schedule FORCE ROW LEVEL SECURITY;
GRANT SELECT ON task.schedule TO task_operations, task_service;
CREATE POLICY schedule_operations ON task.schedule FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));
CREATE POLICY schedule_owner ON task.schedule FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

-- ---------------------------------------------------------------- membership
-- The group role that goes with an identity: task_login_grant makes a login
-- a member of it (and of no other), task_login_revoke of none.
CREATE FUNCTION task._group_role(identity text) RETURNS name
    LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN identity LIKE 'SVC-%' THEN 'task_service'
        ELSE (SELECT CASE a.type WHEN 'Operations' THEN 'task_operations'
                                 WHEN 'Vendor' THEN 'task_vendor'
                                 ELSE 'task_client' END
                FROM task.account a WHERE a.id = task.account_number(identity))
    END::name
$$;
COMMENT ON FUNCTION task._group_role(text) IS 'Internal: the group role (task_service, task_operations, task_vendor, task_client) of a service or account id.';

CREATE FUNCTION task._set_group(role regrole, grp name) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    g name;
BEGIN
    FOREACH g IN ARRAY ARRAY['task_operations', 'task_service', 'task_vendor', 'task_client']::name[] LOOP
        IF g IS DISTINCT FROM grp AND pg_has_role(role::oid, g, 'MEMBER')
           AND EXISTS (SELECT FROM pg_auth_members m
                        WHERE m.member = role::oid AND m.roleid = (SELECT oid FROM pg_roles WHERE rolname = g)) THEN
            EXECUTE format('REVOKE %I FROM %s', g, role);
        END IF;
    END LOOP;
    IF grp IS NOT NULL THEN
        EXECUTE format('GRANT %I TO %s', grp, role);
    END IF;
END
$$;
COMMENT ON FUNCTION task._set_group(regrole, name) IS 'Internal: makes a role a direct member of exactly one task group role (or none).';

-- ---- sql/090_privileges.sql
--
-- Privileges. Tables and sequences: nobody but the owner (the API
-- functions are SECURITY DEFINER and check the caller themselves).
-- Functions: the public API is callable by any role with USAGE on the
-- schema -- what it may do is decided by task.login, not by grants -- and
-- the internal helpers (names starting with "_") by nobody but the owner.

REVOKE ALL ON ALL TABLES IN SCHEMA task FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA task FROM PUBLIC;
GRANT USAGE ON SCHEMA task TO PUBLIC;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'task'::regnamespace AND p.proname LIKE '\_%'
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;

-- ---- sql/100_http.sql
--
-- The HTTP layer: schema `api`, exposed by PostgREST (db-schemas = "api",
-- db-extra-search-path = "task" for the task_id operators). The README's
-- "HTTP (PostgREST)" section and docs/postgrest.conf tell how to run it.
--
--   GET  /tasks                  the view api.tasks (filters, order, limit/offset;
--                                Accept: application/vnd.pgrst.object+json for one)
--   GET  /rpc/task_get?id=       one task; 404 when missing or out of scope
--   GET  /rpc/task_logs?id=      its log (Operations and the owning service)
--   GET  /rpc/task_result?id=    200 with a JSON result, 303 + Location for a resource
--   POST /rpc/task_create        201 + Location (services)
--   POST /rpc/task_progress, task_log, task_heartbeat, task_complete, task_fail,
--        task_reschedule, task_cancel, task_retry, task_dequeue
--
-- Who the caller is comes from the web role PostgREST switches to and the
-- JWT claim "task_identity" (src/identity.c): nothing here decides identity.
-- The view is security_invoker, so row-level security on task.task picks
-- the rows; names of services and accounts come from task_get (SECURITY
-- DEFINER, by id, re-checking visibility), so nothing outside the caller's
-- scope can be read through it. The functions are SECURITY DEFINER wrappers
-- of the SQL API that translate its errors into HTTP statuses.
--
-- The schema can be renamed after install (ALTER SCHEMA api RENAME TO ...):
-- nothing refers to it by name.

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
    'Task API over HTTP (PostgREST): tasks, their logs and results, and the worker operations of seed 000.';

-- ---------------------------------------------------------------- errors
-- PostgREST answers 500 for P0002 and 55000 and 40001; a client of seed 000
-- expects 404 for a missing task and 409 for a conflict. A SQLSTATE PTxyz
-- makes PostgREST answer HTTP status xyz: re-raise with it, keeping the
-- message, detail and hint (absent ones stay absent, i.e. JSON null).
CREATE FUNCTION task._http_raise(state text, message text, detail text, hint text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    code text := CASE state
        WHEN 'P0002' THEN 'PT404'   -- no_data_found: missing, or outside the caller's scope
        WHEN '55000' THEN 'PT409'   -- object_not_in_prerequisite_state: wrong status, lease lost
        WHEN '40001' THEN 'PT409'   -- serialization_failure: a concurrent change won (revision conflict)
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
    'Internal: re-raises an error of the SQL API for PostgREST: P0002 as PT404, 55000 and 40001 as PT409 (HTTP 404, 409), others unchanged; message, detail and hint are kept.';

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
    IF current_user IN ('task_web_operations', 'task_web_service', 'task_web_vendor', 'task_web_client')
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

-- ---------------------------------------------------------------- tasks
-- The Task object (seed 001) as columns. Scalar fields come from the row
-- (so filters on id, status, code, queue use them directly); the fields
-- that carry names of services and accounts (parent, owner, access,
-- audit) and the formatted eta and result come from task_get, one call per
-- row returned. Default order: most recent status change first. The rows
-- are sorted before task_get runs, so a page (limit) costs one call per
-- task on it; filters on the row's columns are pushed below the sort.
-- An explicit order=... sorts after task_get, i.e. calls it for every
-- matching row: fine for a caller's own tasks, costly for an operator
-- listing everything unfiltered.
CREATE VIEW api.tasks WITH (security_invoker = true) AS
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
COMMENT ON VIEW api.tasks IS
$$Tasks the caller may see (seed 001 Task objects), most recent status change first. Filter with id, status (capitalised: Queued, Completed, ...), code, queue, object->>id, parent->>id; page with limit and offset. One task: GET /tasks?id=eq.TSK-... with Accept: application/vnd.pgrst.object+json (406 when none), or GET /rpc/task_get?id=... (404).$$;
COMMENT ON COLUMN api.tasks.id IS 'TSK-XXXX-YYYY-YYYY-YYYY; XXXX is the owning service.';
COMMENT ON COLUMN api.tasks.name IS 'The name of the operation.';
COMMENT ON COLUMN api.tasks.revision IS 'Bumped on every change.';
COMMENT ON COLUMN api.tasks.status IS 'Blocked, Queued, Processing, Completed, Failed, Rescheduled or Cancelled.';
COMMENT ON COLUMN api.tasks.code IS 'The workflow, prefixed with the service namespace (e.g. accounts.buyers.transfer).';
COMMENT ON COLUMN api.tasks.queue IS 'The FIFO queue, under the owning service''s namespace.';
COMMENT ON COLUMN api.tasks.object IS 'The business object the task is about, e.g. {"id": "BUY-1190-0394"}.';
COMMENT ON COLUMN api.tasks.description IS 'A description of the task.';
COMMENT ON COLUMN api.tasks.parent IS 'The parent task {id, name}, if any.';
COMMENT ON COLUMN api.tasks.progress IS 'Percent 0..100, once started.';
COMMENT ON COLUMN api.tasks.eta IS 'Estimated completion (ISO 8601, UTC).';
COMMENT ON COLUMN api.tasks.parameters IS 'Task-specific parameters.';
COMMENT ON COLUMN api.tasks.result IS 'Relative URI of the result: a resource, or the task''s JSON result (GET /rpc/task_result).';
COMMENT ON COLUMN api.tasks.error IS 'Why the last attempt failed, or why the task was cancelled.';
COMMENT ON COLUMN api.tasks.owner IS 'The owning service {id, name, revision}.';
COMMENT ON COLUMN api.tasks.access IS 'Accounts with access to the task and its result [{id, name, revision, type, status}].';
COMMENT ON COLUMN api.tasks.audit IS 'created, updated, started, completed, failed, rescheduled, cancelled: {at, by}.';

-- ---------------------------------------------------------------- reads
CREATE FUNCTION api.task_get(id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task.task_get(task_get.id::task.task_id);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_get(text) IS
    'Gets a task by id (seed 001 Task object; absent fields are left out). 404 when it does not exist or is outside the caller''s scope, 400 for a malformed id.';

CREATE FUNCTION api.task_logs(id text, log_limit integer DEFAULT 10, log_offset integer DEFAULT 0)
    RETURNS TABLE (at text, message text, errors bigint, skips bigint, success bigint, total bigint, by text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY
    SELECT task._iso(l.at), l.message, l.errors, l.skips, l.success, l.total, l.by
      FROM task.task_logs(task_logs.id::task.task_id, task_logs.log_limit, task_logs.log_offset) l;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.task_logs(text, integer, integer) IS
    'Gets the log records of a task, newest first: at, message, counters errors/skips/success/total, by. Page with log_limit (1..1000, default 10) and log_offset. Operations and the owning service only (403 for an account on the access list, 404 out of scope).';

CREATE FUNCTION api.task_result(id text) RETURNS jsonb
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
    SELECT t.result INTO resource FROM task.task t
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

-- ---------------------------------------------------------------- create
CREATE FUNCTION api.task_create(
    code            text,
    queue           text,
    name            text DEFAULT NULL,
    description     text DEFAULT NULL,
    object          jsonb DEFAULT NULL,
    parent          text DEFAULT NULL,
    parameters      jsonb DEFAULT NULL,
    eta             timestamptz DEFAULT NULL,
    access          text[] DEFAULT NULL,
    status          text DEFAULT 'queued',
    run_at          timestamptz DEFAULT NULL,
    idempotency_key text DEFAULT NULL,
    ordering_key    text DEFAULT NULL,
    max_attempts    integer DEFAULT NULL,
    depends_on      text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    t task.task;
    s text; m text; d text; h text;
BEGIN
    t := task.task_create(task_create.code, task_create.queue,
                          name => task_create.name, description => task_create.description,
                          object => task_create.object, parent => task_create.parent::task.task_id,
                          parameters => task_create.parameters, eta => task_create.eta,
                          access => task_create.access,
                          status => lower(coalesce(task_create.status, 'queued'))::task.status,
                          run_at => task_create.run_at, idempotency_key => task_create.idempotency_key,
                          ordering_key => task_create.ordering_key, max_attempts => task_create.max_attempts,
                          depends_on => task_create.depends_on::task.task_id[]);
    PERFORM task._http_respond(201, '/tasks?id=eq.' || t.id::text);
    RETURN task._task_json(t);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[]) IS
    'Creates a task in a queue of the calling service and answers 201 with the Task object and Location: /tasks?id=eq.<id>. Body: code, queue (required); name, description, object, parent, parameters, eta, access (account ids), status (queued or blocked), run_at, idempotency_key, ordering_key, max_attempts, depends_on. Services only (403 for accounts).';

-- ---------------------------------------------------------------- worker
CREATE FUNCTION api.task_progress(id text, progress double precision DEFAULT NULL, eta timestamptz DEFAULT NULL,
                                  parameters jsonb DEFAULT NULL, token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_progress(task_progress.id::task.task_id, task_progress.progress,
                                              task_progress.eta, task_progress.parameters, task_progress.token));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_progress(text, double precision, timestamptz, jsonb, bigint) IS
    'Owning service: sets progress (0..100), eta and parameters of an unfinished task; answers the Task object. With token, only while that claim holds (409 otherwise).';

CREATE FUNCTION api.task_log(id text, message text, errors bigint DEFAULT NULL, skips bigint DEFAULT NULL,
                             success bigint DEFAULT NULL, total bigint DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    PERFORM task.task_log(task_log.id::task.task_id, task_log.message, task_log.errors, task_log.skips,
                          task_log.success, task_log.total);
    PERFORM task._http_respond(204, NULL);
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.task_log(text, text, bigint, bigint, bigint, bigint) IS
    'Owning service: appends a log record (message, optional counters errors, skips, success, total); answers 204.';

CREATE FUNCTION api.task_heartbeat(id text, token bigint, lease interval DEFAULT NULL,
                                   progress double precision DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_heartbeat(task_heartbeat.id::task.task_id, task_heartbeat.token,
                                               task_heartbeat.lease, task_heartbeat.progress));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_heartbeat(text, bigint, interval, double precision) IS
    'Worker: extends the lease of a claimed task (lease, e.g. "5 minutes", or the queue''s), optionally with progress. 409 when the lease is lost.';

CREATE FUNCTION api.task_complete(id text, result jsonb DEFAULT NULL, resource text DEFAULT NULL,
                                  token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_complete(task_complete.id::task.task_id, task_complete.result,
                                              task_complete.resource, task_complete.token));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_complete(text, jsonb, text, bigint) IS
    'Worker: completes a processing task with a JSON result or a resource URI (relative); answers the Task object. 409 when it is not processing or the lease is lost.';

CREATE FUNCTION api.task_fail(id text, error text, token bigint DEFAULT NULL, retry boolean DEFAULT true)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_fail(task_fail.id::task.task_id, task_fail.error, task_fail.token,
                                          task_fail.retry));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_fail(text, text, bigint, boolean) IS
    'Worker: reports a failed attempt; the task is rescheduled with backoff while attempts remain (and retry is true), else failed. Answers the Task object.';

CREATE FUNCTION api.task_reschedule(id text, at timestamptz, token bigint DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_reschedule(task_reschedule.id::task.task_id, task_reschedule.at,
                                                task_reschedule.token));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_reschedule(text, timestamptz, bigint) IS
    'Worker: gives a claimed task back to run again at a given time (status Rescheduled). Answers the Task object.';

CREATE FUNCTION api.task_cancel(id text, reason text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_cancel(task_cancel.id::task.task_id, task_cancel.reason));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_cancel(text, text) IS
    'Cancels an unfinished task (owning service or Operations), with an optional reason. Answers the Task object; 409 when it is already finished.';

CREATE FUNCTION api.task_retry(id text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN task._task_json(task.task_retry(task_retry.id::task.task_id));
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION api.task_retry(text) IS
    'Re-queues a failed task with a fresh attempt budget (owning service or Operations). Answers the Task object; 409 unless it is failed.';

-- The claim: each task comes with the fencing token the calls that follow need.
CREATE FUNCTION api.task_dequeue(queue text, n integer DEFAULT 1, lease interval DEFAULT NULL,
                                 wait interval DEFAULT '0')
    RETURNS SETOF jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = task, pg_catalog, pg_temp
AS $$
DECLARE
    s text; m text; d text; h text;
BEGIN
    RETURN QUERY
    SELECT task._task_json(t) || pg_catalog.jsonb_build_object('token', t.lease_token,
                                                               'lease_until', task._iso(t.lease_until))
      FROM task.task_dequeue(task_dequeue.queue, task_dequeue.n, task_dequeue.lease, task_dequeue.wait) t;
EXCEPTION WHEN no_data_found OR object_not_in_prerequisite_state OR serialization_failure THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    PERFORM task._http_raise(s, m, d, h);
END
$$;
COMMENT ON FUNCTION api.task_dequeue(text, integer, interval, interval) IS
    'Worker (owning service): claims up to n runnable tasks of the queue in FIFO order and answers them as Task objects with the claim''s token and lease_until. 404 for a queue outside the caller''s scope.';

-- ---------------------------------------------------------------- privileges
-- The web roles only: PUBLIC, logins and task_web_anon get nothing in api.
REVOKE ALL ON FUNCTION task._http_raise(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._http_respond(integer, text) FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO task_web_operations, task_web_service, task_web_vendor, task_web_client;
GRANT SELECT ON api.tasks TO task_web_operations, task_web_service, task_web_vendor, task_web_client;
GRANT EXECUTE ON FUNCTION api.task_get(text), api.task_logs(text, integer, integer), api.task_result(text)
    TO task_web_operations, task_web_service, task_web_vendor, task_web_client;
-- writes: what each kind may do is checked by the SQL API (accounts get
-- 403 from it); granting all web roles keeps one error path
GRANT EXECUTE ON FUNCTION
    api.task_create(text, text, text, text, jsonb, text, jsonb, timestamptz, text[], text, timestamptz, text, text, integer, text[]),
    api.task_progress(text, double precision, timestamptz, jsonb, bigint),
    api.task_log(text, text, bigint, bigint, bigint, bigint),
    api.task_heartbeat(text, bigint, interval, double precision),
    api.task_complete(text, jsonb, text, bigint),
    api.task_fail(text, text, bigint, boolean),
    api.task_reschedule(text, timestamptz, bigint),
    api.task_cancel(text, text),
    api.task_retry(text),
    api.task_dequeue(text, integer, interval, interval)
    TO task_web_operations, task_web_service, task_web_vendor, task_web_client;
