\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 21: defects a third attack review found.
--
-- api.tasks (the HTTP view): for a vendor or a client, row-level security
-- on task.task lets no row through, but as a filter on the scan: with a
-- condition of the request's (GET /tasks?code=eq.x) the view read every
-- task of every tenant, archived ones too, on each request. Its first
-- branch now runs for services and Operations only (a condition that
-- names no column, evaluated once before the scan). The view is replaced
-- with its current text by 30_sidechan.sql (api.* of a database created
-- at 0.1.0); task_http installs it as it is now.
--
-- task_maintain ran a purge statement for every queue with a retention,
-- and any service may make queues, as many as it likes: 50,000 empty ones
-- made each run 100 times slower for every tenant (the rescue of expired
-- leases, the marketplace's releases and deadlines wait behind it). It now
-- visits only the queues holding a task to purge, found by one statement
-- (task_maintain itself is replaced by earlier fragments).
-- @replace function task._purge_kept
-- @replace function task._purge_queue
REVOKE ALL ON FUNCTION task._purge_kept(integer, task.task_id) FROM PUBLIC;
REVOKE ALL ON FUNCTION task._purge_queue(task.queue, integer) FROM PUBLIC;
-- The archiving (task._history_archive) did the same for every queue
-- with an archive_after (88_history.sql includes its current text).
