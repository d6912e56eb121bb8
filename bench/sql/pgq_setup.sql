-- pgq: PgQ 3 from Debian postgresql-15-pgq3.  No pgqd daemon: the driver
-- (bench/run.sh) calls pgq.ticker() itself.  One consumer, 'bench_c', per queue.
CREATE EXTENSION IF NOT EXISTS pgq;

-- A queue with its consumer.  ticker_max_count: pgq.ticker(queue) only ticks
-- once that many events are new (or ticker_max_lag, 3 s, has passed); the
-- drains use 1, so that the preload's transactions alone cut the batches.
CREATE OR REPLACE FUNCTION bench_pgq_queue(q text, max_count int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pgq.create_queue(q);
    PERFORM pgq.set_queue_config(q, 'ticker_max_count', max_count::text);
    PERFORM pgq.register_consumer(q, 'bench_c');
END $$;

-- Backlog: n events, per_tick events a transaction, each transaction followed by
-- a tick, so every batch the consumer gets holds exactly per_tick events
-- (PgQ cuts batches at ticks, by transaction visibility; the queue must have
-- ticker_max_count = 1, see bench_pgq_queue).  Run with
-- synchronous_commit = off: the preload is not measured.
CREATE OR REPLACE PROCEDURE bench_pgq_preload(q text, n int, per_tick int)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. n / per_tick LOOP
        PERFORM pgq.insert_event(q, 'bench.job', '{"n": 1}') FROM generate_series(1, per_tick);
        COMMIT;
        IF pgq.ticker(q) IS NULL THEN
            RAISE EXCEPTION 'pgq.ticker(%) did not tick', q;
        END IF;
        COMMIT;
    END LOOP;
END $$;

-- W5 history: n events in one transaction, one tick, consumed as one batch
-- and finished, so the event table holds n processed events (PgQ keeps them
-- until its table rotation, which this run does not reach).
CREATE OR REPLACE PROCEDURE bench_pgq_history(q text, n int)
LANGUAGE plpgsql AS $$
DECLARE b bigint;
BEGIN
    PERFORM pgq.insert_event(q, 'bench.done', '{"n": 1}') FROM generate_series(1, n);
    COMMIT;
    PERFORM pgq.ticker(q);
    COMMIT;
    b := pgq.next_batch(q, 'bench_c');
    IF b IS NULL THEN
        RAISE EXCEPTION 'no history batch on %', q;
    END IF;
    PERFORM pgq.finish_batch(b);
    COMMIT;
END $$;

-- Events ticked but not yet consumed, over the bench queues.
CREATE OR REPLACE FUNCTION bench_pgq_pending(prefix text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT coalesce(sum(pending_events), 0)::bigint
      FROM pgq.get_consumer_info()
     WHERE queue_name LIKE prefix || '%' AND consumer_name = 'bench_c'
$$;
