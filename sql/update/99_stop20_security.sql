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
