#!/usr/bin/env bash
# The scale-out suite (docs/SCALE-OUT.md): a router (task_router) and two shard nodes (task) on
# localhost, each a throwaway cluster of its own, and the API through the router: test/multinode/*.sql
# and the steps below that need more than one session or a node going down. Prints one line per
# step, "test multinode_STEP ... ok|FAILED", then "test multinode ... ok|FAILED" (check.sh counts
# them); exit 1 on failure. Ports: TASK_CHECK_MULTINODE_PORT (default 58446) for the router, the
# next ones for nodes 0, 1 and 2; directory: $TASK_CHECK_DIR-multinode or tmp/check-multinode.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
# shellcheck source=../multinode/lib.sh
. "$root/test/multinode/lib.sh"
cd "$root"
base=${TASK_CHECK_MULTINODE_PORT:-58446}
dir=$(h_check_dir multinode "$root")
suite=$root/test/multinode
failed=()
trap mn_stop_all EXIT

# step NAME COMMAND...: run it, its output in $dir/NAME.log; one result line. (A function run
# as "$@" || ... does not stop at a failing command even under set -e: every line of a step
# below ends in "|| return 1".)
step() {
	local name=$1 rc=0
	shift
	"$@" >"$dir/$name.log" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		h_result "multinode_$name" ok
	else
		h_result "multinode_$name" FAILED
		sed 's/^/    /' "$dir/$name.log" | tail -n 30
		failed+=("$name")
	fi
}
# as ROLE on the router, a file or a command
router_as() { local role=$1; shift; mn_psql router -c "SET ROLE $role" "$@"; }

mkdir -p "$dir"
h_own "$dir"
if ! mn_start "$dir/cluster" "$base" 2 >"$dir/start.log" 2>&1; then
	cat "$dir/start.log"
	h_result multinode FAILED
	exit 1
fi

# ---- the directory reaches every node
setup() {
	mn_psql router -f "$suite/setup.sql" || return 1
	[ -n "$(mn_directory 0)" ] && [ "$(mn_directory 0)" = "$(mn_directory 1)" ] || { echo "the nodes' directories differ"; diff <(mn_directory 0) <(mn_directory 1); return 1; }
}
step setup setup

step api mn_psql router -f "$suite/api.sql"
step access mn_psql router -f "$suite/access.sql"

# ---- 0.2.0's arguments and functions through the router; the queue settings reach every node
features() {
	mn_psql router -f "$suite/features.sql" || return 1
	[ "$(mn_directory 0)" = "$(mn_directory 1)" ] || { echo "the nodes' directories differ"; diff <(mn_directory 0) <(mn_directory 1); return 1; }
}
step features features

# ---- every function a caller has on a node, the router has with the same arguments (the
# marketplace and the node's own maintenance excepted: docs/SCALE-OUT.md)
signatures() {
	local q="SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') ' || pg_get_function_result(p.oid)
	           FROM pg_proc p WHERE p.pronamespace = 'task'::regnamespace AND p.proname LIKE 'task\_%'
	            AND p.proname NOT LIKE 'task\_id\_%' AND p.prokind = 'f' AND p.proname NOT IN ('task_transition', 'task_maintain', 'task_maintain_runs',
	                'task_cron_enable', 'task_cron_disable', 'task_hire', 'task_accept', 'task_reassign', 'task_dispute',
	                'task_dispute_resolve', 'task_message', 'task_messages', 'task_artifacts_add', 'task_artifacts',
	                'task_artifact', 'task_payment', 'task_payments', 'task_agents', 'task_agent_heartbeat',
	                'task_agent_register', 'task_market_balance', 'task_market_deposit', 'task_market_setup',
	                'task_market_check', 'task_account_update')
	          ORDER BY 1"
	local node router
	node=$(mn_psql 0 -At -c "$q") || return 1
	router=$(mn_psql router -At -c "$q") || return 1
	[ "$(echo "$node" | wc -l)" -gt 30 ] && [ "$node" = "$router" ] || { echo "signatures differ (- node, + router):"; diff <(echo "$node") <(echo "$router"); return 1; }
}
step signatures signatures

