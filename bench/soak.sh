#!/usr/bin/env bash
# W6 (held snapshot) and W7 (bloat soak) for issue 15, task and the raw SKIP LOCKED
# baseline, one system after the other, on a throwaway cluster of its own.
#
#   bench/soak.sh [quick|full] [systems...]      (systems: raw task; default both)
#
# For each system:
#   capacity  a short W3 drain (4 workers, bench/sql/<sys>_drain1.sql) gives the
#             system's drain rate; the offered load is BENCH_SOAK_FRACTION (0.5) of it,
#             unless BENCH_SOAK_RATE fixes it (the same for every system).
#   W6 clean  (only when W7 is not run: W7 is W6's clean run) the offered load (pgbench -R, BENCH_SOAK_PRODUCERS clients, one task per
#             transaction; what they achieved is reported: a loaded machine may fall short) with BENCH_SOAK_WORKERS workers (bench/sql/<sys>_work.sql:
#             task_dequeue(wait => ...) / DELETE ... SKIP LOCKED with a poll sleep), for
#             BENCH_W6_CLEAN_SECONDS, in a fresh database.
#   W6 held   the same for BENCH_W6_SECONDS in a fresh database, with another session
#             holding a REPEATABLE READ transaction open all the time (it has run a
#             SELECT, so its snapshot is taken; backend_xmin is checked and reported).
#   W7        the same without the held snapshot for BENCH_W7_SECONDS, default autovacuum;
#             run first, and W6's clean reference (its first BENCH_W6_SECONDS).
# Sizes of the queue tables (raw: bench_raw; task: every table of schema task, heap +
# indexes) are sampled every BENCH_SOAK_SAMPLE (10) s; claims per 10 s interval and
# pickup latency (claim - created_at) come from bench_pickup, written by the workers.
# With the sizes, the cluster's I/O counters (bench_io: shared-buffer misses,
# buffers written by backends and the checkpointer, WAL fsyncs and their time),
# the kernel's dirty pages and the machine's CPU (busy, and stolen by the host
# of a virtual machine) are sampled; the report sets them beside claims and
# pickup percentiles minute by minute, to tell what a tail came from.
#
# Settings: BENCH_W6_SECONDS (600; quick 60), BENCH_W6_CLEAN_SECONDS (120; quick 30),
#   BENCH_W7_SECONDS (1800; quick 120), BENCH_W7_FLAT_AFTER (300; quick 60),
#   BENCH_FLAT_TOLERANCE (0.10), BENCH_SOAK_WORKERS (4), BENCH_SOAK_PRODUCERS (4),
#   BENCH_SOAK_FRACTION (0.5), BENCH_SOAK_RATE (unset), BENCH_SOAK_BATCH (1: workers
#   claim one task a transaction; N > 1: up to N, bench/sql/<sys>_work_batch.sql, the
#   capacity and so the offered load still W3's, one a transaction), BENCH_CAP_SECONDS (20; quick 10),
#   BENCH_CAP_BACKLOG (100000; quick 30000), BENCH_SOAK_WAIT ('1 second'),
#   BENCH_RAW_POLL_MS (10), BENCH_SOAK_PARTS ("W6 W7"), BENCH_SOAK_PORT (58446),
#   BENCH_SOAK_SHARED_BUFFERS (512MB), BENCH_SOAK_WARMUP (30: seconds of the same load,
#   held snapshot included, before each phase's measured time: new backends, the first
#   autovacuum of a new database and the backlog they leave are not steady state),
#   BENCH_SOAK_SQL (task: one line of SQL run in each
#   database after its set-up, a variant to compare; reported in the run line),
#   BENCH_SOAK_RETENTION (task: the queue's retention, e.g. '2 minutes'; unset keeps
#   the default of 10 days, so finished tasks stay and the tables grow with the work
#   done), BENCH_SOAK_MAINTAIN (task: task_maintain() every that many seconds during
#   a phase, as pg_cron's job does every minute; 0 = never; default 60 when
#   BENCH_SOAK_RETENTION is set, else 0; cron:N = what task_cron_enable(every => 'N
#   seconds') makes pg_cron run: CALL task.task_maintain_all(run_for => 60-N s,
#   pause => N s) once a minute, the next not before the last has ended).
# Output: bench/results/<date>-<mode>-soak.md and <date>-<mode>-w6-*.svg, -w7-sizes.svg;
# the raw data in tmp/soak/.  See bench/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SQL=$HERE/sql
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"

