-- W1 pgq: one event per transaction.
SELECT pgq.insert_event('bench_w', 'bench.job', '{"n": 1}');
