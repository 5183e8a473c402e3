#!/bin/bash
# A job across hosts, as far as one machine can show it: the coordinator and
# each worker in a network namespace of its own (ip netns), joined by veth
# pairs on a bridge, talking tcp:// only. Nothing is shared but the file
# system (the input and the output directory), so a job that assumed one
# host (loopback, ipc://, one process's memory) would fail here.
#
# usage: netns.sh BUILD_DIR SOURCE_DIR
# Needs root and iproute2; exits 77 (reported as skipped, never as passed)
# without them.
set -euo pipefail

bin=$1/bin/sluice
src=$2
if [ "$(id -u)" != 0 ] || ! command -v ip > /dev/null; then
	echo "netns.sh: needs root and iproute2 (ip netns); skipped"
	exit 77
fi

tag=sl$$
net=10.$((RANDOM % 200 + 20)).$((RANDOM % 250))
work=$(mktemp -d /tmp/sl-netns-XXXXXX)
pids=()

cleanup() {
	# The coordinator's SIGTERM shuts its workers down; then no mercy.
	[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[0]}" 2> /dev/null || true
	for _ in $(seq 30); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2> /dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
	wait 2> /dev/null || true
	for i in 0 1 2; do ip netns del "${tag}n$i" 2> /dev/null || true; done
	ip link del "${tag}br" 2> /dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip link add "${tag}br" type bridge
ip link set "${tag}br" up
for i in 0 1 2; do
	ns=${tag}n$i
	ip netns add "$ns"
	ip link add "${tag}v$i" type veth peer name "${tag}p$i"
	ip link set "${tag}p$i" netns "$ns"
	ip link set "${tag}v$i" master "${tag}br"
	ip link set "${tag}v$i" up
	ip -n "$ns" addr add "$net.$((i + 1))/24" dev "${tag}p$i"
	ip -n "$ns" link set "${tag}p$i" up
	ip -n "$ns" link set lo up
done

coord=tcp://$net.1:7171
SLUICE_LOG=info ip netns exec "${tag}n0" "$bin" coordinator --listen "$coord" \
	--heartbeat-ms 200 > "$work/coord.out" 2> "$work/coord.err" &
pids+=($!)
for i in 1 2; do
	SLUICE_LOG=info ip netns exec "${tag}n$i" "$bin" worker --coordinator "$coord" \
		--id "w$i" --host "$net.$((i + 1))" 2> "$work/w$i.err" &
	pids+=($!)
done

for _ in $(seq 100); do
	n=$(grep -c 'registered:' "$work/coord.err" || true)
	[ "$n" = 2 ] && break
	sleep 0.1
done
if [ "$(grep -c 'registered:' "$work/coord.err" || true)" != 2 ]; then
	echo "netns.sh: the workers did not register"
	cat "$work"/*.err
	exit 1
fi

# Some real text, several times over so that every task has work.
for _ in 1 2 3 4; do cat /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0; done > "$work/in.txt"

# The client sits in the coordinator's namespace: no address of the root
# namespace is on the bridge.
ip netns exec "${tag}n0" "$bin" submit --coordinator "$coord" "$src/examples/wordcount.json" \
	-D input="$work/in.txt" -D output="$work/out" --wait > "$work/submit.out"
grep -q FINISHED "$work/submit.out"

LC_ALL=C tr -cs 'A-Za-z0-9' '\n' < "$work/in.txt" | LC_ALL=C tr 'A-Z' 'a-z' |
	grep -v '^$' | LC_ALL=C sort | LC_ALL=C uniq -c |
	awk '{print $2 "\t" $1}' | LC_ALL=C sort > "$work/want"
LC_ALL=C sort "$work"/out/part-* > "$work/got"
if ! cmp -s "$work/want" "$work/got"; then
	echo "netns.sh: the counts differ from tr | sort | uniq -c"
	diff "$work/want" "$work/got" | head -20
	exit 1
fi

# Both workers ran tasks (slot sharing puts index 0 and index 1 on
# different workers), so the all_to_all edge crossed namespaces.
for i in 1 2; do
	if ! grep -q "running task count#" "$work/w$i.err"; then
		echo "netns.sh: worker w$i ran no aggregation task"
		cat "$work/w$i.err"
		exit 1
	fi
done
ip netns exec "${tag}n0" "$bin" status --coordinator "$coord" | grep -q 'FINISHED'
echo "netns.sh: WordCount across three network namespaces matches ($(wc -l < "$work/got") words)"
