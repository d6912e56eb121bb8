\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 27, attack review. task_complete, task_fail and task_cancel called
-- by an account routed a hired task to the marketplace's path before its
-- visibility was checked: a hidden hire answered "not found" under another
-- CONTEXT (task._market_finish) than an id never issued, so any account
-- could tell which ids were hires. The routing asks for a hire the caller
-- may see.
-- @replace function task._market_hired
