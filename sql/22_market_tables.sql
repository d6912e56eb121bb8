\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- The marketplace's tables (seed 004), their sequences and indexes: the
-- marketplace settings, agents, the double-entry ledger, the hired tasks
-- with their escrow, assignments, disputes, messages and artifacts.
-- Functions: 87_market.sql; grants and policies: 92_market_access.sql;
-- HTTP: 97_market_http.sql; the design: docs/MARKETPLACE.md.
--
-- Money is integer minor units (cents) of one currency. Every movement is
-- a ledger transaction (task.ledger_txn) whose entries (task.ledger_entry)
-- sum to zero; ledger_account.balance is the running sum of its entries,
-- kept in the same statement as each entry and never below zero except for
-- the funding account (money entering and leaving the marketplace).

-- ---------------------------------------------------------------- settings
CREATE TABLE task.market (
    id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
    service             integer NOT NULL REFERENCES task.service,
    queue               text NOT NULL REFERENCES task.queue,
    currency            text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    review_window       interval NOT NULL DEFAULT '1 day' CHECK (review_window >= '0'),
    tier1_window        interval NOT NULL DEFAULT '3 days' CHECK (tier1_window > '0'),
    tier2_window        interval NOT NULL DEFAULT '3 days' CHECK (tier2_window > '0'),
    tier3_window        interval NOT NULL DEFAULT '7 days' CHECK (tier3_window > '0'),
    unresponsive_after  interval NOT NULL DEFAULT '15 minutes' CHECK (unresponsive_after > '0'),
    max_artifact_bytes  integer NOT NULL DEFAULT 1048576 CHECK (max_artifact_bytes BETWEEN 1 AND 104857600),
    max_artifacts       integer NOT NULL DEFAULT 200 CHECK (max_artifacts BETWEEN 1 AND 100000),
    max_messages        integer NOT NULL DEFAULT 1000 CHECK (max_messages BETWEEN 1 AND 100000)
);
COMMENT ON TABLE task.market IS 'The marketplace settings (one row, task_market_setup): the service and queue that own hired tasks, the currency, the windows and the limits.';
COMMENT ON COLUMN task.market.service IS 'The service owning every hired task (SVC-XXXX number).';
COMMENT ON COLUMN task.market.queue IS 'The queue hired tasks are created in.';
COMMENT ON COLUMN task.market.currency IS 'ISO 4217 code of the marketplace currency; amounts are integer minor units of it.';
COMMENT ON COLUMN task.market.review_window IS 'After completion, how long the client has to accept or dispute before the escrow is released automatically (0: released on completion).';
COMMENT ON COLUMN task.market.tier1_window IS 'Deadline of dispute tier 1 (the parties settle) after it opens.';
COMMENT ON COLUMN task.market.tier2_window IS 'Deadline of dispute tier 2 (a mediator proposes a split) after it opens.';
COMMENT ON COLUMN task.market.tier3_window IS 'Deadline of dispute tier 3 (operations decide, final) after it opens; past it the mediator''s proposal, or else a full refund, is applied.';
COMMENT ON COLUMN task.market.unresponsive_after IS 'An agent not seen (task_agent_heartbeat) for longer is skipped by auto-assignment.';
COMMENT ON COLUMN task.market.max_artifact_bytes IS 'Largest artifact content accepted, in bytes.';
COMMENT ON COLUMN task.market.max_artifacts IS 'Most artifacts one hired task holds (its client and agent together); 54000 past it.';
COMMENT ON COLUMN task.market.max_messages IS 'Most messages one hired task holds: past it its client and agent are refused (54000); Operations may still write.';

-- ---------------------------------------------------------------- agents
CREATE TABLE task.market_agent (
    account       bigint PRIMARY KEY REFERENCES task.account ON DELETE CASCADE,
    capabilities  text[] NOT NULL,
    price         bigint NOT NULL CHECK (price >= 0),
    capacity      integer NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 10000),
    active        boolean NOT NULL DEFAULT true,
    last_seen     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX market_agent_capabilities_idx ON task.market_agent USING gin (capabilities);
