#!/usr/bin/env bash
# make bench: heapsift's speed and memory on a large Go core, each figure also
# given as a ratio to a baseline measured in the same run, so that it means
# something on a noisy machine.
#
#   words      vs  cat CORE >/dev/null              (target: at most 6x)
#   words      vs  the seed's hexdump|sort|uniq pipeline on a 64 MiB prefix
#                                                   (target: at least 100x faster)
#   histogram  vs  cat, with peak anonymous memory  (targets: ~7 s, 1 GB)
#   retain     vs  histogram, with peak anon memory (targets: ~20 s, 1.5 GB)
#   native histogram and overview on a ~2 GB C++ core of 10 million
#              allocations, per allocation vs the Go histogram per object
#
# The core comes from testdata/bigheap (a session cache, ~18 million objects,
# ~2 GB) and is kept in $BENCH_DIR between runs. Each timed command runs
# $BENCH_RUNS times; the best time counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_DIR=${BENCH_DIR:-build/bench}
SESSIONS=${BENCH_SESSIONS:-1500000}
RUNS=${BENCH_RUNS:-2}
HEAPSIFT=$PWD/bin/heapsift

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: needs $1 ($2)" >&2; exit 1; }; }
need go "Go toolchain"
need hexdump "apt-get install bsdextrautils"
need bc "apt-get install bc"

