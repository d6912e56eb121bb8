\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Issue 16: the advisory locks of claims (limited queues, fair share) and of
-- task_maintain's archiving take keys derived from a secret (task._lock_key),
-- no longer hashtext of a queue's name: another tenant could compute such a
-- key, hold it (the queue's claims would give up after 1 second each) or
-- probe it (is a queue of that name being claimed?).
-- @create sequence task.lock_secret
REVOKE ALL ON SEQUENCE task.lock_secret FROM PUBLIC;

-- @replace function task._lock_key
REVOKE ALL ON FUNCTION task._lock_key(text) FROM PUBLIC;
