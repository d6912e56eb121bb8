#!/usr/bin/env bash
# Run the regression tests (test/sql/*.sql, pg_regress) and isolation specs (test/specs/*.spec) against
# throwaway instances under tmp/check preloading task and pg_cron, and the tests of test/nopreload/*.sql
# against one where task is NOT in shared_preload_libraries (the polling fallback of the waits);
# expected output is in expected/.
# Usage: check.sh [NAME...] (default: all). Last line "N passed, M failed"; exit 1 on any failure or error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"

bindir=$(h_bindir)
pgxs_dir=$(dirname "$("$PG_CONFIG" --pgxs)")
regress_bin=$pgxs_dir/../test/regress/pg_regress
isolation_bin=$pgxs_dir/../test/isolation/pg_isolation_regress
suite_timeout=${TASK_CHECK_TIMEOUT:-1800}  # seconds per suite, so a hung test cannot eat CI's 90 minutes
[ -x "$regress_bin" ] || h_die "no pg_regress at $regress_bin (is postgresql-server-dev-15 installed?)"

# ---- which tests
names_in() { # DIR EXT: the test names there, sorted bytewise
	[ -d "$1" ] || return 0
	find "$1" -maxdepth 1 -type f -name "*.$2" -printf '%f\n' | sed "s/\.$2\$//" | LC_ALL=C sort
}
mapfile -t all_sql < <(names_in test/sql sql)
mapfile -t all_spec < <(names_in test/specs spec)
mapfile -t all_nopreload < <(names_in test/nopreload sql)

sql_tests=() spec_tests=() nopreload_tests=() harness_tests=() unknown=()
# whole-install checks with a harness script of their own (test/harness/NAME.sh)
all_harness=(upgrade restore multinode docs faults cron)
# TASK_CHECK_EXISTING: run against a running server (libpq's PGHOST, PGPORT, PGUSER) instead of
# throwaway instances -- "server": pg_regress creates the test databases there (make installcheck);
# "database": they exist already and are used as they are (pg_regress --use-existing; the upgrade
# check runs the suite so on databases created at 0.1.0 and updated): contrib_regression for the
# regression tests, isolation_regression for the specs. Only the regression tests
# and isolation specs: the nopreload tests and the harness checks need servers of their own.
existing=${TASK_CHECK_EXISTING:-}
case $existing in '' | server | database) ;; *) h_die "TASK_CHECK_EXISTING is server, database or unset, not '$existing'" ;; esac
if [ -n "$existing" ]; then
	all_harness=()
	all_nopreload=()
