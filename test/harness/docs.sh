#!/usr/bin/env bash
# Docs that cannot drift: run every SQL example of README.md and docs/*.md, in order, and compare
# the output each one shows with what psql prints. Usage: docs.sh [FILE.md...] (default: all).
#
# The convention (README.md, Contributing):
#   ```sql          run, in one psql session per file, as a superuser, on a fresh cluster
#   ```sql norun    shown, not run (needs something the test cannot have, e.g. PostgREST);
#                   every such block is listed in this script's output
#   ```text         directly after a run ```sql block (blank lines between are fine): the exact
#                   output of that block, compared line by line (trailing spaces and trailing
#                   blank lines ignored); psql runs with -q, \pset footer off, SHOW_CONTEXT never
# A run block without a ```text block may print anything but an error. Every file starts on a
# fresh cluster (task and pg_cron preloaded, database postgres); its blocks build on each other.
# Prints "test docs:FILE ... ok|FAILED" per file (check.sh counts them); exit 1 on any failure.
# Port: TASK_CHECK_DOCS_PORT (default 58436); directory: $TASK_CHECK_DIR-docs or tmp/check-docs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=cluster.sh
. "$here/cluster.sh"
cd "$root"
port=${TASK_CHECK_DOCS_PORT:-58436}
dir=$(h_check_dir docs "$root")
rm -rf "$dir"
mkdir -p "$dir"

if [ $# -gt 0 ]; then files=("$@"); else files=(README.md $(find docs -maxdepth 1 -name '*.md' | LC_ALL=C sort)); fi

# Split FILE.md into $out/script.sql (every run block, each after an "\echo @@docs-block N@@" marker),
# $out/N.expected (the ```text block shown after block N), $out/N.line (its first line in FILE.md),
# and $out/norun (the line numbers of blocks not run). Fails on an unclosed fence or a block whose
# last statement has no terminator (it would run glued to the next block).
extract() { # FILE OUT
	awk -v out="$2" -v file="$1" '
	function fail(msg) { printf "%s:%d: %s\n", file, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
	BEGIN { n = 0; mode = ""; pending = 0
	        script = out "/script.sql"
	        print "\\set ON_ERROR_STOP 0\n\\pset footer off\n\\set SHOW_CONTEXT never" > script }
	mode == "" && /^```/ {
		tag = substr($0, 4)
		if (tag ~ /^text[ \t]*$/ && pending) { mode = "expected"; pending = 0; next }
		pending = 0
		if (tag ~ /^sql[ \t]*$/) {
			n++; mode = "sql"; last = ""
			printf "%d\n", NR > (out "/" n ".line")
			printf "\\echo @@docs-block %d@@\n", n > script
			next
		}
		if (tag ~ /^sql[ \t]+norun[ \t]*$/) { print NR > (out "/norun"); mode = "skip"; next }
		if (tag ~ /^sql/) fail("unknown sql block tag \"" tag "\" (use ```sql or ```sql norun)")
		mode = "skip"; next
	}
	mode == "" && /[^ \t]/ { pending = 0 }
	mode != "" && /^```[ \t]*$/ {
		if (mode == "sql") {
			if (last !~ /(;|\\gset|\\g|\\gx)[ \t]*(--.*)?$/ && last !~ /^[ \t]*\\/)
				fail("the sql block ending here does not end its last statement with ;")
			pending = 1
		}
		mode = ""; next
	}
	mode == "sql" { print > script; if ($0 ~ /[^ \t]/ && $0 !~ /^[ \t]*--/) last = $0; next }
	mode == "expected" { print > (out "/" n ".expected"); next }
	END { if (!bad && mode != "") { printf "%s: a ``` fence is not closed\n", file > "/dev/stderr"; exit 1 }
	      print n > (out "/count") }
	' "$1"
}

# Strip trailing spaces and trailing blank lines.
tidy() { sed -e 's/[ \t]*$//' "$1" | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}'; }

status=0
for md in "${files[@]}"; do
	name=docs:$md
	out=$dir/$(printf '%s' "$md" | tr '/' '_')
	mkdir -p "$out"
	fails=()
	if ! extract "$md" "$out" 2>"$out/extract.err"; then
		cat "$out/extract.err"
		h_result "$name" FAILED
		status=1
		continue
	fi
	count=$(cat "$out/count")
	norun=()
	if [ -f "$out/norun" ]; then mapfile -t norun <"$out/norun"; fi
	compared=0
	if [ "$count" -gt 0 ]; then
		cluster_start "$out/cluster" "$port" >/dev/null
		cluster_psql "$out/cluster" "$port" -q -d postgres <"$out/script.sql" >"$out/actual.txt" 2>&1 || true
		cluster_stop "$out/cluster"
		# one file per block: the output after its marker
		awk -v out="$out" '/^@@docs-block [0-9]+@@$/ { n = $2; sub(/@@$/, "", n); f = out "/" n ".actual"; printf "" > f; next }
		                   f { print > f }' "$out/actual.txt"
		for ((i = 1; i <= count; i++)); do
			line=$(cat "$out/$i.line")
			[ -f "$out/$i.actual" ] || : >"$out/$i.actual"
			if [ -f "$out/$i.expected" ]; then
				compared=$((compared + 1))
				if ! diff -u --label "$md:$line (shown)" --label "$md:$line (psql)" \
					<(tidy "$out/$i.expected") <(tidy "$out/$i.actual") >"$out/$i.diff"; then
					fails+=("$md:$line: the output shown is not what psql prints (- shown, + psql):")
					fails+=("$(head -n 60 "$out/$i.diff")")
				fi
			elif grep -qE '^(ERROR|FATAL|PANIC|WARNING):|^no rows returned for \\gset|^more than one row returned for \\gset|^invalid command|^psql: ' "$out/$i.actual"; then
				fails+=("$md:$line: the block failed (show the error in a \`\`\`text block after it if it is meant):")
				fails+=("$(head -n 20 "$out/$i.actual")")
			fi
		done
	fi
	msg="docs: $md: $count block(s) run, $compared output(s) compared, ${#norun[@]} not run"
	[ ${#norun[@]} -eq 0 ] || msg="$msg (norun at line(s) ${norun[*]})"
	echo "$msg"
	if [ ${#fails[@]} -eq 0 ]; then
		h_result "$name" ok
	else
		printf '%s\n' "${fails[@]}"
		h_result "$name" FAILED
		status=1
	fi
done
exit $status
