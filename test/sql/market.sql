-- The marketplace (seed 004): agents, hire with auto-assignment and escrow,
-- complete / fail / cancel with release and refund, result verification,
-- reassignment, three-tier disputes, messages, artifacts, payments, and
-- every role's view. task_market_check() runs after every step that can
-- move money (:chk prints "ok" or the violations).
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

-- try(sql): runs a statement, answers 'ok' or 'SQLSTATE: message (hint)'
CREATE FUNCTION public.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; m text; h text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    RETURN s || ': ' || m || coalesce(' (' || nullif(h, '') || ')', '');
END
$$;
GRANT EXECUTE ON FUNCTION public.try(text) TO PUBLIC;
\set chk 'RESET ROLE; SELECT coalesce(string_agg(invariant || '': '' || detail, E''\\n''), ''ok'') AS invariants FROM task_market_check();'

-- ------------------------------------------------------------ set-up
-- ids: pinned in a range of their own, the sequences put back at the end
SELECT last_value AS svc_last, is_called AS svc_called FROM task.service_id_seq \gset
SELECT last_value AS acc_last, is_called AS acc_called FROM task.account_id_seq \gset
SELECT setval('task.service_id_seq', 8000) AS _, setval('task.account_id_seq', 80000000) AS _,
       setval('task.task_serial_seq', 800000) AS _ \gset
SELECT task_service_create('market', 'mk') AS svc \gset
SELECT task_account_create('Backoffice', 'Operations') AS ops,
       task_account_create('Alice (client)', 'Client') AS alice,
       task_account_create('Bob (client)', 'Client') AS bob,
       task_account_create('Translator One', 'Vendor') AS a1,
       task_account_create('Translator Two', 'Vendor') AS a2,
       task_account_create('Coder', 'Vendor') AS a3,
       task_account_create('Sleepy', 'Vendor') AS a4 \gset
CREATE ROLE mk_svc; CREATE ROLE mk_ops; CREATE ROLE mk_alice; CREATE ROLE mk_bob;
CREATE ROLE mk_a1; CREATE ROLE mk_a2; CREATE ROLE mk_a3; CREATE ROLE mk_a4;
SELECT task_login_grant('mk_svc', :'svc'), task_login_grant('mk_ops', :'ops'),
       task_login_grant('mk_alice', :'alice'), task_login_grant('mk_bob', :'bob'),
       task_login_grant('mk_a1', :'a1'), task_login_grant('mk_a2', :'a2'),
       task_login_grant('mk_a3', :'a3'), task_login_grant('mk_a4', :'a4');

-- nothing works before the marketplace is set up
SET ROLE mk_alice;
SELECT try($$SELECT task_hire('translation.de_en', '{}', 100)$$);
RESET ROLE;
SELECT (task_queue_create('mk/hired', owner => :'svc')).name;
SELECT task_market_setup(:'svc', 'mk/hired', review_window => '1 hour') - 'service' AS market;
SELECT retention FROM task.queue WHERE name = 'mk/hired';

-- agents: Vendor accounts with capabilities, a price and a capacity
SELECT task_agent_register(:'a1', ARRAY['translation.de_en', 'translation.fr_en'], 400, capacity => 1) - 'id' - 'name' AS a1;
SELECT task_agent_register(:'a2', ARRAY['translation.de_en'], 500, capacity => 2) ->> 'price' AS a2_price;
SELECT task_agent_register(:'a3', ARRAY['code.review'], 2000) ->> 'price' AS a3_price;
SELECT task_agent_register(:'a4', ARRAY['translation.de_en'], 100) ->> 'price' AS a4_price;
-- a4 is the cheapest but was last seen an hour ago: unresponsive
UPDATE task.market_agent SET last_seen = now() - interval '1 hour' WHERE account = account_number(:'a4');
SELECT try(format($$SELECT task_agent_register(%L, ARRAY['x'], 1)$$, :'alice'));
SELECT try(format($$SELECT task_agent_register(%L, ARRAY['x'], 1)$$, :'ops'));
SELECT try(format($$SELECT task_agent_register(%L, ARRAY['bad capability'], 1)$$, :'a1'));
SELECT try(format($$SELECT task_agent_register(%L, ARRAY['x'], -1)$$, :'a1'));
SET ROLE mk_alice;
SELECT try(format($$SELECT task_agent_register(%L, ARRAY['x'], 1)$$, :'a1'));
SELECT a->>'name' AS agent, a->>'price' AS price, a->>'responsive' AS responsive, a->>'load' AS load
  FROM task_agents('translation.de_en') a;
