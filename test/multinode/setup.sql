-- The directory, created through the router as the system (postgres):
-- two services, three accounts, logins for every kind of caller, queues.
-- Service A's queues are spread over both nodes (a/one on node 0, a/two
-- moved to node 1 before it has tasks); service B's first queue goes to
-- the node with the fewest queues (node 1).
SELECT task.task_service_create('Service A', 'a');
SELECT task.task_service_create('Service B', 'b');
SELECT task.task_account_create('Ops', 'Operations');
SELECT task.task_account_create('Vendor', 'Vendor');
SELECT task.task_account_create('Client', 'Client');
SELECT task.task_login_grant('mn_svc_a', 'SVC-0001');
SELECT task.task_login_grant('mn_svc_b', 'SVC-0002');
SELECT task.task_login_grant('mn_ops', 'ACC-0000-0001');
SELECT task.task_login_grant('mn_vendor', 'ACC-0000-0002');
SELECT task.task_login_grant('mn_client', 'ACC-0000-0003');
SELECT task.task_queue_create('a/one', 'SVC-0001');
SELECT task.task_queue_create('a/two', 'SVC-0001');
SELECT task.task_queue_create('b/one', 'SVC-0002');
SELECT task.task_queue_create('b/wait', 'SVC-0002');
SELECT task_router.queue_move('a/two', 1);
SELECT task_router.queue_move_finish('a/two');

-- test helpers (router database, public schema)
CREATE FUNCTION mn_ok(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'not ok: %', what;
    END IF;
END
$$;
-- an API call's outcome: 'ok', or its SQLSTATE and the node's message
-- (exactly as the node raised it: sql/router/40_errors.sql)
CREATE FUNCTION mn_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

-- a login whose role is missing on a node is refused before anything is
-- mapped (it would stop every later directory copy to that node)
CREATE ROLE mn_lonely LOGIN;
SELECT mn_ok(mn_try('SELECT task.task_login_grant(''mn_lonely'', ''SVC-0001'')')
             LIKE '42704 role "mn_lonely" does not exist on node 0', 'a login missing on the nodes is refused');
DROP ROLE mn_lonely;
-- an unknown account type: 22023 from node 0, as on one node
SELECT mn_ok(mn_try('SELECT task.task_account_create(''Nobody'', ''Bogus'')')
             = '22023 invalid type "Bogus"', 'an unknown account type is refused');
-- a login role missing on the router too: refused with a hint, as on one node
SELECT mn_ok(mn_try('SELECT task.task_login_grant(''mn_nowhere'', ''SVC-0001'')')
             = '42704 role "mn_nowhere" does not exist', 'a login missing on the router is refused');
DO $$
DECLARE
    h text;
BEGIN
    PERFORM task.task_login_revoke('mn_nowhere');
    PERFORM mn_ok(false, 'a revoke of a role missing on the router is refused');
EXCEPTION WHEN undefined_object THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    PERFORM mn_ok(h LIKE 'Create the login role on the router and on every node first%', 'with a hint');
END
$$;

SELECT mn_ok(array_agg(queue || '@' || node ORDER BY queue) = '{a/one@0,a/two@1,b/one@1,b/wait@1}', 'queue placement')
  FROM task_router.queue_node;
