-- Seed 001's FULL EXAMPLE, built through the API: task_get must return
-- the same keys, nesting and values. Ids and times differ by nature; the
-- task's own revision counts its changes here (create, claim, complete),
-- where the seed shows 1.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

SELECT task_service_create('platform', 'marketplace/platform') AS svc \gset
SELECT task_account_create('SoftwareONE (Backoffice)', 'Operations') AS backoffice \gset
CREATE ROLE seed_platform;
SELECT task_login_grant('seed_platform', :'svc');

SET ROLE seed_platform;
SELECT id AS tid FROM task_create(
    'accounts.buyers.transfer',
    'marketplace/platform/internal/buyers/commands',
    name        => 'Transferring the buyer to a different account',
    object      => '{"id": "BUY-1190-0394"}',
    description => $$Transferring buyer 'BUY-1190-0394' to account 'ACC-5563-4382'$$,
    parameters  => '{"BuyerId": "BUY-1190-0394", "TargetAccountId": "ACC-5563-4382"}',
    access      => ARRAY[:'backoffice']) \gset
-- the service's worker claims and completes it with a resource result
SELECT lease_token AS token FROM task_dequeue('marketplace/platform/internal/buyers/commands') \gset
SELECT status FROM task_complete(:'tid', resource => '/public/v1/accounts/buyers/BUY-1190-0394', token => :token);
SELECT task_get(:'tid') AS ours_service \gset
RESET ROLE;
-- The seed shows the access list with the accounts' directory entries:
-- what Operations see. The owning service sees the same task with only the
-- ids of the accounts on its access list (it may not read the directory,
-- docs/THREAT-MODEL.md), and nothing else differs.
CREATE ROLE seed_backoffice;
SELECT task_login_grant('seed_backoffice', :'backoffice');
SET ROLE seed_backoffice;
SELECT task_get(:'tid') AS ours \gset
RESET ROLE;
SELECT (:'ours'::jsonb - 'access') = (:'ours_service'::jsonb - 'access') AS same_but_access,
       :'ours_service'::jsonb -> 'access' = jsonb_build_array(jsonb_build_object('id', :'backoffice')) AS service_sees_ids;

CREATE TEMP TABLE seed (doc jsonb);
INSERT INTO seed VALUES ($json$
{
    "id": "TSK-0001-2474-4798-1266",
    "name": "Transferring the buyer to a different account",
    "revision": 1,
    "status": "Completed",
    "code": "accounts.buyers.transfer",
    "queue": "marketplace/platform/internal/buyers/commands",
    "object": {
        "id": "BUY-1190-0394"
    },
    "description": "Transferring buyer 'BUY-1190-0394' to account 'ACC-5563-4382'",
    "progress": 100,
    "parameters": {
        "BuyerId": "BUY-1190-0394",
        "TargetAccountId": "ACC-5563-4382"
    },
    "result": "/public/v1/accounts/buyers/BUY-1190-0394",
    "owner": {
        "id": "SVC-0001",
        "name": "platform",
        "revision": 1
    },
    "access": [
        {
            "id": "ACC-0000-0001",
            "name": "SoftwareONE (Backoffice)",
            "revision": 1,
            "type": "Operations",
            "status": "Active"
        }
    ],
    "audit": {
        "started": {
            "at": "2025-09-04T09:03:09.702Z",
            "by": {
                "id": "SVC-0001",
                "name": "platform",
                "revision": 1
            }
        },
        "completed": {
            "at": "2025-09-04T09:03:20.668Z",
            "by": {
                "id": "SVC-0001",
                "name": "platform",
                "revision": 1
            }
        },
        "created": {
            "at": "2025-09-04T09:03:08.790Z",
            "by": {
                "id": "SVC-0001",
                "name": "platform",
                "revision": 1
            }
        },
        "updated": {
            "at": "2025-09-04T09:03:20.669Z",
            "by": {
                "id": "SVC-0001",
                "name": "platform",
                "revision": 1
            }
        }
    }
}
$json$);

-- every path of a document with its JSON type and value
CREATE FUNCTION pg_temp.flat(doc jsonb) RETURNS TABLE (path text, type text, value jsonb)
LANGUAGE sql AS $$
    WITH RECURSIVE r(path, value) AS (
        SELECT '', doc
        UNION ALL
        SELECT r.path || c.step, c.v
          FROM r, LATERAL (
              SELECT '.' || e.key AS step, e.value AS v
                FROM jsonb_each(CASE WHEN jsonb_typeof(r.value) = 'object' THEN r.value ELSE '{}' END) e
              UNION ALL
              SELECT '[' || (a.i - 1) || ']', a.v
                FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.value) = 'array' THEN r.value ELSE '[]' END)
                     WITH ORDINALITY a(v, i)) c)
    SELECT path, jsonb_typeof(value), value FROM r WHERE path <> ''
$$;

-- the same paths with the same types
SELECT count(*) AS seed_paths FROM seed, pg_temp.flat(doc);
SELECT count(*) AS our_paths FROM pg_temp.flat(:'ours');
SELECT coalesce(s.path, o.path) AS path, s.type AS seed_type, o.type AS our_type
  FROM (SELECT f.* FROM seed, pg_temp.flat(doc) f) s
  FULL JOIN pg_temp.flat(:'ours') o ON o.path = s.path
 WHERE s.path IS NULL OR o.path IS NULL OR s.type <> o.type
 ORDER BY 1;

-- the same values, ids and times aside (object.id is business data: compared)
SELECT s.path, s.value AS seed_value, o.value AS our_value
  FROM (SELECT f.* FROM seed, pg_temp.flat(doc) f) s
  JOIN pg_temp.flat(:'ours') o ON o.path = s.path
 WHERE s.type NOT IN ('object', 'array')
   AND s.path !~ '^\.id$|^\.owner\.id$|^\.access\[\d+\]\.id$|\.by\.id$|\.at$'
   AND s.path <> '.revision'
   AND s.value <> o.value
 ORDER BY 1;

-- what was set aside is well formed
SELECT o.path, CASE
         WHEN o.path ~ '\.at$' THEN o.value #>> '{}' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$'
         WHEN o.path = '.id' THEN o.value #>> '{}' ~ '^TSK-\d{4}-\d{4}-\d{4}-\d{4}$'
         WHEN o.path ~ '^\.owner|by\.id$' THEN o.value #>> '{}' = :'svc'
         WHEN o.path ~ '^\.access' THEN o.value #>> '{}' = :'backoffice'
         WHEN o.path = '.revision' THEN (o.value #>> '{}')::int = 3
       END AS ok
  FROM pg_temp.flat(:'ours') o
 WHERE o.path ~ '^\.id$|^\.owner\.id$|^\.access\[\d+\]\.id$|\.by\.id$|\.at$' OR o.path = '.revision'
 ORDER BY 1;
-- audit times follow the life of the task
SELECT (j #>> '{audit,created,at}') <= (j #>> '{audit,started,at}')
   AND (j #>> '{audit,started,at}') <= (j #>> '{audit,completed,at}')
   AND (j #>> '{audit,completed,at}') <= (j #>> '{audit,updated,at}') AS audit_in_order
  FROM (SELECT :'ours'::jsonb AS j) x;
