\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Privileges. Tables and sequences: nobody but the owner (the API
-- functions are SECURITY DEFINER and check the caller themselves).
-- Functions: the public API is callable by any role with USAGE on the
-- schema -- what it may do is decided by task.login, not by grants -- and
-- the internal helpers (names starting with "_") by nobody but the owner.

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
