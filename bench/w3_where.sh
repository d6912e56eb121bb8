#!/usr/bin/env bash
# Where a W3 drain's time goes (issue 15): the same drain as bench/run.sh's
# W3 (pgbench, one task per transaction, synchronous_commit = on), task and
# the raw SKIP LOCKED baseline in turn on one throwaway cluster, and per
# task of each run:
#   - the machine's CPU (/proc/stat) and that of the backends, pgbench and
#     the rest of the cluster (/proc/PID/stat of each, sampled while it
#     runs: a backend's counters go with it when pgbench disconnects);
#   - WAL bytes and records, WAL writes and fsyncs, and the mean time of an
#     fsync (pg_stat_wal, track_wal_io_timing);
#   - with W3_WHERE_WAITS=1, what the backends were doing, sampled from
#     pg_stat_activity every 20 ms (the sampling itself costs CPU: read the
#     shares, not the rates, of such a run);
#   - with W3_WHERE_OFFCPU=seconds, why the backends were off the CPU and
#     for how long (bench/offcpu.py: preempted, a buffer's or the WAL's
#     lock and from which function, the fsync, the client), from a
#     system-wide perf record of sched_switch with stacks, that many seconds
#     taken 3 s into the drain (perf itself costs CPU meanwhile);
#   - with W3_WHERE_PGSS=1, the statements (pg_stat_statements, track =
#     all: nested statements too, which inflates their times), calls and
#     execution µs per task.
# And, first, the disk's own cost of a write and fdatasync of 512 B to
# 32 KB, the sizes a commit writes (python3).
#
#   bench/w3_where.sh [SYSTEM...]         (default: task raw task raw)
# Environment: W3_WHERE_BACKLOG tasks (40000), W3_WHERE_CLIENTS (4),
# W3_WHERE_PORT (58451), W3_WHERE_SQL (task: SQL run after its set-up, before
# the preload: a variant to compare, say an index dropped).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PORT=${W3_WHERE_PORT:-58451}
BACKLOG=${W3_WHERE_BACKLOG:-40000}
CLIENTS=${W3_WHERE_CLIENTS:-4}
SYSTEMS=${*:-task raw task raw}
export PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
BIN=$(h_bindir)
DIR=$(h_tmp "$ROOT")/w3_where
export PGHOST=$(h_sockdir "$(realpath -m "$DIR")") PGPORT=$PORT PGUSER=postgres
unset PGDATABASE PGOPTIONS
q() { "$BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$@"; }

echo "== the disk: write + fdatasync of the current 8 kB WAL page(s), 1,500 times each"
mkdir -p "$DIR"
python3 - "$DIR/fsync_probe" <<'EOF'
import os, sys, time
fn = sys.argv[1]
fd = os.open(fn, os.O_RDWR | os.O_CREAT)
os.pwrite(fd, b'\0' * (64 << 20), 0); os.fsync(fd)
for size in (512, 2600, 8192, 32768):
    off, n, page = 0, 1500, 8192
    t = time.perf_counter()
    for i in range(n):
        start = (off // page) * page; end = ((off + size + page - 1) // page) * page
        os.pwrite(fd, b'x' * (end - start), start); os.fdatasync(fd); off += size
    print(f"{size:6d} B a commit: {(time.perf_counter() - t) / n * 1000:.3f} ms")
os.close(fd); os.unlink(fn)
EOF

settings=(shared_buffers=512MB synchronous_commit=on max_connections=200 track_wal_io_timing=on)
[ -z "${W3_WHERE_PGSS:-}" ] || settings+=(shared_preload_libraries=task,pg_cron,pg_stat_statements pg_stat_statements.track=all)
trap 'cluster_stop "$DIR"' EXIT
cluster_start "$DIR" "$PORT" postgres "${settings[@]}" >/dev/null

# "class pid ticks" for every process
snap() {
	local p cmd c
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		case $cmd in
		*"postgres: postgres w3where"*) c=backends ;;
		"postgres: "* | *"bin/postgres"*) c=cluster ;;
		*pgbench*) c=pgbench ;;
		*) continue ;;
		esac
		awk -v c=$c -v p="${p#/proc/}" '{ print c, p, $14 + $15 }' "$p/stat" 2>/dev/null || true
	done
}
machine() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

