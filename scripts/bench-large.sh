#!/usr/bin/env bash
# make bench-large: heapsift's cost per object on Go cores of two sizes, to
# show that it grows linearly with the heap: testdata/bigheap with
# $BENCH_LARGE_SMALL sessions (default 1.5 million: ~18 million objects, a
# 2.1 GB core, the core of `make bench`) and with $BENCH_LARGE_LARGE
# sessions (default 4.5 million: ~54 million objects, a ~6.3 GB core). For
# each it measures `heapsift histogram` and `heapsift retain` (best wall
# time of $BENCH_RUNS runs and that run's CPU time, user and system; peak
# anonymous memory sampled from /proc/PID/status) and prints them per
# object, then the large core's cost per object as a ratio of the small
# one's: 1.0 is linear growth. On a machine shared with other work the CPU
# time is the steadier measure of the work done.
#
# The cores are made once and kept in $BENCH_LARGE_DIR (default
# build/bench-large; the small one in $BENCH_LARGE_SMALL_DIR if set, which
# is reused as it is when its session count matches and rebuilt otherwise),
# needing ~9 GB of disk and, while the large one is made, ~7 GB of memory.
# Making and reading them is heavy: the script holds /tmp/heapsift-heavy.lock
# (flock) throughout, taking it itself unless HEAPSIFT_HEAVY_LOCK_HELD=1
# says that the caller already holds it. Not part of `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LOCK=${HEAPSIFT_HEAVY_LOCK:-/tmp/heapsift-heavy.lock}
if [ -z "${HEAPSIFT_HEAVY_LOCK_HELD:-}" ]; then
	command -v flock >/dev/null 2>&1 || { echo "bench-large: needs flock (util-linux)" >&2; exit 1; }
	echo "bench-large: waiting for $LOCK"
	exec env HEAPSIFT_HEAVY_LOCK_HELD=1 flock "$LOCK" bash "$0" "$@"
fi

DIR=${BENCH_LARGE_DIR:-build/bench-large}
SMALL=${BENCH_LARGE_SMALL:-1500000}
LARGE=${BENCH_LARGE_LARGE:-4500000}
SMALL_DIR=${BENCH_LARGE_SMALL_DIR:-$DIR/small}
LARGE_DIR=$DIR/large
RUNS=${BENCH_RUNS:-1}
HEAPSIFT=$PWD/bin/heapsift

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench-large: needs $1 ($2)" >&2; exit 1; }; }
need go "Go toolchain"
need bc "apt-get install bc"
[ -x /usr/bin/time ] || { echo "bench-large: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

go build -o bin/heapsift ./cmd/heapsift

# makecore DIR SESSIONS: a bigheap core of SESSIONS sessions in DIR/core,
# made unless DIR/sessions says it is there already.
makecore() {
	local dir=$1 sessions=$2
	if [ -f "$dir/core" ] && [ "$(cat "$dir/sessions" 2>/dev/null)" = "$sessions" ]; then
		return
	fi
	echo "bench-large: making a core from testdata/bigheap with $sessions sessions in $dir"
	rm -rf "$dir/src" "$dir/core" && mkdir -p "$dir/src"
	cp testdata/bigheap/*.go "$dir/src/"
	printf 'module bigheap\n\ngo 1.22\n' >"$dir/src/go.mod"
	(cd "$dir/src" && GOFLAGS=-mod=mod GOWORK=off go build -o ../bigheap .)
	(cd "$dir" && ulimit -c unlimited && GOTRACEBACK=crash ./bigheap -sessions "$sessions" >truth.txt 2>crash.txt) || true
	[ -f "$dir/core" ] || { echo "bench-large: no core made; see $dir/crash.txt (kernel.core_pattern must be 'core')" >&2; exit 1; }
	echo "$sessions" >"$dir/sessions"
}

. scripts/measure.sh
bench_name=bench-large

makecore "$SMALL_DIR" "$SMALL"
makecore "$LARGE_DIR" "$LARGE"

results=()
row() { results+=("$(printf '| %-30s | %10s | %8s | %9s | %9s | %10s | %12s | %12s | %s |' "$@")"); }
ns() { printf '%.0f' "$(echo "$1 * 1000000000 / $2" | bc -l)"; }
bper() { printf '%.1f' "$(echo "$1 * 1024 / $2" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

declare -A per
for size in small large; do
	if [ $size = small ]; then dir=$SMALL_DIR; else dir=$LARGE_DIR; fi
	core=$dir/core
	objs=$(awk '$2 == "heap_objects" {print $3}' "$dir/truth.txt")
	gb=$(printf '%.1f' "$(echo "$(stat -c %s "$core") / 1000000000" | bc -l)")
	echo "bench-large: $size core $core, $gb GB, $objs heap objects"
	cat "$core" >/dev/null # warm the page cache, as far as it holds it
	for cmd in histogram retain; do
		measure "$HEAPSIFT" "$cmd" "$core"
		per[$size-$cmd-ns]=$(ns "$secs" "$objs")
		per[$size-$cmd-cpu]=$(ns "$cpu" "$objs")
		per[$size-$cmd-b]=$(bper "$anon_kb" "$objs")
		row "heapsift $cmd, $size core" "$objs" "$gb GB" "$(printf '%.2f s' "$secs")" "$(printf '%.2f s' "$cpu")" "$((anon_kb / 1024)) MiB" \
			"${per[$size-$cmd-ns]} ns/obj" "${per[$size-$cmd-cpu]} ns/obj" "${per[$size-$cmd-b]} B/obj"
	done
done

echo
echo "| what | objects | core | time | CPU | peak anon | time per object | CPU per object | peak anon per object |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${results[@]}"
echo
echo "| large / small, per object | time | CPU | peak anon |"
echo "|---|---:|---:|---:|"
for cmd in histogram retain; do
	echo "| heapsift $cmd | $(ratio "${per[large-$cmd-ns]}" "${per[small-$cmd-ns]}")x | $(ratio "${per[large-$cmd-cpu]}" "${per[small-$cmd-cpu]}")x | $(ratio "${per[large-$cmd-b]}" "${per[small-$cmd-b]}")x |"
done
echo
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3); 1.00x is linear growth"
