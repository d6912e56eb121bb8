#!/usr/bin/env bash
# Fault injection: nothing lost, nothing completed twice. Two producers create tasks and record
# each id in table made in the same transaction: one with task_create (5 a transaction), one with
# task_create_many (20 a statement: the direct heap insert of src/hotpath.c). Six workers, two of
# each kind, record one effect row per task in the transaction that completes it (an effect is
# exactly-once iff it commits with the completion): "single" claims a task (one transaction),
# "works" a moment in the client, then writes the effect and calls task_complete with the lease
# token (a second transaction); "chain" writes the effect of the task it holds and calls
# task_dequeue(complete => id, complete_token => token), which completes it and claims the next
# (one transaction a task); "batch" does the same for batches of 5 with complete_batch and
# complete_tokens. Meanwhile, for FAULTS_SECONDS (default 20): worker clients and the
# task_create_many producer's client are killed with SIGKILL (between or inside their
# transactions), server backends are killed with SIGKILL (the postmaster restarts them all: crash
# recovery), the server is stopped with "pg_ctl stop -m immediate" and started again, and a worker
# is frozen (SIGSTOP) for longer than its 2-second lease while maintenance rescues its claims,
# then thawed: it then tries to complete a task that lease rescue took back (and maybe handed to
# another worker). Then the faults stop and the workers drain the queue (expired leases are
# rescued by the workers' own dequeues).
# Checks: every task whose creation committed exists (made = task.task), every task is completed,
# each has exactly one effect row, no effect row without a task, attempts >= 1 and no task
# processing; the stale completions were refused (55000), not applied, and no call failed with
# another error than 55000 or the faults' own; both producers made tasks and each kind of worker
# completed some; amcheck finds the heap and the btree indexes of schema task consistent.
# Then test/harness/faults_queue.sh (the queue's policies, waits and wake-ups under faults).
# FAULTS_LONG=1: 300 seconds of faults in each part instead of 20 and 30.
# Prints "test faults ... ok|FAILED" (check.sh counts it); exit 1 on failure.
# Port: TASK_CHECK_FAULTS_PORT (default 58451).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root" || exit 2
port=${TASK_CHECK_FAULTS_PORT:-58451}
if [ -n "${FAULTS_LONG:-}" ]; then seconds=${FAULTS_SECONDS:-300}; else seconds=${FAULTS_SECONDS:-20}; fi
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
# the producers' and workers' calls: errors with their SQLSTATE ("ERROR:  55000: lease lost ..."),
# appended to out/WHO.err, which the checks at the end read
wq() { q -v VERBOSITY=verbose "$@"; }
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
CREATE TABLE made (id text PRIMARY KEY, by text NOT NULL);
CREATE TABLE effect (id text NOT NULL, kind text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
SQL

# ---- producer one: 5 tasks a transaction (task_create), recorded in made by the same transaction
producer_one() {
	while [ ! -f "$dir/stop-producing" ]; do
		wq -c "WITH t AS (SELECT (task.task_create('faults.job', 'faults/q')).id FROM generate_series(1, 5))
		       INSERT INTO made SELECT id::text, 'one' FROM t" >/dev/null 2>>"$dir/out/producer-one.err" || sleep 0.2
		sleep 0.05
	done
}

# ---- producer many: 20 tasks a statement (task_create_many: the direct heap insert of
# src/hotpath.c), recorded in made by the same statement. It waits while the queue holds 100
# runnable tasks or more, so that the backlog, and the drain after the faults, stay short on a
# slow machine too.
producer_many() {
	local backlog
	while [ ! -f "$dir/stop-producing" ]; do
		backlog=$(q -c "SELECT count(*) FROM task.task WHERE status IN ('queued', 'rescheduled')" 2>/dev/null) ||
			{ sleep 0.2; continue; }
		if [ "$backlog" -lt 100 ]; then
			wq -c "INSERT INTO made
			       SELECT c.id::text, 'many' FROM task.task_create_many('faults.job', 'faults/q',
			              ARRAY(SELECT jsonb_build_object('i', i) FROM generate_series(1, 20) i)) AS c(id)" \
				>/dev/null 2>>"$dir/out/producer-many.err" ||
				sleep 0.2
		fi
		sleep 0.2
	done
}

# ---- worker "single": claim (transaction 1), work in the client, effect + complete (transaction 2)
worker_single() {
	local err=$dir/out/single-$1.err r id tok
	while [ ! -f "$dir/stop-working" ]; do
		r=$(wq -c "SELECT id || ' ' || lease_token FROM task.task_dequeue('faults/q')" 2>>"$err") || { sleep 0.2; continue; }
		if [ -z "$r" ]; then sleep 0.1; continue; fi
		id=${r% *} tok=${r#* }
		sleep 0.$((RANDOM % 3))   # the work: a worker frozen now holds a claim
		wq -c "INSERT INTO effect (id, kind) VALUES ('$id', 'single'); SELECT (task.task_complete('$id', token => $tok)).status" \
			>/dev/null 2>>"$err" || true
	done
}

# ---- worker "chain": one transaction a task -- the effect of the task it holds, and
# task_dequeue(complete => id, complete_token => token), which completes it and claims the next.
# A failed call (lease lost, its client or backend killed) drops the task it held: if that call
# committed, the task is completed with its effect and the claim it made is orphaned; if not, the
# held task is. Either way lease rescue hands the orphan to a worker, and no effect is written
# outside a completion. Retrying with the same token instead could not tell the two apart.
worker_chain() {
	local err=$dir/out/chain-$1.err r id='' tok='' sql
	while [ ! -f "$dir/stop-working" ]; do
		sql="SELECT id || ' ' || lease_token FROM task.task_dequeue('faults/q', 1"
		if [ -n "$id" ]; then
			sql="INSERT INTO effect (id, kind) VALUES ('$id', 'chain'); $sql, complete => '$id', complete_token => $tok)"
		else
			sql="$sql)"
		fi
		id='' tok=''
		r=$(wq -c "$sql" 2>>"$err") || { sleep 0.2; continue; }
		if [ -z "$r" ]; then sleep 0.1; continue; fi
		id=${r% *} tok=${r#* }
		sleep 0.$((RANDOM % 3))   # the work
	done
}

# ---- worker "batch": the same with batches of 5 -- the effects of the batch it holds, and
# task_dequeue(5, complete_batch => ids, complete_tokens => tokens), which completes the batch
# (all or nothing) and claims the next. When one task of the batch lost its lease the call fails
# with 55000 and changes nothing: the worker drops the whole batch (no effect committed for any of
# it); the tasks still under its claims come back to the queue when their leases run out.
worker_batch() {
	local err=$dir/out/batch-$1.err r ids='' toks='' sql
	while [ ! -f "$dir/stop-working" ]; do
		sql="SELECT coalesce(array_agg(d.id)::text, '') || ' ' || coalesce(array_agg(d.lease_token)::text, '')
		       FROM task.task_dequeue('faults/q', 5"
		if [ -n "$ids" ]; then
			sql="INSERT INTO effect (id, kind) SELECT unnest('$ids'::text[]), 'batch';
			     $sql, complete_batch => '$ids', complete_tokens => '$toks') d"
		else
			sql="$sql) d"
		fi
		ids='' toks=''
		r=$(wq -c "$sql" 2>>"$err") || { sleep 0.2; continue; }
		if [ "$r" = ' ' ]; then sleep 0.1; continue; fi
		ids=${r% *} toks=${r#* }
		sleep 0.$((RANDOM % 3))   # the work
	done
}

set -m   # each background job in a process group of its own: its psql can be killed, all of it frozen
producer_one &
pids+=($!)
producer_many &
pids+=($!)
# pids[2..7]: the workers, two of each kind (single 1, chain 1, batch 1, single 2, chain 2, batch 2)
for w in 1 2; do
	worker_single "$w" &
	pids+=($!)
	worker_chain "$w" &
	pids+=($!)
	worker_batch "$w" &
	pids+=($!)
done
nworkers=6
frozen=(3 4 2 6 7 5)   # which worker the freezes stop, in turn: chain, batch, single

# ---- faults
kills=0 makerkills=0 crashes=0 restarts=0 freezes=0 rescued=0
# one round of the plan has every kind of fault; rounds go on until FAULTS_SECONDS have passed
plan=(client backend client freeze maker client backend restart client freeze maker client)
end=$((SECONDS + seconds))
n=0
while [ $SECONDS -lt $end ] || [ $n -lt ${#plan[@]} ]; do
	sleep 0.$((2 + RANDOM % 4))
	fault=${plan[$((n % ${#plan[@]}))]}
	n=$((n + 1))
	case $fault in
	client) # a worker's client dies (inside or between its transactions)
		p=${pids[$((2 + RANDOM % nworkers))]}
		for _ in $(seq 50); do   # until the worker is inside a call
			pkill -KILL -g "$p" -x psql 2>/dev/null && { kills=$((kills + 1)); break; }
			sleep 0.01
		done ;;
	maker) # the client of producer many dies, most often inside its task_create_many
		for _ in $(seq 50); do
			pkill -KILL -g "${pids[1]}" -x psql 2>/dev/null && { makerkills=$((makerkills + 1)); break; }
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
	freeze) # a worker freezes past its lease, its claims are rescued, then it comes back with a
		# stale token. The frozen kind goes round (chain, batch, single: one round of the plan
		# freezes the first two, which hold a claim nearly all the time; a single worker holds one
		# only while it works). A claim rescues expired leases only when the queue is short, which
		# with a backlog it is not: the maintenance pg_cron would run (task_maintain) rescues them.
		# After a backend's crash the server recovers for seconds and every call fails (the
		# worker then drops what it held): first wait until it takes connections again, and
		# for the worker's next claim.
		for _ in $(seq 100); do
			q -c "SELECT 1" >/dev/null 2>&1 && break
			sleep 0.1
		done
		sleep 0.5
		p=${pids[${frozen[$((freezes % ${#frozen[@]}))]}]}
		kill -STOP -- -"$p" 2>/dev/null
		sleep 2.5
		r=$(q -c "SELECT task.task_maintain()->>'leases_rescued'" 2>/dev/null) && rescued=$((rescued + r))
		sleep 0.5
		kill -CONT -- -"$p" 2>/dev/null
		freezes=$((freezes + 1)) ;;
	esac
done
touch "$dir/stop-producing"
wait "${pids[0]}" "${pids[1]}"

# ---- drain: the workers go on until every task is completed (rescued leases included)
drain_from=$SECONDS
for _ in $(seq 120); do
	left=$(q -c "SELECT count(*) FROM task.task WHERE status <> 'completed'" 2>/dev/null || echo x)
	[ "$left" = 0 ] && break
	sleep 0.5
done
drained=$((SECONDS - drain_from))
touch "$dir/stop-working"
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done

report=$(q <<'SQL'
SELECT concat_ws(' ',
  'made=' || (SELECT count(*) FROM made),
  'made_one=' || (SELECT count(*) FROM made WHERE by = 'one'),
  'made_many=' || (SELECT count(*) FROM made WHERE by = 'many'),
  'tasks=' || (SELECT count(*) FROM task.task),
  'completed=' || (SELECT count(*) FROM task.task WHERE status = 'completed'),
  'lost=' || (SELECT count(*) FROM made m WHERE NOT EXISTS (SELECT FROM task.task t WHERE t.id::text = m.id)),
  'unrecorded=' || (SELECT count(*) FROM task.task t WHERE NOT EXISTS (SELECT FROM made m WHERE m.id = t.id::text)),
  'effects=' || (SELECT count(*) FROM effect),
  'by_single=' || (SELECT count(*) FROM effect WHERE kind = 'single'),
  'by_chain=' || (SELECT count(*) FROM effect WHERE kind = 'chain'),
  'by_batch=' || (SELECT count(*) FROM effect WHERE kind = 'batch'),
  'twice=' || (SELECT count(*) FROM (SELECT id FROM effect GROUP BY id HAVING count(*) > 1) x),
  'never=' || (SELECT count(*) FROM task.task t WHERE NOT EXISTS (SELECT FROM effect e WHERE e.id = t.id::text)),
  'stray=' || (SELECT count(*) FROM effect e WHERE NOT EXISTS (SELECT FROM task.task t WHERE t.id::text = e.id)),
  'no_attempt=' || (SELECT count(*) FROM task.task WHERE attempts < 1),
  'retried=' || (SELECT count(*) FROM task.task WHERE attempts > 1))
SQL
) || fail "the final read failed"

# The direct writes of src/hotpath.c went through crash recovery: the heap and every btree index
# of schema task must agree (amcheck: each heap tuple indexed, no corrupt tuple), when the server
# has amcheck (contrib).
if [ "$(q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")" = 1 ]; then
	corrupt=$(q 2>&1 <<'SQL'
CREATE EXTENSION amcheck;
SELECT bt_index_check(c.oid, heapallindexed => true)
  FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relnamespace = 'task'::regnamespace AND c.relkind = 'i' AND a.amname = 'btree';
SELECT r.relname || ': ' || v.msg
  FROM pg_class r CROSS JOIN LATERAL verify_heapam(r.oid) v
 WHERE r.relnamespace = 'task'::regnamespace AND r.relkind IN ('r', 't', 'm');
SQL
	) || fail "amcheck failed: $corrupt"
	[ -z "$(echo "$corrupt" | tr -d '\n')" ] || fail "amcheck found corruption: $corrupt"
	amcheck="heap and indexes checked (amcheck)"
else
	amcheck="no amcheck on this server: heap and indexes not checked"
fi

# Every error a call reported, by its SQLSTATE: a stale completion is 55000 "lease lost" (the
# batch's names its stale task); the faults add 57P01/57P02/57P03 (immediate shutdown, crash of
# another backend, starting up). Anything else is a wrong answer to a fault.
stale() { cat "$dir"/out/"$1"-*.err 2>/dev/null | grep -c '^ERROR:  55000: lease lost' || true; }
stale_single=$(stale single) stale_chain=$(stale chain) stale_batch=$(stale batch)
wrong=$(cat "$dir"/out/*.err 2>/dev/null | grep -E '^(ERROR|FATAL|PANIC):  [0-9A-Z]{5}:' |
	grep -vE '^ERROR:  55000: lease lost|^FATAL:  57P0[123]:' | sort | uniq -c)
echo "faults: ${seconds}s of faults: $kills worker clients and $makerkills task_create_many clients killed, $crashes backends killed, $restarts immediate shutdowns, $freezes workers frozen past their lease ($rescued leases rescued by task_maintain meanwhile); stale completions refused: $stale_single single, $stale_chain chain, $stale_batch batch; drained in ${drained}s; $amcheck"
echo "faults: $report"
declare -A res=()
while IFS='=' read -r k v; do res[$k]=$v; done < <(tr ' ' '\n' <<<"$report")
[ -z "$wrong" ] || fail "errors other than lease lost and the faults' own: $wrong"
[ "${res[made]:-0}" -gt 0 ] || fail "no task was made"
[[ ${res[made_one]} -gt 0 && ${res[made_many]} -gt 0 ]] ||
	fail "a producer made no task (task_create or task_create_many did not run)"
[[ ${res[tasks]} = "${res[made]}" && ${res[lost]} = 0 && ${res[unrecorded]} = 0 ]] || fail "tasks lost or made without their record"
[ "${res[completed]}" = "${res[tasks]}" ] || fail "not every task was completed"
[[ ${res[twice]} = 0 && ${res[never]} = 0 && ${res[stray]} = 0 && ${res[effects]} = "${res[tasks]}" ]] ||
	fail "an effect is missing or was applied twice"
[[ ${res[by_single]} -gt 0 && ${res[by_chain]} -gt 0 && ${res[by_batch]} -gt 0 ]] ||
	fail "a kind of worker completed nothing (task_complete, complete =>, complete_batch =>)"
# the first round of the plan freezes a chain and a batch worker while they hold claims (the
# single worker is frozen from the second round on, and holds a claim only while it works)
[[ $stale_chain -gt 0 && $stale_batch -gt 0 ]] ||
	fail "no stale complete => or complete_batch => was refused: the freezes did not test them"
[ "${res[no_attempt]}" = 0 ] || fail "a completed task with no attempt"
[[ $kills -gt 0 && $crashes$restarts != 00 ]] || fail "too few faults happened to mean anything"
cluster_stop "$dir/c"
# the second part: limits, ordering keys, priorities, retries, dependencies, waits and wake-ups,
# pauses and cap changes under the same kinds of faults (faults_queue.sh, on the same port)
"$here/faults_queue.sh" || { h_result faults FAILED; exit 1; }
h_result faults ok