RESET ROLE;
SET ROLE mk_a2;
SELECT task_agent_heartbeat() ->> 'responsive' AS a2_heartbeat;
RESET ROLE;
SET ROLE mk_alice;
SELECT try('SELECT task_agent_heartbeat()');
RESET ROLE;

-- deposits (Operations): the ledger's funding account pays into wallets
SET ROLE mk_ops;
SELECT task_market_deposit(:'alice', 10000, 'card payment') AS alice_wallet;
SELECT task_market_deposit(:'bob', 300) ->> 'balance' AS bob_balance;
SELECT try(format($$SELECT task_market_deposit(%L, 10.5)$$, :'alice'));
SELECT try(format($$SELECT task_market_deposit(%L, -5)$$, :'alice'));
SELECT try(format($$SELECT task_market_deposit(%L, 0)$$, :'alice'));
RESET ROLE;
SET ROLE mk_alice;
SELECT try(format($$SELECT task_market_deposit(%L, 100)$$, :'alice'));
RESET ROLE;
SELECT try('SELECT task_market_deposit(NULL, 100)');
SET ROLE mk_alice;
SELECT task_market_balance() ->> 'balance' AS alice_balance;
SELECT try(format($$SELECT task_market_balance(%L)$$, :'bob'));
:chk

-- ------------------------------------------------------------ hire
-- bad input: each a clear error, nothing written
SET ROLE mk_alice;
SELECT try($$SELECT task_hire('translation.de_en', '{}', 12.5)$$);
SELECT try($$SELECT task_hire('translation.de_en', '{}', -1)$$);
SELECT try($$SELECT task_hire('translation.de_en', '{}', NULL)$$);
SELECT try($$SELECT task_hire('translation.de_en', '{}', 20000)$$);
SELECT try($$SELECT task_hire('cooking', '{}', 100)$$);
SELECT try($$SELECT task_hire('code.review', '{}', 1000)$$);
SELECT try($$SELECT task_hire('not a capability', '{}', 100)$$);
SELECT try($$SELECT task_hire('translation.de_en', '{}', 300)$$);
SELECT try($$SELECT task_hire('translation.de_en', '{}', 1000, execution_mode => 'eventually')$$);
SELECT try(format($$SELECT task_hire('translation.de_en', '{}', 1000, agent => %L)$$, :'a3'));
SELECT try(format($$SELECT task_hire('code.review', '{}', 1000, agent => %L)$$, :'a3'));
RESET ROLE;
SELECT count(*) AS tasks, (SELECT count(*) FROM task.ledger_txn) AS txns FROM task.market_task;
SET ROLE mk_bob;
SELECT try($$SELECT task_hire('translation.de_en', '{}', 1000)$$);
RESET ROLE;
SET ROLE mk_ops;
SELECT try($$SELECT task_hire('translation.de_en', '{}', 1000)$$);
RESET ROLE;
SET ROLE mk_svc;
SELECT try($$SELECT task_hire('translation.de_en', '{}', 1000)$$);
RESET ROLE;

-- T1: auto-assigned to the cheapest responsive agent with capacity (a1 at
-- 400; a4 is cheaper but unresponsive); max_price 1000 held in escrow
SET ROLE mk_alice;
SELECT j->>'id' AS t1, j->>'status' AS status, j->>'code' AS code, j->'marketplace'->'agent'->>'name' AS agent,
       j->'marketplace'->>'price' AS price, j->'marketplace'->'escrow' AS escrow
  FROM task_hire('translation.de_en', '{"text": "Guten Tag"}', 1000, name => 'Translate a greeting') j \gset
SELECT :'status' AS status, :'code' AS code, :'agent' AS agent, :'price' AS price, :'escrow' AS escrow;
SELECT task_market_balance() - 'account' AS alice;
:chk
-- T2: a1 is at capacity (1): a2 takes it
SET ROLE mk_alice;
SELECT j->>'id' AS t2, j->'marketplace'->'agent'->>'name' AS agent FROM task_hire('translation.de_en', '{"text": "Danke"}', 1000) j \gset
SELECT :'agent' AS agent;
-- T3: explicit agent
SELECT j->>'id' AS t3, j->'marketplace'->'agent'->>'name' AS agent
  FROM task_hire('code.review', '{"repo": "x"}', 3000, agent => :'a3') j \gset