go build -o bin/heapsift ./cmd/heapsift
mkdir -p "$BENCH_DIR"
core=$BENCH_DIR/core
if [ ! -f "$core" ] || [ "$(cat "$BENCH_DIR/sessions" 2>/dev/null)" != "$SESSIONS" ]; then
	echo "bench: making a core from testdata/bigheap with $SESSIONS sessions (takes a minute)"
	rm -rf "$BENCH_DIR/src" "$core" && mkdir -p "$BENCH_DIR/src"
	cp testdata/bigheap/*.go "$BENCH_DIR/src/"
	printf 'module bigheap\n\ngo 1.22\n' >"$BENCH_DIR/src/go.mod"
	(cd "$BENCH_DIR/src" && GOFLAGS=-mod=mod GOWORK=off go build -o ../bigheap .)
	(cd "$BENCH_DIR" && ulimit -c unlimited && GOTRACEBACK=crash ./bigheap -sessions "$SESSIONS" >truth.txt 2>crash.txt) || true
	[ -f "$core" ] || { echo "bench: no core made; see $BENCH_DIR/crash.txt" >&2; exit 1; }
	echo "$SESSIONS" >"$BENCH_DIR/sessions"
fi
size=$(stat -c %s "$core")

# measure CMD...: runs CMD (stdout discarded) $RUNS times; sets $secs to the
# best wall time and $anon_kb to the largest anonymous RSS seen (sampled
# every 20 ms from /proc/PID/status by a watcher beside it, so that the
# sampling does not delay the timing; the mmapped core is file-backed and
# not counted).
measure() {
	secs="" anon_kb=0
	local i start end pid watcher a t peakfile
	peakfile=$(mktemp)
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s.%N)
		"$@" >/dev/null &
		pid=$!
		(
			peak=0
			while kill -0 "$pid" 2>/dev/null; do
				a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
				if [ -n "$a" ] && [ "$a" -gt "$peak" ]; then peak=$a; fi
				sleep 0.02
			done
			echo "$peak" >"$peakfile"
		) &
		watcher=$!
		wait "$pid" || { echo "bench: '$*' failed" >&2; exit 1; }
		end=$(date +%s.%N)
		wait "$watcher"
		a=$(cat "$peakfile")
		if [ "$a" -gt "$anon_kb" ]; then anon_kb=$a; fi
		t=$(echo "$end - $start" | bc -l)
		if [ -z "$secs" ] || [ "$(echo "$t < $secs" | bc -l)" = 1 ]; then secs=$t; fi
	done
	rm -f "$peakfile"
}
fmt() { printf '%.2f' "$1"; }
ratio() { printf '%.1f' "$(echo "$1 / $2" | bc -l)"; }
gbps() { printf '%.2f' "$(echo "$size / $1 / 1000000000" | bc -l)"; }

results=()
row() { results+=("$(printf '| %-44s | %10s | %12s | %s |' "$1" "$2" "$3" "$4")"); }

echo "bench: core $core, $(numfmt --to=iec "$size")B, $(grep heap_objects "$BENCH_DIR/truth.txt" | cut -d' ' -f3) heap objects"
cat "$core" >/dev/null # warm the page cache
measure cat "$core"
cat_s=$secs
row "cat CORE >/dev/null (baseline)" "$(fmt "$cat_s") s" "-" "$(gbps "$cat_s") GB/s"

measure "$HEAPSIFT" words "$core"
words_s=$secs
row "heapsift words CORE" "$(fmt "$words_s") s" "$((anon_kb / 1024)) MiB" "$(gbps "$words_s") GB/s, $(ratio "$words_s" "$cat_s")x cat"

prefix=$BENCH_DIR/prefix-64MiB
head -c $((64 << 20)) "$core" >"$prefix"
pipeline() { (set +o pipefail; hexdump "$1" | awk '{printf "%s%s%s%s\n%s%s%s%s\n", $5,$4,$3,$2,$9,$8,$7,$6}' | sort | uniq -c | sort -nr | head); }
RUNS_SAVED=$RUNS RUNS=1
measure pipeline "$prefix"
RUNS=$RUNS_SAVED
seed_s=$secs
measure "$HEAPSIFT" words --raw "$prefix"
raw_s=$secs
row "seed pipeline on a 64 MiB prefix" "$(fmt "$seed_s") s" "-" "$(printf '%.1f' "$(echo "64*1048576 / $seed_s / 1000000" | bc -l)") MB/s"
row "heapsift words --raw on that prefix" "$(fmt "$raw_s") s" "-" "$(ratio "$seed_s" "$raw_s")x faster than the pipeline"

if "$HEAPSIFT" help histogram >/dev/null 2>&1; then
	measure "$HEAPSIFT" histogram "$core"
	hist_s=$secs
	row "heapsift histogram CORE (typed)" "$(fmt "$hist_s") s" "$((anon_kb / 1024)) MiB" "$(ratio "$hist_s" "$cat_s")x cat"
	if "$HEAPSIFT" help retain >/dev/null 2>&1; then
		measure "$HEAPSIFT" retain "$core"
		row "heapsift retain CORE (graph, dominators, groups)" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(ratio "$secs" "$hist_s")x histogram"
	fi
fi

# The native (glibc malloc) model on a C++ core of testdata/native/bigleak
# ($NATIVE_ALLOCS allocations, ~2 GB): the histogram and the overview (with
# the leak analysis), per allocation against the Go histogram's per object.
NATIVE_ALLOCS=${BENCH_NATIVE_ALLOCS:-10000000}
if command -v g++ >/dev/null 2>&1 && [ -n "${hist_s:-}" ]; then
	ncore=$BENCH_DIR/native/core
	if [ ! -f "$ncore" ] || [ "$(cat "$BENCH_DIR/native/allocs" 2>/dev/null)" != "$NATIVE_ALLOCS" ]; then
		echo "bench: making a C++ core from testdata/native/bigleak.cpp with $NATIVE_ALLOCS allocations"
		rm -rf "$BENCH_DIR/native" && mkdir -p "$BENCH_DIR/native"
		g++ -O1 -g -o "$BENCH_DIR/native/bigleak" testdata/native/bigleak.cpp
		(cd "$BENCH_DIR/native" && ulimit -c unlimited && ./bigleak "$NATIVE_ALLOCS" >truth.txt 2>crash.txt) || true
		[ -f "$ncore" ] || { echo "bench: no native core made; see $BENCH_DIR/native/crash.txt" >&2; exit 1; }
		echo "$NATIVE_ALLOCS" >"$BENCH_DIR/native/allocs"
	fi
	go_objs=$("$HEAPSIFT" histogram --json "$core" | tr -d " \n" | sed -n 's/.*"live":{"objects":\([0-9]*\).*/\1/p' | head -n 1)
	go_ns=$(echo "$hist_s * 1000000000 / ${go_objs:-1}" | bc -l)
	measure "$HEAPSIFT" histogram "$ncore"
	row "heapsift histogram NATIVE-CORE ($NATIVE_ALLOCS allocs)" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(printf '%.0f' "$(echo "$secs * 1000000000 / $NATIVE_ALLOCS" | bc -l)") ns/alloc; Go histogram $(printf '%.0f' "$go_ns") ns/object"
	measure "$HEAPSIFT" "$ncore"
	row "heapsift NATIVE-CORE (overview, leaks, retention)" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(printf '%.0f' "$(echo "$secs * 1000000000 / $NATIVE_ALLOCS" | bc -l)") ns/alloc"
fi

echo
echo "| what | time | peak anon | figure |"
echo "|---|---:|---:|---|"
printf '%s\n' "${results[@]}"
echo
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | cut -d' ' -f3)"
