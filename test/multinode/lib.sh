#!/usr/bin/env bash
# A small sharded installation on localhost, for test/harness/multinode.sh and bench/scaleout.sh
# (docs/SCALE-OUT.md): a router database (task_router) and shard nodes (task), each a throwaway
# cluster of test/harness/cluster.sh in DIR/router, DIR/node0, DIR/node1, ... on ports BASE
# (router), BASE+1+n (node n). Sourced; needs cluster.sh sourced first. Every cluster's database
# is "task"; the router reaches the nodes over their unix sockets with trust authentication.

# roles the suite and the bench log in as, created on every node and the router
MN_ROLES=${MN_ROLES:-"mn_svc_a mn_svc_b mn_ops mn_vendor mn_client mn_nobody"}

mn_dir() { # n|router -> the cluster directory
	if [ "$1" = router ]; then printf '%s/router\n' "$MN_DIR"; else printf '%s/node%s\n' "$MN_DIR" "$1"; fi
}
mn_port() { # n|router -> port
	if [ "$1" = router ]; then echo "$MN_BASE"; else echo $((MN_BASE + 1 + $1)); fi
}
mn_psql() { # n|router [psql args...]: as postgres, database task, stop on error
	local who=$1
	shift
	cluster_psql "$(mn_dir "$who")" "$(mn_port "$who")" -d task -v ON_ERROR_STOP=1 -q "$@"
}
mn_connstr() { # n -> the router's connect string for node n (no user: PL/Proxy adds the caller)
	local d
	d=$(realpath -m "$(mn_dir "$1")")
	printf 'host=%s port=%s dbname=task connect_timeout=5\n' "$(h_sockdir "$d")" "$(mn_port "$1")"
}
mn_roles_sql() {
	local r
	for r in $MN_ROLES; do printf 'CREATE ROLE %s LOGIN;\n' "$r"; done
}

# mn_node_start n: a fresh node n with task installed, numbered n, with the roles
mn_node_start() {
	local n=$1
	cluster_start "$(mn_dir "$n")" "$(mn_port "$n")" task max_connections=60 >/dev/null
	{ echo 'CREATE EXTENSION task CASCADE;'; echo "SELECT task.node_setup($n);"; mn_roles_sql; } | mn_psql "$n" >/dev/null
}

# mn_start DIR BASE NODES: router and NODES nodes, the nodes added to the router
mn_start() {
	MN_DIR=$1 MN_BASE=$2
	local nodes=$3 n
	cluster_start "$(mn_dir router)" "$(mn_port router)" task max_connections=60 >/dev/null
	{ echo 'CREATE EXTENSION task_router CASCADE;'; mn_roles_sql; } | mn_psql router >/dev/null
	for ((n = 0; n < nodes; n++)); do
		mn_node_start "$n"
		mn_psql router -c "SELECT task_router.node_add('$(mn_connstr "$n")')" >/dev/null
	done
}

mn_stop_all() {
	local d
	[ -n "${MN_DIR:-}" ] || return 0
	for d in "$MN_DIR"/router "$MN_DIR"/node*; do
		[ -d "$d" ] && cluster_stop "$d"
	done
	return 0
}

# mn_node_stop n / mn_node_restart n: stop a node's server, start it again (its data kept)
mn_node_stop() {
	local d
	d=$(realpath -m "$(mn_dir "$1")")
	h_as_pg "$(h_bindir)/pg_ctl" -D "$d/data" -m fast -w -t 60 stop >/dev/null
}
mn_node_restart() {
	local d
	d=$(realpath -m "$(mn_dir "$1")")
	h_as_pg "$(h_bindir)/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 120 start >/dev/null
}

# the directory a router copies: services, accounts, logins and queues of a node
mn_directory() { # n -> JSON without the node number
	mn_psql "$1" -At -c "SELECT task._node_directory() - 'node'"
}
