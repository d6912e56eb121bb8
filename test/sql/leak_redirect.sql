-- Open redirect (issue 16): a resource result is answered by
-- api.task_result as 303 + Location, so task_complete accepts only a
-- relative path: one leading "/", printable ASCII, no backslash anywhere
-- (browsers read "/\host" as "//host"), no "//", no scheme, no spaces or
-- control characters, no %5C anywhere and no %2F right after the leading
-- slash (servers that decode them would make "//" or "/\"). The same rule
-- holds for a direct UPDATE by the owner (the trigger checks it).
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('leak-redirect', 'lkr') AS svc \gset
CREATE ROLE regress_lkr_svc LOGIN;
SELECT task_login_grant('regress_lkr_svc', :'svc') \gset

-- for each URI: complete a fresh task with it (undone), and the SQLSTATE
CREATE FUNCTION pg_temp.complete_with(uri text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t task.task;
BEGIN
    t := task.task_create('lkr.job', 'lkr/q');
    SELECT * INTO t FROM task.task_dequeue('lkr/q');
    PERFORM task.task_complete(t.id, resource => uri, token => t.lease_token);
    RAISE EXCEPTION USING ERRCODE = 'TKT01';
EXCEPTION WHEN SQLSTATE 'TKT01' THEN
    RETURN 'accepted';
WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
CREATE FUNCTION pg_temp.update_with(uri text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t task.task;
BEGIN
    t := task.task_create('lkr.job', 'lkr/q');
    SELECT * INTO t FROM task.task_dequeue('lkr/q');
    UPDATE task.task SET status = 'completed', resource = uri WHERE id = t.id;
    RAISE EXCEPTION USING ERRCODE = 'TKT01';
EXCEPTION WHEN SQLSTATE 'TKT01' THEN
    RETURN 'accepted';
WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

SET ROLE regress_lkr_svc;
SELECT u.uri, pg_temp.complete_with(u.uri) AS by_api, pg_temp.update_with(u.uri) AS by_update
  FROM (VALUES
    -- accepted: relative paths
    ('/public/v1/accounts/buyers/BUY-1190-0394'),
    ('/a'),
    ('/a/b?c=d&e=%20f#g'),
    ('/files/report%2Fq1.pdf'),
    ('/a:b/c'),
    -- refused: another host or scheme
    ('//evil.example/x'),
    ('/\evil.example/x'),
    ('/\\evil.example'),
    ('\\evil.example/x'),
    ('/a\b'),
    ('/%5Cevil.example'),
    ('/%5cevil.example'),
    ('/%2Fevil.example'),
    ('/%2fevil.example'),
    ('/x/%5C/y'),
    ('http://evil.example/x'),
    ('https:/evil.example'),
    ('javascript:alert(1)'),
    ('evil.example/x'),
    ('x'),
    ('/'),
    (''),
    -- refused: spaces, control characters, non-ASCII
    ('/a b'),
    (E'/a\tb'),
    (E'/a\nb'),
    (E'/a\rLocation: //evil.example'),
    (E'/a\u007fb'),
    (E'/caf\u00e9'),
    (E'/\u2215evil.example'),
    (E'/\uff0fevil.example')
  ) u(uri);
RESET ROLE;

-- the message
SET ROLE regress_lkr_svc;
SELECT (task_create('lkr.job', 'lkr/q')).id IS NOT NULL AS created;
SELECT lease_token AS token, id AS tid FROM task_dequeue('lkr/q') \gset
\set ON_ERROR_STOP 0
SELECT task_complete(:'tid', resource => '/\evil.example/x', token => :token);
\set ON_ERROR_STOP 1
SELECT status FROM task_complete(:'tid', resource => '/public/v1/reports/1', token => :token);
RESET ROLE;

DROP OWNED BY regress_lkr_svc;
