\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit
--
-- Tables, their sequences and every index on them: services, accounts,
-- logins, queues, tasks, the access list, dependencies, task logs and
-- schedules. Every table holding user data is registered with
-- pg_extension_config_dump (at the end) so pg_dump keeps its rows.
--
-- Row-level security, grants and policies of these tables: 90_access.sql.
-- The triggers on task.task: 40_trigger.sql, 75_dependencies.sql.

-- ---------------------------------------------------------------- services
CREATE SEQUENCE task.service_id_seq MINVALUE 1 MAXVALUE 9999 NO CYCLE;

CREATE TABLE task.service (
    id          integer PRIMARY KEY DEFAULT pg_catalog.nextval('task.service_id_seq')
                CHECK (id BETWEEN 1 AND 9999),
    name        text NOT NULL UNIQUE,
    namespace   text NOT NULL UNIQUE,
    revision    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    max_processing integer NOT NULL DEFAULT 0 CHECK (max_processing BETWEEN 0 AND 1000000)
);
ALTER SEQUENCE task.service_id_seq OWNED BY task.service.id;
COMMENT ON TABLE task.service IS 'Services own queues and tasks. Text id SVC-XXXX (XXXX = id).';
COMMENT ON COLUMN task.service.namespace IS 'Queue namespace: the service''s queues are named <namespace>/...';
COMMENT ON COLUMN task.service.id IS 'Service number 1..9999; its text id is SVC-XXXX and the XXXX of its task ids.';
COMMENT ON COLUMN task.service.name IS 'Unique name of the service.';
COMMENT ON COLUMN task.service.revision IS 'Version of the service record, shown in the owner and audit objects of its tasks.';
COMMENT ON COLUMN task.service.created_at IS 'When the service was created.';
COMMENT ON COLUMN task.service.max_processing IS 'At most this many tasks of the service processing at once, across all its queues (task_service_configure); 0: no cap.';

-- ---------------------------------------------------------------- accounts
CREATE SEQUENCE task.account_id_seq MINVALUE 1 MAXVALUE 99999999 NO CYCLE;

