#!/usr/bin/env bash
# Live capture throughput (docs/performance.md, issue 13): an iperf3 TCP
# stream over a veth pair between two network namespaces made here, once
# captured by flowsift -i, once by tcpdump -w /dev/null; prints packets/s
# and the kernel's drop counter for each. Needs root, iperf3, tcpdump.
# Usage: tools/livebench/livebench.sh [SECONDS] [small] [FLOWSIFT_BINARY]
# "small": segmentation offload off on the sender (gso_max_segs 1), so
# that every segment is a frame of at most 1514 bytes: many more packets/s.
# BUF=MIB in the environment gives both the same buffer (flowsift -B MIB,
# tcpdump -B MIB*1024); default: each its own (64 MiB and 2 MiB).
set -euo pipefail
secs=${1:-10}
small=${2:-}
fs=${3:-/tmp/livebench-flowsift}
cd "$(dirname "$0")/../.."
[ -x "$fs" ] || go build -o "$fs" ./cmd/flowsift
A=lbA$$ B=lbB$$
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip link add vA netns $A type veth peer name vB netns $B
ip -n $A addr add 10.98.0.1/24 dev vA; ip -n $B addr add 10.98.0.2/24 dev vB
if [ "$small" = small ]; then ip -n $A link set vA gso_max_segs 1; ip -n $B link set vB gso_max_segs 1; fi
ip -n $A link set vA up; ip -n $B link set vB up; ip -n $A link set lo up; ip -n $B link set lo up
out=$(mktemp -d)

run() { # NAME COMMAND...: capture during an iperf3 run, then SIGINT
	local name=$1; shift
	ip netns exec $B iperf3 -s -1 -D
	sleep 0.3
	ip netns exec $A "$@" >"$out/$name.out" 2>"$out/$name.err" &
	local pid=$!
	sleep 1
	ip netns exec $A iperf3 -c 10.98.0.2 -t "$secs" -J >"$out/$name.iperf.json"
	sleep 0.5
	kill -INT $pid; wait $pid || true
	local gbps
	gbps=$(python3 -c "import json,sys; d=json.load(open('$out/$name.iperf.json')); print('%.1f' % (d['end']['sum_received']['bits_per_second']/1e9))" 2>/dev/null || echo "?")
	echo "$name: iperf3 $gbps Gbit/s"
}
fsbuf=() tdbuf=()
if [ -n "${BUF:-}" ]; then fsbuf=(-B "$BUF"); tdbuf=(-B $((BUF * 1024))); fi
run flowsift "$fs" -i vA -w "$out/fs/" --no-progress "${fsbuf[@]}"
recv=$(grep -o 'received by the kernel: [0-9]*' "$out/flowsift.out" | grep -o '[0-9]*$')
drop=$(grep -o 'dropped by the kernel: [0-9]*' "$out/flowsift.out" | grep -o '[0-9]*$')
echo "flowsift: $recv packets received, $drop dropped, $((recv / secs)) packets/s (over the ${secs} s of iperf3)"
run tcpdump tcpdump -i vA -w /dev/null "${tdbuf[@]}"
recv=$(grep -o '[0-9]* packets received by filter' "$out/tcpdump.err" | grep -o '^[0-9]*')
drop=$(grep -o '[0-9]* packets dropped by kernel' "$out/tcpdump.err" | grep -o '^[0-9]*')
echo "tcpdump:  $recv packets received, $drop dropped, $((recv / secs)) packets/s (over the ${secs} s of iperf3)"
rm -rf "$out"
