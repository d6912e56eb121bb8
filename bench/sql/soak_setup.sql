-- W6/W7 (bench/soak.sh): the side table the workers write one row to per claim,
-- in the claiming transaction.  UNLOGGED and insert-only: no WAL, no dead rows,
-- so it neither slows nor bloats anything measured.  Not counted in the sizes.
CREATE UNLOGGED TABLE bench_pickup (
    claimed_at timestamptz NOT NULL,   -- clock_timestamp() right after the claim returned
    ms         double precision        -- claimed_at - created_at of the task, milliseconds
);

-- Sizes of the queue's tables: for raw its table, for task every table of schema task
-- (heap + TOAST + FSM/VM, and indexes), with their dead tuples.
CREATE FUNCTION bench_sizes(sys text, OUT table_bytes bigint, OUT index_bytes bigint, OUT dead bigint)
LANGUAGE sql AS $$
    SELECT coalesce(sum(pg_table_size(c.oid)), 0)::bigint,
           coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint,
           coalesce(sum(s.n_dead_tup), 0)::bigint
      FROM pg_class c
      LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
     WHERE c.relkind IN ('r', 'm')
       AND CASE sys WHEN 'raw' THEN c.oid = to_regclass('bench_raw')
                    ELSE c.relnamespace = to_regnamespace('task') END
$$;
