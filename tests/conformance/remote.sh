#!/bin/bash
# The conformance suite against the remote plugin: it needs a daemon, so
# this starts one (`sluice-shuffled` on tcp loopback, its data in a
# scratch directory) and hands the plugin's master its URL through
# SL_CONFORMANCE_CONFIG.
#
# usage: remote.sh SHUFFLE_CONFORMANCE SHUFFLE_REMOTE_SO SLUICE_SHUFFLED
set -euo pipefail

work=$(mktemp -d /tmp/sl-conf-remote-XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
# tcp, not ipc: with Debian's nng 1.5.2, a daemon on ipc:// that many
# short-lived sockets dial (each test's writers and master) was seen to
# stop reading some of them, in 3 to 5 runs in 10 (docs/remote-shuffle.md)
"$3" --listen "tcp://127.0.0.1:0" --data-dir "$work/data" 2> "$work/rs.err" &
pid=$!
for _ in $(seq 100); do
	grep -q "listening at" "$work/rs.err" && break
	sleep 0.1
done
url=$(sed -n 's/.*listening at //p' "$work/rs.err")
[ -n "$url" ] || { cat "$work/rs.err"; exit 1; }
export SLUICE_LOCALDISK_DIR=$work/self
mkdir -p "$SLUICE_LOCALDISK_DIR"
SL_CONFORMANCE_CONFIG="{\"services\": [\"$url\"]}" "$1" "$2"
