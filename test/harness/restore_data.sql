-- Data of 0.2.0 for the restore check (test/harness/restore.sh), after test/upgrade/data.sql (which
-- calls only the 0.1.0 API): the marketplace (an agent, a wallet, a hire released and tipped, a
-- hire under dispute, the ledger), a queue with claim-time limits (queue_rate, key_rate,
-- queue_share rows), a unique key and a priority, and task_maintain's record (maintenance_run).
-- Run by a superuser with psql -v ON_ERROR_STOP=1; every value printed is checked by nothing.
SET search_path = task, public;
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['rs_market_client', 'rs_market_agent', 'rs_market_ops'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I', r);
        END IF;
    END LOOP;
END
$$;
SELECT task_service_create('restore-market', 'rsmarket') AS msvc \gset
SELECT (task_queue_create('rsmarket/hired', owner => :'msvc')).name;
SELECT task_market_setup(:'msvc', 'rsmarket/hired', review_window => '1 day') ->> 'currency';
SELECT task_account_create('rs client', 'Client') AS mclient, task_account_create('rs agent', 'Vendor') AS agent,
       task_account_create('rs ops', 'Operations') AS mops \gset
SELECT task_login_grant('rs_market_client', :'mclient'), task_login_grant('rs_market_agent', :'agent'),
       task_login_grant('rs_market_ops', :'mops');
SELECT task_agent_register(:'agent', ARRAY['writing'], 300, capacity => 5) ->> 'price';
SET ROLE rs_market_ops;
SELECT task_market_deposit(:'mclient', 5000, 'card') ->> 'balance';
RESET ROLE;
-- released and tipped
SET ROLE rs_market_client;
SELECT task_hire('writing', '{"topic": "restore"}', 1000, name => 'released') ->> 'id' AS released \gset
RESET ROLE;
SET ROLE rs_market_agent;
SELECT task_message(:'released', 'done') ->> 'content';
SELECT status FROM task_complete(:'released', '{"words": 10}');
RESET ROLE;
SET ROLE rs_market_client;
SELECT task_accept(:'released') -> 'marketplace' -> 'escrow' ->> 'state';
SELECT task_payment(:'released', 50, 'tip', 'thanks') ->> 'paid_to_agents';
-- under dispute, escrow held
SELECT task_hire('writing', '{"topic": "dispute"}', 1000, name => 'disputed') ->> 'id' AS disputed \gset
RESET ROLE;
SET ROLE rs_market_agent;
SELECT status FROM task_complete(:'disputed', '{"words": 1}');
RESET ROLE;
SET ROLE rs_market_client;
SELECT task_dispute(:'disputed', 'too short') ->> 'status';
RESET ROLE;

-- claim-time limits, a unique key, a priority
SET ROLE up_svc;
SELECT (task_queue_create('up/limited', max_processing => 2, key_concurrency => 1, rate_limit => 100,
                          rate_interval => '1 minute', fair_share => true, key_rate_limit => 10)).name;
SELECT status FROM task_create('up.limited', 'up/limited', ordering_key => 'a', unique_key => 'u-1', priority => 5);
SELECT status FROM task_create('up.limited', 'up/limited', ordering_key => 'b');
SELECT count(*) AS claimed FROM task_dequeue('up/limited');
RESET ROLE;
SELECT task_maintain() ->> 'more' AS more;
SELECT count(*) AS violations FROM task_market_check();
