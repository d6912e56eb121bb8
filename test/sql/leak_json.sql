-- Data beyond scope inside visible objects (issue 16): the JSON Task
-- object of a task the caller may see carries nothing of what it may not
-- see -- a parent it may not see, the other accounts on the access list,
-- the names of accounts in the audit -- through task_get, task_list and
-- the HTTP view; a service does not read the account directory through
-- task_create(access => ...); a service does not count other tenants'
-- log writes through task_log.seq.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('leak-json-a', 'lkj/a') AS svc \gset
SELECT task_service_create('leak-json-b', 'lkj/b') AS other \gset
SELECT task_account_create('Leak Json Backoffice', 'Operations') AS ops \gset
SELECT task_account_create('Leak Json Vendor', 'Vendor') AS vendor \gset
SELECT task_account_create('Leak Json Client', 'Client') AS client \gset
SELECT task_account_create('Leak Json Other Client', 'Client') AS client2 \gset
SELECT task_account_create('Leak Json Disabled', 'Client', 'Disabled') AS disabled \gset
CREATE ROLE regress_lkj_svc LOGIN;
CREATE ROLE regress_lkj_other LOGIN;
CREATE ROLE regress_lkj_ops LOGIN;
CREATE ROLE regress_lkj_client LOGIN;
SELECT task_login_grant('regress_lkj_svc', :'svc'), task_login_grant('regress_lkj_other', :'other'),
       task_login_grant('regress_lkj_ops', :'ops'), task_login_grant('regress_lkj_client', :'client') \gset

-- a parent on nobody's list; its child shared with the client, another
-- client, the vendor and Operations; a task Operations cancel (an account
-- in the audit)
SET ROLE regress_lkj_svc;
SELECT id AS parent FROM task_create('lkj.parent', 'lkj/a/q', name => 'secret parent name', status => 'blocked') \gset
SELECT id AS child FROM task_create('lkj.child', 'lkj/a/q', name => 'child', parent => :'parent',
    access => ARRAY[:'client', :'client2', :'vendor', :'ops']) \gset
RESET ROLE;
SET ROLE regress_lkj_ops;
SELECT status FROM task_cancel(:'child', 'stopped by the backoffice');
RESET ROLE;

-- what must not appear in the client's view of the child
CREATE TEMP TABLE secret (what text);
INSERT INTO secret VALUES ('secret parent name'), (:'parent'), ('Leak Json Backoffice'), ('Leak Json Vendor'),
    ('Leak Json Other Client'), (:'vendor'), (:'client2'), ('Operations'), ('Vendor');
GRANT SELECT ON secret TO PUBLIC;

SET ROLE regress_lkj_client;
SELECT task_get(:'child') AS doc \gset
SELECT (SELECT task_list() j LIMIT 1) AS listed \gset
RESET ROLE;
SELECT :'doc'::jsonb = :'listed'::jsonb AS get_and_list_agree,
       :'doc'::jsonb ? 'parent' AS has_parent,
       jsonb_array_length(:'doc'::jsonb -> 'access') AS access_entries,
       :'doc'::jsonb -> 'access' -> 0 ->> 'id' = :'client' AS access_is_itself,
       :'doc'::jsonb -> 'access' -> 0 ->> 'name' AS own_name,
       :'doc'::jsonb #> '{audit,cancelled,by}' = jsonb_build_object('id', :'ops') AS canceller_is_an_id,
       :'doc'::jsonb #>> '{audit,created,by,name}' AS creator_name;
SELECT s.what, strpos(:'doc', s.what) > 0 AS in_client_view FROM secret s WHERE strpos(:'doc', s.what) > 0;
-- nor does listing by parent confirm the hidden parent's id: its children
-- are listed as those of an id that does not exist (none), while the
-- owning service lists them
SET ROLE regress_lkj_client;
SELECT count(*) AS children_of_hidden_parent FROM task_list(parent => :'parent');
SELECT count(*) AS children_of_no_task FROM task_list(parent => task.task_id_make(task.task_id_owner(:'parent'), 999999));
RESET ROLE;
SELECT count(*) AS children_for_owner FROM task_list(parent => :'parent');

-- the same through the HTTP view, as PostgREST's web client role
BEGIN;
SET LOCAL ROLE task_web_client;
SELECT set_config('request.jwt.claims', format('{"task_identity": "%s"}', :'client'), true) AS _ \gset
SELECT count(*) AS web_rows, bool_and(t.parent IS NULL) AS no_parent,
       bool_and(jsonb_array_length(t.access) = 1) AS access_of_itself,
       bool_and(t.audit #> '{cancelled,by}' = jsonb_build_object('id', :'ops')) AS canceller_is_an_id
  FROM api.tasks t WHERE t.id = :'child';
ROLLBACK;

-- the owning service: its parent, the ids on its access list (no
-- directory), the canceller as an id
SET ROLE regress_lkj_svc;
SELECT task_get(:'child') AS sdoc \gset
RESET ROLE;
SELECT :'sdoc'::jsonb #>> '{parent,name}' AS parent_name,
       (SELECT array_agg(e ORDER BY e->>'id') FROM jsonb_array_elements(:'sdoc'::jsonb -> 'access') e)
           = (SELECT array_agg(jsonb_build_object('id', a) ORDER BY a)
                FROM unnest(ARRAY[:'client', :'client2', :'vendor', :'ops']) a) AS access_ids_only,
       :'sdoc'::jsonb #> '{audit,cancelled,by}' = jsonb_build_object('id', :'ops') AS canceller_is_an_id;

-- Operations see everything
SET ROLE regress_lkj_ops;
SELECT task_get(:'child') AS odoc \gset
RESET ROLE;
SELECT :'odoc'::jsonb #>> '{parent,name}' AS parent_name,
       (SELECT string_agg(e->>'name' || ' ' || (e->>'type') || ' ' || (e->>'status'), ', ' ORDER BY e->>'id')
          FROM jsonb_array_elements(:'odoc'::jsonb -> 'access') e) AS access,
       :'odoc'::jsonb #>> '{audit,cancelled,by,name}' AS canceller;

-- another service cannot read the directory through an access list: a
-- task it creates with any accounts shows their ids only, whatever their
-- type or status; an unknown id is named, and only it
SET ROLE regress_lkj_other;
SELECT id AS probe_task FROM task_create('lkj.probe', 'lkj/b/q', access => ARRAY[:'ops', :'vendor', :'client', :'disabled']) \gset
SELECT task_get(:'probe_task') -> 'access' AS probe \gset
SELECT (SELECT bool_and(e - 'id' = '{}'::jsonb) FROM jsonb_array_elements(:'probe'::jsonb) e) AS ids_only,
       jsonb_array_length(:'probe'::jsonb) AS entries;
\set ON_ERROR_STOP 0
SELECT task_create('lkj.probe', 'lkj/b/q', access => ARRAY[:'ops', 'ACC-9999-9998']);
\set ON_ERROR_STOP 1
-- task_log.seq: one sequence for all tenants, so not readable
SELECT count(*) AS own_log_rows FROM task.task_log WHERE owner = task.service_number(:'other');
\set ON_ERROR_STOP 0
SELECT max(seq) FROM task.task_log WHERE owner = task.service_number(:'other');
\set ON_ERROR_STOP 1
RESET ROLE;

DROP OWNED BY regress_lkj_svc, regress_lkj_other, regress_lkj_ops, regress_lkj_client;
