\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 38. The transition trigger fires under session_replication_role =
-- replica too (ENABLE ALWAYS), where it writes the row as given and only
-- takes its notes: the claim and lease marks and the wakes of a write a
-- subscriber or a trigger-skipping load makes (src/transition.c). While it
-- is, a claim refreshes its queue's mark from the beginning once an hour
-- instead of every minute (src/mark.c).
ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition;
