\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Access to the marketplace's tables (22_market_tables.sql): grants and
-- row-level security, as 90_access.sql does for the core. The SQL API
-- (87_market.sql, SECURITY DEFINER) checks each caller itself; these rules
-- govern direct reads. Nobody but the API writes. Operations read
-- everything; a client or agent reads its hired tasks, their messages,
-- artifacts and assignment history, and its own wallet; the owning
-- service reads its hired tasks; everyone mapped reads the agent directory.
-- Ledger transactions and entries: Operations only (task_payments shows a
-- task's parties theirs).

GRANT SELECT ON task.market, task.market_agent, task.ledger_account, task.ledger_txn, task.ledger_entry,
                task.market_task, task.market_assignment, task.market_dispute, task.market_dispute_event,
                task.market_message, task.market_artifact TO task_operations;

GRANT SELECT ON task.market_agent, task.market_task, task.market_assignment, task.market_dispute,
                task.market_dispute_event, task.market_message, task.market_artifact TO task_service;

GRANT SELECT ON task.market_agent, task.ledger_account, task.market_task, task.market_assignment,
                task.market_dispute, task.market_dispute_event, task.market_message, task.market_artifact
    TO task_vendor, task_client;

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

CREATE POLICY market_agent_directory ON task.market_agent FOR SELECT TO task_service, task_vendor, task_client
    USING ((SELECT task.current_service()) IS NOT NULL OR (SELECT task.current_account()) IS NOT NULL);

CREATE POLICY ledger_account_own_wallet ON task.ledger_account FOR SELECT TO task_vendor, task_client
    USING (kind = 'wallet' AND account = (SELECT task.current_account()));

CREATE POLICY market_task_owner ON task.market_task FOR SELECT TO task_service
    USING (owner = (SELECT task.current_service()));

CREATE POLICY market_task_party ON task.market_task FOR SELECT TO task_vendor, task_client
    USING (client = (SELECT task.current_account()) OR agent = (SELECT task.current_account()));

-- the side tables of a hired task: the owning service, or its client and
-- current agent (the task's access list, as for the task itself)
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['market_assignment', 'market_dispute', 'market_dispute_event', 'market_message',
                             'market_artifact'] LOOP
        EXECUTE pg_catalog.format('CREATE POLICY %I ON task.%I FOR SELECT TO task_service USING (owner = (SELECT task.current_service()))',
                                  t || '_owner', t);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON task.%I FOR SELECT TO task_vendor, task_client USING (task_id = ANY (ARRAY(SELECT a.task_id FROM task.task_access a WHERE a.account = (SELECT task.current_account()))))',
                                  t || '_party', t);
    END LOOP;
END
$$;

REVOKE ALL ON task.market, task.market_agent, task.ledger_account, task.ledger_txn, task.ledger_entry,
              task.market_task, task.market_assignment, task.market_dispute, task.market_dispute_event,
              task.market_message, task.market_artifact FROM PUBLIC;

REVOKE ALL ON SEQUENCE task.ledger_account_id_seq, task.ledger_txn_id_seq FROM PUBLIC;