COMMENT ON TABLE task.market_agent IS 'Agents: Vendor accounts with an agent profile (task_agent_register).';
COMMENT ON COLUMN task.market_agent.capabilities IS 'What the agent can be hired for (task codes: dot-separated identifiers).';
COMMENT ON COLUMN task.market_agent.price IS 'The agent''s price per task in minor units of the marketplace currency.';
COMMENT ON COLUMN task.market_agent.capacity IS 'How many unfinished tasks the agent takes at once; auto-assignment skips a full agent.';
COMMENT ON COLUMN task.market_agent.active IS 'An inactive agent is never assigned.';
COMMENT ON COLUMN task.market_agent.last_seen IS 'The agent''s last heartbeat (task_agent_heartbeat) or action.';

-- ---------------------------------------------------------------- ledger
CREATE TABLE task.ledger_account (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('funding', 'wallet', 'escrow')),
    account     bigint REFERENCES task.account,
    owner       integer,
    task_id     task.task_id,
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance     bigint NOT NULL DEFAULT 0,
    CHECK (kind = 'funding' OR balance >= 0),
    CHECK (CASE kind WHEN 'funding' THEN account IS NULL AND task_id IS NULL
                     WHEN 'wallet' THEN account IS NOT NULL AND task_id IS NULL
                     ELSE account IS NULL AND task_id IS NOT NULL AND owner IS NOT NULL END)
);
CREATE UNIQUE INDEX ledger_account_wallet_idx ON task.ledger_account (account, currency) WHERE kind = 'wallet';
CREATE UNIQUE INDEX ledger_account_escrow_idx ON task.ledger_account (task_id) WHERE kind = 'escrow';
CREATE UNIQUE INDEX ledger_account_funding_idx ON task.ledger_account (currency) WHERE kind = 'funding';
COMMENT ON TABLE task.ledger_account IS 'Ledger accounts: the funding account of a currency (deposits come from it; its balance is minus the money held in the marketplace), a wallet per account and currency, an escrow per hired task.';
COMMENT ON COLUMN task.ledger_account.balance IS 'Sum of the account''s entries, in minor units; never negative except for funding.';

CREATE TABLE task.ledger_txn (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    kind      text NOT NULL CHECK (kind IN ('deposit', 'hold', 'release', 'refund', 'tip', 'bonus', 'split')),
    owner     integer,
    task_id   task.task_id,
    by        text NOT NULL,
    memo      text
);
CREATE INDEX ledger_txn_task_idx ON task.ledger_txn (task_id) WHERE task_id IS NOT NULL;
COMMENT ON TABLE task.ledger_txn IS 'Ledger transactions: one per money movement, written in the same database transaction as its cause.';
COMMENT ON COLUMN task.ledger_txn.kind IS 'deposit (funding to wallet), hold (wallet to escrow), release (escrow to agent, rest to client), refund (escrow to client), tip and bonus (client to agent), split (a dispute decision).';
COMMENT ON COLUMN task.ledger_txn.by IS 'Who caused it (SVC-, ACC- or a role name).';

CREATE TABLE task.ledger_entry (
    txn             bigint NOT NULL REFERENCES task.ledger_txn,
    leg             smallint NOT NULL,
    ledger_account  bigint NOT NULL REFERENCES task.ledger_account,
    amount          bigint NOT NULL CHECK (amount <> 0),
    currency        text NOT NULL,
    PRIMARY KEY (txn, leg)
);
CREATE INDEX ledger_entry_account_idx ON task.ledger_entry (ledger_account);
COMMENT ON TABLE task.ledger_entry IS 'Ledger entries (legs): positive credits, negative debits; the legs of a transaction sum to zero.';

