\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 23, known defects.
--
-- A party of a hired task could add messages and artifacts without
-- bound. The marketplace's settings gain max_artifacts (default 200) and
-- max_messages (default 1000) a task; past them task_artifacts_add and
-- task_message answer 54000, nothing written (Operations may still write
-- messages). The marketplace is new in this version: its table and
-- task_market_setup (with the two new arguments) come whole from the
-- install fragments (45_market_hooks.sql, 60_market.sql include them);
-- the functions are replaced here again so this fragment says what
-- changed.
-- @replace function task._market_room
REVOKE ALL ON FUNCTION task._market_room(task.market_task, text, integer, integer, boolean) FROM PUBLIC;
-- @replace function task.task_market_setup
-- @replace function task.task_message
-- @replace function task.task_artifacts_add
--
-- task_maintain rescued expired leases queue by queue in name order: with
-- more than max_rows to rescue, a queue whose name sorts late waited for
-- every queue before it. The queues now come oldest lease first
-- (task._rescue_queues, as task._due_queues does for the purge).
-- @replace function task._rescue_queues
REVOKE ALL ON FUNCTION task._rescue_queues() FROM PUBLIC;
-- @replace function task.task_maintain
--
-- task_create_many drew a serial (task.task_serial_seq, shared by every
-- service) for each task before the trigger checked it: a batch refused
-- at its last task had used up 9,999 serials. The batch is checked whole
-- first (task._check_batch: the trigger's rules for code, parameters and
-- ordering keys; run_at and max_run_time once), so a refused batch takes
-- none.
-- @replace function task._check_batch
REVOKE ALL ON FUNCTION task._check_batch(text, jsonb[], text[]) FROM PUBLIC;
-- @replace function task.task_create_many
