SELECT count(*) FROM bench_raw_hist WHERE NOT done;
