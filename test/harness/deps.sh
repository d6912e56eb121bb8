#!/usr/bin/env bash
# Install whatever is missing of PostgreSQL 15 (server, headers), pg_cron, pgTAP, PL/Proxy, make and gcc on Debian
# bookworm, with apt-get as root or through sudo; prints only "deps: all present" when nothing is missing.
# A 15/main cluster the postgresql package may start on port 5432 is left alone: the harness never uses it.
set -euo pipefail

# libc6-dev: gcc only recommends it, and --no-install-recommends would leave out the C headers.
# procps: pgrep and pkill, with which test/harness/faults.sh finds the sessions it kills.
pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plproxy make gcc libc6-dev procps)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present"
	exit 0
fi

if [ "$(id -u)" = 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "deps: missing ${missing[*]}; run as root or install sudo, or install them by hand" >&2
	exit 1
fi
command -v apt-get >/dev/null 2>&1 || {
	echo "deps: missing ${missing[*]} and there is no apt-get (Debian/Ubuntu only): install them by hand" >&2
	exit 1
}

echo "deps: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
