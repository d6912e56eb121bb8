SELECT bench_pgq_pending('bench_');
