\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Access: roles, grants, row-level security policies and function
-- privileges -- everything that decides who may touch what, in one place.
--
-- The SQL API (SECURITY DEFINER) checks the caller itself; these policies
-- govern what a role may read, and a service may update, directly. Every
-- table has FORCE ROW LEVEL SECURITY. INSERT and DELETE are granted to
-- nobody: rows are created and removed through the API only.
--
-- Policies are attached TO the group role of each kind of caller, so the
-- planner applies only the caller's own rule and can use its index: a
-- service's read is a range of its (owner, ...) indexes. Each rule still
-- checks the identity from task.login (or the JWT claims of a web role),
-- so a role in the wrong group sees nothing, never more. Vendors and
-- clients have no policy: they read through the API only (see below).
--
-- Roles are cluster-wide and outlive DROP EXTENSION; they are created here
-- when missing and never dropped by the extension.
--
-- Functions: the public API is callable by any role with USAGE on the
-- schema -- what it may do is decided by task.login, not by grants -- and
-- the internal helpers (names starting with "_") by nobody but the owner.

-- ---------------------------------------------------------------- roles
-- The names come from the one list, task._roles() (src/identity.c).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM task._roles() LOOP
        -- the group role of a kind of caller
        IF r.group_role IS NOT NULL
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r.group_role) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r.group_role);
        END IF;
        -- its web role for PostgREST: NOLOGIN, granted only to its
        -- authenticator; identity from the verified JWT claim "task_identity"
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r.web_role) THEN
            IF r.group_role IS NULL THEN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r.web_role);
            ELSE
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN IN ROLE %I', r.web_role, r.group_role);
            END IF;
        END IF;
    END LOOP;
    -- monitoring (82_monitoring.sql): not a kind of caller -- no
    -- task.login identity, no web role, no JWT claim -- so not in
    -- task._roles(); a group that reads aggregates and nothing else
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'task_monitor') THEN
        CREATE ROLE task_monitor NOLOGIN;
    END IF;
END
$$;

-- ---------------------------------------------------------------- table grants
GRANT SELECT ON task.service, task.account, task.login, task.queue, task.task,
                task.task_access, task.task_log, task.task_dependency TO task_operations;

GRANT SELECT ON task.service, task.queue, task.task, task.task_access,
                task.task_dependency TO task_service;

-- not seq: it comes from one sequence for all tenants, so its gaps would
-- count the log writes of other services (task_logs orders by it inside)
GRANT SELECT (owner, task_id, at, message, errors, skips, success, total, by, from_status, to_status)
    ON task.task_log TO task_service;

-- the owning service may change these directly; the trigger checks and
-- audits them exactly as for an API call
GRANT UPDATE (name, description, object, progress, eta, parameters, status,
              resource, result, error) ON task.task TO task_service;

-- Vendors and clients read through the API only (task_get, task_list, the
-- HTTP view api.tasks): their logins have no grant on these tables, so
-- whatever they query or EXPLAIN is "permission denied", the same for every
-- row (docs/THREAT-MODEL.md: with any grant, a policy or the constant
-- false of no policy is a filter that runs, or not, after the caller's own
-- leakproof tests, and EXPLAIN ANALYZE counts the rows it removed). Only
-- their web roles, which PostgREST alone switches to and which run no
-- EXPLAIN, may name task.task: the security_invoker view api.tasks reads
-- it, and with no policy for them no row comes out of it (their tasks come
-- from task._account_tasks instead).
GRANT SELECT ON task.task TO task_web_vendor, task_web_client;

ALTER TABLE task.service ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.service FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------- policies
CREATE POLICY service_operations ON task.service FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));

CREATE POLICY service_self ON task.service FOR SELECT TO task_service
    USING (id = (SELECT task.current_service()));

ALTER TABLE task.account ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.account FORCE ROW LEVEL SECURITY;

CREATE POLICY account_operations ON task.account FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));

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

-- claim-time state: no policy, no grant (only the worker functions)
ALTER TABLE task.queue_rate ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.queue_rate FORCE ROW LEVEL SECURITY;
ALTER TABLE task.queue_share ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.queue_share FORCE ROW LEVEL SECURITY;
ALTER TABLE task.key_rate ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.key_rate FORCE ROW LEVEL SECURITY;

ALTER TABLE task.task ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.task FORCE ROW LEVEL SECURITY;

CREATE POLICY task_operations ON task.task FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));

CREATE POLICY task_owner ON task.task FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

CREATE POLICY task_owner_update ON task.task FOR UPDATE TO task_service
    USING (owner = (SELECT task.current_service()))
    WITH CHECK (owner = (SELECT task.current_service()));

ALTER TABLE task.task_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.task_access FORCE ROW LEVEL SECURITY;

CREATE POLICY task_access_operations ON task.task_access FOR SELECT TO task_operations
    USING ((SELECT task.current_is_operations()));

CREATE POLICY task_access_owner ON task.task_access FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

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

-- the maintenance runs: read through task_maintain_runs() only
ALTER TABLE task.maintenance_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE task.maintenance_run FORCE ROW LEVEL SECURITY;


-- ---------------------------------------------------------------- privileges
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
-- api.tasks (security_invoker) calls it for whoever reads the view
GRANT EXECUTE ON FUNCTION task._account_tasks() TO task_operations, task_service, task_vendor, task_client;
-- The one list of role names is no secret, and http_pre_request reads it
-- as the web role PostgREST switched to.
GRANT EXECUTE ON FUNCTION task._roles() TO PUBLIC;
-- task_maintain_all runs with its caller's rights (the system or Operations):
-- its pause, which lets go of the caller's xmin, is theirs only
GRANT EXECUTE ON FUNCTION task._pause(double precision) TO task_operations;
-- The WHEN of the trigger task_settle_dependents runs as whoever updates
-- task.task (an owner's direct UPDATE too): a function of two statuses.
GRANT EXECUTE ON FUNCTION task._settles(task.status, task.status) TO PUBLIC;

-- Monitoring (82_monitoring.sql): task_monitor reads the aggregates and
-- nothing else; nobody else runs the Prometheus function by default.
REVOKE ALL ON FUNCTION task.monitor_prometheus() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION task._monitor(), task.monitor_prometheus() TO task_monitor;
GRANT SELECT ON task.monitor_queues, task.monitor_services TO task_monitor;
GRANT EXECUTE ON FUNCTION task._monitor_workers() TO task_monitor;
GRANT SELECT ON task.monitor_workers TO task_monitor;

