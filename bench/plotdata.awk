# results.tsv (workload, system, tasks/s or text, note) -> data for bench/svg.awk.
#   mode=ratio:   group (workload) <TAB> system <TAB> tasks/s ÷ raw's <TAB> tasks/s (bar label)
#   mode=scaling: system <TAB> workers <TAB> tasks/s   (workloads S<n>)
# Repeated steps (BENCH_REPEAT): the median, as in the table.
function isnum(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ }
{
  if (!isnum($3)) next
  if (!(($1) in seen)) { seen[$1] = 1; order[++nw] = $1 }
  k = ++n[$1, $2]; v[$1, $2, k] = $3 + 0
}
function median(w, s,    m, i, j, t, a) {
  m = n[w, s]; for (i = 1; i <= m; i++) a[i] = v[w, s, i]
  for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
  ns = split(systems, sys, " ")
  for (i = 1; i <= nw; i++) {
    w = order[i]
    for (j = 1; j <= ns; j++) {
      s = sys[j]; if (!n[w, s]) continue
      m = median(w, s)
      if (mode == "scaling" && w ~ /^S[0-9]+$/) print s "\t" substr(w, 2) "\t" m
      if (mode == "ratio" && n[w, "raw"] && w !~ /^S[0-9]+$/) printf "%s\t%s\t%.3f\t%s\n", w, s, m / median(w, "raw"), (m >= 10000 ? sprintf("%.0fk", m / 1000) : sprintf("%.0f", m))
    }
  }
}
