# Turns tmp/bench/results.tsv (workload, system, tasks/s or text, note) into the
# markdown tables of bench/results/*.md.  Called by bench/run.sh with -F'\t'
# and -v systems="raw pgq ...".
function isnum(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ }
function fmt(v) { return isnum(v) ? sprintf("%.0f", v) : v }
function ratio(a, b) { return (isnum(a) && isnum(b) && b > 0) ? sprintf("%.2f×", a / b) : "" }
function yesno(c) { return c ? "yes" : "no" }

BEGIN {
  nsys = split(systems, sys, " ")
  label["W1"] = "W1 enqueue 1/tx"
  label["W2"] = "W2 enqueue 100/tx"
  label["W3"] = "W3 drain 1/tx"
  label["W4"] = "W4 drain 10/tx"
  label["W5"] = "W5 drain 1/tx + history"
  target["W1"] = "≥ 0.8× raw";  tr["W1"] = 0.8
  target["W2"] = "≥ 0.6× raw";  tr["W2"] = 0.6
  target["W3"] = "≥ 0.8× raw and ≥ 1.5× fastest peer"; tr["W3"] = 0.8; tp["W3"] = 1.5
  target["W4"] = "≥ 0.7× raw";  tr["W4"] = 0.7
  target["W5"] = "W5/W3 ≥ 0.9 (table below)"
  peer["pgq"] = 1; peer["pg-boss"] = 1; peer["graphile-worker"] = 1
}

{
  w = $1; s = $2
  if (!(w in seen)) {
    seen[w] = 1; order[++nw] = w
    if (w ~ /^S[0-9]+$/) { label[w] = "W3 drain, " substr(w, 2) " worker" (w == "S1" ? "" : "s"); scal[++nscal] = w }
  }
  if (isnum($3)) { k = ++nv[w, s]; vals[w, s, k] = $3 + 0 }
  else if (!((w, s) in val)) val[w, s] = $3
  note[w, s] = $4
  if (!((w, s) in val)) val[w, s] = ""
}

# median of the repeated runs (BENCH_REPEAT); a text value stays when nothing was measured
function median(w, s,    n, i, j, t, a) {
  n = nv[w, s]
  for (i = 1; i <= n; i++) a[i] = vals[w, s, i]
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

END {
  for (i = 1; i <= nw; i++) for (j = 1; j <= nsys; j++) {
    w = order[i]; s = sys[j]
    if (nv[w, s] > 0) {
      val[w, s] = sprintf("%.1f", median(w, s))
      if (nv[w, s] > 1) note[w, s] = "median of " nv[w, s] (note[w, s] != "" ? "; " note[w, s] : "")
    }
  }
  print "| workload | system | tasks/s | × raw | × fastest peer | target (task) | met? | notes |"
  print "|---|---|--:|--:|--:|---|---|---|"
  for (i = 1; i <= nw; i++) {
    w = order[i]
    best = ""; bestname = ""
    for (j = 1; j <= nsys; j++) {
      s = sys[j]
      if ((s in peer) && isnum(val[w, s]) && (best == "" || val[w, s] + 0 > best + 0)) { best = val[w, s]; bestname = s }
    }
    first = 1
    for (j = 1; j <= nsys; j++) {
      s = sys[j]
      if (!((w, s) in val)) continue
      v = val[w, s]; r = ratio(v, val[w, "raw"])
      vp = ""; tg = ""; met = ""
      if (s == "task") {
        vp = ratio(v, best); if (vp != "") vp = vp " (" bestname ")"
        tg = target[w]; if (w ~ /^S[0-9]+$/) tg = "no fall beyond the cores (table below)"
        if (w == "W5") met = "see below"
        else if (!(w in tr)) met = (w ~ /^S/) ? "see below" : ""
        else if (isnum(v) && isnum(val[w, "raw"])) {
          ok = (v / val[w, "raw"] >= tr[w])
          if (w in tp) { if (isnum(best)) ok = ok && (v / best >= tp[w]); else ok = -1 }
          met = (ok == -1) ? "? (no peer)" : yesno(ok)
        } else met = "–"
      }
      nt = note[w, s]
      if (s == "task" && isnum(v) && isnum(val[w, "floor"]))   # floor: raw SQL writing task's row (bench/README.md)
        nt = sprintf("%.2f× floor", v / val[w, "floor"]) (nt != "" ? "; " nt : "")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", (first ? label[w] : ""), s, fmt(v), r, vp, tg, met, nt
      first = 0
    }
  }

  if (("W3" in seen) && ("W5" in seen)) {
    print ""
    print "History cost (W5 = W3 with finished tasks already in the table):"
    print ""
    print "| system | W3 tasks/s | W5 tasks/s | W5/W3 | target (task) | met? |"
    print "|---|--:|--:|--:|---|---|"
    for (j = 1; j <= nsys; j++) {
      s = sys[j]
      if (!(("W3", s) in val)) continue
      a = val["W3", s]; b = val["W5", s]
      tg = ""; met = ""
      if (s == "task") {
        tg = "≥ 0.9"
        met = (isnum(a) && isnum(b)) ? yesno(b / a >= 0.9) : "–"
      }
      printf "| %s | %s | %s | %s | %s | %s |\n", s, fmt(a), fmt(b), ratio(b, a), tg, met
    }
  }

  # Scaling: the W3 drain with 1, 4, 16, 64 workers (S<n>).  Target (task): the
  # throughput does not fall as workers are added beyond the number of cores; with
  # noise from the machine, "falls" = below 0.9x the previous count's.
  if (nscal > 0) {
    print ""
    print "Scaling (W3 drain, tasks/s by number of workers; " cores " cores):"
    print ""
    hdr = "| system |"; sep = "|---|"
    for (i = 1; i <= nscal; i++) { hdr = hdr " " substr(scal[i], 2) " |"; sep = sep "--:|" }
    print hdr " last / best | falls beyond " cores " cores? (< 0.9× the previous count) |"
    print sep "--:|---|"
    for (j = 1; j <= nsys; j++) {
      s = sys[j]; line = "| " s " |"; best = 0; prev = ""; falls = ""; any = 0
      for (i = 1; i <= nscal; i++) {
        w = scal[i]; v = ((w, s) in val) ? val[w, s] : ""
        line = line " " fmt(v) " |"
        if (isnum(v)) {
          any = 1; if (v + 0 > best) best = v + 0
          if (substr(w, 2) + 0 > cores + 0 && isnum(prev) && v / prev < 0.9) falls = falls (falls == "" ? "" : ", ") "yes at " substr(w, 2) " (" sprintf("%.2f", v / prev) "×)"
          prev = v
        }
        last = v
      }
      if (!any) continue
      printf "%s %s | %s |\n", line, (isnum(last) && best > 0) ? sprintf("%.2f×", last / best) : "", (falls == "" ? "no" : falls) (s == "task" ? " (target: no)" : "")
    }
  }
}
