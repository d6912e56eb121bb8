#!/bin/bash
# bench/read/ab.sh ROUNDS "NAME:PG_CONFIG:PORT ..." [WORKLOADS]
#
# Backend CPU per call of task_get, task_list (as a service and as a
# client login) and the drain loop, on one throwaway cluster per
# installation (each NAME: the PostgreSQL whose pg_config is PG_CONFIG,
# with the version of task to measure installed, on PORT), the workloads
# interleaved round by round over the installations. Prints one line per
# run: NAME WORKLOAD ROUND cpu_µs_per_call wall_µs_per_call; median.sh
# summarizes. Workloads: get_svc get_cli list_svc list_cli drain (default
# all); calls per run: N_GET (2000), N_LIST (200), N_DRAIN (1000), each
# after 30 warm-up calls. SETUP="NAME ..." sets up only those clusters
# again (default: all; SETUP= reuses every one). docs/PERFORMANCE.md,
# "Reading tasks", gives the figures and the commands.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
H=$root/test/harness/cluster.sh
work=${TASK_BENCH_READ_DIR:-$root/tmp/bench-read}
rounds=$1; variants=$2; workloads=${3:-"get_svc get_cli list_svc list_cli drain"}
declare -A N=([get_svc]=${N_GET:-2000} [get_cli]=${N_GET:-2000} [list_svc]=${N_LIST:-200} [list_cli]=${N_LIST:-200} [drain]=${N_DRAIN:-1000})
declare -A ROLE=([get_svc]=ab_svc [get_cli]=ab_client [list_svc]=ab_svc [list_cli]=ab_client [drain]=ab_svc)
for v in $variants; do
  IFS=: read -r name pgc port <<<"$v"
  d=$work/c-$name
  if [ -z "${SETUP+x}" ] || [[ " $SETUP " == *" $name "* ]]; then
    PG_CONFIG=$pgc $H start "$d" "$port" >/dev/null
    PG_CONFIG=$pgc $H psql "$d" "$port" -q -f "$here/setup.sql" >/dev/null
    (cd "$d" && N_GET=${N[get_svc]} N_LIST=${N[list_svc]} N_DRAIN=${N[drain]} \
        "$here/gen.sh" "$("$pgc" --bindir)/psql" -X -h "$d" -p "$port" -U postgres postgres)
  fi
done
for r in $(seq "$rounds"); do
  for w in $workloads; do
    for v in $variants; do
      IFS=: read -r name pgc port <<<"$v"
      d=$work/c-$name
      # shellcheck disable=SC2046
      set -- $("$("$pgc" --bindir)/psql" -X -q -h "$d" -p "$port" -U "${ROLE[$w]}" -o /dev/null -f "$d/$w.sql" postgres)
      echo "$name $w $r $(( ($2 - $1) * 1000000 / $(getconf CLK_TCK) / ${N[$w]} )) $(( ($4 - $3) / 1000 / ${N[$w]} ))"
    done
  done
done
