SELECT count(*) FROM bench_floor WHERE status IN ('queued', 'rescheduled');
