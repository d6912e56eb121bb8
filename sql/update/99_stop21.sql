\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 21: the JSON Task object with its lookups as statements of their
-- own (the access list in one query whoever asks, the owner, the parent
-- only when there is one) and the object itself a simple expression: a
-- subquery in it started the plans of all three access-list branches, the
-- owner's and the parent's for every task (about half of a listing's time).
-- @replace function task._task_json
--
-- The author of a stamp, a log record or a message in C, each service's or
-- account's name read once per snapshot (until a login, account or
-- service row may have changed): a task's seven stamps have one or two
-- authors, and a listing repeats them from task to task.
-- @replace function task._actor_json
--
-- The archive's probe had none of the archive's exclusions: a queue whose
-- only old task stays live (a parent of a live child, a hired task, one in
-- a dependency) was visited with statements of its own on every run. One
-- predicate, task._archive_kept, serves the probe and the move, and the
-- move of one queue is task._archive_queue (created with 83_history.sql,
-- which 88_history.sql includes), the longest overdue queue first.
REVOKE ALL ON FUNCTION task._archive_kept(integer, task.task_id, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._archive_queue(task.queue, integer) FROM PUBLIC;