SELECT :'agent' AS agent;
:chk

-- ------------------------------------------------------------ who sees what
SET ROLE mk_alice;
SELECT count(*) AS alice_sees FROM task_list();
SELECT j->>'id' = :'t1' AS t1_for_a1 FROM task_list(agent => :'a1') j;
SELECT count(*) AS alice_lists_a2 FROM task_list(agent => :'a2');
SELECT (task_get(:'t1')->'marketplace') - 'client' - 'agent' AS t1_marketplace;
RESET ROLE;
SET ROLE mk_a1;
SELECT count(*) AS a1_sees, min(j->>'id') = :'t1' AS it_is_t1 FROM task_list() j;
SELECT try(format($$SELECT task_get(%L)$$, :'t2'));
RESET ROLE;
SET ROLE mk_bob;
SELECT count(*) AS bob_sees FROM task_list();
SELECT try(format($$SELECT task_get(%L)$$, :'t1'));
SELECT try(format($$SELECT task_payments(%L)$$, :'t1'));
SELECT try(format($$SELECT task_messages(%L)$$, :'t1'));
SELECT try(format($$SELECT task_artifacts(%L)$$, :'t1'));
SELECT try(format($$SELECT task_cancel(%L)$$, :'t1'));
SELECT try(format($$SELECT task_dispute(%L, 'x')$$, :'t1'));
SELECT try(format($$SELECT task_payment(%L, 10)$$, :'t1'));
SELECT try(format($$SELECT task_message(%L, 'hi')$$, :'t1'));
SELECT try(format($$SELECT task_reassign(%L)$$, :'t1'));
SELECT try($$SELECT task_get('TSK-0009-0000-0000-0099')$$);
RESET ROLE;
SET ROLE mk_a2;
SELECT try(format($$SELECT task_complete(%L, '{}')$$, :'t1'));
RESET ROLE;
SET ROLE mk_ops;
SELECT count(*) AS ops_sees FROM task_list(queue => 'mk/hired');
RESET ROLE;
SET ROLE mk_svc;
SELECT count(*) AS service_sees FROM task_list();
RESET ROLE;
-- direct reads under RLS: each party its own rows
SET ROLE mk_a1;
SELECT count(*) AS a1_market_rows FROM task.market_task;
SELECT count(*) AS a1_wallets FROM task.ledger_account;
SELECT try('SELECT count(*) FROM task.ledger_txn');
RESET ROLE;
SET ROLE mk_bob;
SELECT count(*) AS bob_market_rows FROM task.market_task;
RESET ROLE;

-- ------------------------------------------------------------ messages
SET ROLE mk_alice;
SELECT (task_message(:'t1', 'Please use a formal tone.')) - 'at' - 'by' AS msg;
SELECT try(format($$SELECT task_message(%L, '')$$, :'t1'));
SELECT try(format($$SELECT task_message(%L, NULL)$$, :'t1'));
RESET ROLE;
SET ROLE mk_a1;
SELECT (task_message(:'t1', 'Will do.')) ->> 'seq' AS seq;
SELECT m->>'seq' AS seq, m->'by'->>'name' AS by, m->>'content' AS content FROM task_messages(:'t1') m;
RESET ROLE;
SET ROLE mk_ops;
SELECT count(*) AS ops_reads FROM task_messages(:'t1');
RESET ROLE;

-- ------------------------------------------------------------ artifacts
SET ROLE mk_a1;
SELECT a - 'at' - 'by' AS artifact FROM task_artifacts_add(:'t1', $$[
  {"artifact_type": "text", "name": "greeting.txt", "content": "Good day"},
  {"artifact_type": "json", "name": "meta", "content": {"words": 2}},
  {"artifact_type": "image", "name": "dot.png", "media_type": "image/png", "content": "iVBORw0KGgo="},
  {"artifact_type": "link", "name": "source", "content": "https://example.com/greeting"},
  {"artifact_type": "code_block", "name": "greet.py", "content": "print('Good day')"},
  {"artifact_type": "markdown", "name": "greeting.md", "content": "# Good day"},
  {"artifact_type": "html", "name": "greeting.html", "content": "<p>Good day</p>"},
  {"artifact_type": "diff", "name": "greeting.diff", "content": "-Guten Tag\n+Good day"},
  {"artifact_type": "file", "name": "a.bin", "content": "AAEC"}]$$) a;
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "video", "content": "x"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, %L)$$, :'t1',
    (SELECT jsonb_agg(jsonb_build_object('artifact_type', 'text', 'content', 'x')) FROM generate_series(1, 51))));
