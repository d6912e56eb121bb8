#!/usr/bin/env bash
# Fault injection, second part (faults.sh runs it after its own; it runs alone too): the queue's
# policies under kills and crashes. Three queues of one service:
#   fq/lim  a limited queue (max_processing, lease 1 s, retries after 20-100 ms): tasks with
#           ordering keys and priorities, a third of them marked to fail their first attempt
#           (task_fail, retried); three workers claim with wait => '1 second', send a heartbeat,
#           then fail or complete in a second transaction;
#   fq/dep  dependencies: each group is A and B, and C depending on both (and on the A of the
#           group before); in one group of six A is doomed (one attempt, failed for good by its
#           worker or by lease rescue), and C must be cancelled; two chain workers
#           (task_dequeue(complete => ..., wait => ...)) and a batch worker (complete_batch => ...);
#   fq/wake the wake-up probe: three workers sleep in task_dequeue(wait => '20 seconds'), a
#           producer makes a burst of 1 to 3 tasks every 4 s; each pickup must take well under
#           the gap between bursts, 3 s at most on a loaded machine (a wake-up lost would leave a
#           task runnable until the next burst's or the wait's end). No limit: a waiter of a limited
#           queue looks again every second anyway, which would hide a lost wake-up.
# Every claim is recorded in the transaction that makes it (claims: id, token, attempt, lease),
# every heartbeat's new lease, every failure and every completion's effect in the transaction of
# the call. Meanwhile, for FAULTS_QUEUE_SECONDS (default 30; FAULTS_LONG=1: 300): worker clients
# (waiting or not) killed with SIGKILL, backends killed with SIGKILL (crash recovery), immediate
# shutdowns and restarts, a limited-queue worker frozen past its lease (its task rescued and
# claimed again: its late completion or failure must be refused with 55000), and the controller
# pauses and unpauses queues and changes max_processing and the lease while workers wait.
# Checks after the drain: every committed task exists and is completed, one effect each; attempts
# = committed claims; two claims of one task never overlap (the second after the first's lease,
# heartbeats included, ran out, or after its failure); no task of an ordering key claimed before
# the one made before it completed; a fail-marked task completed only on a later attempt; each C
# released exactly once and claimed only after A and B completed (cancelled exactly once and
# never claimed when A failed for good); no wake-up lost (fq/wake's
# pickups, the pauses, limits and crashes excused);
# errors only 55000 (lease lost) and the faults' own; amcheck on the indexes and the heap; with
# task.claim_concurrency = 1, no place among a queue's claimers left taken at the end.
# Prints "faults_queue: ..." lines; exit 0 when every check holds, 1 otherwise.
# Port: TASK_CHECK_FAULTS_PORT (default 58451; faults.sh has stopped its cluster by then).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root" || exit 2
port=${TASK_CHECK_FAULTS_PORT:-58451}
if [ -n "${FAULTS_LONG:-}" ]; then seconds=${FAULTS_QUEUE_SECONDS:-300}; else seconds=${FAULTS_QUEUE_SECONDS:-30}; fi
dir=$(h_check_dir faults-queue "$root")
bindir=$(h_bindir)
h_stop_stale "$dir/c/data"
rm -rf "$dir"
mkdir -p "$dir/out"
h_own "$dir"
cluster_start "$dir/c" "$port" app >/dev/null || { echo "faults_queue: the cluster did not start"; exit 1; }
sock=$(h_sockdir "$(realpath -m "$dir/c")")
data=$(realpath -m "$dir/c")/data
export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=app PGCONNECT_TIMEOUT=5
q() { "$bindir/psql" -X -Atq -v ON_ERROR_STOP=1 "$@"; }
wq() { q -v VERBOSITY=verbose "$@"; }
pids=()
fail() {
	echo "faults_queue: $*"
	for p in "${pids[@]}"; do kill -CONT -- -"$p" 2>/dev/null; kill -- -"$p" 2>/dev/null; done
	cluster_stop "$dir/c"
	exit 1
}

q <<'SQL' >/dev/null || fail "setup failed"
CREATE EXTENSION task;
-- one claimer at a time per queue (docs/QUEUE.md, "Claimers at once"): the places are taken and
-- given back under the faults too; a claim waits at most 300 ms (x10 while places go round)
ALTER DATABASE app SET task.claim_concurrency = 1;
ALTER DATABASE app SET task.claim_wait = '300ms';
SELECT task.task_service_create('fq', 'fq');
SELECT task.task_queue_create('fq/lim', owner => 'SVC-0001', lease => '1 second', max_attempts => 1000,
                              backoff_base => '20 milliseconds', backoff_max => '100 milliseconds',
                              max_processing => 3);
