-- Side channels of direct reads (issue 16): EXPLAIN (ANALYZE) probes on
-- task.task, task.task_access and task.account with leakproof operators
-- (=, <, >=, starts_with ^@, the pattern operator ~<~, md5, float and
-- timestamp comparisons) on the id and a hidden column. As a client, a
-- vendor and a disabled account's login, the plan text and its row counts
-- must be the same for a hidden task whose column passes the test, one
-- whose column fails it, and an id never issued -- and for a task the
-- caller may see, too: vendors and clients read through the API only.
-- As another service (default planner settings) the policy is an index
-- condition, so the hidden row is never fetched either.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('leak-explain-a', 'lkx/a') AS svc \gset
SELECT task_service_create('leak-explain-b', 'lkx/b') AS other \gset
SELECT task_account_create('Leak Explain Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('Leak Explain Client', 'Client') AS client \gset
SELECT task_account_create('Leak Explain Disabled', 'Client', 'Disabled') AS disabled \gset
CREATE ROLE regress_lkx_svc LOGIN;
CREATE ROLE regress_lkx_other LOGIN;
CREATE ROLE regress_lkx_vendor LOGIN;
CREATE ROLE regress_lkx_client LOGIN;
CREATE ROLE regress_lkx_disabled LOGIN;
SELECT task_login_grant('regress_lkx_svc', :'svc'), task_login_grant('regress_lkx_other', :'other'),
       task_login_grant('regress_lkx_vendor', :'vendor'), task_login_grant('regress_lkx_client', :'client'),
       task_login_grant('regress_lkx_disabled', :'disabled') \gset

CREATE ROLE regress_lkx_stranger LOGIN;
SELECT task_account_create('Leak Explain Stranger', 'Client') AS stranger \gset
SELECT task_login_grant('regress_lkx_stranger', :'stranger') \gset

SET ROLE regress_lkx_svc;
-- two hidden tasks, one whose columns pass every probe's test and one
-- whose columns fail it (the first on the access list of another
-- account); a shared one on the vendor's and client's list
SELECT id AS pass FROM task_create('lkx.job', 'lkx/a/q', name => 'secret name', description => 'alpha',
    idempotency_key => 'key-alpha', eta => '2000-01-01Z', access => ARRAY[:'stranger']) \gset
SELECT id AS fail FROM task_create('lkx.job', 'lkx/a/q', name => 'other name', description => 'omega',
    idempotency_key => 'key-omega', eta => '2100-01-01Z') \gset
SELECT id AS shared FROM task_create('lkx.job', 'lkx/a/q', name => 'shared name', description => 'alpha',
    idempotency_key => 'key-shared', eta => '2000-01-01Z', access => ARRAY[:'vendor', :'client', :'disabled']) \gset
RESET ROLE;
-- an id of the same service that was never issued
SELECT format('TSK-%s-9999-9999-9999', substr(:'svc', 5)) AS never \gset

-- The plan of a probe, as text, the id replaced by a placeholder so the
-- plans of different ids compare; an error as its SQLSTATE and message.
CREATE FUNCTION pg_temp.plan(probe text, id text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
    out text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) '
                        || replace(probe, '{id}', quote_literal(id)) LOOP
        out := out || replace(line, id, '<id>') || E'\n';
    END LOOP;
    RETURN out;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || replace(SQLERRM, id, '<id>');
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.plan(text, text) TO PUBLIC;

-- probes: a statement with {id}; the task "pass" passes its test, "fail" fails it
CREATE TEMP TABLE probe (ord int, sql text);
INSERT INTO probe VALUES
    (1, $$SELECT 1 FROM task.task WHERE id = {id} AND description = 'alpha'$$),
    (2, $$SELECT 1 FROM task.task WHERE id = {id} AND description < 'b'$$),
    (3, $$SELECT 1 FROM task.task WHERE id = {id} AND name >= 'secret'$$),
    (4, $$SELECT 1 FROM task.task WHERE id = {id} AND description ^@ 'alp'$$),
    (5, $$SELECT 1 FROM task.task WHERE id = {id} AND description ~<~ 'b'$$),
    (6, $$SELECT 1 FROM task.task WHERE id = {id} AND md5(idempotency_key) = md5('key-alpha')$$),
    (7, $$SELECT 1 FROM task.task WHERE id = {id} AND eta < '2050-01-01Z'::timestamptz$$),
    (8, $$SELECT 1 FROM task.task WHERE id = {id} AND eta = '2000-01-01Z'::timestamptz$$),
    (9, $$SELECT 1 FROM task.task WHERE id = {id} AND starts_with(name, 'sec')$$),
    (10, $$SELECT 1 FROM task.task WHERE id >= {id} AND id <= {id} AND name > 'r' AND name < 't'$$),
    (11, $$SELECT 1 FROM task.task_access WHERE task_id = {id} AND account > 0$$),
    (12, $$SELECT 1 FROM task.account WHERE name >= 'Leak' AND {id} IS NOT NULL$$);
GRANT SELECT ON probe TO PUBLIC;

-- For one caller: per probe, is the plan the same for the task that passes,
-- the one that fails, a never-issued id, and the shared task? Its outcome
-- in a word: "plan", or the error.
CREATE FUNCTION pg_temp.probe_rows() RETURNS SETOF probe LANGUAGE sql AS $$ SELECT * FROM probe ORDER BY ord $$;
GRANT EXECUTE ON FUNCTION pg_temp.probe_rows() TO PUBLIC;
CREATE FUNCTION pg_temp.probe_as(login text, pass text, fail text, never text, shared text)
RETURNS TABLE (ord int, same boolean, same_as_shared boolean, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    a text; b text; c text; d text;
BEGIN
    EXECUTE format('SET SESSION AUTHORIZATION %I', login);
    FOR p IN SELECT * FROM pg_temp.probe_rows() LOOP
        a := pg_temp.plan(p.sql, pass);
        b := pg_temp.plan(p.sql, fail);
        c := pg_temp.plan(p.sql, never);
        d := pg_temp.plan(p.sql, shared);
        ord := p.ord;
        same := a = b AND b = c;
        same_as_shared := a = d;
        outcome := CASE WHEN a ~ '^[0-9A-Z]{5} ' THEN a ELSE 'plan' END;
        RETURN NEXT;
    END LOOP;
    RESET SESSION AUTHORIZATION;
END
$$;

SET plan_cache_mode = force_custom_plan;
SELECT 'client' AS login, * FROM pg_temp.probe_as('regress_lkx_client', :'pass', :'fail', :'never', :'shared');
SELECT 'vendor' AS login, * FROM pg_temp.probe_as('regress_lkx_vendor', :'pass', :'fail', :'never', :'shared');
SELECT 'disabled' AS login, * FROM pg_temp.probe_as('regress_lkx_disabled', :'pass', :'fail', :'never', :'shared');
-- the same with generic plans (parameters instead of constants)
SET plan_cache_mode = force_generic_plan;
SELECT 'client' AS login, * FROM pg_temp.probe_as('regress_lkx_client', :'pass', :'fail', :'never', :'shared')
 WHERE NOT same OR NOT same_as_shared;

-- another service: the probes on task.task (1-10) see the same plan for
-- the hidden tasks, passing or failing, and a never-issued id; the plan
-- starts from the caller's own rows (docs/THREAT-MODEL.md: what a service
-- can still count by changing the planner's settings)
RESET plan_cache_mode;
SELECT 'service' AS login, ord, same, outcome FROM pg_temp.probe_as('regress_lkx_other', :'pass', :'fail', :'never', :'shared')
 WHERE ord <= 10;
SET SESSION AUTHORIZATION regress_lkx_other;
SELECT pg_temp.plan($$SELECT 1 FROM task.task WHERE id = {id} AND description = 'alpha'$$, :'pass') AS service_plan;
RESET SESSION AUTHORIZATION;

-- what the client may see, it reads through the API
SET SESSION AUTHORIZATION regress_lkx_client;
SELECT task_get(:'shared')->>'description' AS shared_description;
SELECT pg_temp.plan('SELECT task.task_get({id})', :'pass') = pg_temp.plan('SELECT task.task_get({id})', :'never')
       AS hidden_get_as_never, pg_temp.plan('SELECT task.task_get({id})', :'pass') AS hidden_get;
RESET SESSION AUTHORIZATION;

-- a disabled account's login holds no group role
SELECT pg_has_role('regress_lkx_disabled', 'task_client', 'MEMBER') AS disabled_in_group,
       pg_has_role('regress_lkx_client', 'task_client', 'MEMBER') AS client_in_group;

DROP OWNED BY regress_lkx_svc, regress_lkx_other, regress_lkx_vendor, regress_lkx_client, regress_lkx_disabled,
    regress_lkx_stranger;