# ---- errors read as on one node: the same call on the router and on the node that holds it,
# as the same role, gives the same ERROR, DETAIL and HINT lines
errors_exact() {
	local node call role r d bad=0
	while IFS='|' read -r role node call; do
		r=$(mn_psql router -v VERBOSITY=default -c "SET ROLE $role" -c "$call" 2>&1 >/dev/null | grep -E '^(ERROR|DETAIL|HINT):' || true)
		d=$(mn_psql "$node" -v VERBOSITY=default -c "SET ROLE $role" -c "$call" 2>&1 >/dev/null | grep -E '^(ERROR|DETAIL|HINT):' || true)
		if [ -z "$r" ] || [ "$r" != "$d" ]; then
			echo "$role: $call"; echo "  router: $r"; echo "  node $node: $d"; bad=1
		fi
	done <<-'CALLS'
	mn_svc_b|1|SELECT task.task_get('TSK-0001-0100-0000-0001')
	mn_svc_b|0|SELECT task.task_cancel('TSK-0001-0000-0999-9999')
	mn_svc_b|0|SELECT task.task_create('x', 'a/one')
	mn_svc_b|1|SELECT task.task_list(list_limit => 0)
	mn_svc_b|0|SELECT task.task_list(status => 'Completed')
	mn_vendor|0|SELECT task.task_cancel('TSK-0001-0000-0000-0001')
	mn_svc_a|1|SELECT task.task_complete('TSK-0001-0100-0000-0001', token => 1)
	mn_svc_a|1|SELECT task.task_dequeue('a/two', n => 0)
	mn_nobody|0|SELECT task.task_queue_create('a/three')
	mn_svc_a|1|SELECT task.task_create('x', 'a/two', depends_on => ARRAY[NULL]::task.task_id[])
	mn_svc_a|1|SELECT task.task_create('x', 'a/two', parent => 'TSK-0001-0100-0000-0001', depends_on => ARRAY['TSK-0001-0100-0000-0001', NULL]::task.task_id[])
	mn_svc_a|1|SELECT task.task_dequeue('a/two', complete_batch => ARRAY['TSK-0001-0100-0000-0001', NULL]::task.task_id[], complete_tokens => ARRAY[1, 2])
	mn_svc_a|1|SELECT task.task_dequeue('a/two', complete_batch => ARRAY[NULL]::task.task_id[], complete_tokens => ARRAY[1])
	mn_svc_a|0|SELECT task.task_wait_many(ARRAY(SELECT ('TSK-0001-0' || i % 2 || '00-0000-' || lpad(i::text, 4, '0'))::task.task_id FROM generate_series(1, 1001) i), '0')
	mn_svc_a|0|SELECT task.task_wait_many(ARRAY[['TSK-0001-0000-0000-0001'], ['TSK-0001-0100-0000-0001']]::task.task_id[], '0')
	CALLS
	return "$bad"
}
step errors_exact errors_exact

# ---- the merged list is the single-node order: every node's (status_at, id), sorted
list_order() {
	local want got
	want=$(for n in 0 1; do mn_psql "$n" -At -F ' ' -c "SELECT extract(epoch FROM status_at)::numeric * 1000000, id FROM task.task" || exit 1; done |
		sort -k1,1nr -k2,2r | awk '{print $2}') || return 1
	got=$(mn_psql router -At -c "SET ROLE mn_ops" -c "SELECT j->>'id' FROM task.task_list(list_limit => 1000) j") || return 1
	[ "$(echo "$want" | wc -l)" -gt 10 ] && [ "$want" = "$got" ] || { echo "merged order differs (- nodes sorted, + router):"; diff <(echo "$want") <(echo "$got"); return 1; }
}
step list_order list_order