SELECT task.task_queue_create('fq/dep', owner => 'SVC-0001', lease => '2 seconds', max_attempts => 1000);
SELECT task.task_queue_create('fq/wake', owner => 'SVC-0001', lease => '5 seconds', max_attempts => 1000);
-- what the producers made (at: the end of the making transaction, about its commit)
CREATE TABLE made (id text PRIMARY KEY, queue text NOT NULL, grp integer, role text, doomed boolean NOT NULL DEFAULT false,
                   at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE claims (id text NOT NULL, token bigint NOT NULL, attempt integer NOT NULL,
                     lease_until timestamptz NOT NULL, fail boolean NOT NULL, doom boolean NOT NULL, who text NOT NULL,
                     at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE beats (id text NOT NULL, token bigint NOT NULL, lease_until timestamptz NOT NULL);
CREATE TABLE failures (id text NOT NULL, token bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE effect (id text NOT NULL, token bigint, who text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
-- times a pickup of fq/wake may be late: paused, limit lowered, server down and recovering
CREATE TABLE excused (queue text NOT NULL, why text NOT NULL, span tstzrange NOT NULL);
SQL

# ---- producers
producer_lim() {
	local backlog sql
	while [ ! -f "$dir/stop-producing" ]; do
		backlog=$(q -c "SELECT count(*) FROM task.task WHERE queue = 'fq/lim' AND status IN ('queued', 'rescheduled')" 2>/dev/null) ||
			{ sleep 0.2; continue; }
		if [ "$backlog" -lt 15 ]; then
			if [ $((RANDOM % 4)) = 0 ]; then # task_create_many with ordering keys and a priority
				sql="INSERT INTO made (id, queue)
				     SELECT c.id::text, 'fq/lim' FROM task.task_create_many('fq.job', 'fq/lim',
				            ARRAY(SELECT jsonb_build_object('fail', random() < 0.3) FROM generate_series(1, 6)),
				            ordering_keys => ARRAY(SELECT CASE WHEN random() < 0.5 THEN 'k' || (random() * 4)::int END
				                                     FROM generate_series(1, 6)),
				            priority => $((RANDOM % 3 - 1))) AS c(id)"
			else
				sql="WITH t AS (SELECT (task.task_create('fq.job', 'fq/lim',
				              parameters => jsonb_build_object('fail', random() < 0.3),
				              ordering_key => CASE WHEN random() < 0.5 THEN 'k' || (random() * 4)::int END,
				              priority => (random() * 2)::int - 1)).id FROM generate_series(1, 3))
				     INSERT INTO made (id, queue) SELECT id::text, 'fq/lim' FROM t"
			fi
			wq -c "$sql" >/dev/null 2>>"$dir/out/producer-lim.err" || sleep 0.2
		fi
		sleep 0.15
	done
}

# a group: A, B, and C depending on both and on the A of the group before (completed or not)
producer_dep() {
	local g=0 prev='' r doom
	while [ ! -f "$dir/stop-producing" ]; do
		g=$((g + 1))
		doom=false
		# the second group of every six (not one at random: 24 groups had none, 1 run in 80)
		[ $((g % 6)) = 2 ] && doom=true
		r=$(wq -c "WITH x AS (SELECT (task.task_create('fq.a', 'fq/dep', parameters => jsonb_build_object('doom', $doom),
		                                               max_attempts => CASE WHEN $doom THEN 1 END)).id AS a,
		                             (task.task_create('fq.b', 'fq/dep')).id AS b),
		                y AS (SELECT a, b, (task.task_create('fq.c', 'fq/dep',
		                                    depends_on => array_remove(ARRAY[a, b, NULLIF('$prev', '')::task.task_id], NULL))).id AS c
		                        FROM x),
		                i AS (INSERT INTO made (id, queue, grp, role, doomed)
		                      SELECT v.id, 'fq/dep', $g, v.role, $doom
		                        FROM y, LATERAL (VALUES (a::text, 'a'), (b::text, 'b'), (c::text, 'c')) v(id, role))
		           SELECT a FROM y" 2>>"$dir/out/producer-dep.err") && [ -n "$r" ] && prev=$r
		# a doomed A fails for good: the next group may not depend on it
		[ $doom = true ] && prev=''
		sleep 0.4
	done
}

