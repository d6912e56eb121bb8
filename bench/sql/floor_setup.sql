-- floor: raw SQL that writes what task writes (issue 15's "CPU per
-- statement against raw"). A plain table with task.task's columns, types,
-- defaults, CHECKs and indexes (the same ten, partial and expression ones
-- included; no triggers, row security, foreign keys or extension code in
-- the path), and the statements of task's path as plain SQL: the insert of
-- a task's row, the claim (FOR NO KEY UPDATE SKIP LOCKED on the runnable
-- index, then the UPDATE of the columns a claim sets) and the completion
-- (the UPDATE of the columns a completion sets). What task does beyond it
-- (identity, fencing, the transition trigger, events, wake-ups, the log)
-- is the difference between the two; what both do is the price of the
-- record task keeps. The extension is installed for the types and the
-- template only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS task CASCADE;
-- task.task_id's operators live in schema task (README, Installation)
SELECT format('ALTER DATABASE %I SET search_path = "$user", public, task', current_database()) \gexec
DROP TABLE IF EXISTS bench_floor;
DROP SEQUENCE IF EXISTS bench_floor_serial;
CREATE TABLE bench_floor (LIKE task.task INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE SEQUENCE bench_floor_serial CACHE 100;
-- the owner and creator task stamps, from a service made as task's bench makes it
SELECT task.task_queue_create('bench/q', owner => task.task_service_create('bench', 'bench'))
 WHERE NOT EXISTS (SELECT FROM task.queue WHERE name = 'bench/q');

-- The row task_create writes: the columns it gives, the rest their defaults.
CREATE OR REPLACE FUNCTION bench_floor_owner() RETURNS integer LANGUAGE sql STABLE AS
$$ SELECT owner FROM task.queue WHERE name = 'bench/q' $$;

-- Backlog of n rows (not measured).
CREATE OR REPLACE FUNCTION bench_floor_preload(n int) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO bench_floor (owner, id, code, queue, parameters, priority, created_by, updated_by)
    SELECT o, task.task_id_make(o, nextval('bench_floor_serial')), 'bench.job', 'bench/q', '{"n": 1}', 0,
           task.service_text(o), task.service_text(o)
      FROM bench_floor_owner() o, generate_series(1, n);
    SELECT count(*) FROM bench_floor WHERE status = 'queued';
$$;
