#!/bin/bash
# gen.sh PSQL...: (in the cluster's directory) writes the workload files get_svc, get_cli, list_svc, list_cli, drain (N_GET, N_LIST, N_DRAIN calls after 30 warm-up calls)
P=("$@")
wrap() { # name role: stdin = statements
  local f=$1.sql
  { echo 'SELECT pg_backend_pid() AS pid \gset'; head -30 $1.body
    echo "\\set t0 \`awk '{print \$14+\$15}' /proc/:pid/stat\`"
    echo "\\set w0 \`date +%s%N\`"
    tail -n +31 $1.body
    echo "\\set t1 \`awk '{print \$14+\$15}' /proc/:pid/stat\`"
    echo "\\set w1 \`date +%s%N\`"
    echo '\echo :t0 :t1 :w0 :w1'; } > $f
}
"${P[@]}" -Atq -c "SELECT format('SELECT task.task_get(%L);', id) FROM ids ORDER BY md5(n::text) LIMIT ${N_GET:-2000}+30" > get_svc.body
"${P[@]}" -Atq -c "SELECT format('SELECT task.task_get(%L);', id) FROM ids WHERE shared ORDER BY md5(n::text) LIMIT ${N_GET:-2000}+30" > get_cli.body
for i in $(seq $((${N_LIST:-200}+30))); do echo "SELECT count(*) FROM task.task_list(queue => 'ab/hist', list_limit => 50);"; done > list_svc.body
cp list_svc.body list_cli.body
for i in $(seq $((${N_DRAIN:-1000}+30))); do echo "SELECT task.task_complete(d.id, token => d.lease_token) FROM task.task_dequeue('ab/work') d;"; done > drain.body
for w in get_svc get_cli list_svc list_cli drain; do wrap $w; done