SELECT try(format($$SELECT task_artifacts_add(%L, %L)$$, :'t1',
    jsonb_build_array(jsonb_build_object('artifact_type', 'text', 'name', 'ok', 'content', 'ok'),
                      jsonb_build_object('artifact_type', 'text', 'name', 'big', 'content', repeat('x', 1048577)))));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "image", "name": "x", "content": "AAAA"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "file", "name": "x", "content": "not base64!"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "image", "media_type": "image/png", "name": "x", "content": "not base64!"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "link", "name": "x", "content": "ftp://x"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "json", "name": "x", "content": "{nope"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '{"artifact_type": "text"}')$$, :'t1'));
-- every artifact has a name (seed 004): missing, null, not a string, blank
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "text", "name": "a", "content": "x"}, {"artifact_type": "text", "content": "x"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "text", "name": null, "content": "x"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "text", "name": 7, "content": "x"}]')$$, :'t1'));
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "text", "name": " ", "content": "x"}]')$$, :'t1'));
RESET ROLE;
SELECT count(*) AS artifacts_kept FROM task.market_artifact;
SET ROLE mk_alice;
SELECT a->>'artifact' AS n, a->>'artifact_type' AS type, a->>'media_type' AS media_type, a->>'size' AS size,
       a->>'download_url' = '/rpc/task_artifact?id=' || :'t1' || '&artifact=' || (a->>'artifact') AS url_ok
  FROM task_artifacts(:'t1') a;
SELECT name, media_type, convert_from(content, 'UTF8') AS content FROM task_artifact(:'t1', 1);
SELECT media_type, encode(content, 'hex') AS bytes FROM task_artifact(:'t1', 3);
SELECT try(format($$SELECT task_artifact(%L, 99)$$, :'t1'));
SELECT try(format($$SELECT task_artifact(%L, NULL)$$, :'t1'));
RESET ROLE;
-- the download URL's prefix is a setting (a proxy serving the API elsewhere)
SET task.artifact_uri_prefix = '/api/v2/artifact';
SET ROLE mk_alice;
SELECT (task_artifacts(:'t1'))->>'download_url' LIKE '/api/v2/artifact?id=%' AS prefixed LIMIT 1;
RESET ROLE;
RESET task.artifact_uri_prefix;

-- per-task caps (max_artifacts, max_messages): t1 holds 9 artifacts and 2
-- messages; with caps of 10 and 3 a call that would pass them is refused
-- whole (54000), and Operations may still write messages
SELECT task_market_setup(:'svc', 'mk/hired', review_window => '1 hour', max_artifacts => 10, max_messages => 3)
       - 'service' - 'currency' - 'review_window' - 'tier1_window' - 'tier2_window' - 'tier3_window'
       - 'unresponsive_after' AS limits;
SET ROLE mk_a1;
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "text", "name": "a", "content": "x"}, {"artifact_type": "text", "name": "b", "content": "y"}]')$$, :'t1'));
SELECT a->>'artifact' AS n FROM task_artifacts_add(:'t1', '[{"artifact_type": "text", "name": "tenth", "content": "x"}]') a;
RESET ROLE;
SET ROLE mk_alice;
SELECT try(format($$SELECT task_artifacts_add(%L, '[{"artifact_type": "text", "name": "eleventh", "content": "x"}]')$$, :'t1'));
SELECT (task_message(:'t1', 'One more thing.')) ->> 'seq' AS seq;
RESET ROLE;
SET ROLE mk_a1;
SELECT try(format($$SELECT task_message(%L, 'Noted.')$$, :'t1'));
RESET ROLE;
SET ROLE mk_ops;
SELECT (task_message(:'t1', 'Operations here: the conversation is full.')) ->> 'seq' AS ops_seq;
RESET ROLE;
SELECT (SELECT count(*) FROM task.market_artifact WHERE task_id = :'t1') AS artifacts,
       (SELECT count(*) FROM task.market_message WHERE task_id = :'t1') AS messages;
