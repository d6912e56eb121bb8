\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 27. Claims and lease rescues lock FOR NO KEY UPDATE SKIP LOCKED
-- (they change no key): a task another transaction only references (its
-- foreign key check's KEY SHARE lock, e.g. a child being created with
-- parent => it) is claimed in its turn, not skipped.
-- @replace function task._rescue_leases
-- @replace function task._claim_limited
-- @replace function task._lock_turns
