#!/usr/bin/env bash
# The router's cost and the throughput of 1, 2 and 4 shard nodes on this machine (docs/SCALE-OUT.md):
# a router (task_router) and N nodes (task) on localhost, from test/multinode/lib.sh; one queue per
# node (bench/q0 on node 0, ...), one service, logged in as bench_svc everywhere.
#   W1  one task_create per transaction (the client picks a queue at random)
#   W3  one task_dequeue per transaction completing the previous task (each client keeps to one
#       queue, client_id mod N), on a backlog loaded beforehand; tasks/s = tasks completed / duration
#   get one task_get of a task on node 0 (read only: no commit to wait for), one client
# Each through the router, and on node 0 directly (the per-node baseline). The median latency of
# one client (pgbench -c 1, per-transaction log) gives the router's overhead per call: router latency - direct latency; "get,
# PL/Proxy only" calls task_router.task_get, the PL/Proxy function without the wrapper that
# re-raises errors (sql/router/40_errors.sql), to show that wrapper's share.
# All nodes share this machine's cores, so more nodes do not add CPU: the point is the overhead.
# Settings: BENCH_SCALEOUT_PORT (58450: router, then one port per node), BENCH_SCALEOUT_NODES
# ("1 2 4"), BENCH_SCALEOUT_DURATION (10 s a run), BENCH_SCALEOUT_CLIENTS (4),
# BENCH_SCALEOUT_BACKLOG (20000 tasks per queue for W3). Prints a Markdown report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../test/harness/cluster.sh
. "$root/test/harness/cluster.sh"
# shellcheck source=../test/multinode/lib.sh
. "$root/test/multinode/lib.sh"
cd "$root"

base=${BENCH_SCALEOUT_PORT:-58450}
node_counts=${BENCH_SCALEOUT_NODES:-1 2 4}
duration=${BENCH_SCALEOUT_DURATION:-10}
clients=${BENCH_SCALEOUT_CLIENTS:-4}
backlog=${BENCH_SCALEOUT_BACKLOG:-20000}
dir=$(h_tmp "$root")/scaleout
bin=$(h_bindir)
MN_ROLES=bench_svc
trap mn_stop_all EXIT
mkdir -p "$dir"
h_own "$dir"

cat >"$dir/w1.sql" <<'SQL'
\set q random(0, :nodes - 1)
SELECT id FROM task.task_create('bench.job', 'bench/q' || :q, parameters => '{"n": 1}'::jsonb);
SQL
# as bench/sql/task_drain1.sql, each client on queue client_id mod nodes
cat >"$dir/w3.sql" <<'SQL'
\set q :client_id % :nodes
SELECT coalesce(d.id::text, '') AS prev_id, coalesce(d.lease_token::text, '') AS prev_token
  FROM (SELECT 1) AS one
  LEFT JOIN task.task_dequeue('bench/q' || :q, 1,
              complete       => NULLIF(NULLIF(:prev_id, ''), 'none')::task.task_id,
              complete_token => NULLIF(NULLIF(:prev_token, ''), 'none')::bigint) AS d ON true \gset
SQL
echo 'SELECT task.task_get(:id);' >"$dir/get.sql"
echo 'SELECT task_router.task_get(:id);' >"$dir/get_plproxy.sql"
h_own "$dir"

# pgb WHO CLIENTS SCRIPT NODES -> "tasks/s median-latency-ms" (the median of pgbench's
# per-transaction log: on a loaded machine the average follows the stalls, the median less so)
pgb() {
	local who=$1 c=$2 script=$3 nodes=$4 out d
	out=$dir/pgbench.out
	d=$(realpath -m "$(mn_dir "$who")")
	rm -f "$dir"/pgbench_log.*
	(cd "$dir" && "$bin/pgbench" -n -M prepared -h "$(h_sockdir "$d")" -p "$(mn_port "$who")" -U bench_svc -c "$c" -j "$c" -T "$duration" \
		-l -D nodes="$nodes" -D id="${get_id:-none}" -D prev_id=none -D prev_token=none -f "$script" task) >"$out" 2>&1 || { cat "$out" >&2; return 1; }
	if grep -qE 'number of failed transactions: [1-9]' "$out"; then cat "$out" >&2; return 1; fi
	printf '%s %s\n' "$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")" \
		"$(cat "$dir"/pgbench_log.* | awk '{print $3 / 1000}' | sort -n | awk '{a[NR] = $1} END {printf "%.3f", a[int((NR + 1) / 2)]}')"
}