# ---- a wait through the router wakes at the commit of a create on the queue's node
# sleep_seen NODE ROLE FUNCTION: wait (up to 30 s) until ROLE runs FUNCTION on NODE
sleep_seen() {
	mn_psql "$1" -c "DO \$\$ BEGIN
		FOR i IN 1..600 LOOP
			EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE usename = '$2' AND query LIKE '%$3%' AND state = 'active');
			PERFORM pg_sleep(0.05);
			PERFORM pg_stat_clear_snapshot();
		END LOOP; END \$\$"
}
wait_wakes() {
	local out=$dir/wait.out pid created token
	# b/wait lives on node 1 beside b/one, empty; the dequeue sleeps there
	mn_psql router -At -c "SET ROLE mn_svc_b" \
		-c "SELECT id, lease_token, clock_timestamp() - statement_timestamp() < '60 s' FROM task.task_dequeue('b/wait', wait => '120 s')" >"$out" 2>&1 &
	pid=$!
	sleep_seen 1 mn_svc_b task_dequeue || { kill "$pid"; return 1; }
	created=$(mn_psql router -At -c "SET ROLE mn_svc_b" -c "SELECT id FROM task.task_create('wake', 'b/wait')") || { kill "$pid"; return 1; }
	wait "$pid"
	grep -qx "$created|[0-9]*|t" "$out" || { echo "the waiting dequeue returned: $(cat "$out") (want $created, woken well before its 120 s)"; return 1; }
	token=$(cut -d'|' -f2 "$out")
	# task_wait through the router sleeps on node 1 until the task settles
	mn_psql router -At -c "SET ROLE mn_ops" \
		-c "SELECT w->>'status', clock_timestamp() - statement_timestamp() < '60 s' FROM task.task_wait('$created', '120 s') w" >"$out" 2>&1 &
	pid=$!
	sleep_seen 1 mn_ops task_wait || { kill "$pid"; return 1; }
	mn_psql router -c "SET ROLE mn_svc_b" -c "SELECT task.task_complete('$created', token => $token)" >/dev/null || { kill "$pid"; return 1; }
	wait "$pid"
	grep -qx "Completed|t" "$out" || { echo "the waiting task_wait returned: $(cat "$out") (want Completed, woken well before its 120 s)"; return 1; }
}
step wait_wakes wait_wakes

# ---- node 1 stops mid-run: node 0 keeps working, calls for node 1 fail clearly, nothing is lost
node_down() {
	local before after tasks="SELECT count(*), md5(string_agg(id::text || status || revision, ',' ORDER BY id::text)) FROM task.task"
	before=$(mn_psql 1 -At -c "$tasks") || return 1
	mn_node_stop 1 || return 1
	mn_psql router -f "$suite/node_down.sql" || return 1
	mn_node_restart 1 || return 1
	after=$(mn_psql 1 -At -c "$tasks") || return 1
	echo "node 1's tasks before the stop and after the restart: $before / $after"
	[ "$before" = "$after" ] || { echo "node 1's tasks changed over the restart"; return 1; }
	mn_psql router -f "$suite/node_back.sql" || return 1
	[ "$(mn_directory 0)" = "$(mn_directory 1)" ] || { echo "node 1 did not catch up with the directory"; return 1; }
}
step node_down node_down

# ---- a third node joins and a queue moves to it
add_node() {
	mn_node_start 2 || return 1
	# a login whose role node 2 lacks: node_add refuses it (the directory cannot be applied there)
	mn_psql 0 -c "CREATE ROLE mn_partial LOGIN" && mn_psql 1 -c "CREATE ROLE mn_partial LOGIN" || return 1
	mn_psql router -c "CREATE ROLE mn_partial LOGIN" -c "SELECT task.task_login_grant('mn_partial', 'SVC-0001')" || return 1
	mn_psql router -v node2="$(mn_connstr 2)" -v nowhere="$(mn_connstr 2 | sed 's/port=[0-9]*/port=1/')" \
		-v notask="$(mn_connstr 2 | sed 's/dbname=task/dbname=postgres/')" -f "$suite/node_add.sql" || return 1
	mn_psql router -c "SELECT task.task_login_revoke('mn_partial')" -c "DROP ROLE mn_partial" || return 1
	mn_psql 0 -c "DROP ROLE mn_partial" && mn_psql 1 -c "DROP ROLE mn_partial" || return 1
	mn_psql router -c "SELECT task_router.node_add('$(mn_connstr 2)')" || return 1
	[ "$(mn_directory 0)" = "$(mn_directory 2)" ] || { echo "node 2 did not get the directory"; return 1; }
	mn_psql router -f "$suite/move.sql" || return 1
}
step add_node add_node

if [ ${#failed[@]} -eq 0 ]; then
	h_result multinode ok
else
	echo "multinode: failed: ${failed[*]} (logs in $dir)"
	h_result multinode FAILED
	exit 1
fi
