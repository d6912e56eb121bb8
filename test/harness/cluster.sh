#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster preloading task and pg_cron: start DIR PORT [DBNAME [NAME=VALUE...]],
# stop DIR, psql DIR PORT [psql args...]. DBNAME (default postgres) is cron.database_name, created if new.
# Sourced by check.sh and demo.sh for the h_* helpers; when root, the server runs as the postgres OS user.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

h_die() { echo "harness: $*" >&2; exit 2; }

h_is_root() { [ "$(id -u)" = 0 ]; }

# The directory of the server binaries (initdb, pg_ctl, psql, ...).
h_bindir() {
	[ -x "$PG_CONFIG" ] || h_die "no pg_config at $PG_CONFIG: run test/harness/deps.sh or set PG_CONFIG"
	"$PG_CONFIG" --bindir
}

# Run a command as the OS user that owns the server files: postgres when we are root, else ourselves.
# When postgres cannot enter the current directory (root's checkout under /root), the command runs
# from / (the harness passes it absolute paths): else every PostgreSQL program says
# 'could not change directory to "/root/...": Permission denied'.
h_as_pg() {
	if h_is_root; then
		id postgres >/dev/null 2>&1 || h_die "no 'postgres' OS user (the postgresql-common package creates it)"
		if [ "${h_pg_cwd:-}" != "$PWD" ]; then
			h_pg_cwd=$PWD h_pg_cwd_ok=0
			if runuser -u postgres -- test -x "$PWD" 2>/dev/null; then h_pg_cwd_ok=1; fi
		fi
		if [ "${h_pg_cwd_ok:-0}" = 1 ]; then
			runuser -u postgres -- "$@"
		else
			(cd / && runuser -u postgres -- "$@")
		fi
	else
		"$@"
	fi
}

# Hand paths to the postgres OS user when we are root.
h_own() {
	if h_is_root; then chown -R postgres: "$@"; fi
}

# The scratch directory for ROOT (the checkout): ROOT/tmp, unless we are root and the postgres
# OS user cannot reach it (a checkout under an unsearchable home), then one in /tmp named for ROOT.
h_tmp() {
	local root=$1 t="$1/tmp"
	mkdir -p "$t"
	if h_is_root; then
		chown postgres: "$t"
		if ! runuser -u postgres -- test -w "$t" 2>/dev/null; then
			t=/tmp/task-harness-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
			mkdir -p "$t"
			chmod 0755 "$t"
			chown postgres: "$t"
			echo "harness: the postgres OS user cannot reach $root/tmp; using $t" >&2
		fi
	fi
	printf '%s\n' "$t"
}

# The scratch directory of harness check NAME run from the checkout ROOT: under TASK_CHECK_DIR
# when set (a test run's own directory), else under ROOT/tmp.
h_check_dir() { # NAME ROOT
	printf '%s-%s\n' "${TASK_CHECK_DIR:-$(h_tmp "$2")/check}" "$1"
}

# The result line of a harness check, as check.sh counts it: h_result NAME ok|FAILED.
h_result() {
	printf 'test %-30s ... %s\n' "$1" "$2"
}

# The unix socket directory for a cluster in DIR: DIR itself unless the socket path would be too long.
h_sockdir() {
	local dir=$1
	if [ "${#dir}" -le 90 ]; then
		printf '%s\n' "$dir"
	else
		printf '/tmp/task-sock-%s\n' "$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
	fi
}

# Stop the postmaster of DATADIR if one is running there (left over from an interrupted run).
h_stop_stale() {
	local data=$1 pid
	[ -f "$data/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	# Only signal a process that is a postgres server, never a recycled pid.
	if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
		h_as_pg "$(h_bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			h_as_pg "$(h_bindir)/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
	fi
}

cluster_stop() {
	local dir
	dir=$(realpath -m "$1")
	h_stop_stale "$dir/data"
}

cluster_start() {
	local dir=${1:-} port=${2:-} db=${3:-postgres} bindir sock setting
	shift $(($# < 3 ? $# : 3))
	if [ -z "$dir" ] || [ -z "$port" ]; then h_die "usage: cluster.sh start DIR PORT [DBNAME [NAME=VALUE...]]"; fi
	dir=$(realpath -m "$dir")
	bindir=$(h_bindir)
	sock=$(h_sockdir "$dir")

	cluster_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir" "$sock"
	h_own "$dir" "$sock"
	h_as_pg test -w "$dir" || h_die "the postgres OS user cannot write $dir (is a parent directory unsearchable?)"

	h_as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; h_die "initdb failed in $dir/data"; }
	{
		echo
		echo "# added by test/harness/cluster.sh"
		echo "listen_addresses = 'localhost'"
		echo "port = $port"
		echo "unix_socket_directories = '$sock'"
		echo "shared_preload_libraries = 'task,pg_cron'"
		echo "cron.database_name = '$db'"
		echo "cron.use_background_workers = on"
		echo "max_worker_processes = 20"
		echo "max_prepared_transactions = 10"   # the worker test prepares transactions (as task.conf)
		echo "log_min_messages = warning"
		for setting in "$@"; do
			echo "${setting%%=*} = '${setting#*=}'"
		done
	} >>"$dir/data/postgresql.conf"

	if ! h_as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null; then
		tail -n 40 "$dir/server.log" >&2 || true
		h_die "the server in $dir did not start (port $port in use?)"
	fi
	if [ "$db" != postgres ]; then
		"$bindir/createdb" -h "$sock" -p "$port" -U postgres "$db"
	fi
	echo "cluster: running in $dir, port $port, socket $sock, database $db"
}

cluster_psql() {
	local dir=$1 port=$2
	shift 2
	dir=$(realpath -m "$dir")
	"$(h_bindir)/psql" -X -h "$(h_sockdir "$dir")" -p "$port" -U postgres "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	shift || true
	case $cmd in
	start) cluster_start "$@" ;;
	stop) cluster_stop "${1:?usage: cluster.sh stop DIR}" ;;
	psql) [ $# -ge 2 ] || h_die "usage: cluster.sh psql DIR PORT [psql args...]"; cluster_psql "$@" ;;
	*) h_die "usage: cluster.sh start DIR PORT [DBNAME [NAME=VALUE...]] | stop DIR | psql DIR PORT [psql args...]" ;;
	esac
fi