MODE=full
if [[ ${1:-} == quick || ${1:-} == full ]]; then MODE=$1; shift; fi
SYSTEMS=("$@"); [[ ${#SYSTEMS[@]} -gt 0 ]] || SYSTEMS=(raw task)
for s in "${SYSTEMS[@]}"; do [[ $s == raw || $s == task ]] || { echo "unknown system '$s' (known: raw task)" >&2; exit 2; }; done
if [[ $MODE == quick ]]; then d6=60 d6c=30 d7=120 dflat=60 dcap=10 dback=30000
else d6=600 d6c=120 d7=1800 dflat=300 dcap=20 dback=100000; fi
W6_SECONDS=${BENCH_W6_SECONDS:-$d6}
W6_CLEAN=${BENCH_W6_CLEAN_SECONDS:-$d6c}
W7_SECONDS=${BENCH_W7_SECONDS:-$d7}
FLAT_AFTER=${BENCH_W7_FLAT_AFTER:-$dflat}
FLAT_TOL=${BENCH_FLAT_TOLERANCE:-0.10}
WORKERS=${BENCH_SOAK_WORKERS:-4}
PRODUCERS=${BENCH_SOAK_PRODUCERS:-4}
FRACTION=${BENCH_SOAK_FRACTION:-0.5}
FIXED_RATE=${BENCH_SOAK_RATE:-}
CAP_SECONDS=${BENCH_CAP_SECONDS:-$dcap}
CAP_BACKLOG=${BENCH_CAP_BACKLOG:-$dback}
WAIT=${BENCH_SOAK_WAIT:-1 second}
BATCH=${BENCH_SOAK_BATCH:-1}
[[ $BATCH =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_SOAK_BATCH must be a positive integer" >&2; exit 2; }
POLL_MS=${BENCH_RAW_POLL_MS:-10}
SAMPLE=${BENCH_SOAK_SAMPLE:-10}
RETENTION=${BENCH_SOAK_RETENTION:-}
MAINTAIN=${BENCH_SOAK_MAINTAIN:-$([[ -n $RETENTION ]] && echo 60 || echo 0)}
PARTS=${BENCH_SOAK_PARTS:-W6 W7}
PORT=${BENCH_SOAK_PORT:-58446}
SHARED_BUFFERS=${BENCH_SOAK_SHARED_BUFFERS:-512MB}
VARIANT_SQL=${BENCH_SOAK_SQL:-}
WARMUP=${BENCH_SOAK_WARMUP:-30}

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG
PGBIN=$("$PG_CONFIG" --bindir)
DIR=$(h_tmp "$ROOT")/soak
DATA_OUT=$DIR/out          # kept: tsv files, pgbench logs
DATE=$(date +%F)
RESULTS=$HERE/results
PREFIX=$RESULTS/$DATE-$MODE
[[ ${#SYSTEMS[@]} -eq 2 ]] || PREFIX=$RESULTS/$DATE-$MODE-${SYSTEMS[0]}

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
q() { local db=$1; shift; cluster_psql "$DIR/cluster" "$PORT" -d "$db" -qAt -v ON_ERROR_STOP=1 "$@"; }
SOCK=
pgb() { "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -M prepared "$@"; }
now() { date +%s.%N; }

BG=()   # background processes of a phase (we started them; stopped by pid)
stop_bg() { local p; for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${BG[@]}"; do wait "$p" 2>/dev/null || true; done; BG=(); }
cleanup() { stop_bg; cluster_stop "$DIR/cluster"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DIR" "$RESULTS"
rm -rf "$DATA_OUT"; mkdir -p "$DATA_OUT"
h_own "$DIR"
cluster_start "$DIR/cluster" "$PORT" postgres shared_buffers="$SHARED_BUFFERS" synchronous_commit=on max_connections=100 \
	track_io_timing=on track_wal_io_timing=on log_checkpoints=on log_autovacuum_min_duration=0 >/dev/null
SOCK=$(h_sockdir "$(realpath -m "$DIR/cluster")")
log "cluster on port $PORT; mode $MODE: parts $PARTS: W7 ${W7_SECONDS}s (W6's clean reference; without W7 a ${W6_CLEAN}s clean run), W6 held ${W6_SECONDS}s; $WORKERS workers, $PRODUCERS producers; systems ${SYSTEMS[*]}"

fresh() { # db sys: a new database with the system's tables and bench_pickup
	local db=$1 sys=$2
	"$PGBIN/dropdb" -h "$SOCK" -p "$PORT" -U postgres --if-exists "$db" >/dev/null 2>&1 || true
	"$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U postgres "$db"
	q "$db" -f "$SQL/${sys}_setup.sql" >"$DATA_OUT/$db-setup.log" 2>&1 || { log "setup of $sys failed: $(grep -m1 ERROR "$DATA_OUT/$db-setup.log")"; return 1; }
	q "$db" -f "$SQL/soak_setup.sql" >/dev/null
	# a variant to compare (BENCH_SOAK_SQL: one line of SQL, say a storage parameter of task.task)
	[[ -z $VARIANT_SQL || $2 != task ]] || q "$db" -c "$VARIANT_SQL" >/dev/null
}
dropdb_() { "$PGBIN/dropdb" -h "$SOCK" -p "$PORT" -U postgres --if-exists "$1" >/dev/null 2>&1 || true; }
pending() { if [[ $2 == raw ]]; then q "$1" -f "$SQL/raw_pending.sql"; else q "$1" -f "$SQL/task_pending.sql"; fi; }
carry=(-D prev_id=none -D prev_token=none)

# ---------------------------------------------------------------- capacity (W3 drain)
capacity() { # sys -> tasks/s
	local sys=$1 db=soak_cap before after t0 t1
	fresh "$db" "$sys"
	if [[ $sys == raw ]]; then q "$db" -c "SELECT bench_raw_preload($CAP_BACKLOG)" >/dev/null
	else PGOPTIONS='-c synchronous_commit=off' q "$db" -c "SELECT bench_task_preload($CAP_BACKLOG)" >/dev/null; fi
	q "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
	before=$(pending "$db" "$sys")
	t0=$(now)
	timeout --signal=INT --kill-after=10 "$CAP_SECONDS" "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -M prepared \
		-c "$WORKERS" -j "$(( WORKERS < 2 ? 1 : 2 ))" -t $(( CAP_BACKLOG / WORKERS + 20 )) "${carry[@]}" \
		-f "$SQL/${sys}_drain1.sql" "$db" >"$DATA_OUT/cap-$sys.pgbench" 2>&1 || true
	t1=$(now)
	after=$(pending "$db" "$sys")
	dropdb_ "$db"
	awk -v b="$before" -v a="$after" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", (b - a) / (t1 - t0) }'
}

# ---------------------------------------------------------------- one phase
# phase name sys seconds rate held(0/1): writes
#   $DATA_OUT/<name>-<sys>.tput   t_end_of_interval <TAB> claims/s
#   $DATA_OUT/<name>-<sys>.sizes  t <TAB> table_bytes <TAB> index_bytes <TAB> dead
#   $DATA_OUT/<name>-<sys>.stat   key=value lines
#   $DATA_OUT/<name>-<sys>.tables relname <TAB> table_bytes <TAB> index_bytes <TAB> live <TAB> dead, at the end
phase() {
	local name=$1 sys=$2 secs=$3 rate=$4 held=$5 db="soak_${1,,}_$2" t0 tag="$1-$2"
	fresh "$db" "$sys" || return 1
	q "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
	local st=$DATA_OUT/$tag.stat sizes=$DATA_OUT/$tag.sizes
	: >"$st"; : >"$sizes"; : >"$DATA_OUT/$tag.io"
	if [[ $sys == task && -n $RETENTION ]]; then
		q "$db" -c "SELECT task.task_queue_configure('bench/q', retention => '$RETENTION')" >/dev/null
	fi
	if [[ $held == 1 ]]; then
		# the held snapshot: REPEATABLE READ, a SELECT (takes the snapshot), then sleep in the transaction
		printf '%s\n' "SET application_name = 'bench_held';" "BEGIN ISOLATION LEVEL REPEATABLE READ;" \
			"SELECT count(*) FROM pg_class;" "SELECT pg_sleep($secs + $WARMUP + 120);" "COMMIT;" |
			cluster_psql "$DIR/cluster" "$PORT" -d "$db" -qAt >/dev/null 2>&1 &
		BG+=($!)
		local i
		for i in $(seq 50); do
			[[ -n $(q "$db" -c "SELECT backend_xmin FROM pg_stat_activity WHERE application_name = 'bench_held' AND backend_xmin IS NOT NULL") ]] && break
			sleep 0.1
		done
		echo "held_xmin_start=$(q "$db" -c "SELECT backend_xmin FROM pg_stat_activity WHERE application_name = 'bench_held'")" >>"$st"
	fi
	# the load, for the warm-up and the measured time
	local wargs=(-D "poll_ms=$POLL_MS") work=$SQL/${sys}_work.sql
	[[ $sys == task ]] && wargs=(-D "wait=$WAIT" "${carry[@]}")
	if (( BATCH > 1 )); then
		work=$SQL/${sys}_work_batch.sql
		wargs+=(-D "batch=$BATCH" -D prev_ids=none -D prev_tokens=none)
	fi
	local tstart; tstart=$(now)
	echo "tstart=$tstart" >>"$st"
	pgb -c "$WORKERS" -j "$(( WORKERS < 2 ? 1 : 2 ))" -T "$(( secs + WARMUP ))" "${wargs[@]}" -f "$work" "$db" >"$DATA_OUT/$tag-workers.pgbench" 2>&1 &
	local wpid=$!
	pgb -c "$PRODUCERS" -j "$PRODUCERS" -R "$rate" -T "$(( secs + WARMUP ))" -f "$SQL/${sys}_insert1.sql" "$db" >"$DATA_OUT/$tag-producers.pgbench" 2>&1 &
	local ppid=$!
	sleep "$WARMUP"
	t0=$(now)
	echo "t0=$t0" >>"$st"
	# sampler: sizes and I/O every SAMPLE s (t = seconds since t0), from one
	# session that stays open (bench_sample): a psql and a backend started per
	# sample showed as bursts in the pickup tail every SAMPLE s on a loaded machine
	local fifo=$DATA_OUT/$tag.fifo writer reader
	rm -f "$fifo"; mkfifo "$fifo"
	q "$db" -F $'\t' <"$fifo" >"$DATA_OUT/$tag.samples" 2>/dev/null &
	reader=$!
	(
		exec >"$fifo"
		k=0 sp=
		trap 'kill $sp 2>/dev/null; exit 0' TERM   # and its sleep, which holds the fifo open too
		while :; do
			echo "SELECT * FROM bench_sample('$sys', $t0);"
			k=$(( k + 1 ))   # the next sample at t0 + k * SAMPLE, not SAMPLE after this one
			sleep "$(awk -v t="$t0" -v k="$k" -v s="$SAMPLE" -v n="$EPOCHREALTIME" 'BEGIN { d = t + k * s - n; printf "%.2f", (d > 0 ? d : 0) }')" &
			sp=$!
			wait "$sp"
		done
	) &
	writer=$!
	# housekeeping, as pg_cron's job would run it (task only: raw deletes its rows)
	if [[ $sys == task && $MAINTAIN == cron:* ]]; then
		(
			every=${MAINTAIN#cron:}
			while :; do
				m0=$EPOCHREALTIME
				r=$(q "$db" -c "CALL task.task_maintain_all(run_for => '$((60 - every)) seconds', pause => '$every seconds')" 2>&1) || true
				printf '%s %s\n' "$(date +%s)" "$r" >>"$DATA_OUT/$tag.maintain"
				sleep "$(awk -v t="$m0" -v n="$EPOCHREALTIME" 'BEGIN { d = t + 60 - n; printf "%.2f", (d > 0 ? d : 0) }')"
			done
		) & BG+=($!)
	elif [[ $sys == task && $MAINTAIN != 0 ]]; then
		(
			while sleep "$MAINTAIN"; do
				# and again while a step stopped at max_rows ("more"), as the docs advise
				for _ in $(seq 20); do
					r=$(q "$db" -c "SELECT task.task_maintain()" 2>&1) || true
					printf '%s %s\n' "$(date +%s)" "$r" >>"$DATA_OUT/$tag.maintain"
					[[ $r == *'"more": true'* ]] || break
				done
			done
		) & BG+=($!)
	fi
	wait "$ppid" || log "$tag: producers failed, see $DATA_OUT/$tag-producers.pgbench"
	wait "$wpid" || log "$tag: workers failed, see $DATA_OUT/$tag-workers.pgbench"
	local t1; t1=$(now)
	[[ $held == 1 ]] && echo "held_xmin_end=$(q "$db" -c "SELECT backend_xmin FROM pg_stat_activity WHERE application_name = 'bench_held'")" >>"$st"
	# the sampler stops (its psql ends at the end of its input), and its lines are split (S: sizes, I: I/O)
	kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; wait "$reader" 2>/dev/null || true
	rm -f "$fifo"
	awk -F'\t' -v OFS='\t' -v s="$sizes" -v i="$DATA_OUT/$tag.io" '$1 == "S" { $1 = ""; print substr($0, 2) >>s } $1 == "I" { $1 = ""; print substr($0, 2) >>i }' "$DATA_OUT/$tag.samples"
	# final sizes before the snapshot goes away, and table by table
	printf '%s\t%s\n' "$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.0f", a - b }')" "$(q "$db" -F $'\t' -c "SELECT * FROM bench_sizes('$sys')")" >>"$sizes"
	q "$db" -F $'\t' -c "SELECT * FROM bench_tables('$sys') ORDER BY table_bytes + index_bytes DESC" >"$DATA_OUT/$tag.tables"
	[[ $held == 1 ]] && q "$db" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench_held'" >/dev/null
	stop_bg
	# results
	local created left
	created=$(awk '/^number of transactions actually processed/ { print $NF; exit }' "$DATA_OUT/$tag-producers.pgbench" | cut -d/ -f1)
	left=$(pending "$db" "$sys")
	{
		echo "t1=$t1"
		echo "rate=$rate"
		echo "created=${created:-?}"
		echo "left=$left"
		echo "lag=$(awk '/schedule lag/ { print $6; exit }' "$DATA_OUT/$tag-producers.pgbench")"
		q "$db" -F $'\t' -c "SELECT 'claimed=' || count(*), 'p50=' || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2),
			'p95=' || round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ms))::numeric, 2),
			'p99=' || round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2),
			'max=' || round(max(ms)::numeric, 2) FROM bench_pickup WHERE extract(epoch FROM claimed_at) >= $t0" | tr '\t' '\n'
		# the last 10 % of the run: p99 there shows a tail that grows with bloat
		q "$db" -c "SELECT 'p99_end=' || coalesce(round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2)::text, '')
			FROM bench_pickup WHERE extract(epoch FROM claimed_at) >= $t0 + 0.9 * $secs"
		tail -1 "$sizes" | awk -F'\t' '{ print "table_end=" $2; print "index_end=" $3; print "dead_end=" $4 }'
	} >>"$st"
	# claims per interval of SAMPLE s (a last partial interval is left out)
	q "$db" -F $'\t' -c "SELECT (b + 1) * $SAMPLE, round(count(*)::numeric / $SAMPLE, 1)
		FROM (SELECT floor((extract(epoch FROM claimed_at) - $t0) / $SAMPLE)::int AS b FROM bench_pickup) x
		WHERE b >= 0 AND (b + 1) * $SAMPLE <= $secs GROUP BY b ORDER BY b" >"$DATA_OUT/$tag.tput"
	# claims and pickup percentiles per minute, to set beside the I/O counters
	q "$db" -F $'\t' -c "SELECT (b + 1) * 60, round(count(*)::numeric / 60, 1),
		round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2),
		round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2)
		FROM (SELECT floor((extract(epoch FROM claimed_at) - $t0) / 60)::int AS b, ms FROM bench_pickup) x
		WHERE b >= 0 AND (b + 1) * 60 <= $secs + 1 GROUP BY b ORDER BY b" >"$DATA_OUT/$tag.pmin"
	# every pickup (seconds since t0, ms), to tell a stall of all workers from one task's wait
	q "$db" -c "\\copy (SELECT round((extract(epoch FROM claimed_at) - $t0)::numeric, 4), round(ms::numeric, 3) FROM bench_pickup ORDER BY claimed_at) TO '$DATA_OUT/$tag.pickup'"
	dropdb_ "$db"
	log "$tag: offered $rate/s for $secs s: $(tr '\n' ' ' <"$st" | sed 's/tstart=[^ ]* //; s/t0=[^ ]* //; s/t1=[^ ]* //')"
}

sv() { sed -n "s/^$2=//p" "$DATA_OUT/$1.stat" 2>/dev/null | head -1; }   # stat value
mb() { awk -v b="$1" 'BEGIN { if (b == "") print "?"; else printf "%.1f", b / 1048576 }'; }
mean_tput() { awk -F'\t' '{ s += $2; n++ } END { if (n) printf "%.1f", s / n; else print "?" }' "$DATA_OUT/$1.tput" 2>/dev/null || echo "?"; }
last_tput() { awk -F'\t' 'END { if (NR) printf "%.1f", $2; else print "?" }' "$DATA_OUT/$1.tput" 2>/dev/null || echo "?"; }
min_tput() { awk -F'\t' 'NR == 1 || $2 < m { m = $2 } END { if (NR) printf "%.1f", m; else print "?" }' "$DATA_OUT/$1.tput" 2>/dev/null || echo "?"; }
created_rate() { awk -v c="$(sv "$1" created)" -v a="$(sv "$1" tstart)" -v b="$(sv "$1" t1)" 'BEGIN { if (c ~ /^[0-9]+$/ && b > a) printf "%.0f", c / (b - a); else print "?" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "?" }'; }

# ---------------------------------------------------------------- main
started=$(date +%s); load0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A CAP RATE
for sys in "${SYSTEMS[@]}"; do
	CAP[$sys]=$(capacity "$sys")
	RATE[$sys]=${FIXED_RATE:-$(awk -v c="${CAP[$sys]}" -v f="$FRACTION" 'BEGIN { r = int(c * f); print (r < 1 ? 1 : r) }')}
	log "$sys: W3 drain $WORKERS workers ${CAP[$sys]}/s -> offered load ${RATE[$sys]}/s"
	# W7 first: it is also W6's clean run (the same load without the held snapshot),
	# compared over the same elapsed time as the held run
	if [[ " $PARTS " == *" W7 "* ]]; then
		phase W7 "$sys" "$W7_SECONDS" "${RATE[$sys]}" 0 || true
	elif [[ " $PARTS " == *" W6 "* ]]; then
		phase W6clean "$sys" "$W6_CLEAN" "${RATE[$sys]}" 0 || true
	fi
	[[ " $PARTS " == *" W6 "* ]] && { phase W6held "$sys" "$W6_SECONDS" "${RATE[$sys]}" 1 || true; }
done
CLEAN=W6clean; [[ " $PARTS " == *" W7 "* ]] && CLEAN=W7
# the clean run's intervals over the held run's duration
for sys in "${SYSTEMS[@]}"; do
	awk -F'\t' -v m="$W6_SECONDS" '$1 <= m' "$DATA_OUT/$CLEAN-$sys.tput" >"$DATA_OUT/clean-$sys.tput" 2>/dev/null || true
	cp "$DATA_OUT/$CLEAN-$sys.stat" "$DATA_OUT/clean-$sys.stat" 2>/dev/null || true
done
took=$(( $(date +%s) - started )); load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- plots
svg() { local out=$1 data=$2; shift 2; awk -F'\t' "$@" -f "$HERE/svg.awk" "$data" >"$out"; }
plots=()
if [[ " $PARTS " == *" W6 "* ]]; then
	for sys in "${SYSTEMS[@]}"; do
		for ph in clean W6held; do
			awk -F'\t' -v s="$sys ${ph#W6}" '{ print s "\t" $1 "\t" $2 }' "$DATA_OUT/$ph-$sys.tput" 2>/dev/null
		done
	done >"$DATA_OUT/w6-tput.tsv"
	svg "$PREFIX-w6-throughput.svg" "$DATA_OUT/w6-tput.tsv" -v kind=line -v title="W6: tasks claimed per second, per ${SAMPLE} s interval (offered load = ${FRACTION} x W3 drain)" \
		-v xlabel="seconds" -v ylabel="tasks/s"
	for sys in "${SYSTEMS[@]}"; do
		awk -F'\t' -v s="$sys held: table" '{ print s "\t" $1 "\t" $2 / 1048576 }' "$DATA_OUT/W6held-$sys.sizes" 2>/dev/null
		awk -F'\t' -v s="$sys held: indexes" '{ print s "\t" $1 "\t" $3 / 1048576 }' "$DATA_OUT/W6held-$sys.sizes" 2>/dev/null
	done >"$DATA_OUT/w6-sizes.tsv"
	svg "$PREFIX-w6-sizes.svg" "$DATA_OUT/w6-sizes.tsv" -v kind=line -v title="W6 (held snapshot): size of the queue tables" -v xlabel="seconds" -v ylabel="MB"
	plots+=("$PREFIX-w6-throughput.svg" "$PREFIX-w6-sizes.svg")
fi
if [[ " $PARTS " == *" W7 "* ]]; then
	for sys in "${SYSTEMS[@]}"; do
		awk -F'\t' -v s="$sys: table" '{ print s "\t" $1 "\t" $2 / 1048576 }' "$DATA_OUT/W7-$sys.sizes" 2>/dev/null
		awk -F'\t' -v s="$sys: indexes" '{ print s "\t" $1 "\t" $3 / 1048576 }' "$DATA_OUT/W7-$sys.sizes" 2>/dev/null
	done >"$DATA_OUT/w7-sizes.tsv"
	svg "$PREFIX-w7-sizes.svg" "$DATA_OUT/w7-sizes.tsv" -v kind=line -v title="W7 (soak, default autovacuum): size of the queue tables" -v xlabel="seconds" -v ylabel="MB"
	plots+=("$PREFIX-w7-sizes.svg")
fi

# ---------------------------------------------------------------- report
# flatness: total size (table + indexes) after FLAT_AFTER s vs. at FLAT_AFTER s
flat() { # file -> "at_mark_MB end_MB max_MB growth flat?"
	awk -F'\t' -v m="$FLAT_AFTER" -v tol="$FLAT_TOL" '
		{ t = $1; v = $2 + $3 }
		t <= m { at = v; have = 1 }
		t >= m { if (v > mx) mx = v; last = v; after = 1 }
		END {
			if (!have || !after || at == 0) { print "? ? ? ? not enough samples"; exit }
			g = (mx - at) / at
			printf "%.2f %.2f %.2f %+.0f%% %s\n", at / 1048576, last / 1048576, mx / 1048576, 100 * g, (g <= tol ? "yes" : "no")
		}' "$1" 2>/dev/null || echo "? ? ? ? no data"
}
by_minute() { # tag -> markdown table: claims, pickup and I/O per minute (deltas of bench_io between samples)
	[[ -s $DATA_OUT/$1.pmin && -s $DATA_OUT/$1.io ]] || { echo "no data"; return; }
	echo "| minute ending (s) | claimed /s | pickup p50 ms | p99 ms | shared-buffer misses /s | buffers written by backends /s | by the checkpointer /s | checkpoints | WAL fsyncs /s | mean fsync ms | data write ms /s | kernel dirty + writeback MB | machine CPU busy % | CPU stolen by the host % |"
	echo "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	awk -F'\t' 'FNR == NR { t[++n] = $1; for (i = 2; i <= NF; i++) v[n, i] = $i; next }
		function at(s,   k, j) { j = 0; for (k = 1; k <= n; k++) if (t[k] <= s + 2) j = k; return j }
		{ m = $1; a = at(m - 60); b = at(m); if (!a || !b || b <= a) { print "| " m " | " $2 " | " $3 " | " $4 " | | | | | | | | | | |"; next }
		  d = t[b] - t[a]; fs = v[b, 8] - v[a, 8]
		  busy = v[b, 15] - v[a, 15]
		  printf "| %s | %s | %s | %s | %.0f | %.0f | %.0f | %d | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f |\n", m, $2, $3, $4,
			(v[b, 2] - v[a, 2]) / d, (v[b, 4] - v[a, 4]) / d, (v[b, 5] - v[a, 5]) / d, v[b, 7] - v[a, 7],
			fs / d, (fs > 0 ? (v[b, 9] - v[a, 9]) / fs : 0), (v[b, 11] - v[a, 11]) / d, (v[b, 12] + v[b, 13]) / 1024,
			(busy > 0 ? 100 * (v[b, 14] - v[a, 14]) / busy : 0), (busy > 0 ? 100 * (v[b, 16] - v[a, 16]) / busy : 0) }' \
		"$DATA_OUT/$1.io" "$DATA_OUT/$1.pmin"
}
tables() { # tag -> markdown list of the tables at the end of that run
	awk -F'\t' '{ printf "  - %s: table %.2f MB, indexes %.2f MB, %s live rows, %s dead\n", $1, $2 / 1048576, $3 / 1048576, $4, $5 }' "$DATA_OUT/$1.tables" 2>/dev/null
}
out=$PREFIX-soak.md
load_text="$FRACTION × the system's own W3 drain rate ($WORKERS workers, ${CAP_SECONDS} s over a ${CAP_BACKLOG} backlog)"
[[ -n $FIXED_RATE ]] && load_text="fixed, $FIXED_RATE/s"
{
	echo "# W6 held snapshot and W7 bloat soak, $DATE ($MODE)"
	echo
	echo "Machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); $(nproc) cores; PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'); task $(q postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'task'")."
	echo
	echo "Run: \`bench/soak.sh $MODE ${SYSTEMS[*]}\`; throwaway cluster, shared_buffers = $SHARED_BUFFERS, synchronous_commit = on, track_io_timing and track_wal_io_timing on, autovacuum and everything else default; $WORKERS workers, $PRODUCERS producer clients (pgbench -R, one task per transaction); offered load = $load_text; each phase measured after ${WARMUP} s of the same load (held snapshot included), which are not counted; $( (( BATCH > 1 )) && echo "workers claim up to $BATCH tasks a transaction (the previous batch completed in the same call); ")task workers wait with task_dequeue(wait => '$WAIT'), raw workers poll every ${POLL_MS} ms when the queue is empty; task housekeeping: $(if [[ $MAINTAIN == cron:* ]]; then echo "the job of task_cron_enable(every => '${MAINTAIN#cron:} seconds'): CALL task.task_maintain_all(run_for => '$((60 - ${MAINTAIN#cron:})) seconds', pause => '${MAINTAIN#cron:} seconds') once a minute"; elif [[ $MAINTAIN != 0 ]]; then echo "task_maintain() every ${MAINTAIN} s"; else echo "none"; fi), queue retention ${RETENTION:-10 days (the default)}; $([[ -n $VARIANT_SQL ]] && echo "variant (task databases, after set-up): \`$VARIANT_SQL\`; ")took ${took} s; load average at start $load0, at end $load1."
	echo
	if [[ " $PARTS " == *" W6 "* ]]; then
		clean_text="${W6_CLEAN} s without the held snapshot"
		[[ $CLEAN == W7 ]] && clean_text="the W7 run below (same load, no held snapshot): its first ${W6_SECONDS} s for throughput, the whole run for latency"
		echo "## W6: held snapshot"
		echo
		echo "Clean: $clean_text; then held: ${W6_SECONDS} s, in a fresh database, with a REPEATABLE READ transaction (SELECT run, then pg_sleep) open in another session of the same database the whole time. Throughput = tasks claimed per ${SAMPLE} s interval (mean over the intervals; min; last). Pickup latency = clock_timestamp() in the claiming transaction − created_at of the task (the producer's statement start, so it includes the producer's commit, synchronous_commit = on). Sizes at the end of the held run (raw: bench_raw; task: all tables of schema task), with their dead tuples (pg_stat_user_tables.n_dead_tup)."
		echo
		echo "| system | offered /s | created /s clean / held | clean /s (mean) | held /s (mean) | held min | held last interval | held / clean (mean) | last / clean | pickup p50 ms clean / held | p99 ms clean / held | p99 ms, last 10 % of held | max ms held | left in queue at end | table MB | index MB | dead tuples | held xmin start → end |"
		echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
		for sys in "${SYSTEMS[@]}"; do
			c=clean-$sys h=W6held-$sys
			mc=$(mean_tput "$c") mh=$(mean_tput "$h") lh=$(last_tput "$h")
			echo "| $sys | ${RATE[$sys]} | $(created_rate "$c") / $(created_rate "$h") | $mc | $mh | $(min_tput "$h") | $lh | $(ratio "$mh" "$mc") | $(ratio "$lh" "$mc") | $(sv "$c" p50) / $(sv "$h" p50) | $(sv "$c" p99) / $(sv "$h" p99) | $(sv "$h" p99_end) | $(sv "$h" max) | $(sv "$h" left) | $(mb "$(sv "$h" table_end)") | $(mb "$(sv "$h" index_end)") | $(sv "$h" dead_end) | $(sv "$h" held_xmin_start) → $(sv "$h" held_xmin_end) |"
		done
		echo
		echo "Targets (issue 15, task): held / clean ≥ 0.90 and pickup p99 < 50 ms under the held snapshot; raw SKIP LOCKED is expected to fall."
		echo
		echo "Throughput per ${SAMPLE} s interval (tasks/s; t = end of the interval, seconds):"
		echo
		for sys in "${SYSTEMS[@]}"; do
			for ph in clean W6held; do
				printf '%s' "- $sys ${ph#W6}: "
				awk -F'\t' '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 } END { print "" }' "$DATA_OUT/$ph-$sys.tput" 2>/dev/null || echo "no data"
			done
		done
		echo
		echo "Minute by minute, with the cluster's I/O (pg_stat_database, pg_stat_bgwriter, pg_stat_wal with track_wal_io_timing; shared_buffers = $SHARED_BUFFERS), the kernel's dirty pages (/proc/meminfo) and the machine's CPU (/proc/stat: busy = user, nice, system, irq, softirq; stolen = steal, the time a virtual machine's CPUs were runnable but not run by the host):"
		echo
		for sys in "${SYSTEMS[@]}"; do
			for ph in W6clean W6held; do
				[[ $ph == W6clean && $CLEAN == W7 ]] && continue
				echo "- $sys ${ph#W6}:"; echo; by_minute "$ph-$sys"; echo
			done
		done
		echo "Tables at the end of the held run (n_live_tup, n_dead_tup from pg_stat_user_tables, as of the last statistics report):"
		echo
		for sys in "${SYSTEMS[@]}"; do echo "- $sys:"; tables "W6held-$sys"; done
		echo
		echo "![W6 throughput per interval]($(basename "$PREFIX")-w6-throughput.svg) ![W6 sizes]($(basename "$PREFIX")-w6-sizes.svg)"
		echo
	fi
	if [[ " $PARTS " == *" W7 "* ]]; then
		echo "## W7: bloat soak"
		echo
		echo "${W7_SECONDS} s at the same offered load, default autovacuum, no held snapshot. Sizes sampled every ${SAMPLE} s. Flat = the total (table + indexes) never exceeds its size at ${FLAT_AFTER} s by more than $(awk -v t="$FLAT_TOL" 'BEGIN { printf "%.0f", t * 100 }') %."
		echo
		echo "| system | offered /s | created /s | claimed /s (mean) | pickup p50 / p99 ms | left at end | MB at ${FLAT_AFTER} s | MB at end | max MB after ${FLAT_AFTER} s | growth | flat? |"
		echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
		for sys in "${SYSTEMS[@]}"; do
			read -r at en mx gr fl <<<"$(flat "$DATA_OUT/W7-$sys.sizes")"
			echo "| $sys | ${RATE[$sys]} | $(created_rate "W7-$sys") | $(mean_tput "W7-$sys") | $(sv "W7-$sys" p50) / $(sv "W7-$sys" p99) | $(sv "W7-$sys" left) | $at | $en | $mx | $gr | $fl |"
		done
		echo
		echo "Size curve (MB, table + indexes, every ${SAMPLE} s):"
		echo
		for sys in "${SYSTEMS[@]}"; do
			printf '%s' "- $sys: "
			awk -F'\t' '{ printf "%s%.1f", (NR > 1 ? ", " : ""), ($2 + $3) / 1048576 } END { print "" }' "$DATA_OUT/W7-$sys.sizes" 2>/dev/null || echo "no data"
		done
		echo
		echo "Tables at the end of W7 (task keeps finished tasks, its record and log, until they are removed: tables holding them grow with the work done, which is not bloat; judge flatness table by table, queue state apart from history):"
		echo
		for sys in "${SYSTEMS[@]}"; do echo "- $sys:"; tables "W7-$sys"; done
		echo
		echo "![W7 sizes]($(basename "$PREFIX")-w7-sizes.svg)"
		echo
	fi
	echo "Raw data of this run: tmp/soak/out/ (*.tput, *.sizes, *.stat, pgbench logs). Workloads and settings: bench/README.md."
} >"$out"
cat "$out"
log "written $out ${plots[*]}"
