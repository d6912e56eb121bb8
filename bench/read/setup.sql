-- (bench/read/ab.sh) the data of the read benchmark: 20,000 tasks in ab/hist, every tenth
-- shared with a client account, and 20,000 queued in ab/work; public.ids lists the ab/hist ids
-- in creation order and whether each is shared
CREATE EXTENSION task CASCADE;
SET search_path = task, public;
SELECT task_service_create('svc', 'ab') AS s \gset
SELECT task_account_create('client', 'Client') AS c \gset
CREATE ROLE ab_svc LOGIN; CREATE ROLE ab_client LOGIN;
SELECT task_login_grant('ab_svc', :'s'); SELECT task_login_grant('ab_client', :'c');
GRANT USAGE ON SCHEMA task TO ab_svc, ab_client;
SET ROLE ab_svc;
SELECT count(*) FROM (SELECT task_create('ab.job', 'ab/hist', access => CASE WHEN g % 10 = 0 THEN ARRAY[:'c'] END) FROM generate_series(1, 20000) g) x;
SELECT count(*) FROM task_create_many('ab.work', 'ab/work', array_fill('{}'::jsonb, ARRAY[10000]));
SELECT count(*) FROM task_create_many('ab.work', 'ab/work', array_fill('{}'::jsonb, ARRAY[10000]));
RESET ROLE;
CREATE TABLE public.ids AS SELECT row_number() OVER (ORDER BY created_at, id) AS n, id::text AS id,
       EXISTS (SELECT FROM task.task_access a WHERE a.owner = t.owner AND a.task_id = t.id) AS shared
  FROM task.task t WHERE queue = 'ab/hist';
VACUUM ANALYZE;