-- ---------------------------------------------------------------- hired tasks
CREATE TABLE task.market_task (
    owner           integer NOT NULL,
    task_id         task.task_id NOT NULL,
    client          bigint NOT NULL REFERENCES task.account,
    agent           bigint NOT NULL REFERENCES task.account,
    capability      text NOT NULL,
    max_price       bigint NOT NULL CHECK (max_price > 0),
    price           bigint NOT NULL CHECK (price >= 0 AND price <= max_price),
    currency        text NOT NULL,
    execution_mode  text NOT NULL CHECK (execution_mode IN ('async', 'sync')),
    escrow          text NOT NULL DEFAULT 'held'
                    CHECK (escrow IN ('held', 'review', 'disputed', 'released', 'refunded', 'settled')),
    escrow_account  bigint NOT NULL REFERENCES task.ledger_account,
    review_until    timestamptz,
    settled_at      timestamptz,
    PRIMARY KEY (owner, task_id),
    -- no cascade: a task holding money is never purged silently (the
    -- marketplace queue keeps its tasks: task_market_setup sets retention 0).
    -- RESTRICT, not NO ACTION: the check a task's delete runs is one probe
    -- (NO ACTION first looks for another row with the same key); the purge
    -- pays it for every task it deletes.
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE RESTRICT
);
CREATE INDEX market_task_agent_idx ON task.market_task (agent);
CREATE INDEX market_task_client_idx ON task.market_task (client);
CREATE INDEX market_task_review_idx ON task.market_task (review_until) WHERE escrow = 'review';
COMMENT ON TABLE task.market_task IS 'Hired tasks: client, assigned agent, price and the state of the escrow.';
COMMENT ON COLUMN task.market_task.max_price IS 'What the client put in escrow at hire, in minor units.';
COMMENT ON COLUMN task.market_task.price IS 'The assigned agent''s price, paid on release; the rest of max_price goes back to the client.';
COMMENT ON COLUMN task.market_task.escrow IS 'held (task running), review (completed, awaiting acceptance until review_until), disputed, then exactly one of released, refunded, settled (a dispute decision).';
COMMENT ON COLUMN task.market_task.review_until IS 'While in review: when the escrow is released automatically (task_maintain).';

-- The records of a hired task (its assignments, dispute, messages and
-- artifacts) reference its market_task row, not the task: a task's delete
-- (the purge of every finished task) then runs one foreign-key check for
-- the marketplace, not six.
CREATE TABLE task.market_assignment (
    owner      integer NOT NULL,
    task_id    task.task_id NOT NULL,
    seq        integer NOT NULL,
    agent      bigint NOT NULL REFERENCES task.account,
    at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by         text NOT NULL,
    reason     text NOT NULL,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (owner, task_id) REFERENCES task.market_task ON DELETE CASCADE
);
COMMENT ON TABLE task.market_assignment IS 'Assignment history of each hired task: the auto-assignment at hire and every reassignment.';

-- ---------------------------------------------------------------- disputes
CREATE TABLE task.market_dispute (
    owner           integer NOT NULL,
    task_id         task.task_id NOT NULL,
    opened_by       text NOT NULL,
    reason          text NOT NULL,
    opened_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tier            smallint NOT NULL DEFAULT 1 CHECK (tier BETWEEN 1 AND 3),
    deadline        timestamptz NOT NULL,
    proposal        bigint CHECK (proposal >= 0),
    proposed_by     text,
    client_accepts  boolean NOT NULL DEFAULT false,
    agent_accepts   boolean NOT NULL DEFAULT false,
    closed_at       timestamptz,
    agent_amount    bigint,
    PRIMARY KEY (owner, task_id),
    FOREIGN KEY (owner, task_id) REFERENCES task.market_task ON DELETE CASCADE
);
CREATE INDEX market_dispute_open_idx ON task.market_dispute (deadline) WHERE closed_at IS NULL;
COMMENT ON TABLE task.market_dispute IS 'Disputes, one per task: tier 1 the parties settle, tier 2 a mediator (Operations) proposes a split, tier 3 Operations decide (final). The escrow stays held until it closes.';
COMMENT ON COLUMN task.market_dispute.deadline IS 'When the current tier ends: task_maintain moves an open dispute up a tier, or at tier 3 applies the default decision.';
COMMENT ON COLUMN task.market_dispute.proposal IS 'The split on the table: the agent''s share in minor units (the client gets the rest of the escrow).';
COMMENT ON COLUMN task.market_dispute.agent_amount IS 'The decided agent share once closed.';

CREATE TABLE task.market_dispute_event (
    owner      integer NOT NULL,
    task_id    task.task_id NOT NULL,
    seq        integer NOT NULL,
    at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tier       smallint NOT NULL,
    by         text NOT NULL,
    action     text NOT NULL CHECK (action IN ('open', 'propose', 'accept', 'escalate', 'decide', 'expire')),
    amount     bigint,
    note       text,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (owner, task_id) REFERENCES task.market_task ON DELETE CASCADE
);
COMMENT ON TABLE task.market_dispute_event IS 'The audit trail of each dispute: every opening, proposal, acceptance, escalation, decision and expiry.';

