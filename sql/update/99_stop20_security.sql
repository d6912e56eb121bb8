\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 20: defects an attack review found.
--
-- Any role could attach the C transition trigger to a temporary table of
-- its own (CREATE TRIGGER needs EXECUTE on the function, firing does not),
-- crash the server with columns of other types, or write log entries for
-- another tenant's task as the tables' owner. The function now refuses any
-- table but the extension's own (src/transition.c), and only its owner may
-- attach it.
REVOKE ALL ON FUNCTION task.task_transition() FROM PUBLIC;
--
-- A limited queue's claim lock, the fair share's new keys and the
-- archiving's one-at-a-time were advisory locks on keys derived from a
-- secret; but a held key shows in pg_locks, and any role could take it and
-- hold another tenant's claims (they gave up after 1 second) or stop
-- archiving for everyone. They are now locks of rows (the queue's, the
-- service's) and of task.maintenance_run, which no tenant may lock.
-- task._claim_lock, task._fair_served (84_limits.sql), task._lock_key
-- (89_lock_secret.sql) and task_maintain (92_ops.sql) are replaced by
-- earlier fragments.
-- @replace function task._claim_lock_row
REVOKE ALL ON FUNCTION task._claim_lock_row(task.queue, boolean, boolean) FROM PUBLIC;
--
-- A claim's fencing token was the revision it gave the task: a database
-- restored from a dump (or failed over to a standby that missed the last
-- claims) handed the same tokens out again, and a worker of a claim made
-- after that point completed the task under the new claim. The token now
-- has 22 random bits above the revision, 53 bits in all (src/transition.c). The claims
-- (task._claim_limited, 84_limits.sql; the C claim) call it.
-- @replace function task._lease_token
REVOKE ALL ON FUNCTION task._lease_token(integer) FROM PUBLIC;
COMMENT ON COLUMN task.task.lease_token IS 'Fencing token of the current claim: the revision at dequeue (low 31 bits) and 22 random bits above it, 53 bits in all (task._lease_token).';