producer_wake() {
	while [ ! -f "$dir/stop-producing" ]; do
		wq -c "INSERT INTO made (id, queue)
		       SELECT (task.task_create('fq.wake', 'fq/wake')).id::text, 'fq/wake' FROM generate_series(1, $((1 + RANDOM % 3)))" \
			>/dev/null 2>>"$dir/out/producer-wake.err"
		sleep 4
	done
}

claim_sql() { # WHO QUEUE ARGS: the claim, recorded in its own transaction
	echo "INSERT INTO claims (id, token, attempt, lease_until, fail, doom, who)
	      SELECT id::text, lease_token, attempts, lease_until, coalesce((parameters->>'fail')::boolean, false),
	             coalesce((parameters->>'doom')::boolean, false), '$1'
	        FROM task.task_dequeue('$2'$3)
	      RETURNING id || ' ' || token || ' ' || attempt || ' ' || fail || ' ' || doom"
}

# ---- workers of fq/lim: claim (waiting up to 1 s), heartbeat, then fail (a fail-marked task's
# first attempt) or complete, each in a transaction of its own
worker_lim() {
	local who=lim$1 err=$dir/out/lim-$1.err r id tok att fl
	while [ ! -f "$dir/stop-working" ]; do
		r=$(wq -c "$(claim_sql "$who" fq/lim ", wait => '1 second'")" 2>>"$err") || { sleep 0.2; continue; }
		[ -n "$r" ] || continue
		read -r id tok att fl _ <<<"$r"
		sleep 0.$((RANDOM % 3))
		wq -c "INSERT INTO beats SELECT '$id', $tok, (task.task_heartbeat('$id', $tok)).lease_until" >/dev/null 2>>"$err" || continue
		sleep 0.$((RANDOM % 3))
		if [[ $fl = true && $att = 1 ]]; then
			wq -c "INSERT INTO failures (id, token) VALUES ('$id', $tok);
			       SELECT (task.task_fail('$id', 'first attempt fails', token => $tok)).status" >/dev/null 2>>"$err"
		else
			wq -c "INSERT INTO effect (id, token, who) VALUES ('$id', $tok, '$who');
			       SELECT (task.task_complete('$id', token => $tok)).status" >/dev/null 2>>"$err"
		fi
	done
}

# ---- workers of fq/dep: complete the task held and claim the next in one call (waiting up to 1 s)
worker_dep() {
	local who=dep$1 err=$dir/out/dep-$1.err r id='' tok='' sql dm
	while [ ! -f "$dir/stop-working" ]; do
		if [ -n "$id" ]; then
			sql="INSERT INTO effect (id, token, who) VALUES ('$id', $tok, '$who');
			     $(claim_sql "$who" fq/dep ", complete => '$id', complete_token => $tok, wait => '1 second'")"
		else
			sql=$(claim_sql "$who" fq/dep ", wait => '1 second'")
		fi
		id='' tok=''
		r=$(wq -c "$sql" 2>>"$err") || { sleep 0.2; continue; }
		[ -n "$r" ] || continue
		read -r id tok _ _ dm <<<"$r"
		sleep 0.$((RANDOM % 2))
		if [ "$dm" = true ]; then # a doomed task fails for good; its dependents are cancelled
			wq -c "INSERT INTO failures (id, token) VALUES ('$id', $tok);
			       SELECT (task.task_fail('$id', 'doomed', token => $tok, retry => false)).status" >/dev/null 2>>"$err"
			id='' tok=''
		fi
	done
}

# ---- a batch worker of fq/dep: complete_batch of the batch held and claim up to 3
worker_depbatch() {
	local who=depbatch err=$dir/out/depbatch.err r ids='{}' toks='{}' dids='{}' dtoks='{}' sql
	while [ ! -f "$dir/stop-working" ]; do
		sql=''
		if [ "$dids" != '{}' ]; then # the doomed ones fail for good, in the same transaction
			sql="INSERT INTO failures (id, token) SELECT i, t FROM unnest('$dids'::text[], '$dtoks'::bigint[]) u(i, t);
			     SELECT count(task.task_fail(i::task.task_id, 'doomed', token => t, retry => false))
			       FROM unnest('$dids'::text[], '$dtoks'::bigint[]) u(i, t);"
		fi
		if [ "$ids" != '{}' ]; then
			sql="$sql INSERT INTO effect (id, token, who) SELECT i, t, '$who' FROM unnest('$ids'::text[], '$toks'::bigint[]) u(i, t);
			     WITH c AS ($(claim_sql "$who" fq/dep ", 3, complete_batch => '$ids', complete_tokens => '$toks'"))"
		else
			sql="$sql WITH c AS ($(claim_sql "$who" fq/dep ", 3"))"
		fi
		# the batch claimed: the ids and tokens of the tasks to complete, then of the doomed ones
		sql="$sql SELECT concat_ws(' ',
		                   coalesce(array_agg(split_part(r, ' ', 1)) FILTER (WHERE split_part(r, ' ', 5) = 'false'), '{}'),
		                   coalesce(array_agg(split_part(r, ' ', 2)) FILTER (WHERE split_part(r, ' ', 5) = 'false'), '{}'),
		                   coalesce(array_agg(split_part(r, ' ', 1)) FILTER (WHERE split_part(r, ' ', 5) = 'true'), '{}'),
		                   coalesce(array_agg(split_part(r, ' ', 2)) FILTER (WHERE split_part(r, ' ', 5) = 'true'), '{}'))
		            FROM c AS c(r)"
		ids='{}' toks='{}' dids='{}' dtoks='{}'
		r=$(wq -A -t -c "$sql" 2>>"$err" | tail -1) || { sleep 0.2; continue; }
		[ -n "$r" ] || { sleep 0.2; continue; }
		read -r ids toks dids dtoks <<<"$r"
		if [[ $ids = '{}' && $dids = '{}' ]]; then sleep 0.3; continue; fi
		sleep 0.$((RANDOM % 3))
	done
}

