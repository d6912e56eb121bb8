\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The update from the released 0.1.0 to this version, built by make from
-- the fragments in sql/update/ in name order: one fragment per change,
-- named NN_topic.sql. An updated database must be the same as a fresh
-- install, object for object: test/harness/upgrade.sh compares their
-- catalog fingerprints (test/harness/fingerprint.sql) after updating a
-- database full of data, then runs the suite on it.
--
-- To replace a function or view with exactly what a fresh install creates,
-- write a directive line instead of copying its text (make expands it from
-- the install fragments, sql/update/expand.awk):
--
--   -- @replace function task.task_create
--   -- @replace view api.tasks
--
-- A function whose signature or return type changes needs DROP FUNCTION
-- first (and its grants again); new objects are created as in the install
-- fragments; internal "_" functions need REVOKE ALL ... FROM PUBLIC.
--
-- The re-cut of sql/ into one file per object kind (0.2.0) moved code
-- between files and changed no object: it needs no statement here.

-- Function bodies are checked when the whole update has run (as pg_dump's
-- scripts do): a fragment may replace a function whose final text calls an
-- object a later fragment creates. Reverted at the end of the script.
SET check_function_bodies = off;
