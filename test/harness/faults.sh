#!/usr/bin/env bash
# Fault injection: nothing lost, nothing completed twice. A producer creates tasks and records
# each id in table made in the same transaction; four workers claim a task (one transaction), "work"
# a moment in the client, then record an effect row and complete the task with its lease token in
# a second transaction (an effect is exactly-once iff it commits with the completion). Meanwhile,
# for FAULTS_SECONDS (default 25): worker clients are killed with SIGKILL (between or inside their
# transactions), server backends are killed with SIGKILL (the postmaster restarts them all: crash
# recovery), the server is stopped with "pg_ctl stop -m immediate" and started again, and a worker
# is frozen (SIGSTOP) for longer than its 2-second lease, then thawed: it then tries to complete a
# task that lease rescue handed to another worker. Then the faults stop and the workers drain
# the queue (expired leases are rescued by the workers' own dequeues).
# Checks: every task whose creation committed exists (made = task.task), every task is completed,
# each has exactly one effect row, no effect row without a task, attempts >= 1 and no task
# processing; and the stale completions were refused (55000), not applied.
# Prints "test faults ... ok|FAILED" (check.sh counts it); exit 1 on failure.
# Port: TASK_CHECK_FAULTS_PORT (default 58451).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"
port=${TASK_CHECK_FAULTS_PORT:-58451}
seconds=${FAULTS_SECONDS:-20}
dir=$(h_check_dir faults "$root")
bindir=$(h_bindir)
rm -rf "$dir"
mkdir -p "$dir/out"
h_own "$dir"
cluster_start "$dir/c" "$port" app >/dev/null || { h_result faults FAILED; exit 1; }
sock=$(h_sockdir "$(realpath -m "$dir/c")")
data=$(realpath -m "$dir/c")/data
export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=app PGCONNECT_TIMEOUT=5
q() { "$bindir/psql" -X -Atq -v ON_ERROR_STOP=1 "$@"; }
pids=()
fail() {
	echo "faults: $*"
	h_result faults FAILED
	for p in "${pids[@]}"; do kill -CONT -- -"$p" 2>/dev/null; kill -- -"$p" 2>/dev/null; done
	cluster_stop "$dir/c"
	exit 1
}

