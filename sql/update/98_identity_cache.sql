\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The caller's identity is kept across a session's transactions while
-- nothing it was read from changes (src/identity.c): the statement trigger
-- of task.login, task.account and task.service that tells every backend.
-- @replace function task._identity_changed
REVOKE ALL ON FUNCTION task._identity_changed() FROM PUBLIC;
-- @create triggers task._identity_changed