# ---- the waiters of fq/wake: claim, waiting up to 20 s; complete at once
worker_wake() {
	local who=wake$1 err=$dir/out/wake-$1.err r id tok
	while [ ! -f "$dir/stop-working" ]; do
		r=$(wq -c "$(claim_sql "$who" fq/wake ", wait => '20 seconds'")" 2>>"$err") || { sleep 0.2; continue; }
		[ -n "$r" ] || continue
		read -r id tok _ <<<"$r"
		wq -c "INSERT INTO effect (id, token, who) VALUES ('$id', $tok, '$who');
		       SELECT (task.task_complete('$id', token => $tok)).status" >/dev/null 2>>"$err"
	done
}

# what a stale call is answered (55000): lease lost, or its claim ended with the task (a doomed
# task, rescued with no attempt left, is failed)
stale_errors='^ERROR:  55000: (lease lost|cannot [a-z]+ task [-A-Z0-9]+: it is (failed|completed|cancelled))'

excuse() { # QUEUE WHY FROM: pickups of QUEUE may be late from FROM to now
	local to
	to=$(now)
	q -c "INSERT INTO excused VALUES ('$1', '$2', tstzrange('$3', '$to'))" >/dev/null 2>&1 ||
		echo "$1|$2|$3|$to" >>"$dir/out/excuses-pending"
}
excuse_late() { # QUEUE WHY FROM TO
	q -c "INSERT INTO excused VALUES ('$1', '$2', tstzrange('$3', '$4'))" >/dev/null 2>&1
}
now() { date -u '+%Y-%m-%d %H:%M:%S.%N+00'; }
up() { # wait until the server takes connections again
	for _ in $(seq 300); do
		q -c "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

set -m
producer_lim &
pids+=($!)
producer_dep &
pids+=($!)
producer_wake &
pids+=($!)
# pids[3..]: lim 1-3, dep 1-2, depbatch, wake 1-3
for w in 1 2 3; do worker_lim "$w" & pids+=($!); done
for w in 1 2; do worker_dep "$w" & pids+=($!); done
worker_depbatch &
pids+=($!)
for w in 1 2 3; do worker_wake "$w" & pids+=($!); done
workers=("${pids[@]:3}")
lim_workers=("${pids[@]:3:3}")
wake_workers=("${pids[@]:9:3}")

# ---- faults and policy changes (stale: of a task of fq/dep, made in the claiming transaction)
stales=0 kills=0 waiterkills=0 terminated=0 cancelled=0 makerkills=0 crashes=0 restarts=0 freezes=0 rescued=0 pauses=0 limits=0
plan=(client stale waiter terminate pause backend cancel client limit freeze maker stale waiter terminate restart client cancel pause limit)
end=$((SECONDS + seconds))
n=0
while [ $SECONDS -lt $end ] || [ $n -lt ${#plan[@]} ]; do
	sleep 0.$((3 + RANDOM % 5))
	fault=${plan[$((n % ${#plan[@]}))]}
	n=$((n + 1))
	case $fault in
	client) # any worker's client dies, inside or between its calls
		p=${workers[$((RANDOM % ${#workers[@]}))]}
		for _ in $(seq 50); do
			pkill -KILL -g "$p" -x psql 2>/dev/null && { kills=$((kills + 1)); break; }
			sleep 0.01
		done ;;
	waiter) # a sleeping waiter's client dies: its wake must go to another
		p=${wake_workers[$((RANDOM % 3))]}
		pkill -KILL -g "$p" -x psql 2>/dev/null && waiterkills=$((waiterkills + 1)) ;;
	stale) # a claim of 100 ms, rescued (task_maintain) and maybe claimed again by a worker: its
		# completion, failure or heartbeat afterwards must be refused (55000), and changes nothing
		r=$(wq -c "INSERT INTO made (id, queue) SELECT (task.task_create('fq.stale', 'fq/dep')).id::text, 'fq/dep';
		           $(claim_sql ctl fq/dep ", lease => '100 milliseconds'")" 2>>"$dir/out/ctl.err") || continue
		[ -n "$r" ] || continue
		read -r id tok _ <<<"$r"
		sleep 0.3
		q -c "SELECT task.task_maintain()" >/dev/null 2>&1
		case $((stales % 3)) in
		0) sql="INSERT INTO effect (id, token, who) VALUES ('$id', $tok, 'ctl'); SELECT task.task_complete('$id', token => $tok)" ;;
		1) sql="INSERT INTO failures (id, token) VALUES ('$id', $tok); SELECT task.task_fail('$id', 'stale', token => $tok)" ;;
		2) sql="INSERT INTO beats SELECT '$id', $tok, (task.task_heartbeat('$id', $tok)).lease_until" ;;
		esac
		if wq -c "$sql" >/dev/null 2>"$dir/out/stale.last"; then
			fail "a stale call was not refused: $sql"
		fi
		# lease lost, or the claim ended with its task (a doomed task rescued with no attempt left)
		grep -qE "$stale_errors" "$dir/out/stale.last" || fail "a stale call failed otherwise: $(cat "$dir/out/stale.last")"
		stales=$((stales + 1)) ;;
	terminate | cancel) # a worker's backend ends (pg_terminate_backend: FATAL, its transaction
		# aborts, no crash) or its statement is cancelled; most often a waiter asleep in its slot
		f=pg_terminate_backend
		[ "$fault" = cancel ] && f=pg_cancel_backend
		r=$(q -c "SELECT $f(pid) FROM pg_stat_activity
		           WHERE datname = 'app' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
		             AND query LIKE '%task_dequeue(%' AND state = 'active'
		           ORDER BY (wait_event_type = 'Extension') DESC, random() LIMIT 1" 2>/dev/null)
		if [ "$r" = t ]; then
			if [ "$fault" = cancel ]; then cancelled=$((cancelled + 1)); else terminated=$((terminated + 1)); fi
		fi ;;
	maker) # a producer's client dies (the fq/dep groups: task_create with depends_on)
		for _ in $(seq 50); do
			pkill -KILL -g "${pids[$((RANDOM % 2))]}" -x psql 2>/dev/null && { makerkills=$((makerkills + 1)); break; }
			sleep 0.01
		done ;;
	backend)
		t0=$(now)
		for _ in $(seq 50); do
			pm=$(head -1 "$data/postmaster.pid" 2>/dev/null)
			b=$([ -n "$pm" ] && pgrep -P "$pm" -f "postgres: postgres app" | shuf -n 1)
			[ -n "$b" ] && kill -KILL "$b" 2>/dev/null && { crashes=$((crashes + 1)); break; }
			sleep 0.01
		done
		up || fail "the server did not come back after a crash"
		sleep 1   # the workers' loops connect again
		excuse fq/wake crash "$t0" ;;
	restart)
		t0=$(now)
		h_as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
		h_as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/c/server.log" -w -t 120 start >/dev/null 2>&1 ||
			fail "the server did not start again: $(tail -5 "$dir/c/server.log")"
		restarts=$((restarts + 1))
		up || fail "the server takes no connections after the restart"
		sleep 1
		excuse fq/wake restart "$t0" ;;
	pause) # pause both queues while their workers wait, then resume
		t0=$(now)
		q -c "SELECT task.task_queue_configure('fq/wake', paused => true), task.task_queue_configure('fq/lim', paused => true)" \
			>/dev/null 2>&1 || continue
		sleep 0.$((5 + RANDOM % 5))
		q -c "SELECT task.task_queue_configure('fq/wake', paused => false), task.task_queue_configure('fq/lim', paused => false)" \
			>/dev/null 2>&1 || { sleep 1; q -c "SELECT task.task_queue_configure('fq/wake', paused => false), task.task_queue_configure('fq/lim', paused => false)" >/dev/null 2>&1; }
		pauses=$((pauses + 1))
		excuse fq/wake pause "$t0" ;;
	limit) # lower the caps while workers wait, then raise them (and the lease of fq/lim)
		t0=$(now)
		q -c "SELECT task.task_queue_configure('fq/wake', max_processing => 1),
		             task.task_queue_configure('fq/lim', max_processing => 1, lease => '2 seconds')" >/dev/null 2>&1 || continue
		sleep 0.$((5 + RANDOM % 5))
		q -c "SELECT task.task_queue_configure('fq/wake', max_processing => 0),
		             task.task_queue_configure('fq/lim', max_processing => $((2 + RANDOM % 3)), lease => '1 second')" >/dev/null 2>&1
		limits=$((limits + 1))
		# a cap of 1 holds the others back until the one processing is completed
		excuse fq/wake limit "$t0" ;;
	freeze) # a worker of fq/lim frozen past its lease: its task is rescued and claimed again
		up
		sleep 0.3
		p=${lim_workers[$((freezes % 3))]}
		kill -STOP -- -"$p" 2>/dev/null
		sleep 2.5
		r=$(q -c "SELECT task.task_maintain()->>'leases_rescued'" 2>/dev/null) && rescued=$((rescued + r))
		sleep 1
		kill -CONT -- -"$p" 2>/dev/null
		freezes=$((freezes + 1)) ;;
	esac
done
touch "$dir/stop-producing"
wait "${pids[0]}" "${pids[1]}" "${pids[2]}"
if [ -f "$dir/out/excuses-pending" ]; then
	while IFS='|' read -r a b c d; do excuse_late "$a" "$b" "$c" "$d"; done <"$dir/out/excuses-pending"
fi

# ---- drain (task_maintain as pg_cron would run it, for the blocked tasks' safety net too)
drain_from=$SECONDS
for _ in $(seq 180); do
	left=$(q -c "SELECT count(*) FROM task.task WHERE status NOT IN ('completed', 'failed', 'cancelled')" 2>/dev/null || echo x)
	# what is left, for a diagnosis when the drain does not end
	q -c "SELECT localtime, queue, status, count(*), min(run_at)::time, min(lease_until)::time FROM task.task
	      WHERE status NOT IN ('completed', 'failed', 'cancelled') GROUP BY queue, status" >>"$dir/out/drain.log" 2>&1
	[ "$left" = 0 ] && break
	sleep 0.5
done
drained=$((SECONDS - drain_from))
touch "$dir/stop-working"
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done

# no place among a queue's claimers was left taken (a killed, terminated or cancelled claimer's
# transaction gives it back): a claim of each queue, nothing else running, starts at once
leaked=$(q 2>&1 <<'SQL'
CREATE FUNCTION pg_temp.slow_claims() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    n integer := 0;
BEGIN
    FOR q IN 1..3 LOOP
        t0 := clock_timestamp();
        PERFORM count(*) FROM task.task_dequeue((ARRAY['fq/lim', 'fq/dep', 'fq/wake'])[q]);
        IF clock_timestamp() - t0 > interval '250 milliseconds' THEN n := n + 1; END IF;
    END LOOP;
    RETURN n;
END $$;
SELECT pg_temp.slow_claims();
SQL
)

report=$(q <<'SQL'
WITH
-- a claim's end: its lease as the heartbeats of its token extended it, or its failure
ends AS (
  SELECT c.*, greatest(c.lease_until, (SELECT max(b.lease_until) FROM beats b WHERE b.id = c.id AND b.token = c.token)) AS lease_end,
         (SELECT min(f.at) FROM failures f WHERE f.id = c.id AND f.token = c.token) AS failed_at,
         lead(c.at) OVER (PARTITION BY c.id ORDER BY c.at) AS next_at
    FROM claims c),
firsts AS (SELECT id, min(at) AS at FROM claims GROUP BY id),
lim AS (SELECT t.id::text AS id, t.ordering_key AS k, t.completed_at,
               lag(t.completed_at) OVER (PARTITION BY t.ordering_key ORDER BY t.id) AS prev_done
          FROM task.task t WHERE t.queue = 'fq/lim' AND t.ordering_key IS NOT NULL),
wake AS (
  SELECT m.id, f.at - greatest(m.at, (SELECT max(upper(e.span)) FROM excused e
                                       WHERE e.queue = 'fq/wake' AND e.span && tstzrange(m.at, f.at))) AS late
    FROM made m JOIN firsts f USING (id) WHERE m.queue = 'fq/wake')
SELECT concat_ws(' ',
  'made=' || (SELECT count(*) FROM made),
  'tasks=' || (SELECT count(*) FROM task.task),
  'completed=' || (SELECT count(*) FROM task.task WHERE status = 'completed'),
  -- the groups with a doomed A: A failed for good, C cancelled once and never claimed; all else completed
  'doomed=' || (SELECT count(*) FROM made WHERE doomed AND role = 'a'),
  'doom_wrong=' || (SELECT count(*) FROM made m JOIN task.task t ON t.id::text = m.id
                     WHERE m.doomed AND ((m.role = 'a' AND t.status <> 'failed')
                                         OR (m.role = 'c' AND (t.status <> 'cancelled'
                                             OR EXISTS (SELECT FROM claims c WHERE c.id = m.id)
                                             OR (SELECT count(*) FROM task.task_log l
                                                  WHERE l.task_id::text = m.id AND l.message LIKE 'cancelled: dependency%') <> 1)))),
  'unfinished=' || (SELECT count(*) FROM task.task t JOIN made m ON m.id = t.id::text
                     WHERE t.status <> 'completed' AND NOT (m.doomed AND m.role IN ('a', 'c'))),
  'lost=' || (SELECT count(*) FROM made m WHERE NOT EXISTS (SELECT FROM task.task t WHERE t.id::text = m.id)),
  'unrecorded=' || (SELECT count(*) FROM task.task t WHERE NOT EXISTS (SELECT FROM made m WHERE m.id = t.id::text)),
  'effects=' || (SELECT count(*) FROM effect),
  'twice=' || (SELECT count(*) FROM (SELECT id FROM effect GROUP BY id HAVING count(*) > 1) x),
  'never=' || (SELECT count(*) FROM task.task t WHERE t.status = 'completed' AND NOT EXISTS (SELECT FROM effect e WHERE e.id = t.id::text)),
  'effect_unfinished=' || (SELECT count(*) FROM effect e JOIN task.task t ON t.id::text = e.id WHERE t.status <> 'completed'),
  'stale_effect=' || (SELECT count(*) FROM effect e JOIN task.task t ON t.id::text = e.id
                       WHERE e.token IS DISTINCT FROM t.lease_token),
  'claims=' || (SELECT count(*) FROM claims),
  'miscounted=' || (SELECT count(*) FROM task.task t
                     WHERE t.attempts <> (SELECT count(*) FROM claims c WHERE c.id = t.id::text)),
  'attempt_gap=' || (SELECT count(*) FROM (SELECT id, attempt, row_number() OVER (PARTITION BY id ORDER BY at) AS k
                                              FROM claims) x WHERE attempt <> k),
  'overlap=' || (SELECT count(*) FROM ends WHERE next_at IS NOT NULL
                                           AND next_at < least(lease_end, coalesce(failed_at, lease_end))),
  'failures=' || (SELECT count(*) FROM failures),
  'fail_first_done=' || (SELECT count(*) FROM claims c JOIN effect e ON e.id = c.id AND e.token = c.token
                          WHERE c.fail AND c.attempt = 1),
  'fail_refused_applied=' || (SELECT count(*) FROM failures f JOIN task.task t ON t.id::text = f.id
                               WHERE t.lease_token = f.token AND t.status = 'completed'),
  'key_early=' || (SELECT count(*) FROM lim JOIN firsts f USING (id) WHERE lim.prev_done IS NOT NULL AND f.at < lim.prev_done),
  'keyed=' || (SELECT count(*) FROM lim),
  'groups=' || (SELECT count(DISTINCT grp) FROM made WHERE grp IS NOT NULL),
  'released_not_once=' || (SELECT count(*) FROM made m WHERE m.role = 'c' AND NOT m.doomed
                             AND (SELECT count(*) FROM task.task_log l WHERE l.task_id::text = m.id AND l.message LIKE 'released%') <> 1),
  'released_early=' || (SELECT count(*) FROM made m JOIN firsts f USING (id)
                         WHERE m.role = 'c' AND NOT m.doomed AND EXISTS (SELECT FROM task.task_dependency d JOIN task.task x ON x.id::text = d.depends_on::text
                                                          WHERE d.task_id::text = m.id AND (x.completed_at IS NULL OR x.completed_at > f.at))),
  'wake_tasks=' || (SELECT count(*) FROM wake),
  'wake_late=' || (SELECT count(*) FROM wake WHERE late > interval '3 seconds'),
  'wake_max_ms=' || (SELECT coalesce(round(extract(epoch FROM max(late)) * 1000), 0) FROM wake),
  'processing=' || (SELECT count(*) FROM task.task WHERE status = 'processing'))
SQL
) || fail "the final read failed"

if [ "$(q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")" = 1 ]; then
	corrupt=$(q 2>&1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS amcheck;
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
	amcheck="no amcheck on this server"
fi

# what is left unfinished, for a diagnosis: the task, its lease and its log
stuck=$(q -c "SELECT string_agg(format('%s %s %s attempts %s/%s lease_until %s (%s ago) log: %s', t.id, t.queue, t.status,
                                       t.attempts, coalesce(t.max_attempts::text, '-'), t.lease_until::time,
                                       date_trunc('ms', clock_timestamp() - t.lease_until),
                                       (SELECT string_agg(l.at::time || ' ' || l.message, '; ' ORDER BY l.at)
                                          FROM task.task_log l WHERE l.task_id = t.id)), E'\n')
                FROM task.task t WHERE t.status NOT IN ('completed', 'failed', 'cancelled')" 2>&1)
stale=$(cat "$dir"/out/*.err 2>/dev/null | grep -cE "$stale_errors" || true)
wrong=$(cat "$dir"/out/*.err 2>/dev/null | grep -E '^(ERROR|FATAL|PANIC):  [0-9A-Z]{5}:' |
	grep -vE "$stale_errors"'|^FATAL:  57P0[123]:|^ERROR:  57014: canceling statement due to user request' | sort | uniq -c)
echo "faults_queue: ${seconds}s: $stales stale calls refused (a rescued 100 ms claim's complete, fail or heartbeat), $kills worker clients killed, $waiterkills waiting clients killed, $terminated backends terminated and $cancelled statements cancelled (waiters first), $makerkills producer clients killed, $crashes backends killed, $restarts immediate shutdowns, $freezes workers frozen past their lease ($rescued leases rescued by task_maintain meanwhile), $pauses pauses, $limits cap changes; $stale calls of the workers refused as stale (55000); drained in ${drained}s; $amcheck"
echo "faults_queue: $report"
declare -A res=()
while IFS='=' read -r k v; do res[$k]=$v; done < <(tr ' ' '\n' <<<"$report")
problems=()
[ "$leaked" = 0 ] || problems+=("a place among the claimers of a queue was left taken: $leaked")
[ -z "$wrong" ] || problems+=("errors other than lease lost and the faults' own: $wrong")
[[ ${res[tasks]} = "${res[made]}" && ${res[lost]} = 0 && ${res[unrecorded]} = 0 ]] || problems+=("tasks lost or made without their record")
[ "${res[unfinished]}" = 0 ] || problems+=("not every task was completed")
[ "${res[doom_wrong]}" = 0 ] || problems+=("a task that failed for good did not cancel its dependent exactly once, or it was claimed")
[[ ${res[twice]} = 0 && ${res[never]} = 0 && ${res[effects]} = "${res[completed]}" && ${res[stale_effect]} = 0 && ${res[effect_unfinished]} = 0 ]] ||
	problems+=("an effect is missing, applied twice or under a stale token")
[[ ${res[miscounted]} = 0 && ${res[attempt_gap]} = 0 ]] || problems+=("attempts do not count the claims")
[ "${res[overlap]}" = 0 ] || problems+=("a task was claimed again while its claim was live")
[[ ${res[fail_first_done]} = 0 && ${res[fail_refused_applied]} = 0 ]] || problems+=("a failure was lost or a refused one applied")
[ "${res[key_early]}" = 0 ] || problems+=("a task of an ordering key was claimed before the one made before it completed")
[[ ${res[released_not_once]} = 0 && ${res[released_early]} = 0 ]] || problems+=("a dependent was released twice, never or early")
[ "${res[wake_late]}" = 0 ] || problems+=("a wake-up was lost: a pickup of fq/wake was late (max ${res[wake_max_ms]} ms)")
[[ ${res[groups]} -gt 0 && ${res[doomed]} -gt 0 && ${res[keyed]} -gt 0 && ${res[failures]} -gt 0 && ${res[wake_tasks]} -gt 0 ]] ||
	problems+=("a part of the run made nothing to check")
[[ $stales -gt 0 && $kills -gt 0 && $crashes$restarts != 00 ]] || problems+=("too few faults happened to mean anything")
[ -n "${FAULTS_KEEP:-}" ] || cluster_stop "$dir/c"
if [ ${#problems[@]} -gt 0 ]; then
	printf 'faults_queue: %s\n' "${problems[@]}"
	[ -z "$stuck" ] || printf 'faults_queue: left: %s\n' "$stuck"
	exit 1
fi
echo "faults_queue: ok"