SELECT try(format($$SELECT task_market_setup(%L, 'mk/hired', max_artifacts => 0)$$, :'svc'));
SELECT try(format($$SELECT task_market_setup(%L, 'mk/hired', max_messages => 100001)$$, :'svc'));
SELECT try(format($$SELECT task_market_setup(%L, 'mk/hired', max_messages => NULL)$$, :'svc'));
SELECT task_market_setup(:'svc', 'mk/hired', review_window => '1 hour') - 'service' AS market;

-- ------------------------------------------------------------ complete, review, accept
-- only the assigned agent completes; a queued task is started first
SET ROLE mk_alice;
SELECT try(format($$SELECT task_complete(%L, '{}')$$, :'t1'));
SELECT try(format($$SELECT task_accept(%L)$$, :'t1'));
RESET ROLE;
SET ROLE mk_a1;
SELECT try(format($$SELECT task_complete(%L, '{}', resource => '/x')$$, :'t1'));
SELECT status, result FROM task_complete(:'t1', '{"text": "Good day"}');
SELECT try(format($$SELECT task_complete(%L, '{}')$$, :'t1'));
SELECT try(format($$SELECT task_fail(%L, 'x')$$, :'t1'));
RESET ROLE;
:chk
SET ROLE mk_alice;
SELECT j->'marketplace'->'escrow'->>'state' AS escrow, j->'marketplace'->'escrow'->>'held' AS held,
       j->'marketplace'->'escrow' ? 'review_until' AS has_review_until, task_result(:'t1') AS result
  FROM task_get(:'t1') j;
SELECT try(format($$SELECT task_cancel(%L)$$, :'t1'));
SELECT task_accept(:'t1')->'marketplace'->'escrow' AS escrow;
SELECT try(format($$SELECT task_accept(%L)$$, :'t1'));
SELECT p - 'transactions' - 'task' AS payments FROM task_payments(:'t1') p;
-- numbered within the task (1, 2, ...), not by the ledger's ids, which count every tenant's money movements
SELECT e->>'seq' AS seq, e->>'kind' AS kind, e->>'memo' AS memo, e->'entries' AS entries FROM task_payments(:'t1') p, jsonb_array_elements(p->'transactions') e;
SELECT task_market_balance() - 'account' AS alice;
RESET ROLE;
:chk
SET ROLE mk_a1;
SELECT task_market_balance() ->> 'balance' AS a1_balance;
RESET ROLE;

-- ------------------------------------------------------------ tips and bonuses
SET ROLE mk_alice;
SELECT task_payment(:'t1', 50, 'tip', 'thanks!') ->> 'paid_to_agents' AS paid_to_agents;
SELECT try(format($$SELECT task_payment(%L, 0.5)$$, :'t1'));
SELECT try(format($$SELECT task_payment(%L, -5)$$, :'t1'));
SELECT try(format($$SELECT task_payment(%L, 5, 'gift')$$, :'t1'));
SELECT try(format($$SELECT task_payment(%L, 100000)$$, :'t1'));
RESET ROLE;
SET ROLE mk_a1;
SELECT try(format($$SELECT task_payment(%L, 5)$$, :'t1'));
RESET ROLE;
:chk

-- ------------------------------------------------------------ fail and cancel refund
SET ROLE mk_a2;
SELECT status, error FROM task_fail(:'t2', 'source text is illegible');
RESET ROLE;
SET ROLE mk_alice;
SELECT task_get(:'t2')->'marketplace'->'escrow' AS t2_escrow;
SELECT try(format($$SELECT task_payment(%L, 5)$$, :'t2'));
SELECT try(format($$SELECT task_dispute(%L, 'late')$$, :'t2'));
RESET ROLE;
:chk
-- a hired task cannot be retried (its escrow is refunded), whatever the
-- path: an agent who then completed it could never be paid
SET ROLE mk_svc;
SELECT try(format($$SELECT task_retry(%L)$$, :'t2'));
SELECT changed, more FROM task_bulk('retry', queue => 'mk/hired');
SELECT try(format($$UPDATE task.task SET status = 'queued' WHERE id = %L$$, :'t2'));
-- nor is its access list changed: its client and its agent see it
SELECT try(format($$SELECT task_access_add(%L, ARRAY[%L])$$, :'t2', :'bob'));
SELECT try(format($$SELECT task_access_remove(%L, ARRAY[%L])$$, :'t2', :'alice'));
-- nor is it deleted, whatever retention the service gives the queue:
-- housekeeping (for every tenant) and bulk purges go on past it
SELECT retention FROM task_queue_configure('mk/hired', retention => '1 microsecond');
RESET ROLE;
SELECT (task_maintain())->>'purged' AS purged_by_maintenance;
SELECT status FROM task.task WHERE id = :'t2';
SET ROLE mk_ops;
SELECT changed FROM task_bulk('purge', queue => 'mk/hired');
RESET ROLE;
SET ROLE mk_svc;
SELECT retention FROM task_queue_configure('mk/hired', retention => '0');
RESET ROLE;
-- the client cancels T3 (the agent may not)
SET ROLE mk_a3;
SELECT try(format($$SELECT task_cancel(%L)$$, :'t3'));
RESET ROLE;
SET ROLE mk_alice;
SELECT status, error FROM task_cancel(:'t3', 'changed my mind');
SELECT task_get(:'t3')->'marketplace'->'escrow'->>'state' AS t3_escrow;
SELECT try(format($$SELECT task_cancel(%L)$$, :'t3'));
RESET ROLE;
:chk

