-- make demo, part 1: the operator sets up; the application creates tasks
-- inside its own transactions. (Part 2: two workers drain the queue
-- concurrently; part 3: demo_report.sql.)
\set QUIET on
\pset footer off
SET search_path = task, public;

\echo
\echo '== 1. The operator registers a service, accounts and database logins'
SELECT task_service_create('platform', 'marketplace/platform') AS svc \gset
SELECT task_account_create('SoftwareONE (Backoffice)', 'Operations') AS ops \gset
SELECT task_account_create('Buyer Co', 'Client') AS buyer_co \gset
SELECT task_account_create('Other Buyer', 'Client') AS other_buyer \gset
CREATE ROLE platform_app LOGIN;
CREATE ROLE platform_worker LOGIN;
CREATE ROLE buyer_co LOGIN;
CREATE ROLE other_buyer LOGIN;
SELECT task_login_grant('platform_app', :'svc'), task_login_grant('platform_worker', :'svc'),
       task_login_grant('buyer_co', :'buyer_co'), task_login_grant('other_buyer', :'other_buyer');
SELECT l.role AS login, coalesce(task.service_text(l.service), task.account_text(l.account)) AS acts_as
  FROM task.login l ORDER BY 1;
SELECT task_queue_create('marketplace/platform/internal/buyers/commands', owner => :'svc',
                         max_attempts => 3, backoff_base => '1 second') IS NOT NULL AS queue_created;

-- the application's own table
CREATE TABLE public.transfer_request (buyer text PRIMARY KEY, target text NOT NULL, task task.task_id);
GRANT SELECT, INSERT, UPDATE ON public.transfer_request TO platform_app;
GRANT USAGE ON SCHEMA task TO platform_app;

\echo
\echo '== 2. The application creates each task in the transaction of its business change'
SET ROLE platform_app;
BEGIN;
INSERT INTO public.transfer_request (buyer, target)
SELECT format('BUY-1190-%s', lpad(g::text, 4, '0')), :'buyer_co' FROM generate_series(1, 12) g;
UPDATE public.transfer_request r
   SET task = (task_create('accounts.buyers.transfer', 'marketplace/platform/internal/buyers/commands',
                  name => 'Transferring the buyer to a different account',
                  object => jsonb_build_object('id', r.buyer),
                  description => format('Transferring buyer %L to account %L', r.buyer, r.target),
                  parameters => jsonb_build_object('BuyerId', r.buyer, 'TargetAccountId', r.target),
                  access => CASE WHEN right(r.buyer, 1)::int % 2 = 0 THEN ARRAY[:'buyer_co'] ELSE ARRAY[:'other_buyer'] END)).id;
COMMIT;
-- a transaction that rolls back leaves no task behind
BEGIN;
INSERT INTO public.transfer_request (buyer, target) VALUES ('BUY-9999-0000', 'nowhere');
SELECT (task_create('accounts.buyers.transfer', 'marketplace/platform/internal/buyers/commands')).id IS NOT NULL AS created_then_rolled_back;
ROLLBACK;
SELECT count(*) AS requests, count(task) AS with_task FROM public.transfer_request;
SELECT j->>'status' AS status, count(*) FROM task_list(list_limit => 100) j GROUP BY 1;
RESET ROLE;

-- the worker loop, as a procedure so each task is its own transaction
CREATE PROCEDURE public.demo_worker(worker text)
LANGUAGE plpgsql AS $$
DECLARE
    t task.task;
    prev task.task_id;
    prev_token bigint;
    prev_resource text;
    done integer := 0;
BEGIN
    LOOP
        -- complete the previous task and claim the next: one round trip
        SELECT * INTO t FROM task.task_dequeue('marketplace/platform/internal/buyers/commands', 1,
                                               complete => prev, complete_token => prev_token,
                                               resource => prev_resource);
        prev := NULL;
        IF t.id IS NULL THEN
            COMMIT;
            -- nothing runnable: stop when nothing is waiting for a retry either
            EXIT WHEN NOT EXISTS (SELECT FROM task.task_list(status => 'rescheduled'));
            PERFORM pg_sleep(0.2);
            CONTINUE;
        END IF;
        PERFORM pg_sleep(0.1);                                  -- the work itself
        PERFORM task.task_progress(t.id, 50, token => t.lease_token);
        IF t.parameters->>'BuyerId' LIKE '%7' AND t.attempts = 1 THEN
            -- the first attempt on one buyer hits a transient error
            PERFORM task.task_fail(t.id, 'target account locked, will retry', token => t.lease_token);
        ELSE
            PERFORM task.task_log(t.id, format('%s moved 20 agreements', worker),
                                  errors => 0, skips => 0, success => 20, total => 20);
            prev := t.id;
            prev_token := t.lease_token;
            prev_resource := '/public/v1/accounts/buyers/' || (t.parameters->>'BuyerId');
            done := done + 1;
        END IF;
        COMMIT;
    END LOOP;
    RAISE NOTICE 'worker % completed % tasks', worker, done;
END
$$;
GRANT EXECUTE ON PROCEDURE public.demo_worker(text) TO platform_worker;
