\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Issue 16: the advisory locks of claims (limited queues, fair share) and of
-- task_maintain's archiving take keys derived from a secret (task._lock_key),
-- no longer hashtext of a queue's name: another tenant could compute such a
-- key, hold it (the queue's claims would give up after 1 second each) or
-- probe it (is a queue of that name being claimed?).
CREATE SEQUENCE task.lock_secret MINVALUE 1 NO CYCLE;
SELECT pg_catalog.setval('task.lock_secret',
    ('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 1, 15))::bit(60)::bigint + 1);
COMMENT ON SEQUENCE task.lock_secret IS 'Internal: the random secret the advisory lock keys of claims and maintenance are derived from (task._lock_key); readable by the extension only.';
SELECT pg_catalog.pg_extension_config_dump('task.lock_secret', '');
REVOKE ALL ON SEQUENCE task.lock_secret FROM PUBLIC;

-- @replace function task._lock_key
REVOKE ALL ON FUNCTION task._lock_key(text) FROM PUBLIC;
