\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 21, the review of its own changes (after 99_stop21_attack.sql,
-- which makes task._purge_kept).
--
-- The archive's probe had none of the archive's exclusions: a queue whose
-- only old task stays live (a parent of a live child, a hired task, one in
-- a dependency) was visited with statements of its own on every run. One
-- predicate, task._archive_kept, serves the probe and the move; the purge
-- and the archive find their queues with one function,
-- task._due_queues, the longest overdue first; the move of one queue is
-- task._archive_queue (created with 83_history.sql, which 88_history.sql
-- includes; task_maintain is replaced by earlier fragments).
-- @replace function task._archive_kept
-- @replace function task._due_queues
REVOKE ALL ON FUNCTION task._archive_kept(integer, task.task_id, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._due_queues(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._archive_queue(task.queue, integer) FROM PUBLIC;
--
-- One check of a wait's bound (0 to 1 hour) for task_wait, task_wait_many
-- and task_dequeue's wait, which had a copy each (the functions that call
-- it are replaced with their current text by earlier fragments;
-- task_hire_sync, which runs as its caller, keeps its own).
-- @replace function task._check_wait_bound
REVOKE ALL ON FUNCTION task._check_wait_bound(text, interval, text) FROM PUBLIC;
