-- W1 raw: one row per transaction.
INSERT INTO bench_raw (payload) VALUES ('{"n": 1}');
