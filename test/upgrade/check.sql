-- After ALTER EXTENSION task UPDATE: the data of test/upgrade/data.sql came
-- through (test/harness/upgrade.sh runs it with ON_ERROR_STOP; each check
-- raises when it does not hold). Read through the API of the new version.
SET search_path = task, public;
DO $$
DECLARE
    got text;
BEGIN
    SELECT string_agg(status || '=' || n, ',' ORDER BY status) INTO got
      FROM (SELECT status::text, count(*) n FROM task.task GROUP BY status) s;
    IF got IS DISTINCT FROM 'blocked=1,cancelled=1,completed=2,failed=1,processing=1,queued=4,rescheduled=1' THEN
        RAISE EXCEPTION 'statuses after the update: %', got;
    END IF;
    -- audit columns: every task has its creation stamp; finished ones theirs
    IF EXISTS (SELECT FROM task.task WHERE created_by IS NULL OR created_at IS NULL OR revision < 1) THEN
        RAISE EXCEPTION 'a task lost its creation audit';
    END IF;
    IF EXISTS (SELECT FROM task.task WHERE status = 'completed' AND (completed_at IS NULL OR completed_by IS NULL))
       OR EXISTS (SELECT FROM task.task WHERE status = 'failed' AND (failed_at IS NULL OR error IS NULL))
       OR EXISTS (SELECT FROM task.task WHERE status = 'cancelled' AND cancelled_at IS NULL)
       OR EXISTS (SELECT FROM task.task WHERE status = 'processing' AND (lease_until IS NULL OR started_by IS NULL)) THEN
        RAISE EXCEPTION 'audit columns lost in the update';
    END IF;
    IF (SELECT count(*) FROM task.task_access) <> 2 OR (SELECT count(*) FROM task.task_dependency) <> 1
       OR (SELECT count(*) FROM task.schedule) <> 1 OR (SELECT count(*) FROM task.queue) <> 2
       OR (SELECT count(*) FROM task.task WHERE parent IS NOT NULL) <> 1 THEN
        RAISE EXCEPTION 'access lists, dependencies, schedules, queues or parents lost in the update';
    END IF;
    IF pg_catalog.nextval('task.task_serial_seq') <= 700000 THEN
        RAISE EXCEPTION 'the task serial sequence went back';
    END IF;
END
$$;

-- read back through the API, as the owning service and as the client
SET ROLE up_svc;
DO $$
DECLARE
    done task.task_id := (SELECT id FROM task.task WHERE name = 'done');
    res task.task_id := (SELECT id FROM task.task WHERE resource IS NOT NULL);
    msgs text;
BEGIN
    IF task.task_result(done) IS DISTINCT FROM '{"answer": 42}'::jsonb THEN
        RAISE EXCEPTION 'JSON result after the update: %', task.task_result(done);
    END IF;
    IF task.task_result(res) IS DISTINCT FROM '"/files/report.pdf"'::jsonb THEN
        RAISE EXCEPTION 'resource result after the update: %', task.task_result(res);
    END IF;
    SELECT string_agg(message, ' | ' ORDER BY at, message) INTO msgs FROM task.task_logs(done, 100);
    IF msgs NOT LIKE '%half way%' OR msgs NOT LIKE '%processing -> completed%' THEN
        RAISE EXCEPTION 'logs after the update: %', msgs;
    END IF;
    IF lower(task.task_get(done)->>'status') <> 'completed' THEN
        RAISE EXCEPTION 'task_get after the update: %', task.task_get(done);
    END IF;
END
$$;
-- the worker path still runs: claim the queued task and complete it
SELECT c.status FROM task.task_dequeue('up/main') d,
       task.task_complete(d.id, result => '{"after": "update"}', token => d.lease_token) c;
-- a claim made under 0.1.0 and still held across the update: the update
-- keeps its token (0.1.0's, the revision of the claim), the holder goes on
-- with it (heartbeat, complete), and any other token is fenced (55000)
DO $$
DECLARE
    t task.task := (SELECT x FROM task.task x WHERE x.status = 'processing' AND x.queue = 'up/other');
    s text;
BEGIN
    IF t.lease_token IS DISTINCT FROM t.revision::bigint THEN
        RAISE EXCEPTION 'the update changed the token of a claim held across it: % (revision %)', t.lease_token, t.revision;
    END IF;
    BEGIN
        PERFORM task.task_complete(t.id, result => '{"stale": true}', token => t.lease_token + (1::bigint << 31));
        RAISE EXCEPTION 'a token that is not the claim''s completed a task claimed under 0.1.0';
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        GET STACKED DIAGNOSTICS s = MESSAGE_TEXT;
        IF s NOT LIKE 'lease lost:%' THEN
            RAISE EXCEPTION 'a wrong token after the update: %', s;
        END IF;
    END;
    IF (SELECT x.lease_token FROM task.task_heartbeat(t.id, t.lease_token) x) IS DISTINCT FROM t.lease_token THEN
        RAISE EXCEPTION 'the heartbeat of a claim held across the update failed';
    END IF;
    IF (SELECT x.status FROM task.task_complete(t.id, result => '{"held": "across the update"}', token => t.lease_token) x)
       IS DISTINCT FROM 'completed' THEN
        RAISE EXCEPTION 'the holder of a claim made under 0.1.0 could not complete it after the update';
    END IF;
END
$$;
RESET ROLE;
SET ROLE up_client;
DO $$
BEGIN
    IF (SELECT count(*) FROM task.task_list()) <> 2 THEN
        RAISE EXCEPTION 'the client sees % tasks after the update, not 2', (SELECT count(*) FROM task.task_list());
    END IF;
END
$$;
RESET ROLE;

-- the HTTP schema of a 0.1.0 database is left in place, out of the
-- extension, and keeps answering (PostgREST keeps working)
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
                  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'task')
                  AND d.classid = 'pg_namespace'::regclass AND d.objid = 'api'::regnamespace) THEN
        RAISE EXCEPTION 'schema api is still a member of extension task';
    END IF;
    IF lower(api.task_get((SELECT id::text FROM task.task WHERE name = 'done'))->>'status') <> 'completed'
       OR (SELECT count(*) FROM api.tasks) <> (SELECT count(*) FROM task.task) THEN
        RAISE EXCEPTION 'api no longer answers after the update';
    END IF;
END
$$;