-- a hire counts the agent's load after locking its row: not from a
-- transaction snapshot, which would not see other clients' hires
SET ROLE mk_alice;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT try($$SELECT task_hire('translation.de_en', '{}', 800)$$);
ROLLBACK;
RESET ROLE;

-- ------------------------------------------------------------ reassign
SET ROLE mk_alice;
SELECT j->>'id' AS t4 FROM task_hire('translation.de_en', '{"text": "Tschüss"}', 800) j \gset
SELECT task_get(:'t4')->'marketplace'->'agent'->>'name' AS agent;
RESET ROLE;
SET ROLE mk_a3;
SELECT try(format($$SELECT task_reassign(%L)$$, :'t4'));
RESET ROLE;
SET ROLE mk_alice;
SELECT try(format($$SELECT task_reassign(%L, %L)$$, :'t4', :'a3'));
SELECT try(format($$SELECT task_reassign(%L, %L)$$, :'t4', (SELECT task_get(:'t4')->'marketplace'->'agent'->>'id')));
SELECT task_reassign(:'t4', :'a4', 'the first agent went quiet')->'marketplace'->'agent'->>'name' AS new_agent;
SELECT (task_get(:'t4')->'marketplace')->>'price' AS new_price;
RESET ROLE;
SELECT a.seq, task.account_text(a.agent) = CASE a.seq WHEN 2 THEN :'a4' END AS is_a4, a.reason
  FROM task.market_assignment a WHERE a.task_id = :'t4' ORDER BY a.seq;
:chk
-- the old agent no longer sees it; the new one does
SET ROLE mk_a2;
SELECT try(format($$SELECT task_get(%L)$$, :'t4'));
RESET ROLE;
SET ROLE mk_a4;
SELECT task_get(:'t4')->>'status' AS a4_sees;
RESET ROLE;

-- ------------------------------------------------------------ disputes
-- tier 1: the parties settle. T4 runs; the client disputes, escrow held
SET ROLE mk_alice;
SELECT d - 'deadline' - 'task' AS dispute FROM task_dispute(:'t4', 'wrong language') d;
SELECT try(format($$SELECT task_dispute(%L, 'again')$$, :'t4'));
SELECT try(format($$SELECT task_reassign(%L)$$, :'t4'));
SELECT try(format($$SELECT task_accept(%L)$$, :'t4'));
SELECT try(format($$SELECT task_dispute_resolve(%L, 'accept')$$, :'t4'));
SELECT try(format($$SELECT task_dispute_resolve(%L, 'propose', 900)$$, :'t4'));
SELECT try(format($$SELECT task_dispute_resolve(%L, 'propose', 1.5)$$, :'t4'));
-- an agent's share may be 0, and the hint says so (it said "positive")
SELECT try(format($$SELECT task_dispute_resolve(%L, 'propose', -1)$$, :'t4'));
SELECT try(format($$SELECT task_dispute_resolve(%L, 'split')$$, :'t4'));
SELECT try(format($$SELECT task_dispute_resolve(%L, 'decide', 100)$$, :'t4'));
SELECT (task_dispute_resolve(:'t4', 'propose', 100, 'half the work was done')) ->> 'proposal' AS proposal;
RESET ROLE;
SET ROLE mk_ops;
SELECT try(format($$SELECT task_dispute_resolve(%L, 'propose', 50)$$, :'t4'));
RESET ROLE;
-- an accept names the split it read: another one (the agent read 400, the
-- client proposed 100 since) is refused and nothing is accepted
SET ROLE mk_a4;
SELECT try(format($$SELECT task_dispute_resolve(%L, 'accept', 400)$$, :'t4'));
RESET ROLE;
SELECT proposal, client_accepts, agent_accepts FROM task.market_dispute WHERE task_id = :'t4';
-- the agent completes meanwhile: the escrow stays with the dispute
SET ROLE mk_a4;
SELECT status FROM task_complete(:'t4', '{"text": "Bye"}');
RESET ROLE;
:chk
SET ROLE mk_a4;
SELECT d->>'status' AS status, d->>'agent_amount' AS agent_amount, d->>'client_amount' AS client_amount, d->>'escrow' AS escrow,
       d->'events' AS events
  FROM task_dispute_resolve(:'t4', 'accept', 100, note => 'fair') d;