-- ---------------------------------------------------------------- messages and artifacts
CREATE TABLE task.market_message (
    owner      integer NOT NULL,
    task_id    task.task_id NOT NULL,
    seq        integer NOT NULL,
    at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by         text NOT NULL,
    content    text NOT NULL,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (owner, task_id) REFERENCES task.market_task ON DELETE CASCADE
);
COMMENT ON TABLE task.market_message IS 'The conversation of a hired task, visible to its client and agent (and Operations).';

CREATE TABLE task.market_artifact (
    owner          integer NOT NULL,
    task_id        task.task_id NOT NULL,
    seq            integer NOT NULL,
    at             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    by             text NOT NULL,
    artifact_type  text NOT NULL CHECK (artifact_type IN
                       ('code_block', 'markdown', 'html', 'file', 'diff', 'image', 'json', 'link', 'text')),
    name           text,
    media_type     text NOT NULL,
    content        bytea NOT NULL,
    PRIMARY KEY (owner, task_id, seq),
    FOREIGN KEY (owner, task_id) REFERENCES task.market_task ON DELETE CASCADE
);
COMMENT ON TABLE task.market_artifact IS 'Structured artifacts submitted for a hired task (9 types), served with their media type.';
COMMENT ON COLUMN task.market_artifact.seq IS 'The artifact number within its task (1, 2, ...): the download is /rpc/task_artifact?id=<task>&artifact=<seq>.';
COMMENT ON COLUMN task.market_artifact.content IS 'The content: UTF-8 text, or the decoded bytes of a base64 file or image.';

