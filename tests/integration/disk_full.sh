#!/bin/bash
# A full disk under a blocking shuffle: the localdisk directory on a 2 MiB
# tmpfs made here, a TeraSort of 6 MB. The job fails with the system's
# words and the file that could not be written, exits 1, and leaves no
# partition file behind.
#
# usage: disk_full.sh BUILD_DIR SOURCE_DIR
# Needs root (mount); exits 77 (reported as skipped, never as passed)
# without it.
set -euo pipefail

bin=$1/bin/sluice
src=$2
work=$(mktemp -d /tmp/sl-full-XXXXXX)
cleanup() {
	umount "$work/disk" 2> /dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/disk"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=2m tmpfs "$work/disk" 2> /dev/null; then
	echo "disk_full.sh: needs root to mount a small tmpfs; skipped"
	exit 77
fi

"$bin" gen-records --count 60000 --output "$work/in.bin" > /dev/null
set +e
SLUICE_LOCALDISK_DIR=$work/disk "$bin" run "$src/examples/terasort.json" \
	-D input="$work/in.bin" -D output="$work/out" > "$work/out.txt" 2> "$work/err.txt"
rc=$?
set -e
if [ $rc != 1 ]; then
	echo "disk_full.sh: wanted exit 1, got $rc"
	cat "$work/err.txt"
	exit 1
fi
if ! grep -q "No space left on device" "$work/err.txt" ||
	! grep -q "shuffle 'localdisk'" "$work/err.txt"; then
	echo "disk_full.sh: the error does not say the disk is full:"
	cat "$work/err.txt"
	exit 1
fi
left=$(find "$work/disk" -type f | wc -l)
if [ "$left" != 0 ]; then
	echo "disk_full.sh: $left files left on the full disk:"
	find "$work/disk" -type f
	exit 1
fi
if [ -d "$work/out" ] && [ -n "$(ls "$work/out" | grep '^part-' || true)" ]; then
	echo "disk_full.sh: part files visible after a failed job"
	exit 1
fi
echo "disk_full.sh: $(head -1 "$work/err.txt")"