RESET ROLE;
:chk
SET ROLE mk_alice;
SELECT e->>'kind' AS kind, e->'entries' AS entries FROM task_payments(:'t4') p, jsonb_array_elements(p->'transactions') e;
SELECT try(format($$SELECT task_dispute_resolve(%L, 'escalate')$$, :'t4'));
RESET ROLE;

-- tiers 2 and 3: a completed task in review is disputed by the client;
-- the agent escalates; the mediator proposes; the client rejects
-- (escalates); Operations decide, final
SET ROLE mk_alice;
SELECT j->>'id' AS t5 FROM task_hire('code.review', '{"repo": "y"}', 2500) j \gset
RESET ROLE;
SET ROLE mk_a3;
SELECT status FROM task_complete(:'t5', '{"comments": 3}');
RESET ROLE;
SET ROLE mk_alice;
SELECT task_dispute(:'t5', 'the review missed the bug') ->> 'tier' AS tier;
RESET ROLE;
SET ROLE mk_a3;
SELECT (task_dispute_resolve(:'t5', 'propose', 2000)) ->> 'proposal' AS agent_proposes;
SELECT task_dispute_resolve(:'t5', 'escalate', note => 'no answer') ->> 'tier' AS tier;
SELECT try(format($$SELECT task_dispute_resolve(%L, 'propose', 1)$$, :'t5'));
RESET ROLE;
SET ROLE mk_ops;
SELECT (task_dispute_resolve(:'t5', 'propose', 1200, 'split the difference')) - 'deadline' - 'events' - 'task' AS mediation;
RESET ROLE;
SET ROLE mk_a3;
SELECT task_dispute_resolve(:'t5', 'accept') ->> 'status' AS status;
RESET ROLE;
SET ROLE mk_alice;
SELECT task_dispute_resolve(:'t5', 'escalate', note => 'I reject the mediation') ->> 'tier' AS tier;
SELECT try(format($$SELECT task_dispute_resolve(%L, 'decide', 0)$$, :'t5'));
SELECT try(format($$SELECT task_dispute_resolve(%L, 'escalate')$$, :'t5'));
RESET ROLE;
SET ROLE mk_ops;
SELECT try(format($$SELECT task_dispute_resolve(%L, 'decide', 2501)$$, :'t5'));
SELECT d->>'status' AS status, d->>'agent_amount' AS agent_amount, d->>'client_amount' AS client_amount,
       (SELECT string_agg(e->>'tier' || ':' || (e->>'action'), ' ') FROM jsonb_array_elements(d->'events') e) AS trail
  FROM task_dispute_resolve(:'t5', 'decide', 1000, 'the review was partial') d;
RESET ROLE;
:chk

-- deadlines: a dispute no one moves climbs a tier per deadline, and past
-- tier 3 the mediator's proposal (or a full refund) applies (task_maintain)
SET ROLE mk_alice;
SELECT j->>'id' AS t6 FROM task_hire('translation.fr_en', '{"text": "Merci"}', 600) j \gset
SELECT task_dispute(:'t6', 'no answer for days') ->> 'tier' AS tier;
RESET ROLE;
UPDATE task.market_dispute SET deadline = now() - interval '1 second' WHERE task_id = :'t6';
SELECT task_maintain() ->> 'more' AS more;
SELECT tier FROM task.market_dispute WHERE task_id = :'t6';
UPDATE task.market_dispute SET deadline = now() - interval '1 second' WHERE task_id = :'t6';
SELECT task_maintain() ->> 'more' AS more;
SELECT tier FROM task.market_dispute WHERE task_id = :'t6';
UPDATE task.market_dispute SET deadline = now() - interval '1 second' WHERE task_id = :'t6';
SELECT task_maintain() ->> 'more' AS more;
SELECT d.tier, d.agent_amount, m.escrow, t.status
  FROM task.market_dispute d JOIN task.market_task m USING (owner, task_id) JOIN task.task t ON t.id = d.task_id
 WHERE d.task_id = :'t6';