-- ---------------------------------------------------------------- column comments
COMMENT ON COLUMN task.ledger_account.id IS 'Ledger account number.';
COMMENT ON COLUMN task.ledger_account.kind IS 'funding (one per currency), wallet (one per account and currency) or escrow (one per hired task).';
COMMENT ON COLUMN task.ledger_account.account IS 'The account owning a wallet (ACC number); NULL otherwise.';
COMMENT ON COLUMN task.ledger_account.owner IS 'For an escrow: the service owning its task (SVC number).';
COMMENT ON COLUMN task.ledger_account.task_id IS 'For an escrow: the hired task whose money it holds.';
COMMENT ON COLUMN task.ledger_account.currency IS 'ISO 4217 code; amounts are integer minor units of it.';
COMMENT ON COLUMN task.ledger_txn.id IS 'Transaction number.';
COMMENT ON COLUMN task.ledger_txn.at IS 'When it was written (the time of its cause).';
COMMENT ON COLUMN task.ledger_txn.owner IS 'For a task''s movement: the service owning the task.';
COMMENT ON COLUMN task.ledger_txn.task_id IS 'The hired task it belongs to, if any (deposits have none).';
COMMENT ON COLUMN task.ledger_txn.memo IS 'Free text: a tips note, a dispute decisions reason.';
COMMENT ON COLUMN task.ledger_entry.txn IS 'The transaction this leg belongs to.';
COMMENT ON COLUMN task.ledger_entry.leg IS 'Leg number within its transaction.';
COMMENT ON COLUMN task.ledger_entry.ledger_account IS 'The ledger account credited (amount > 0) or debited (amount < 0).';
COMMENT ON COLUMN task.ledger_entry.amount IS 'Minor units: positive credits, negative debits, never 0.';
COMMENT ON COLUMN task.ledger_entry.currency IS 'ISO 4217 code; the same as its ledger account''s.';
COMMENT ON COLUMN task.market.id IS 'Always true: the marketplace settings are one row.';
COMMENT ON COLUMN task.market_agent.account IS 'The Vendor account acting as the agent (ACC number).';
COMMENT ON COLUMN task.market_agent.created_at IS 'When the agent was registered.';
COMMENT ON COLUMN task.market_task.owner IS 'The service owning the hired task (the marketplace service).';
COMMENT ON COLUMN task.market_task.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_task.client IS 'The hiring client (ACC number).';
COMMENT ON COLUMN task.market_task.agent IS 'The assigned agent (ACC number).';
COMMENT ON COLUMN task.market_task.capability IS 'What the client hired for (the task''s code is market.<capability>).';
COMMENT ON COLUMN task.market_task.currency IS 'ISO 4217 code of max_price and price.';
COMMENT ON COLUMN task.market_task.execution_mode IS 'async (task_hire returns the task) or sync (task_hire_sync waits for its end).';
COMMENT ON COLUMN task.market_task.escrow_account IS 'The escrow ledger account holding max_price.';
COMMENT ON COLUMN task.market_task.settled_at IS 'When the escrow was released, refunded or settled (exactly once).';
COMMENT ON COLUMN task.market_assignment.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_assignment.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_assignment.seq IS 'Assignment number within the task (1 at hire).';
COMMENT ON COLUMN task.market_assignment.agent IS 'The agent assigned (ACC number).';
COMMENT ON COLUMN task.market_assignment.at IS 'When it was assigned.';
COMMENT ON COLUMN task.market_assignment.by IS 'Who assigned it (SVC-, ACC- or a role name).';
COMMENT ON COLUMN task.market_assignment.reason IS 'auto (at hire) or the reason given to task_reassign.';
COMMENT ON COLUMN task.market_dispute.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_dispute.task_id IS 'The disputed task.';
COMMENT ON COLUMN task.market_dispute.opened_by IS 'Who opened it (the client or the agent, ACC-...).';
COMMENT ON COLUMN task.market_dispute.reason IS 'Why it was opened.';
COMMENT ON COLUMN task.market_dispute.opened_at IS 'When it was opened.';
COMMENT ON COLUMN task.market_dispute.tier IS 'The current tier: 1 the parties, 2 a mediator, 3 Operations.';
COMMENT ON COLUMN task.market_dispute.proposed_by IS 'Who made the proposal on the table.';
COMMENT ON COLUMN task.market_dispute.client_accepts IS 'The client accepted the proposal on the table.';
COMMENT ON COLUMN task.market_dispute.agent_accepts IS 'The agent accepted the proposal on the table.';
COMMENT ON COLUMN task.market_dispute.closed_at IS 'When the dispute closed (its escrow settled).';
COMMENT ON COLUMN task.market_dispute_event.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_dispute_event.task_id IS 'The disputed task.';
COMMENT ON COLUMN task.market_dispute_event.seq IS 'Event number within the dispute.';
COMMENT ON COLUMN task.market_dispute_event.at IS 'When it happened.';
COMMENT ON COLUMN task.market_dispute_event.tier IS 'The tier it happened in.';
COMMENT ON COLUMN task.market_dispute_event.by IS 'Who acted (ACC-..., or a role name for task_maintain).';
COMMENT ON COLUMN task.market_dispute_event.action IS 'open, propose, accept, escalate, decide or expire.';
COMMENT ON COLUMN task.market_dispute_event.amount IS 'For propose and decide: the agents share in minor units.';
COMMENT ON COLUMN task.market_dispute_event.note IS 'Free text given with the action.';
COMMENT ON COLUMN task.market_message.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_message.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_message.seq IS 'Message number within the task.';
COMMENT ON COLUMN task.market_message.at IS 'When it was sent.';
COMMENT ON COLUMN task.market_message.by IS 'Who sent it (the client, the agent or Operations: ACC-...).';
COMMENT ON COLUMN task.market_message.content IS 'The message text.';
COMMENT ON COLUMN task.market_artifact.owner IS 'The service owning the task.';
COMMENT ON COLUMN task.market_artifact.task_id IS 'The hired task.';
COMMENT ON COLUMN task.market_artifact.at IS 'When it was submitted.';
COMMENT ON COLUMN task.market_artifact.by IS 'The agent who submitted it (ACC-...).';
COMMENT ON COLUMN task.market_artifact.artifact_type IS 'One of code_block, markdown, html, file, diff, image, json, link, text.';
COMMENT ON COLUMN task.market_artifact.name IS 'A file name or title, optional.';
COMMENT ON COLUMN task.market_artifact.media_type IS 'The media type served with the content (Content-Type of the download).';

-- ---------------------------------------------------------------- pg_dump
SELECT pg_catalog.pg_extension_config_dump('task.market', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_agent', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_account', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_account_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_txn', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_txn_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.ledger_entry', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_task', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_assignment', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_dispute', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_dispute_event', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_message', '');

SELECT pg_catalog.pg_extension_config_dump('task.market_artifact', '');
