SELECT count(*) FROM bench_raw;
