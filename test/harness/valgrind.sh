#!/usr/bin/env bash
# Run the regression SQL against a server under valgrind memcheck and report
# the errors whose stack passes through task.so. Debian's PostgreSQL is not
# built with USE_VALGRIND and ships no suppression file, so errors inside
# PostgreSQL alone are printed as a count but do not fail the run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 2; }

dir=$(h_tmp "$root")/valgrind
port=${TASK_VALGRIND_PORT:-58436}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(api task_id worker dependencies seed_example)

# a server under valgrind is not named "postgres" (cluster_stop skips it on
# purpose) and shuts down slowly: stop it with pg_ctl and a long timeout
vg_stop() {
	[ -f "$dir/data/postmaster.pid" ] || return 0
	h_as_pg "$(h_bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true
}
trap vg_stop EXIT
cluster_start "$dir" "$port" postgres
cluster_stop "$dir"
# restart the same cluster with every backend under memcheck
bindir=$(h_bindir)
h_as_pg bash -c "valgrind --quiet --trace-children=yes --error-limit=no --num-callers=30 \
	--log-file=$dir/vg.%p.log $bindir/postgres -D $dir/data > $dir/server.log 2>&1 &"
for _ in $(seq 1 180); do
	cluster_psql "$dir" "$port" -d postgres -c 'select 1' >/dev/null 2>&1 && break
	sleep 1
done
cluster_psql "$dir" "$port" -d postgres -c 'CREATE DATABASE vg' >/dev/null
cluster_psql "$dir" "$port" -d vg -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION task CASCADE' >/dev/null
for t in "${tests[@]}"; do
	echo "valgrind: running $t"
	cluster_psql "$dir" "$port" -d vg -q -f "test/sql/$t.sql" >/dev/null 2>&1 || true
done
vg_stop

ours=0 theirs=0
for f in "$dir"/vg.*.log; do
	[ -s "$f" ] || continue
	# one error = a block starting with "==pid== <message>" and ending at a blank "==pid==" line
	n=$(awk '/^==[0-9]+== [A-Z]/{blk=$0; inblk=1; next} inblk && /^==[0-9]+== *$/{ if (blk ~ /task\.so/) c++; else o++; inblk=0; blk=""; next} inblk{blk=blk"\n"$0} END{printf "%d %d", c+0, o+0}' "$f")
	ours=$((ours + ${n% *})) theirs=$((theirs + ${n#* }))
	if [ "${n% *}" != 0 ]; then echo "---- $f"; grep -B2 -A30 'task\.so' "$f" | head -80; fi
done
echo "valgrind: $ours error(s) through task.so, $theirs elsewhere in PostgreSQL (not ours; no suppressions on Debian)"
[ "$ours" = 0 ]
