\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Operators, the rest of issue 11: task_maintain's counts reach a pg_cron
-- job's run details (a NOTICE at commit in pg_cron's background workers;
-- a run table joined on the job's pid in both modes), and the monitoring
-- scrape runs without JIT compilation.

-- one row per task_maintain() call, kept 7 days (20_tables.sql)
CREATE TABLE task.maintenance_run (
    at          timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    pid         integer NOT NULL,
    by          text NOT NULL,
    result      jsonb NOT NULL,
    PRIMARY KEY (pid, finished_at)
);
CREATE INDEX maintenance_run_at_idx ON task.maintenance_run (at);
COMMENT ON TABLE task.maintenance_run IS
    'The counts of each task_maintain() call of the last 7 days, with the calling backend''s pid (a pg_cron job''s job_pid): read them with task_maintain_runs().';
COMMENT ON COLUMN task.maintenance_run.at IS 'Start of the calling transaction (now()).';
COMMENT ON COLUMN task.maintenance_run.finished_at IS 'When the call finished its work (clock_timestamp()).';
COMMENT ON COLUMN task.maintenance_run.pid IS 'The calling backend''s process id (pg_backend_pid(); cron.job_run_details.job_pid for a pg_cron job).';
COMMENT ON COLUMN task.maintenance_run.by IS 'Who called it (task.current_actor()).';
COMMENT ON COLUMN task.maintenance_run.result IS 'What task_maintain() returned: leases_rescued, released, purged, logs_purged, archived, months_dropped, more.';
SELECT pg_catalog.pg_extension_config_dump('task.maintenance_run', '');
ALTER TABLE task.maintenance_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.maintenance_run FORCE ROW LEVEL SECURITY;
REVOKE ALL ON task.maintenance_run FROM PUBLIC;
-- @replace function task._maintain_notice
REVOKE ALL ON FUNCTION task._maintain_notice() FROM PUBLIC;
CREATE CONSTRAINT TRIGGER maintenance_run_notice AFTER INSERT ON task.maintenance_run
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION task._maintain_notice();
COMMENT ON TRIGGER maintenance_run_notice ON task.maintenance_run IS
    'Sends the counts of a task_maintain() call as a NOTICE at commit when it ran in a pg_cron background worker (task._maintain_notice).';
-- @replace function task.task_maintain
-- @replace function task.task_maintain_runs

-- monitoring: no JIT (compiling the reader's plan cost more than running it)
-- @replace function task._monitor
-- @replace function task._monitor_workers
-- @replace function task.monitor_prometheus