for sys in $SYSTEMS; do
	"$BIN/dropdb" --if-exists w3where >/dev/null 2>&1
	"$BIN/createdb" w3where
	if [ "$sys" = task ]; then
		q w3where -f "$HERE/sql/task_setup.sql" >/dev/null
		[ -z "${W3_WHERE_SQL:-}" ] || q w3where -c "$W3_WHERE_SQL" >/dev/null
		PGOPTIONS='-c synchronous_commit=off' q w3where -c "SELECT bench_task_preload($BACKLOG)" >/dev/null
	else
		q w3where -c "SET client_min_messages = warning" -f "$HERE/sql/raw_setup.sql" >/dev/null
		q w3where -c "SELECT bench_raw_preload($BACKLOG)" >/dev/null
	fi
	[ -z "${W3_WHERE_PGSS:-}" ] || q w3where -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
	q w3where -c "VACUUM ANALYZE" -c CHECKPOINT -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
	[ -z "${W3_WHERE_PGSS:-}" ] || q w3where -c "SELECT pg_stat_statements_reset()" >/dev/null
	snap >"$DIR/before"
	m0=$(machine)
	t0=$(date +%s.%N)
	"$BIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -t $((BACKLOG / CLIENTS)) -D prev_id=none -D prev_token=none \
		-f "$HERE/sql/${sys}_drain1.sql" w3where >"$DIR/pgbench.log" 2>&1 &
	pid=$!
	: >"$DIR/during"
	: >"$DIR/waits"
	rm -f "$DIR/sched.data"
	if [ -n "${W3_WHERE_OFFCPU:-}" ]; then
		sleep 3
		perf record -q -e sched:sched_switch -a --call-graph dwarf,8192 -o "$DIR/sched.data" -- sleep "$W3_WHERE_OFFCPU" >/dev/null 2>&1 ||
			echo "perf record failed: no off-CPU report" >&2
	fi
	while kill -0 $pid 2>/dev/null; do
		snap >>"$DIR/during"
		if [ -n "${W3_WHERE_WAITS:-}" ]; then
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				q w3where -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM pg_stat_activity
				               WHERE datname = 'w3where' AND pid <> pg_backend_pid() AND state = 'active'" >>"$DIR/waits" 2>/dev/null || true
				sleep 0.02
			done
		else
			sleep 0.3
		fi
	done
	wait $pid || { tail -5 "$DIR/pgbench.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	m1=$(machine)
	echo "== $sys"
	awk -v d="$BACKLOG" -v t0="$t0" -v t1="$t1" -v m=$((m1 - m0)) -v hz="$(getconf CLK_TCK)" '
		FNR == 1 { f++ }
		f == 1 { before[$2] = $3 }
		f == 2 { if ($3 > last[$2]) last[$2] = $3; class[$2] = $1 }
		END {
			for (p in last) use[class[p]] += last[p] - ((p in before) ? before[p] : 0)
			printf "%.0f tasks/s; CPU µs a task: machine %.0f, backends %.0f, pgbench %.0f, rest of the cluster %.0f\n",
			       d / (t1 - t0), m / hz * 1e6 / d, use["backends"] / hz * 1e6 / d, use["pgbench"] / hz * 1e6 / d,
			       use["cluster"] / hz * 1e6 / d
		}' "$DIR/before" "$DIR/during"
	q w3where -c "SELECT format('WAL a task: %s bytes, %s records, %s writes, %s fsyncs of %s ms each (mean)',
	                 round(wal_bytes / $BACKLOG), round(wal_records::numeric / $BACKLOG, 2),
	                 round(wal_write::numeric / $BACKLOG, 3), round(wal_sync::numeric / $BACKLOG, 3),
	                 round((wal_sync_time / nullif(wal_sync, 0))::numeric, 3)) FROM pg_stat_wal"
	if [ -n "${W3_WHERE_WAITS:-}" ]; then
		echo "backends sampled (share of samples):"
		sort "$DIR/waits" | uniq -c | sort -rn | awk '{ n[NR] = $1; w[NR] = $2; t += $1 } END { for (i = 1; i <= NR && i <= 8; i++) printf "  %5.1f%%  %s\n", 100 * n[i] / t, w[i] }'
	fi
	if [ -s "$DIR/sched.data" ]; then
		backends=$(awk '$1 == "backends" { print $2 }' "$DIR/during" | sort -u | paste -sd,)
		perf script -i "$DIR/sched.data" -F comm,pid,cpu,time,event,trace,ip,sym,dso 2>/dev/null | python3 "$HERE/offcpu.py" "pids:$backends"
	fi
	if [ -n "${W3_WHERE_PGSS:-}" ]; then
		echo "statements (calls and µs a task):"
		q w3where -c "SELECT format('  %s  %s  %s', round(calls::numeric / $BACKLOG, 3), round((total_exec_time * 1000 / $BACKLOG)::numeric, 1),
		                             left(regexp_replace(query, '\s+', ' ', 'g'), 100))
		                FROM pg_stat_statements WHERE calls > $BACKLOG / 100 ORDER BY total_exec_time DESC LIMIT 12"
	fi
done