# completed tasks on the first NODES nodes
completed() {
	local nodes=$1 n sum=0
	for ((n = 0; n < nodes; n++)); do
		sum=$((sum + $(mn_psql "$n" -At -c "SELECT count(*) FROM task.task WHERE status = 'completed'")))
	done
	echo "$sum"
}
# W3 WHO CLIENTS NODES -> "tasks/s avg-latency-ms": tasks completed per second (empty dequeues
# at the end of the backlog do not count)
w3() {
	local who=$1 c=$2 nodes=$3 before after lat
	before=$(completed "$nodes")
	read -r _ lat <<<"$(pgb "$who" "$c" "$dir/w3.sql" "$nodes")"
	after=$(completed "$nodes")
	printf '%s %s\n' "$(awk "BEGIN { printf \"%.0f\", ($after - $before) / $duration }")" "$lat"
}

# a backlog of BACKLOG tasks in every queue, created on each node directly (each batch names its
# number b, so the lateral call runs once per batch)
load_backlog() {
	local nodes=$1 n
	for ((n = 0; n < nodes; n++)); do
		mn_psql "$n" -c "SET ROLE bench_svc" -c "SELECT count(*) FROM generate_series(1, $backlog / 1000) b,
			LATERAL task.task_create_many('bench.job', 'bench/q$n', array_fill(jsonb_build_object('n', b), ARRAY[1000])) i" >/dev/null
		mn_psql "$n" -c "VACUUM ANALYZE task.task" >/dev/null
	done
}
empty_queues() {
	local nodes=$1 n
	for ((n = 0; n < nodes; n++)); do
		mn_psql "$n" -c "ALTER TABLE task.task DISABLE TRIGGER USER" -c "DELETE FROM task.task_log" -c "DELETE FROM task.task" \
			-c "ALTER TABLE task.task ENABLE TRIGGER USER" -c "ALTER TABLE task.task ENABLE ALWAYS TRIGGER task_transition" -c "VACUUM ANALYZE task.task" >/dev/null
	done
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
rows=()
for nodes in $node_counts; do
	mn_start "$dir/cluster$nodes" "$base" "$nodes"
	{
		echo "SELECT task.task_service_create('bench', 'bench');"
		echo "SELECT task.task_login_grant('bench_svc', 'SVC-0001');"
		for ((n = 0; n < nodes; n++)); do
			echo "SELECT task.task_queue_create('bench/q$n', 'SVC-0001');"
			# spread: queue n on node n (placed beside q0 first, then moved while empty)
			[ "$n" = 0 ] || echo "SELECT task_router.queue_move('bench/q$n', $n); SELECT task_router.queue_move_finish('bench/q$n');"
		done
	} | mn_psql router >/dev/null
	if [ "$nodes" = "${node_counts%% *}" ]; then
		# the per-node baseline: node 0 directly, its queue only
		read -r d1 dlat1 <<<"$(pgb 0 1 "$dir/w1.sql" 1)"
		read -r dw1 _ <<<"$(pgb 0 "$clients" "$dir/w1.sql" 1)"
		get_id=$(mn_psql 0 -At -c "SELECT id FROM task.task LIMIT 1")
		read -r _ dget <<<"$(pgb 0 1 "$dir/get.sql" 1)"
		empty_queues 1
		load_backlog 1
		read -r _ dlat3 <<<"$(w3 0 1 1)"
		read -r dw3 _ <<<"$(w3 0 "$clients" 1)"
		empty_queues 1
		rows+=("| node 0 directly | 1 | $dlat1 | $(printf '%.0f' "$dw1") | $dlat3 | $dw3 | $dget | |")
	fi
	read -r r1 rlat1 <<<"$(pgb router 1 "$dir/w1.sql" "$nodes")"
	read -r rw1 _ <<<"$(pgb router "$clients" "$dir/w1.sql" "$nodes")"
	get_id=$(mn_psql 0 -At -c "SELECT id FROM task.task LIMIT 1")
	read -r _ rget <<<"$(pgb router 1 "$dir/get.sql" "$nodes")"
	read -r _ rgetp <<<"$(pgb router 1 "$dir/get_plproxy.sql" "$nodes")"
	empty_queues "$nodes"
	load_backlog "$nodes"
	read -r _ rlat3 <<<"$(w3 router 1 "$nodes")"
	read -r rw3 _ <<<"$(w3 router "$clients" "$nodes")"
	rows+=("| router, $nodes node(s) | $nodes | $rlat1 | $(printf '%.0f' "$rw1") | $rlat3 | $rw3 | $rget | $rgetp |")
	mn_stop_all
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

echo "| path | nodes | W1 median latency, 1 client (ms) | W1 tasks/s, $clients clients | W3 median latency, 1 client (ms) | W3 tasks/s, $clients clients | get median latency (ms) | get, PL/Proxy only (ms) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Run: \`bench/scaleout.sh\` on $(nproc) cores shared by every node and the router; ${duration} s a run, pgbench -M prepared; W3 backlog $backlog per queue; took $(($(date +%s) - t0)) s; load average at start $load0, at end $load1."
