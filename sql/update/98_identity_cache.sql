\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The caller's identity is kept across a session's transactions while
-- nothing it was read from changes (src/identity.c): the statement trigger
-- of task.login, task.account and task.service that tells every backend.
CREATE FUNCTION task._identity_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'task_identity_changed' LANGUAGE C;
COMMENT ON FUNCTION task._identity_changed() IS
    'Internal: statement trigger of task.login, task.account and task.service; at commit every backend forgets the identity it kept.';
REVOKE ALL ON FUNCTION task._identity_changed() FROM PUBLIC;
CREATE TRIGGER login_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task.login
    FOR EACH STATEMENT EXECUTE FUNCTION task._identity_changed();
CREATE TRIGGER account_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task.account
    FOR EACH STATEMENT EXECUTE FUNCTION task._identity_changed();
CREATE TRIGGER service_identity_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON task.service
    FOR EACH STATEMENT EXECUTE FUNCTION task._identity_changed();
