\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 26. The claim lock of a limited queue is a lock no SQL function can
-- take, on a key keyed with the secret (task._claim_lock_take, C), not the
-- lock of the queue's or the service's row: it needs no transaction id, and
-- a waiting task_dequeue gives it back before it sleeps. task._lock_key,
-- its key, is C (the same hash as the SQL function it was).
-- @replace function task._lock_key
-- @replace function task._claim_lock_take
REVOKE ALL ON FUNCTION task._claim_lock_take(text, boolean) FROM PUBLIC;
-- @replace function task._claim_lock_row
-- @replace function task._claim_lock
