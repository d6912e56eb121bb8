-- task_router.node_add refuses, clearly and without adding anything: a
-- connect string with a user (PL/Proxy adds the caller's) or a URI, a
-- server it cannot reach, a database without task, a node that lacks
-- the role of a login (mn_partial, made on the router and nodes 0 and 1
-- by the harness). (psql variables: a
-- socket with no server, and node 2's server with the database postgres.)
SELECT mn_ok(mn_try(format('SELECT task_router.node_add(%L)', :'node2' || ' user=mn_svc_a'))
             = '22023 a node''s connect string must be key=value pairs without user or password', 'a user in the connect string is refused');
SELECT mn_ok(mn_try($$SELECT task_router.node_add('postgresql://mn_svc_a@localhost/task')$$) LIKE '22023 %', 'a URI is refused');
SELECT mn_ok(mn_try(format('SELECT task_router.node_add(%L)', :'nowhere')) ~ '^08006 node 2 cannot be reached: connection to server on socket .* failed', 'a server that is not there: 08006');
SELECT mn_ok(mn_try(format('SELECT task_router.node_add(%L)', :'notask'))
             = format('55000 the database at "%s" has no task extension', :'notask'), 'a database without task: 55000');
SELECT mn_try(format('SELECT task_router.node_add(%L)', :'node2')) AS "the error, for the log";
SELECT mn_ok(mn_try(format('SELECT task_router.node_add(%L)', :'node2')) = '55000 node 2 did not get the directory: role mn_partial does not exist on node 2',
             'a node that lacks a login''s role: 55000, it does not get the directory');
SELECT mn_ok(count(*) = 2, 'nothing was added') FROM task_router.node;