SELECT action, tier, amount, note FROM task.market_dispute_event WHERE task_id = :'t6' ORDER BY seq;
:chk

-- the review window: unaccepted results are released by task_maintain
SET ROLE mk_alice;
SELECT j->>'id' AS t7 FROM task_hire('translation.de_en', '{"text": "Ja"}', 700) j \gset
RESET ROLE;
SELECT task.account_text(agent) AS t7_agent_id FROM task.market_task WHERE task_id = :'t7' \gset
SELECT CASE :'t7_agent_id' WHEN :'a1' THEN 'mk_a1' WHEN :'a2' THEN 'mk_a2' ELSE 'mk_a4' END AS t7_role \gset
SET ROLE :t7_role;
SELECT status, resource FROM task_complete(:'t7', resource => '/files/t7.txt');
RESET ROLE;
SELECT task_maintain() IS NOT NULL AS maintained, escrow FROM task.market_task WHERE task_id = :'t7';
UPDATE task.market_task SET review_until = now() - interval '1 second' WHERE task_id = :'t7';
SELECT task_maintain() IS NOT NULL AS maintained;
SELECT escrow FROM task.market_task WHERE task_id = :'t7';
:chk

-- the sync mode: CALL task_hire_sync (commits, then waits with task_wait)
-- is in docs/MARKETPLACE.md; a function call records the mode
SET ROLE mk_alice;
SELECT task_hire('translation.de_en', '{}', 500, 'sync') -> 'marketplace' ->> 'execution_mode' AS mode;
-- the procedure commits the hire, then waits (here: no time) with task_wait
DO $$
DECLARE
    j jsonb;
BEGIN
    CALL task.task_hire_sync('translation.fr_en', '{}', 500, '0 seconds', NULL, j);
    RAISE NOTICE 'task_hire_sync: %, mode %, escrow %', j ->> 'status', j -> 'marketplace' ->> 'execution_mode',
                 j -> 'marketplace' -> 'escrow' ->> 'state';
END
$$;
SELECT try($$CALL task_hire_sync('translation.de_en', '{}', 500, '0 seconds')$$);
RESET ROLE;
-- where it cannot commit (a transaction block, as in a function above) or
-- with a timeout task_wait refuses, it hires nothing (a hire committed
-- before a failed call was a second hire when the client called again)
SELECT count(*) AS hires_before FROM task.market_task \gset
SET ROLE mk_alice;
\set ON_ERROR_STOP 0
BEGIN;
CALL task_hire_sync('translation.de_en', '{}', 500, '0 seconds');
ROLLBACK;
CALL task_hire_sync('translation.de_en', '{}', 500, '2 hours');
\set ON_ERROR_STOP 1
RESET ROLE;
SELECT count(*) - :hires_before AS hired FROM task.market_task;

-- ------------------------------------------------------------ money, overall
SELECT l.kind, task.account_text(l.account) = :'alice' AS alice, l.balance
  FROM task.ledger_account l WHERE l.kind <> 'escrow' AND (l.account IS NULL OR l.account = account_number(:'alice'));
SELECT sum(amount) AS ledger_sum FROM task.ledger_entry;
SELECT kind, count(*) FROM task.ledger_txn GROUP BY kind ORDER BY kind;
:chk
-- the check finds violations: an unbalanced entry written behind the API's back
BEGIN;
ALTER TABLE task.ledger_entry DISABLE TRIGGER ALL;
INSERT INTO task.ledger_entry SELECT txn, 99, ledger_account, 1, currency FROM task.ledger_entry WHERE txn = (SELECT min(id) FROM task.ledger_txn) AND leg = 1;
SELECT invariant FROM task_market_check() ORDER BY 1;
ROLLBACK;
SET ROLE mk_alice;
SELECT try('SELECT * FROM task_market_check()');
RESET ROLE;

-- ------------------------------------------------------------ clean up
SELECT setval('task.service_id_seq', :svc_last, :'svc_called') AS _, setval('task.account_id_seq', :acc_last, :'acc_called') AS _ \gset