CREATE TABLE task.account (
    id          bigint PRIMARY KEY DEFAULT pg_catalog.nextval('task.account_id_seq')
                CHECK (id BETWEEN 0 AND 99999999),
    name        text NOT NULL,
    type        task.account_type NOT NULL,
    status      task.account_status NOT NULL DEFAULT 'Active',
    revision    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE task.account_id_seq OWNED BY task.account.id;
COMMENT ON TABLE task.account IS 'Accounts that may see tasks. Text id ACC-XXXX-YYYY (the 8 digits of id).';
COMMENT ON COLUMN task.account.id IS 'Account number 0..99999999; its text id is ACC-XXXX-YYYY.';
COMMENT ON COLUMN task.account.name IS 'Display name of the account.';
COMMENT ON COLUMN task.account.type IS 'Operations (sees every task), Vendor or Client (see the tasks whose access list holds them).';
COMMENT ON COLUMN task.account.status IS 'Active, or Disabled: a disabled account acts as nobody.';
COMMENT ON COLUMN task.account.revision IS 'Version of the account record, shown in the access and audit objects of tasks.';
COMMENT ON COLUMN task.account.created_at IS 'When the account was created.';

-- ---------------------------------------------------------------- logins
-- A database role acts as exactly one service or one account. The role is
-- stored as regrole (an oid that dumps as the role's name), so renaming a
-- role keeps its mapping and no session setting can change it.
CREATE TABLE task.login (
    role        regrole PRIMARY KEY,
    service     integer REFERENCES task.service ON DELETE CASCADE,
    account     bigint REFERENCES task.account ON DELETE CASCADE,
    CHECK (pg_catalog.num_nonnulls(service, account) = 1)
);
COMMENT ON TABLE task.login IS 'Maps a database role to the service or account it acts as. Managed with task_login_grant / task_login_revoke.';
COMMENT ON COLUMN task.login.role IS 'The database role (a login, or a role reached with SET ROLE).';
COMMENT ON COLUMN task.login.service IS 'The service the role acts as (NULL when it acts as an account).';
COMMENT ON COLUMN task.login.account IS 'The account the role acts as (NULL when it acts as a service).';

-- ---------------------------------------------------------------- queues
CREATE TABLE task.queue (
    name          text PRIMARY KEY,
    owner         integer NOT NULL REFERENCES task.service,
    paused        boolean NOT NULL DEFAULT false,
    lease         interval NOT NULL DEFAULT '5 minutes' CHECK (lease > '0'),
    max_attempts  integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 1000),
    backoff_base  interval NOT NULL DEFAULT '10 seconds' CHECK (backoff_base >= '0'),
    backoff_max   interval NOT NULL DEFAULT '1 hour' CHECK (backoff_max >= backoff_base),
    retention     interval NOT NULL DEFAULT '10 days' CHECK (retention >= '0'),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    priority      integer NOT NULL DEFAULT 0,
    notify_channel text NOT NULL DEFAULT '' CHECK (notify_channel = '' OR notify_channel ~ '^[a-z_][a-z0-9_]{0,62}$'),
    max_run_time  interval NOT NULL DEFAULT '0' CHECK (max_run_time >= '0'),
    archive_after interval NOT NULL DEFAULT '0' CHECK (archive_after >= '0'),
    -- claim-time limits (65_worker.sql, docs/FEATURES.md): 0 = none
    max_processing  integer NOT NULL DEFAULT 0 CHECK (max_processing BETWEEN 0 AND 1000000),
    key_concurrency integer NOT NULL DEFAULT 1 CHECK (key_concurrency BETWEEN 0 AND 1000000),
    rate_limit      integer NOT NULL DEFAULT 0 CHECK (rate_limit BETWEEN 0 AND 1000000),
    rate_interval   interval NOT NULL DEFAULT '0' CHECK (rate_interval >= '0' AND rate_interval <= '1 day'),
    fair_share      boolean NOT NULL DEFAULT false,
    service_capped  boolean NOT NULL DEFAULT false,
    key_rate_limit  integer NOT NULL DEFAULT 0 CHECK (key_rate_limit BETWEEN 0 AND 1000000),
    CONSTRAINT queue_rate_pair_check CHECK ((rate_limit = 0 AND key_rate_limit = 0) = (rate_interval = '0'))
);

CREATE INDEX queue_owner_idx ON task.queue (owner);
COMMENT ON TABLE task.queue IS 'FIFO queues, each owned by one service, with its worker policy.';
COMMENT ON COLUMN task.queue.lease IS 'How long a dequeued task stays claimed without a heartbeat.';
COMMENT ON COLUMN task.queue.max_attempts IS 'Attempts before task_fail marks a task failed for good.';
COMMENT ON COLUMN task.queue.notify_channel IS 'NOTIFY channel of the queue''s final transitions: the name given to task_queue_notify and a suffix derived from a secret, so that no other tenant can guess it; empty: none.';
COMMENT ON COLUMN task.queue.retention IS 'How long finished tasks are kept; 0 keeps them forever.';
COMMENT ON COLUMN task.queue.name IS 'Queue name under the owner''s namespace: slash-separated segments of letters, digits, "_", "-", ".".';
COMMENT ON COLUMN task.queue.owner IS 'The service that owns the queue (SVC-XXXX number): only it creates and works tasks in it.';
COMMENT ON COLUMN task.queue.paused IS 'A paused queue still accepts tasks; task_dequeue returns nothing from it.';
COMMENT ON COLUMN task.queue.backoff_base IS 'Delay before the first retry of a failed attempt; doubles with each attempt (with jitter).';
COMMENT ON COLUMN task.queue.backoff_max IS 'Hard cap of the retry delay, applied after the jitter.';
COMMENT ON COLUMN task.queue.created_at IS 'When the queue was created.';
COMMENT ON COLUMN task.queue.max_run_time IS 'Hard limit of one attempt: a task processing longer is failed or retried by lease rescue even if its worker keeps sending heartbeats; 0: none. A task''s own max_run_time overrides it.';
COMMENT ON COLUMN task.queue.archive_after IS 'How long after it finished a task moves to the monthly history tables (task_queue_archive, 83_history.sql); 0: never, it stays live until purged.';
COMMENT ON COLUMN task.queue.priority IS 'Priority of the queue''s new tasks that name none (task_create(priority => ...)).';
COMMENT ON COLUMN task.queue.max_processing IS 'At most this many tasks of the queue processing at once, across all workers; 0: no limit.';
COMMENT ON COLUMN task.queue.key_concurrency IS 'At most this many tasks of one ordering key processing at once, started in creation order (default 1); 0: no limit per key (the key then only groups tasks, for fair_share).';
COMMENT ON COLUMN task.queue.rate_limit IS 'At most this many claims per rate_interval; 0: no rate limit.';
COMMENT ON COLUMN task.queue.rate_interval IS 'The window of rate_limit and key_rate_limit: it opens at the first claim after the previous one closed; 0 without a rate limit.';
COMMENT ON COLUMN task.queue.key_rate_limit IS 'At most this many claims per rate_interval per ordering key; 0: no rate limit per key.';
COMMENT ON COLUMN task.queue.fair_share IS 'Claims go round-robin over the ordering keys of runnable tasks (least recently served key first), so one key''s flood does not starve the others.';
COMMENT ON COLUMN task.queue.service_capped IS 'The owning service has a cap on its processing tasks (task.service.max_processing), which claims of this queue check; kept by task_service_configure.';

-- Claim-time state of the limited queues (65_worker.sql), written only by
-- claims of queues with a rate limit or fair share, under the queue's claim
-- lock. Dumped like the other tables (a restore keeps the windows and turns).
CREATE TABLE task.queue_rate (
    queue        text PRIMARY KEY REFERENCES task.queue ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    claims       integer NOT NULL
);
COMMENT ON TABLE task.queue_rate IS 'Internal: the current rate-limit window of each rate-limited queue.';
COMMENT ON COLUMN task.queue_rate.queue IS 'The rate-limited queue.';
COMMENT ON COLUMN task.queue_rate.window_start IS 'When the current window opened (the first claim after the previous window closed).';
COMMENT ON COLUMN task.queue_rate.claims IS 'Tasks claimed in the current window.';

CREATE TABLE task.key_rate (
    queue        text NOT NULL REFERENCES task.queue ON DELETE CASCADE,
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    claims       integer NOT NULL,
    PRIMARY KEY (queue, key)
);
COMMENT ON TABLE task.key_rate IS 'Internal: the current rate-limit window of each ordering key of a queue with key_rate_limit.';
COMMENT ON COLUMN task.key_rate.queue IS 'The queue.';
COMMENT ON COLUMN task.key_rate.key IS 'The ordering key.';
COMMENT ON COLUMN task.key_rate.window_start IS 'When the key''s current window opened (its first claim after the previous window closed).';
COMMENT ON COLUMN task.key_rate.claims IS 'Tasks of the key claimed in the current window.';

CREATE TABLE task.queue_share (
    queue     text NOT NULL REFERENCES task.queue ON DELETE CASCADE,
    key       text NOT NULL,
    served_at timestamptz NOT NULL,
    PRIMARY KEY (queue, key)
);
COMMENT ON TABLE task.queue_share IS 'Internal: when each ordering key of a fair-share queue was last served by a claim.';
COMMENT ON COLUMN task.queue_share.queue IS 'The fair-share queue.';
COMMENT ON COLUMN task.queue_share.key IS 'The ordering key (empty: the tasks without one).';
COMMENT ON COLUMN task.queue_share.served_at IS 'When a claim last took a task of the key: the least recently served key goes first.';

-- The secret behind the names no tenant may compute (65_worker.sql,
-- task._lock_key): the suffix of a queue's NOTIFY channel. (It was the
-- secret of the claim locks' advisory keys, until an attack review read
-- such a key in pg_locks while it was held and took it: the extension's
-- locks are now of rows and tables no tenant may lock.) Only the extension
-- reads it. A sequence, so that pg_dump restores its value (setval)
-- instead of adding a row.
CREATE SEQUENCE task.lock_secret MINVALUE 1 NO CYCLE;
SELECT pg_catalog.setval('task.lock_secret',
    ('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 1, 15))::bit(60)::bigint + 1);
COMMENT ON SEQUENCE task.lock_secret IS 'Internal: the random secret behind the names no tenant may compute (task._lock_key: the suffix of a queue''s NOTIFY channel); readable by the extension only.';

-- ---------------------------------------------------------------- tasks
-- CACHE 100: 17% faster bulk enqueue (measured). FIFO ties only occur within
-- one transaction (same run_at), i.e. one backend, whose cached ids ascend.
CREATE SEQUENCE task.task_serial_seq MINVALUE 1 MAXVALUE 999999999999 NO CYCLE CACHE 100;

CREATE TABLE task.task (
    owner           integer NOT NULL,
    id              task.task_id NOT NULL,
    revision        integer NOT NULL DEFAULT 1,
    status          task.status NOT NULL DEFAULT 'queued',
    code            text NOT NULL,
    name            text,
    queue           text NOT NULL,
    object          jsonb,
    description     text,
    parent          task.task_id,
    progress        double precision,
    eta             timestamptz,
    parameters      jsonb,
    resource        text,
    result          jsonb,
    error           text,
    -- worker state
    run_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer,
    lease_token     bigint,
    lease_until     timestamptz,
    ordering_key    text,
    idempotency_key text,
    -- audit, stamped by the trigger task.task_transition()
    status_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by      text,
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_by      text,
    started_at      timestamptz,
    started_by      text,
    completed_at    timestamptz,
    completed_by    text,
    failed_at       timestamptz,
    failed_by       text,
    rescheduled_at  timestamptz,
    rescheduled_by  text,
    cancelled_at    timestamptz,
    cancelled_by    text,
    -- worker state added in 0.2.0 (last, as ALTER TABLE ADD COLUMN puts it)
    priority        integer NOT NULL DEFAULT 0,
    unique_key      text,
    -- positive: checked by the trigger (src/transition.c), not a CHECK,
    -- which every statement writing the table would parse and plan again
    max_run_time    interval,
    worker_name     text,
    worker_addr     inet,
    worker_pid      integer,
    -- (id, owner): an id already sorts by its owner (owner * 10^12 +
    -- serial), so this orders rows as (owner, id) would, answers lookups
    -- by id alone, and still holds the distribution column for Citus
    PRIMARY KEY (id, owner),
    -- a parent is a task of the same service; purging it keeps the child
    FOREIGN KEY (parent, owner) REFERENCES task.task (id, owner) ON DELETE SET NULL (parent)
);

-- The dequeue index: only runnable rows, higher priority first, then FIFO
-- by the time they became runnable. Finished tasks are not in it, so
-- history never slows a queue. The queue is keyed by its name's hash, a
-- fixed-width integer: a claim checks every entry of the leaf page it
-- reads against the keys, and with the name (text) first no later column
-- of an entry had a fixed offset (a tenth of a drained task's
-- instructions; docs/QUEUE.md, "Stop 22"). Queries name both
-- "hashtext(x.queue) = hashtext(<name>)" (to use it) and "x.queue =
-- <name>" (two names of one hash); the name is included for scans that
-- read the index alone (monitoring).
CREATE INDEX task_runnable_idx ON task.task (hashtext(queue), priority DESC, run_at, id) INCLUDE (queue)
    WHERE status IN ('queued', 'rescheduled');

-- Listing: newest status change first, read backward. Ascending, because
-- every transition stamps status_at with the clock, so new entries go to
-- the right edge of the owner's range, and pages split there stay full
-- (descending, every entry went to the left edge and every split left two
-- half-empty pages: twice the size, docs/QUEUE.md "Index order").
CREATE INDEX task_owner_status_at_idx ON task.task (owner, status_at);

CREATE UNIQUE INDEX task_idempotency_idx ON task.task (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Unique while active (task_create(unique_key => ...)): a key is taken
-- only by an unfinished task; once it is final the key is free again.
CREATE UNIQUE INDEX task_unique_active_idx ON task.task (owner, unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('blocked', 'queued', 'processing', 'rescheduled');

CREATE INDEX task_parent_idx ON task.task (owner, parent) WHERE parent IS NOT NULL;

COMMENT ON TABLE task.task IS 'Tasks: the state of long-running operations (seed 001 Task object) plus worker state.';
COMMENT ON COLUMN task.task.owner IS 'The owning service (SVC-XXXX number); equal to task_id_owner(id).';
COMMENT ON COLUMN task.task.id IS 'TSK-XXXX-YYYY-YYYY-YYYY, XXXX being the owning service number.';
COMMENT ON COLUMN task.task.revision IS 'Bumped on every change: a version for optimistic concurrency.';
COMMENT ON COLUMN task.task.progress IS 'Percent 0..100; NULL until the task has started.';
COMMENT ON COLUMN task.task.resource IS 'Relative URI of a resource holding the result (task_complete(resource => ...)); NULL when the result is a JSON value.';
COMMENT ON COLUMN task.task.result IS 'The JSON result (task_complete(result => ...)), served at the task''s result endpoint.';
COMMENT ON COLUMN task.task.run_at IS 'When the task becomes runnable: its FIFO position.';
COMMENT ON COLUMN task.task.priority IS 'Claimed before tasks of lower priority of its queue (FIFO within a priority); default: the queue''s priority.';
COMMENT ON COLUMN task.task.lease_token IS 'Fencing token of the current claim: the revision at dequeue (low 31 bits) and 22 random bits above it, 53 bits in all (task._lease_token).';
COMMENT ON COLUMN task.task.max_run_time IS 'Hard limit of one attempt (task_create(max_run_time => ...)), overriding the queue''s: a task processing longer is failed or retried by lease rescue even if its worker keeps sending heartbeats.';
COMMENT ON COLUMN task.task.worker_name IS 'The worker that holds (or last held) the task: application_name of the session that claimed it, stamped by the trigger at each move into processing.';
COMMENT ON COLUMN task.task.worker_addr IS 'The worker that holds (or last held) the task: client address of the session that claimed it (inet_client_addr(): NULL for a Unix socket or a background process).';
COMMENT ON COLUMN task.task.worker_pid IS 'The worker that holds (or last held) the task: backend process id of the session that claimed it (pg_stat_activity.pid).';
COMMENT ON COLUMN task.task.idempotency_key IS 'Request key (task_create(idempotency_key => ...)): a repeat returns this task for as long as it is live (not purged or archived).';
COMMENT ON COLUMN task.task.unique_key IS 'Unique-while-active key (task_create(unique_key => ...)): no second unfinished task of the service has it.';
COMMENT ON COLUMN task.task.status_at IS 'Time of the last status change (listing order).';
COMMENT ON COLUMN task.task.status IS 'blocked, queued, processing, completed, failed, rescheduled or cancelled; changes are checked by the trigger task_transition.';
COMMENT ON COLUMN task.task.code IS 'The workflow: dot-separated identifiers, e.g. accounts.buyers.transfer.';
COMMENT ON COLUMN task.task.name IS 'One-line title of the task.';
COMMENT ON COLUMN task.task.queue IS 'The queue the task runs in (a queue of its owning service).';
COMMENT ON COLUMN task.task.object IS 'JSON object referencing the business object the task works on, e.g. {"id": "BUY-1190-0394"}.';
COMMENT ON COLUMN task.task.description IS 'Free text, newlines allowed.';
COMMENT ON COLUMN task.task.parent IS 'The parent task (a task of the same service); NULL once the parent is purged.';
COMMENT ON COLUMN task.task.eta IS 'Estimated completion time, set by the creator or the worker.';
COMMENT ON COLUMN task.task.parameters IS 'JSON object of the task''s inputs; task_progress may replace it.';
COMMENT ON COLUMN task.task.error IS 'The last failure (task_fail) or the reason of the cancellation (task_cancel).';
COMMENT ON COLUMN task.task.attempts IS 'Claims so far: every task_dequeue of the task counts one.';
COMMENT ON COLUMN task.task.max_attempts IS 'Attempts allowed; NULL takes the queue''s max_attempts.';
COMMENT ON COLUMN task.task.lease_until IS 'While processing: when the claim expires unless a heartbeat extends it.';
COMMENT ON COLUMN task.task.ordering_key IS 'Tasks of a queue with the same key run one at a time, in creation order.';
COMMENT ON COLUMN task.task.created_at IS 'Audit: when the task was created.';
COMMENT ON COLUMN task.task.created_by IS 'Audit: who created it (SVC-XXXX, ACC-XXXX-YYYY, or the name of an unmapped role).';
COMMENT ON COLUMN task.task.updated_at IS 'Audit: when the task last changed.';
COMMENT ON COLUMN task.task.updated_by IS 'Audit: who changed it last.';
COMMENT ON COLUMN task.task.started_at IS 'Audit: when it last became processing.';
COMMENT ON COLUMN task.task.started_by IS 'Audit: who claimed it last.';
COMMENT ON COLUMN task.task.completed_at IS 'Audit: when it completed.';
COMMENT ON COLUMN task.task.completed_by IS 'Audit: who completed it.';
COMMENT ON COLUMN task.task.failed_at IS 'Audit: when it last became failed.';
COMMENT ON COLUMN task.task.failed_by IS 'Audit: who failed it last.';
COMMENT ON COLUMN task.task.rescheduled_at IS 'Audit: when it last became rescheduled.';
COMMENT ON COLUMN task.task.rescheduled_by IS 'Audit: who rescheduled it last.';
COMMENT ON COLUMN task.task.cancelled_at IS 'Audit: when it was cancelled.';
COMMENT ON COLUMN task.task.cancelled_by IS 'Audit: who cancelled it.';

-- ---------------------------------------------------------------- task indexes of the worker path (65_worker.sql)
-- Leases to rescue, per queue (only processing rows are in it).
CREATE INDEX task_lease_idx ON task.task (queue, lease_until) WHERE status = 'processing';

-- Ordering keys: at most one task of a key runs at a time.
CREATE INDEX task_ordering_idx ON task.task (queue, ordering_key, run_at, id)
    WHERE ordering_key IS NOT NULL AND status IN ('queued', 'rescheduled', 'processing');

-- ---------------------------------------------------------------- task indexes of housekeeping (80_maintenance.sql)
-- The purge walks finished tasks per queue, oldest first, and never reads
-- the tasks of a queue that keeps them forever. The included columns let
-- monitoring (82_monitoring.sql) count and time the last hour's finished
-- tasks from the index alone (1M tasks: 1.3k buffers a scrape, not 20k).
CREATE INDEX task_finished_idx ON task.task (queue, status_at)
    INCLUDE (status, started_at, completed_at, failed_at)
    WHERE status IN ('completed', 'failed', 'cancelled');

-- The dependency safety net reads blocked tasks only (few, and only while
-- they wait: the index holds no other row).
CREATE INDEX task_blocked_idx ON task.task (owner, id) WHERE status = 'blocked';

-- ---------------------------------------------------------------- access list
CREATE TABLE task.task_access (
    owner    integer NOT NULL,
    task_id  task.task_id NOT NULL,
    account  bigint NOT NULL REFERENCES task.account ON DELETE CASCADE,
    PRIMARY KEY (owner, task_id, account),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);

CREATE INDEX task_access_account_idx ON task.task_access (account, owner, task_id);
COMMENT ON TABLE task.task_access IS 'The access list of each task: accounts that may see it and its result.';
COMMENT ON COLUMN task.task_access.owner IS 'The owning service of the task (SVC-XXXX number).';
COMMENT ON COLUMN task.task_access.task_id IS 'The task.';
COMMENT ON COLUMN task.task_access.account IS 'An account (ACC-XXXX-YYYY number) that may see the task and its result.';

-- ---------------------------------------------------------------- dependencies
-- task_id waits (blocked) until every depends_on task has completed. Both
-- belong to the same service, as a parent and its children do.
CREATE TABLE task.task_dependency (
    owner       integer NOT NULL,
    task_id     task.task_id NOT NULL,
    depends_on  task.task_id NOT NULL,
    PRIMARY KEY (owner, task_id, depends_on),
    FOREIGN KEY (task_id, owner) REFERENCES task.task (id, owner) ON DELETE CASCADE
);

CREATE INDEX task_dependency_on_idx ON task.task_dependency (owner, depends_on);
COMMENT ON TABLE task.task_dependency IS 'Dependencies: a blocked task is queued when all the tasks it depends on have completed, and cancelled when one fails for good or is cancelled.';
COMMENT ON COLUMN task.task_dependency.owner IS 'The owning service of both tasks (SVC-XXXX number).';
COMMENT ON COLUMN task.task_dependency.task_id IS 'The task that waits (blocked until every task it depends on has completed).';
COMMENT ON COLUMN task.task_dependency.depends_on IS 'A task it waits for.';

-- ---------------------------------------------------------------- logs
CREATE SEQUENCE task.task_log_seq;

CREATE TABLE task.task_log (
    owner        integer NOT NULL,
    task_id      task.task_id NOT NULL,
    seq          bigint NOT NULL DEFAULT pg_catalog.nextval('task.task_log_seq'),
    at           timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    message      text NOT NULL,
    from_status  task.status,
    to_status    task.status,
    errors       bigint,
    skips        bigint,
    success      bigint,
    total        bigint,
    by           text,
    PRIMARY KEY (owner, task_id, seq)
);
ALTER SEQUENCE task.task_log_seq OWNED BY task.task_log.seq;
COMMENT ON TABLE task.task_log IS 'Task log entries: messages from workers (with optional counters) and one entry per status transition.';
COMMENT ON COLUMN task.task_log.from_status IS 'For transition entries: the status left (NULL for messages).';
COMMENT ON COLUMN task.task_log.owner IS 'The owning service of the task (SVC-XXXX number).';
COMMENT ON COLUMN task.task_log.task_id IS 'The task the entry is about.';
COMMENT ON COLUMN task.task_log.seq IS 'Entry number from task.task_log_seq; task_logs orders entries by at, then seq.';
COMMENT ON COLUMN task.task_log.at IS 'When the entry was written (clock time, not transaction start).';
COMMENT ON COLUMN task.task_log.message IS 'The message; for transition entries "from -> to".';
COMMENT ON COLUMN task.task_log.to_status IS 'For transition entries: the status entered (NULL for messages).';
COMMENT ON COLUMN task.task_log.errors IS 'Optional counter: items that failed.';
COMMENT ON COLUMN task.task_log.skips IS 'Optional counter: items skipped.';
COMMENT ON COLUMN task.task_log.success IS 'Optional counter: items done.';
COMMENT ON COLUMN task.task_log.total IS 'Optional counter: items in all.';
COMMENT ON COLUMN task.task_log.by IS 'Who wrote the entry (SVC-XXXX, ACC-XXXX-YYYY, or the name of an unmapped role).';

-- ---------------------------------------------------------------- schedules (85_schedules.sql)
CREATE TABLE task.schedule (
    owner          integer NOT NULL REFERENCES task.service ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,40}$'),
    cron           text NOT NULL,
    queue          text NOT NULL,
    template       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by     text NOT NULL,
    last_run_at    timestamptz,
    last_task      task.task_id,
    runs           bigint NOT NULL DEFAULT 0,
    failures       bigint NOT NULL DEFAULT 0,
    last_error     text,
    last_error_at  timestamptz,
    PRIMARY KEY (owner, name)
);
COMMENT ON TABLE task.schedule IS
    'Recurring tasks: on each tick of cron, pg_cron calls task._run_schedule, which creates a task from the template for the owning service.';
COMMENT ON COLUMN task.schedule.owner IS 'The service that scheduled it (SVC-XXXX number); its tasks belong to this service.';
COMMENT ON COLUMN task.schedule.name IS 'Name, unique per service: letters, digits, "_", "-", ".", at most 40.';
COMMENT ON COLUMN task.schedule.cron IS 'pg_cron schedule, five fields (minute granularity).';
COMMENT ON COLUMN task.schedule.template IS 'The task_create arguments as JSON: code and queue, optionally name, description, object, parameters, access, ordering_key, max_attempts.';
COMMENT ON COLUMN task.schedule.last_run_at IS 'The last tick, successful or not.';
COMMENT ON COLUMN task.schedule.last_task IS 'The task the last successful tick created.';
COMMENT ON COLUMN task.schedule.last_error IS 'SQLSTATE and message of the last tick that failed to create its task (kept after later successes; compare last_error_at with last_run_at).';
COMMENT ON COLUMN task.schedule.queue IS 'The queue of the template, checked to belong to the owner at each tick.';

-- ---------------------------------------------------------------- maintenance runs
-- One row per task_maintain() call (80_maintenance.sql), kept 7 days: its
-- counts, by backend pid and time, so that a pg_cron job's run
-- (cron.job_run_details.job_pid, start_time) finds them in either of
-- pg_cron's modes (task_maintain_runs). Inserted only: no hot row.
CREATE TABLE task.maintenance_run (
    at          timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    pid         integer NOT NULL,
    by          text NOT NULL,
    result      jsonb NOT NULL,
    PRIMARY KEY (pid, finished_at)
);
CREATE INDEX maintenance_run_at_idx ON task.maintenance_run (at);
COMMENT ON TABLE task.maintenance_run IS
    'The counts of each task_maintain() call of the last 7 days, with the calling backend''s pid (a pg_cron job''s job_pid): read them with task_maintain_runs().';
COMMENT ON COLUMN task.maintenance_run.at IS 'Start of the calling transaction (now()).';
COMMENT ON COLUMN task.maintenance_run.finished_at IS 'When the call finished its work (clock_timestamp()).';
COMMENT ON COLUMN task.maintenance_run.pid IS 'The calling backend''s process id (pg_backend_pid(); cron.job_run_details.job_pid for a pg_cron job).';
COMMENT ON COLUMN task.maintenance_run.by IS 'Who called it (task.current_actor()).';
COMMENT ON COLUMN task.maintenance_run.result IS 'What task_maintain() returned: leases_rescued, released, purged, logs_purged, archived, months_dropped, more.';
COMMENT ON COLUMN task.schedule.created_at IS 'When the schedule was created.';
COMMENT ON COLUMN task.schedule.created_by IS 'Who created it (SVC-XXXX, ACC-XXXX-YYYY, or the name of an unmapped role).';
COMMENT ON COLUMN task.schedule.runs IS 'Ticks that created their task.';
COMMENT ON COLUMN task.schedule.failures IS 'Ticks that failed to create their task.';
COMMENT ON COLUMN task.schedule.last_error_at IS 'When the last failing tick happened.';

-- ---------------------------------------------------------------- pg_dump
SELECT pg_catalog.pg_extension_config_dump('task.service', '');

SELECT pg_catalog.pg_extension_config_dump('task.service_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.account', '');

SELECT pg_catalog.pg_extension_config_dump('task.account_id_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.login', '');

SELECT pg_catalog.pg_extension_config_dump('task.queue', '');

SELECT pg_catalog.pg_extension_config_dump('task.queue_rate', '');

SELECT pg_catalog.pg_extension_config_dump('task.queue_share', '');

SELECT pg_catalog.pg_extension_config_dump('task.lock_secret', '');

SELECT pg_catalog.pg_extension_config_dump('task.key_rate', '');

SELECT pg_catalog.pg_extension_config_dump('task.task', '');

SELECT pg_catalog.pg_extension_config_dump('task.task_serial_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.task_access', '');

SELECT pg_catalog.pg_extension_config_dump('task.task_dependency', '');

SELECT pg_catalog.pg_extension_config_dump('task.task_log', '');

SELECT pg_catalog.pg_extension_config_dump('task.task_log_seq', '');

SELECT pg_catalog.pg_extension_config_dump('task.schedule', '');

SELECT pg_catalog.pg_extension_config_dump('task.maintenance_run', '');
