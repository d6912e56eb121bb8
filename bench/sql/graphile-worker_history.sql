-- W5 graphile-worker: it deletes a job when the job succeeds, so the only finished
-- rows it keeps are permanently failed jobs (attempts = max_attempts).  The jobs
-- preloaded by `graphile-worker.mjs preload` are turned into such rows.
UPDATE graphile_worker._private_jobs
   SET attempts = max_attempts, last_error = 'bench history'
 WHERE locked_at IS NULL AND attempts < max_attempts;