q <<'SQL' >/dev/null || fail "setup failed"
CREATE EXTENSION task;
SELECT task.task_service_create('faults', 'faults');
SELECT task.task_queue_create('faults/q', owner => 'SVC-0001', lease => '2 seconds', max_attempts => 1000);
CREATE TABLE made (id text PRIMARY KEY);
CREATE TABLE effect (id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
SQL

# ---- the producer: 5 tasks a transaction, recorded in made by the same transaction
producer() {
	local i=0
	while [ ! -f "$dir/stop-producing" ]; do
		q -c "WITH t AS (SELECT (task.task_create('faults.job', 'faults/q')).id FROM generate_series(1, 5))
		      INSERT INTO made SELECT id::text FROM t" >/dev/null 2>&1 || sleep 0.2
		i=$((i + 1))
		sleep 0.05
	done
}

# ---- a worker: claim (transaction 1), work in the client, effect + complete (transaction 2)
worker() {
	local w=$1 r id tok
	while [ ! -f "$dir/stop-working" ]; do
		r=$(q -c "SELECT id || ' ' || lease_token FROM task.task_dequeue('faults/q')" 2>/dev/null) || { sleep 0.2; continue; }
		if [ -z "$r" ]; then sleep 0.1; continue; fi
		id=${r% *} tok=${r#* }
		sleep 0.$((RANDOM % 3))   # the work: a worker frozen now holds a claim
		q -c "INSERT INTO effect (id) VALUES ('$id'); SELECT (task.task_complete('$id', token => $tok)).status" \
			>/dev/null 2>>"$dir/out/worker$w.err" || true
	done
}

set -m   # each background job in a process group of its own: its psql can be killed, all of it frozen
producer &
pids+=($!)
for w in 1 2 3 4; do
	worker "$w" &
	pids+=($!)
done

# ---- faults
kills=0 crashes=0 restarts=0 freezes=0
# one round of the plan has every kind of fault; rounds go on until FAULTS_SECONDS have passed
plan=(client backend client freeze client backend restart client freeze client)
end=$((SECONDS + seconds))
n=0
while [ $SECONDS -lt $end ] || [ $n -lt ${#plan[@]} ]; do
	sleep 0.$((2 + RANDOM % 4))
	fault=${plan[$((n % ${#plan[@]}))]}
	n=$((n + 1))
	case $fault in
	client) # a worker's client dies (inside or between its transactions)
		p=${pids[$((1 + RANDOM % 4))]}
		for _ in $(seq 50); do   # until the worker is inside a call
			pkill -KILL -g "$p" -x psql 2>/dev/null && { kills=$((kills + 1)); break; }
			sleep 0.01
		done ;;
	backend) # a backend dies: the postmaster ends every session and recovers
		for _ in $(seq 50); do   # until some session is connected
			# a session of this cluster only: a child of its postmaster
			# (another cluster on the machine may have an "app" database)
			pm=$(head -1 "$data/postmaster.pid" 2>/dev/null)
			b=$([ -n "$pm" ] && pgrep -P "$pm" -f "postgres: postgres app" | shuf -n 1)
			[ -n "$b" ] && kill -KILL "$b" 2>/dev/null && { crashes=$((crashes + 1)); break; }
			sleep 0.01
		done ;;
	restart) # immediate shutdown, then start again
		h_as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
		h_as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/c/server.log" -w -t 120 start >/dev/null 2>&1 ||
			fail "the server did not start again: $(tail -5 "$dir/c/server.log")"
		restarts=$((restarts + 1)) ;;
	freeze) # a worker freezes past its lease, then comes back with a stale token
		p=${pids[$((1 + RANDOM % 4))]}
		kill -STOP -- -"$p" 2>/dev/null
		sleep 3
		kill -CONT -- -"$p" 2>/dev/null
		freezes=$((freezes + 1)) ;;
	esac
done
touch "$dir/stop-producing"
wait "${pids[0]}"

# ---- drain: the workers go on until every task is completed (rescued leases included)
for _ in $(seq 120); do
	left=$(q -c "SELECT count(*) FROM task.task WHERE status <> 'completed'" 2>/dev/null || echo x)
	[ "$left" = 0 ] && break
	sleep 0.5
done
touch "$dir/stop-working"
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done

report=$(q <<'SQL'
SELECT concat_ws(' ',
  'made=' || (SELECT count(*) FROM made),
  'tasks=' || (SELECT count(*) FROM task.task),
  'completed=' || (SELECT count(*) FROM task.task WHERE status = 'completed'),
  'lost=' || (SELECT count(*) FROM made m WHERE NOT EXISTS (SELECT FROM task.task t WHERE t.id::text = m.id)),
  'unrecorded=' || (SELECT count(*) FROM task.task t WHERE NOT EXISTS (SELECT FROM made m WHERE m.id = t.id::text)),
  'effects=' || (SELECT count(*) FROM effect),
  'twice=' || (SELECT count(*) FROM (SELECT id FROM effect GROUP BY id HAVING count(*) > 1) x),
  'never=' || (SELECT count(*) FROM task.task t WHERE NOT EXISTS (SELECT FROM effect e WHERE e.id = t.id::text)),
  'stray=' || (SELECT count(*) FROM effect e WHERE NOT EXISTS (SELECT FROM task.task t WHERE t.id::text = e.id)),
  'no_attempt=' || (SELECT count(*) FROM task.task WHERE attempts < 1),
  'retried=' || (SELECT count(*) FROM task.task WHERE attempts > 1))
SQL
) || fail "the final read failed"
stale=$(cat "$dir"/out/worker*.err 2>/dev/null | grep -c 'lease lost\|under another claim\|without its lease token' || true)
echo "faults: ${seconds}s of faults: $kills worker clients killed, $crashes backends killed, $restarts immediate shutdowns, $freezes workers frozen past their lease; $stale stale completions refused"
echo "faults: $report"
# shellcheck disable=SC2086
eval "$(echo "$report" | tr ' ' '\n' | sed 's/^/r_/')"
[ "${r_made:-0}" -gt 0 ] || fail "no task was made"
[ "$r_tasks" = "$r_made" ] && [ "$r_lost" = 0 ] && [ "$r_unrecorded" = 0 ] || fail "tasks lost or made without their record"
[ "$r_completed" = "$r_tasks" ] || fail "not every task was completed"
[ "$r_twice" = 0 ] && [ "$r_never" = 0 ] && [ "$r_stray" = 0 ] && [ "$r_effects" = "$r_tasks" ] || fail "an effect is missing or was applied twice"
[ "$r_no_attempt" = 0 ] || fail "a completed task with no attempt"
[ "$kills" -gt 0 ] && [ "$crashes$restarts" != 00 ] || fail "too few faults happened to mean anything"
cluster_stop "$dir/c"
h_result faults ok
