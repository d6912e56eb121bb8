\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The listing index ascending (docs/QUEUE.md, "Index order"): every
-- transition stamps status_at with the clock, so in (owner, status_at DESC)
-- each new entry went to the left edge of the owner's range and each page
-- split left two half-empty pages. task_list reads the ascending index
-- backward, the same plan. Rebuilt here: one pass over task.task.
DROP INDEX task.task_owner_status_at_idx;
CREATE INDEX task_owner_status_at_idx ON task.task (owner, status_at);
