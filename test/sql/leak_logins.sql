-- Login mappings (issue 16): a row of task.login grants an identity only
-- while its role still holds the group role task_login_grant gave it.
-- DROP ROLE removes that membership, so a mapping left behind by a
-- dropped role -- or found by a new role that got the same oid -- grants
-- nothing; task_maintain removes such rows. A disabled account's logins
-- lose their group role (task_account_update) and get it back when it is
-- enabled again.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('leak-logins', 'lkl') AS svc \gset
SELECT task_account_create('Leak Logins Client', 'Client') AS client \gset
CREATE ROLE regress_lkl_svc LOGIN;
CREATE ROLE regress_lkl_client LOGIN;
CREATE ROLE regress_lkl_gone LOGIN;
SELECT task_login_grant('regress_lkl_svc', :'svc'), task_login_grant('regress_lkl_client', :'client'),
       task_login_grant('regress_lkl_gone', :'svc') \gset

CREATE FUNCTION pg_temp.whoami(login text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb;
BEGIN
    EXECUTE format('SET SESSION AUTHORIZATION %I', login);
    w := task.task_whoami();
    RESET SESSION AUTHORIZATION;
    RETURN w->>'kind';
END
$$;

SELECT pg_temp.whoami('regress_lkl_svc') AS svc, pg_temp.whoami('regress_lkl_client') AS client;

-- a mapping whose role lost its group role grants nothing (as a recycled
-- oid would find it: the role exists, the membership does not)
REVOKE task_service FROM regress_lkl_svc;
SELECT pg_temp.whoami('regress_lkl_svc') AS svc_without_group;
SET SESSION AUTHORIZATION regress_lkl_svc;
\set ON_ERROR_STOP 0
SELECT task_create('lkl.x', 'lkl/q');
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;
GRANT task_service TO regress_lkl_svc;
SELECT pg_temp.whoami('regress_lkl_svc') AS svc_with_group_again;

-- a row for a role that was dropped stays behind until task_maintain
SELECT 'regress_lkl_gone'::regrole::oid AS gone_oid \gset
DROP ROLE regress_lkl_gone;
SELECT count(*) AS orphan_rows FROM task.login l WHERE l.role::oid = :gone_oid;
-- a new role handed that row (what oid reuse would do) is nobody
CREATE ROLE regress_lkl_new LOGIN;
UPDATE task.login SET role = 'regress_lkl_new'::regrole WHERE role::oid = :gone_oid;
SELECT pg_temp.whoami('regress_lkl_new') AS new_role_on_old_row;
UPDATE task.login SET role = :gone_oid::oid::regrole WHERE role = 'regress_lkl_new'::regrole;
SELECT (task_maintain())->>'more' IS NOT NULL AS maintained;
SELECT count(*) AS orphan_rows_after FROM task.login l WHERE l.role::oid = :gone_oid;

-- disabling an account takes its logins out of their group role
SELECT task_account_update(:'client', status => 'Disabled') AS disabled;
SELECT pg_has_role('regress_lkl_client', 'task_client', 'MEMBER') AS in_group,
       pg_temp.whoami('regress_lkl_client') AS kind;
SELECT task_account_update(:'client', status => 'Active') AS enabled;
SELECT pg_has_role('regress_lkl_client', 'task_client', 'MEMBER') AS in_group,
       pg_temp.whoami('regress_lkl_client') AS kind;
-- renaming an active account leaves its logins as they are, without a
-- NOTICE "role ... is already a member of role task_client"
SELECT task_account_update(:'client', name => 'Renamed client') AS renamed;
SELECT pg_has_role('regress_lkl_client', 'task_client', 'MEMBER') AS in_group;
SELECT task_account_update('ACC-9999-9997', name => 'nobody') AS no_such_account;
-- superuser only
SET SESSION AUTHORIZATION regress_lkl_client;
\set ON_ERROR_STOP 0
\set VERBOSITY terse
SELECT task_account_update(:'client', status => 'Active');
\set VERBOSITY default
\set ON_ERROR_STOP 1
RESET SESSION AUTHORIZATION;

DROP OWNED BY regress_lkl_svc, regress_lkl_client, regress_lkl_new;
