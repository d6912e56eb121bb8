-- W6/W7 (bench/soak.sh): the side table the workers write one row to per claim,
-- in the claiming transaction.  UNLOGGED and insert-only: no WAL, no dead rows,
-- so it neither slows nor bloats anything measured.  Not counted in the sizes.
CREATE UNLOGGED TABLE bench_pickup (
    claimed_at timestamptz NOT NULL,   -- clock_timestamp() right after the claim returned
    ms         double precision        -- claimed_at - created_at of the task, milliseconds
);
-- the harness's own table: no autovacuum or autoanalyze of it in the measured minutes
ALTER TABLE bench_pickup SET (autovacuum_enabled = off);

-- The queue's tables: for raw its table, for task every table of schema task;
-- sizes (heap + TOAST + FSM/VM, and indexes) and live/dead tuples.
CREATE FUNCTION bench_tables(sys text)
RETURNS TABLE (relname name, table_bytes bigint, index_bytes bigint, live bigint, dead bigint)
LANGUAGE sql AS $$
    SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid),
           coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0)
      FROM pg_class c
      LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE c.relkind IN ('r', 'm')
       AND CASE sys WHEN 'raw' THEN c.oid = to_regclass('bench_raw')
                    ELSE c.relnamespace = to_regnamespace('task') END
$$;

-- Their totals (sampled every 10 s).
CREATE FUNCTION bench_sizes(sys text, OUT table_bytes bigint, OUT index_bytes bigint, OUT dead bigint)
LANGUAGE sql AS $$
    SELECT coalesce(sum(t.table_bytes), 0)::bigint, coalesce(sum(t.index_bytes), 0)::bigint,
           coalesce(sum(t.dead), 0)::bigint
      FROM bench_tables(sys) t
$$;

-- The cluster's I/O counters, cumulative (sampled every 10 s with the sizes,
-- with the kernel's Dirty and Writeback from /proc/meminfo): shared-buffer
-- misses and hits of this database, buffers written by backends (no clean
-- buffer to evict), by the checkpointer and by the background writer,
-- checkpoints, WAL fsyncs and their total time, and the time spent reading
-- and writing data files (track_io_timing, track_wal_io_timing).
CREATE FUNCTION bench_io(OUT blks_read bigint, OUT blks_hit bigint, OUT buffers_backend bigint,
                         OUT buffers_checkpoint bigint, OUT buffers_clean bigint, OUT checkpoints bigint,
                         OUT wal_sync bigint, OUT wal_sync_ms double precision,
                         OUT blk_read_ms double precision, OUT blk_write_ms double precision)
LANGUAGE sql AS $$
    SELECT d.blks_read, d.blks_hit, b.buffers_backend, b.buffers_checkpoint, b.buffers_clean,
           b.checkpoints_timed + b.checkpoints_req, w.wal_sync, w.wal_sync_time,
           d.blk_read_time, d.blk_write_time
      FROM pg_stat_database d, pg_stat_bgwriter b, pg_stat_wal w
     WHERE d.datname = current_database()
$$;

-- One sample (bench/soak.sh's sampler, one session for the whole phase: a
-- psql and a backend started every 10 s cost the loaded machine a burst of
-- CPU that showed in the pickup tail): two lines, 'S' with the seconds since
-- t0 and bench_sizes, 'I' with the seconds, bench_io, the kernel's Dirty and
-- Writeback (kB, /proc/meminfo) and the machine's CPU jiffies (busy = user,
-- nice, system, irq, softirq; total; steal, /proc/stat).
CREATE FUNCTION bench_sample(sys text, t0 double precision) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    t text := round(extract(epoch FROM clock_timestamp())::numeric - t0::numeric)::text;
    mem text := pg_read_file('/proc/meminfo');
    cpu bigint[] := (SELECT array_agg(x::bigint ORDER BY n)
                       FROM regexp_split_to_table(substring(pg_read_file('/proc/stat') FROM '^cpu +([0-9 ]+)'), ' +')
                            WITH ORDINALITY AS c(x, n));
BEGIN
    RETURN NEXT (SELECT concat_ws(E'\t', 'S', t, s.table_bytes, s.index_bytes, s.dead) FROM bench_sizes(sys) s);
    RETURN NEXT (SELECT concat_ws(E'\t', 'I', t, i.blks_read, i.blks_hit, i.buffers_backend, i.buffers_checkpoint,
                                  i.buffers_clean, i.checkpoints, i.wal_sync, i.wal_sync_ms, i.blk_read_ms, i.blk_write_ms,
                                  substring(mem FROM 'Dirty: +([0-9]+)'), substring(mem FROM 'Writeback: +([0-9]+)'),
                                  cpu[1] + cpu[2] + cpu[3] + cpu[6] + cpu[7],
                                  cpu[1] + cpu[2] + cpu[3] + cpu[4] + cpu[5] + cpu[6] + cpu[7] + cpu[8], cpu[8])
                   FROM bench_io() i);
END
$$;