fi
if [ $# -eq 0 ]; then
	harness_tests=("${all_harness[@]}")
	sql_tests=("${all_sql[@]}")
	spec_tests=("${all_spec[@]}")
	nopreload_tests=("${all_nopreload[@]}")
else
	for arg in "$@"; do
		name=$(basename "$arg")
		name=${name%.sql}
		name=${name%.spec}
		found=
		if [ -f "test/sql/$name.sql" ]; then sql_tests+=("$name"); found=1; fi
		if [ -f "test/specs/$name.spec" ]; then spec_tests+=("$name"); found=1; fi
		if [ -f "test/nopreload/$name.sql" ]; then nopreload_tests+=("$name"); found=1; fi
		if [[ " ${all_harness[*]} " == *" $name "* ]]; then harness_tests+=("$name"); found=1; fi
		[ -n "$found" ] || unknown+=("$arg")
	done
	[ ${#unknown[@]} -eq 0 ] || h_die "no such test in test/sql, test/specs or test/nopreload: ${unknown[*]}"
fi

# ---- fresh staging area the postgres OS user can read and write
# TASK_CHECK_DIR (with TASK_CHECK_PORT, TASK_CHECK_ISOLATION_PORT, TASK_CHECK_NOPRELOAD_PORT) lets two runs share a machine
work=${TASK_CHECK_DIR:-$(h_tmp "$root")/check}
for data in "$work"/instance-*/data; do h_stop_stale "$data"; done
rm -rf "$work"
mkdir -p "$work/stage/sql" "$work/stage/specs" "$work/stage/expected"
for d in sql specs; do
	if [ -d "test/$d" ]; then cp -R "test/$d/." "$work/stage/$d/"; fi
done
if [ -d test/nopreload ]; then cp -R test/nopreload/. "$work/stage/sql/"; fi
if [ -d expected ]; then cp -R expected/. "$work/stage/expected/"; fi
# files a test includes with \ir (psql reads the test from stdin, so relative to its cwd, $work)
find test/sql -maxdepth 1 -type f -name '*.inc' -exec cp {} "$work/" \;
cp test/harness/task.conf "$work/stage/task.conf"
# the same settings without task in shared_preload_libraries
sed "s/^shared_preload_libraries = .*/shared_preload_libraries = 'pg_cron'/" test/harness/task.conf >"$work/stage/nopreload.conf"
h_own "$work"

# ---- run one suite: KIND RUNNER PORT LOADS -- TESTS...; leaves $work/KIND.rc and $work/KIND.log
# (the instance's settings: $work/stage/task.conf, or nopreload.conf for the nopreload suite)
run_suite() {
	local kind=$1 runner=$2 port=$3 loads=() rc conf=task.conf
	[ "$kind" != nopreload ] || conf=nopreload.conf
	shift 3
	while [ "$1" != -- ]; do loads+=("--load-extension=$1"); shift; done
	shift
	echo "== $kind: $# test(s)"
	mkdir -p "$work/out-$kind"
	h_own "$work/out-$kind"
	local instance=(--temp-instance="$work/instance-$kind" --temp-config="$work/stage/$conf" --port="$port")
	case $existing in
	server) instance=() ;;
	database) instance=(--use-existing) ;;
	esac
	set +e
	(cd "$work" && h_as_pg env ${PGHOST:+PGHOST="$PGHOST"} ${PGPORT:+PGPORT="$PGPORT"} ${PGUSER:+PGUSER="$PGUSER"} \
		timeout --foreground -k 30 "$suite_timeout" "$runner" \
		"${instance[@]}" \
		--inputdir="$work/stage" \
		--outputdir="$work/out-$kind" \
		--bindir="$bindir" \
		--dbname="${isolation_db:-contrib_regression}" \
		--no-locale --encoding=UTF8 \
		"${loads[@]}" "$@") 2>&1 | tee "$work/$kind.log"
	rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" != 124 ] || echo "check: $kind suite killed after ${suite_timeout}s (TASK_CHECK_TIMEOUT)" | tee -a "$work/$kind.log"
	echo "$rc" >"$work/$kind.rc"
	[ -n "$existing" ] || h_stop_stale "$work/instance-$kind/data"
}

# A second run against the same server cannot start over: pg_cron's launcher stays connected to
# contrib_regression (cron.database_name), so the database cannot be dropped without ending the
# launcher, which pg_cron does not start again before a server restart, and the roles the first
# run created outlive it. Say so before anything runs.
if [ "$existing" = server ] &&
	[ "$("$bindir/psql" -X -Atq -d postgres -c "SELECT count(*) FROM pg_database WHERE datname IN ('contrib_regression', 'isolation_regression')" 2>/dev/null)" != 0 ]; then
	h_die "this server already has contrib_regression or isolation_regression (an earlier run): installcheck needs a server that never ran it (see docs/OPERATIONS.md, Running the tests against a server)"
fi

if [ ${#sql_tests[@]} -gt 0 ]; then
	run_suite regress "$regress_bin" "${TASK_CHECK_PORT:-58432}" pg_cron pgtap task -- "${sql_tests[@]}"
fi
if [ ${#spec_tests[@]} -gt 0 ]; then
	[ -x "$isolation_bin" ] || h_die "no pg_isolation_regress at $isolation_bin"
	if [ -n "$existing" ]; then
		# its own database, isolation_regression (as PGXS does): not the one the regression tests
		# filled, and not pg_cron's, to which pg_cron's launcher stays connected (no pg_cron here)
		isolation_db=isolation_regression run_suite isolation "$isolation_bin" "${TASK_CHECK_ISOLATION_PORT:-58433}" task -- "${spec_tests[@]}"
	else
		run_suite isolation "$isolation_bin" "${TASK_CHECK_ISOLATION_PORT:-58433}" pg_cron task -- "${spec_tests[@]}"
	fi
fi
if [ ${#nopreload_tests[@]} -gt 0 ]; then
	run_suite nopreload "$regress_bin" "${TASK_CHECK_NOPRELOAD_PORT:-58434}" pg_cron task -- "${nopreload_tests[@]}"
fi

for name in "${harness_tests[@]}"; do
	echo "== $name"
	set +e
	timeout --foreground -k 30 "$suite_timeout" "test/harness/$name.sh" 2>&1 | tee "$work/$name.log"
	echo "${PIPESTATUS[0]}" >"$work/$name.rc"
	set -e
done

# ---- tally. PG15 prints one line a test: "test NAME ... ok|FAILED|failed (ignored)  <ms> ms"
# (schedule groups indent the name instead of "test"); exit status 0 all passed, 1 some failed, 2 error.
passed=0 skipped=0 failed=()
tally() { # KIND TESTS...
	local kind=$1 name status rc before=${#failed[@]}
	shift
	rc=$(cat "$work/$kind.rc")
	declare -A seen=()
	while read -r status name; do
		seen[$name]=1
		case $status in
		ok) passed=$((passed + 1)) ;;
		ignored) skipped=$((skipped + 1)) ;;
		*) failed+=("$name") ;;
		esac
	done < <(sed -nE 's/^(test +| +)([^ ]+) +\.\.\. +(ok|FAILED|failed \(ignored\)).*/\3 \2/p' "$work/$kind.log" |
		sed 's/^failed (ignored)/ignored/')
	for name in "$@"; do
		[ -n "${seen[$name]:-}" ] || failed+=("$name(not-run)")
	done
	# A runner that failed without blaming a test still fails the run (e.g. exit 2: initdb or the
	# postmaster failed, or the suite was killed at the timeout).
	if [ "$rc" != 0 ] && [ ${#failed[@]} -eq "$before" ]; then
		failed+=("$kind-runner(exit-$rc)")
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		echo "---- $kind runner exited $rc"
		for f in "$work/out-$kind"/log/*.log; do
			[ -f "$f" ] || continue
			if [ "${f##*/}" = initdb.log ] && grep -q '^Success\.' "$f"; then continue; fi
			echo "---- tail of $f"
			tail -n 40 "$f"
		done
	fi
	if [ -s "$work/out-$kind/regression.diffs" ]; then
		echo "---- $kind: first 200 lines of $work/out-$kind/regression.diffs"
		head -n 200 "$work/out-$kind/regression.diffs"
	fi
}

echo
[ ${#sql_tests[@]} -eq 0 ] || tally regress "${sql_tests[@]}"
[ ${#spec_tests[@]} -eq 0 ] || tally isolation "${spec_tests[@]}"
[ ${#nopreload_tests[@]} -eq 0 ] || tally nopreload "${nopreload_tests[@]}"
for name in "${harness_tests[@]}"; do
	# docs.sh counts one test a file (docs:README.md, ...); if it dies first, docs-runner(exit-N) fails
	if [ "$name" = docs ]; then tally docs; else tally "$name" "$name"; fi
done

total=$((passed + skipped + ${#failed[@]}))
if [ "$total" -eq 0 ]; then
	echo "check: no tests found in test/sql, test/specs or test/nopreload"
	echo "0 passed, 0 failed"
	exit 1
fi
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, ${#failed[@]} failed, $skipped skipped"
else
	echo "$passed passed, ${#failed[@]} failed"
fi
[ ${#failed[@]} -eq 0 ]
