#!/usr/bin/env bash
# CPU of the claim path in one backend, for what an unlimited queue pays
# (issue 14, claim-time limits): bench/sql/claim_cpu.sql (7 blocks of 2000
# complete-and-claim calls in one session) on a fresh cluster, printing the
# fastest and the median block. Compare two builds by installing each in
# turn and running this script (see docs/FEATURES.md).
#   bench/claim_cpu.sh [LABEL]     (CLAIM_CPU_PORT, default 58448)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
PORT=${CLAIM_CPU_PORT:-58448}
# shellcheck source=../test/harness/cluster.sh
. "$ROOT/test/harness/cluster.sh"
DIR=$(h_tmp "$ROOT")/claim_cpu
cluster_start "$DIR" "$PORT" bench >/dev/null
trap 'cluster_stop "$DIR"' EXIT
q() { cluster_psql "$DIR" "$PORT" -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }
q -c 'CREATE EXTENSION task' -c "SELECT task.task_service_create('bench', 'bench')" >/dev/null
q -f "$HERE/sql/claim_cpu.sql" | grep -E '^[0-9.]+$' | sort -n |
	awk -v l="${1:-}" '{ a[NR] = $1 } END { printf "%s 2000 complete-and-claim calls: fastest %.1f ms, median %.1f ms (%d blocks; load %s)\n", l, a[1], a[int((NR + 1) / 2)], NR, load }' load="$(cut -d' ' -f1 /proc/loadavg)"
