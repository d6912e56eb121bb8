\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Access to the marketplace's tables (22_market_tables.sql): grants and
-- row-level security, as 90_access.sql does for the core. The SQL API
-- (87_market.sql, SECURITY DEFINER) checks each caller itself; these rules
-- govern direct reads. Nobody but the API writes. Operations read
-- everything; the owning service reads its hired tasks and the agent
-- directory; clients and agents read nothing directly (the API serves them:
-- task_get, task_messages, task_artifacts, task_payments, task_agents,
-- task_market_balance).
-- Ledger transactions and entries: Operations only (task_payments shows a
-- task's parties theirs).

GRANT SELECT ON task.market, task.market_agent, task.ledger_account, task.ledger_txn, task.ledger_entry,
                task.market_task, task.market_assignment, task.market_dispute, task.market_dispute_event,
                task.market_message, task.market_artifact TO task_operations;

GRANT SELECT ON task.market_agent, task.market_task, task.market_assignment, task.market_dispute,
                task.market_dispute_event, task.market_message, task.market_artifact TO task_service;

-- Vendors and clients (agents and hiring clients) read through the API
-- only, as for the core tables (90_access.sql, docs/THREAT-MODEL.md): a
-- policy is a filter the caller's own conditions run before, so EXPLAIN
-- ANALYZE would show that hidden rows exist.

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['market', 'market_agent', 'ledger_account', 'ledger_txn', 'ledger_entry', 'market_task',
                             'market_assignment', 'market_dispute', 'market_dispute_event', 'market_message',
                             'market_artifact'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE task.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE task.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON task.%I FOR SELECT TO task_operations USING ((SELECT task.current_is_operations()))',
                                  t || '_operations', t);
    END LOOP;
END
$$;

CREATE POLICY market_agent_directory ON task.market_agent FOR SELECT TO task_service
    USING ((SELECT task.current_service()) IS NOT NULL);

CREATE POLICY market_task_owner ON task.market_task FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

-- the side tables of a hired task: the owning service (its client and
-- current agent read them through the API)
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['market_assignment', 'market_dispute', 'market_dispute_event', 'market_message',
                             'market_artifact'] LOOP
        EXECUTE pg_catalog.format('CREATE POLICY %I ON task.%I FOR SELECT TO task_service USING (owner = (SELECT task.current_service()))',
                                  t || '_owner', t);
    END LOOP;
END
$$;

REVOKE ALL ON task.market, task.market_agent, task.ledger_account, task.ledger_txn, task.ledger_entry,
              task.market_task, task.market_assignment, task.market_dispute, task.market_dispute_event,
              task.market_message, task.market_artifact FROM PUBLIC;

REVOKE ALL ON SEQUENCE task.ledger_account_id_seq, task.ledger_txn_id_seq FROM PUBLIC;

-- task_hire_sync runs as its caller (a procedure that commits cannot be
-- SECURITY DEFINER) and asks whether it may commit: no secret.
GRANT EXECUTE ON FUNCTION task._can_commit() TO PUBLIC;
