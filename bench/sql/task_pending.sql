-- Tasks of the bench queue not yet claimed.  TODO(lead): confirm table/column names.
SELECT count(*) FROM task.task WHERE queue = 'bench/q' AND status = 'queued';
