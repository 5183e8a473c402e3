#!/bin/bash
# A remote shuffle daemon whose data dir fills up for real: a 4 MiB tmpfs
# made here (root), --max-disk-use 100 so that only the disk refuses, and
# a TeraSort of 6 MB pushed to it. The job fails with the system's words
# and the daemon's data dir named, exits 1, the daemon keeps running, and
# no partition file is left on its disk.
#
# usage: remote_disk_full.sh BUILD_DIR SOURCE_DIR
# Needs root (mount); exits 77 (reported as skipped, never as passed)
# without it.
set -euo pipefail

bin=$1/bin/sluice
src=$2
work=$(mktemp -d /tmp/sl-rfull-XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -9 "$pid" 2> /dev/null || true
		wait "$pid" 2> /dev/null || true
	fi
	umount "$work/disk" 2> /dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/disk"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=4m tmpfs "$work/disk" 2> /dev/null; then
	echo "remote_disk_full.sh: needs root to mount a small tmpfs; skipped"
	exit 77
fi

"$bin" shuffled --listen "ipc://$work/rs.sock" --data-dir "$work/disk" \
	--max-disk-use 100 2> "$work/rs.err" &
pid=$!
for _ in $(seq 100); do
	grep -q "listening at" "$work/rs.err" && break
	sleep 0.1
done
sed 's/"localdisk"/"remote"/' "$src/examples/terasort.json" > "$work/job.json"
"$bin" gen-records --count 60000 --output "$work/in.bin" > /dev/null
set +e
"$bin" run "$work/job.json" -D input="$work/in.bin" -D output="$work/out" \
	--shuffle-service "ipc://$work/rs.sock" > "$work/out.txt" 2> "$work/err.txt"
rc=$?
set -e
fail() {
	echo "remote_disk_full.sh: $*"
	echo "--- sluice run:"
	tail -20 "$work/err.txt"
	echo "--- the daemon:"
	tail -20 "$work/rs.err"
	exit 1
}
[ $rc = 1 ] || fail "wanted exit 1, got $rc"
grep -q "No space left on device" "$work/err.txt" || fail "the error does not say the disk is full"
grep -q "$work/disk" "$work/err.txt" || fail "the error does not name the daemon's data dir"
kill -0 "$pid" 2> /dev/null || fail "the daemon died"
# the release at the job's end reaches the daemon without waiting
for _ in $(seq 50); do
	[ "$(find "$work/disk" -type f | wc -l)" = 0 ] && break
	sleep 0.1
done
left=$(find "$work/disk" -type f | wc -l)
[ "$left" = 0 ] || fail "$left files left on the daemon's disk: $(find "$work/disk" -type f)"
echo "remote_disk_full.sh: $(grep -m1 "No space" "$work/err.txt")"
