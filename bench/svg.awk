# Minimal SVG charts from tab-separated data, in awk (no Python, no gnuplot).
# Called by the bench scripts on their own results:
#
#   awk -F'\t' -v kind=line -v title=... -v xlabel=... -v ylabel=... [-v logx=1] [-v logy=1] \
#       -f bench/svg.awk data.tsv > chart.svg
#       data: series <TAB> x <TAB> y                (one line per point, points in x order)
#   awk -F'\t' -v kind=bar -v title=... -v ylabel=... [-v logy=1] [-v ref=1] \
#       -f bench/svg.awk data.tsv > chart.svg
#       data: group <TAB> series <TAB> value [<TAB> label]   (grouped bars; label printed above the bar)
#
# Non-numeric values are skipped (a step that failed or was not run).  ref draws a
# dashed horizontal line at that value (e.g. 1.0 for a ratio chart).
function isnum(v) { return v ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function lg(v) { return log(v) / log(10) }
function tx(v) { v = logx ? lg(v) : v; return L + (xmax > xmin ? (v - xmin) / (xmax - xmin) : 0.5) * PW }
function ty(v) { v = logy ? lg(v) : v; return T + PH - (ymax > ymin ? (v - ymin) / (ymax - ymin) : 0.5) * PH }
function num(v) { return (v >= 1000000 ? sprintf("%.1fM", v / 1000000) : v >= 10000 ? sprintf("%.0fk", v / 1000) : v >= 100 ? sprintf("%.0f", v) : v >= 1 ? sprintf("%.3g", v) : sprintf("%.2g", v)) }
function color(i) { return pal[(i - 1) % npal + 1] }
function addseries(s) { if (!(s in sidx)) { sidx[s] = ++ns; sname[ns] = s } return sidx[s] }
function addgroup(g) { if (!(g in gidx)) { gidx[g] = ++ng; gname[ng] = g } return gidx[g] }
# axis ticks: linear (nice steps) or log (powers of ten) between lo and hi (already log10 for log axes)
function ticks(lo, hi, islog, arr,    n, step, p, v, mag) {
  n = 0
  if (islog) {
    for (p = int(lo) - 1; p <= hi + 1; p++) if (p >= lo - 1e-9 && p <= hi + 1e-9) arr[++n] = 10 ^ p
    if (n < 2) { arr[++n] = 10 ^ lo; arr[++n] = 10 ^ hi }
    return n
  }
  step = (hi - lo) / 5; if (step <= 0) step = 1
  mag = 10 ^ int(lg(step)); if (mag > step) mag /= 10
  step = (step / mag < 1.5) ? mag : (step / mag < 3.5) ? 2 * mag : (step / mag < 7.5) ? 5 * mag : 10 * mag
  for (v = int(lo / step) * step; v <= hi + step * 1e-6; v += step) if (v >= lo - step * 1e-6) arr[++n] = v
  return n
}

BEGIN {
  split("#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf", pal, " "); npal = 10
  W = 760; H = 420; L = 80; R = 190; T = 40; B = 60; PW = W - L - R; PH = H - T - B
}

kind == "line" && NF >= 3 && isnum($2) && isnum($3) {
  if ((logx && $2 <= 0) || (logy && $3 <= 0)) next
  k = addseries($1); n = ++np[k]; px[k, n] = $2 + 0; py[k, n] = $3 + 0
  xv = logx ? lg($2) : $2; yv = logy ? lg($3) : $3
  if (!have || xv < xmin) xmin = xv; if (!have || xv > xmax) xmax = xv
  if (!have || yv < ymin) ymin = yv; if (!have || yv > ymax) ymax = yv
  have = 1
}
kind == "bar" && NF >= 3 {
  g = addgroup($1); k = addseries($2)
  if (isnum($3) && (!logy || $3 > 0)) {
    bv[g, k] = $3 + 0; bl[g, k] = (NF >= 4 ? $4 : "")
    yv = logy ? lg($3) : $3
    if (!have || yv > ymax) ymax = yv
    if (!have || yv < ylo) ylo = yv
    have = 1
  }
}

END {
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H, W, H
  printf "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H
  printf "<text x=\"%d\" y=\"22\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", L, esc(title)
  if (!have) { printf "<text x=\"%d\" y=\"%d\">no data</text>\n</svg>\n", L, T + PH / 2; exit }
  if (kind == "bar") {
    if (ref != "" && (!logy || ref > 0)) { rv = logy ? lg(ref) : ref; if (rv > ymax) ymax = rv }
    if (logy) { ymin = int(ylo); if (ymin > ylo) ymin--; if (ymax - ymin < 1) ymax = ymin + 1; ymax += 0.08 * (ymax - ymin) }
    else { ymin = 0; ymax *= 1.1 }
  } else {
    if (!logx && xmin > 0) xmin = 0
    if (!logy) { if (ymin > 0) ymin = 0; ymax = ymax + 0.08 * (ymax - ymin); if (ymax == ymin) ymax = ymin + 1 }
    else { ymin = int(ymin) - (ymin < int(ymin) ? 1 : 0); if (ymax - ymin < 1) ymax = ymin + 1 }
  }
  # frame, y ticks and grid
  printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", L, T, PW, PH
  nt = ticks(ymin, ymax, logy, yt)
  for (i = 1; i <= nt; i++) {
    y = ty(yt[i]); if (y < T - 0.5 || y > T + PH + 0.5) continue
    printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, L + PW, y, y
    printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 5, y + 4, num(yt[i])
  }
  printf "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", T + PH / 2, esc(ylabel)
  if (kind == "line") {
    nt = ticks(xmin, xmax, logx, xt)
    if (logx) { delete xt; nt = 0; for (k = 1; k <= ns; k++) for (n = 1; n <= np[k]; n++) if (!(px[k, n] in xseen)) { xseen[px[k, n]] = 1; xt[++nt] = px[k, n] } }
    for (i = 1; i <= nt; i++) {
      x = tx(xt[i])
      printf "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n", x, x, T, T + PH
      printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, T + PH + 15, num(xt[i])
    }
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", L + PW / 2, T + PH + 38, esc(xlabel)
    for (k = 1; k <= ns; k++) {
      pts = ""
      for (n = 1; n <= np[k]; n++) pts = pts sprintf("%.1f,%.1f ", tx(px[k, n]), ty(py[k, n]))
      printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"%s\"/>\n", color(k), pts
      if (np[k] <= 30) for (n = 1; n <= np[k]; n++) printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", tx(px[k, n]), ty(py[k, n]), color(k)
    }
  } else {
    gw = PW / ng; bw = (gw * 0.8) / ns
    for (g = 1; g <= ng; g++) {
      x0 = L + (g - 1) * gw + gw * 0.1
      printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", L + (g - 0.5) * gw, T + PH + 15, esc(gname[g])
      for (k = 1; k <= ns; k++) {
        if (!((g, k) in bv)) continue
        y = ty(bv[g, k]); yb = T + PH
        printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %s</title></rect>\n", x0 + (k - 1) * bw, y, bw * 0.92, yb - y, color(k), esc(gname[g]), esc(sname[k]), bv[g, k]
        lab = bl[g, k]; if (lab == "") lab = num(bv[g, k])
        printf "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"8\">%s</text>\n", x0 + (k - 0.5) * bw, y - 3, esc(lab)
      }
    }
    if (xlabel != "") printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", L + PW / 2, T + PH + 38, esc(xlabel)
  }
  if (ref != "" && (!logy || ref > 0)) {
    y = ty(ref)
    printf "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-dasharray=\"5,4\"/>\n", L, L + PW, y, y
  }
  for (k = 1; k <= ns; k++) {
    y = T + 10 + (k - 1) * 18
    printf "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", L + PW + 12, y - 10, color(k)
    printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + PW + 30, y, esc(sname[k])
  }
  print "</svg>"
}
