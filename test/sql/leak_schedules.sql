-- Recurring tasks (issue 16): a schedule's task is created as its owning
-- service -- checked and audited as that service, not as the role pg_cron
-- runs the job as -- and only for the rest of that call; the switch
-- (task._act_as_service) cannot be thrown by anyone but the extension's
-- owner, nor by a setting. A service has at most task.schedules_per_service
-- schedules (default 100, superuser setting).
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('leak-schedules', 'lks') AS svc \gset
SELECT task_service_create('leak-schedules-b', 'lksb') AS other \gset
CREATE ROLE regress_lks_svc LOGIN;
CREATE ROLE regress_lks_super LOGIN SUPERUSER;
SELECT task_login_grant('regress_lks_svc', :'svc') \gset

-- an error with its detail, the service's number aside
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN regexp_replace(concat_ws(' | ', SQLSTATE, SQLERRM, d), 'SVC-\d{4}', 'SVC-NNNN', 'g');
END
$$;

SET ROLE regress_lks_svc;
SELECT task_queue_create('lks/q') IS NOT NULL AS made;
-- never fires by itself (February 31st): the test runs the job's call
SELECT name, queue FROM task_schedule('nightly', '0 0 31 2 *', '{"code": "lks.job", "queue": "lks/q", "name": "Nightly"}');
RESET ROLE;

-- the job's call, as pg_cron makes it (the job's role: here a superuser)
BEGIN;
SELECT task._run_schedule(task.service_number(:'svc'), 'nightly') AS made_task \gset
-- the switch ended with the call
SELECT task.current_kind() AS kind_after, task.current_actor() = current_user AS actor_after;
COMMIT;
SELECT created_by = :'svc' AS created_as_service, updated_by = :'svc' AS updated_as_service
  FROM task.task WHERE id = :'made_task';
SELECT by = :'svc' AS logged_as_service, message ~ '^created by schedule "nightly"' AS message
  FROM task.task_log WHERE task_id = :'made_task';
SET ROLE regress_lks_svc;
SELECT j #>> '{audit,created,by,id}' = :'svc' AS audit_created_by_service FROM task_get(:'made_task') j;
RESET ROLE;

-- a tick that fails records the error, and the switch ends too
UPDATE task.schedule SET template = template || '{"max_attempts": 0}' WHERE name = 'nightly';
BEGIN;
SET LOCAL client_min_messages = error;  -- its warning names the service
SELECT task._run_schedule(task.service_number(:'svc'), 'nightly') AS no_task;
SELECT task.current_kind() AS kind_after_failure;
COMMIT;
SELECT failures, last_error FROM task.schedule WHERE name = 'nightly';

-- nobody else throws the switch: not a service (no EXECUTE), not another
-- superuser (not the extension's owner), not a setting
SET SESSION AUTHORIZATION regress_lks_svc;
\set ON_ERROR_STOP 0
SELECT task._act_as_service(task.service_number(:'other'));
SET task.act_as_service = '1';
SET task.schedules_per_service = 1000;
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_lks_super;
\set ON_ERROR_STOP 0
SELECT task._act_as_service(task.service_number(:'other'));
\set ON_ERROR_STOP 1
SELECT task.current_kind() AS super_kind;
RESET SESSION AUTHORIZATION;

-- the limit: new names beyond it are refused, replacing one is not
SET task.schedules_per_service = 2;
SET ROLE regress_lks_svc;
SELECT name FROM task_schedule('second', '0 0 31 2 *', '{"code": "lks.job", "queue": "lks/q"}');
SELECT pg_temp.try($$SELECT task.task_schedule('third', '0 0 31 2 *', '{"code": "lks.job", "queue": "lks/q"}')$$) AS third;
SELECT name, template->>'code' AS code FROM task_schedule('second', '0 0 31 2 *', '{"code": "lks.job2", "queue": "lks/q"}');
SELECT count(*) AS schedules FROM task_schedules();
SELECT task_unschedule('nightly') AND task_unschedule('second') AS removed;
RESET ROLE;
RESET task.schedules_per_service;
SHOW task.schedules_per_service;

DROP OWNED BY regress_lks_svc, regress_lks_super;
DROP ROLE regress_lks_super;
