#!/usr/bin/env bash
# make bench: heapsift's speed and memory on a large Go core, each figure also
# given as a ratio to a baseline measured in the same run, so that it means
# something on a noisy machine.
#
#   words      vs  cat CORE >/dev/null              (target: at most 2x)
#   words      vs  the seed's hexdump|sort|uniq pipeline on a 64 MiB prefix
#                                                   (target: at least 100x faster)
#   histogram  vs  cat, with peak anonymous memory  (targets: 0.3x viewcore's
#                                                   time, 16 B per object)
#   retain     vs  histogram, with peak anon memory (targets: ~20 s, 1.5 GB)
#   retain --scratch DIR  vs  retain, with peak anon memory
#   histogram --pid on the running bigheap  vs  histogram on its core
#                                                   (target: at most 1.5x; the pause stated)
#   words CORE.zst  vs  zstd -dc CORE.zst >/dev/null plus words CORE
#                                                   (target: at most that sum)
#   Python histogram and retain per object vs the Go ones per object
#                                                   (target: at most 1.5x)
#   Python retain's peak anon memory per object     (target: at most 48 B)
#   native histogram and overview on a ~2 GB C++ core of 10 million
#              allocations, per allocation vs the Go histogram per object
#
# The Go core comes from testdata/bigheap (a session cache, ~18 million
# objects, ~2 GB), the CPython core from testdata/pybench (a session cache,
# ~13 million objects, ~1 GB; $BENCH_PYTHON, a pyenv build with a shared
# libpython, default 3.11.7); both are kept in $BENCH_DIR between runs.
# Each timed command runs $BENCH_RUNS times; the best time counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_DIR=${BENCH_DIR:-build/bench}
SESSIONS=${BENCH_SESSIONS:-1500000}
RUNS=${BENCH_RUNS:-2}
PY_SESSIONS=${BENCH_PY_SESSIONS:-700000}
PYTHON=${BENCH_PYTHON:-${PYENV_ROOT:-/root/.pyenv}/versions/3.11.7/bin/python3.11}
HEAPSIFT=$PWD/bin/heapsift

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: needs $1 ($2)" >&2; exit 1; }; }
need go "Go toolchain"
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
need hexdump "apt-get install bsdextrautils"
need bc "apt-get install bc"
need zstd "apt-get install zstd"
need jq "apt-get install jq"

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

# The CPython core: made once, like the Go one, and remade when the
# session count or the interpreter changes.
pycore=$BENCH_DIR/python/core
pykey="$PY_SESSIONS $PYTHON"
if [ -x "$PYTHON" ] && { [ ! -f "$pycore" ] || [ "$(cat "$BENCH_DIR/python/key" 2>/dev/null)" != "$pykey" ]; }; then
	echo "bench: making a CPython core from testdata/pybench with $PY_SESSIONS sessions ($PYTHON)"
	rm -rf "$BENCH_DIR/python" && mkdir -p "$BENCH_DIR/python"
	(cd "$BENCH_DIR/python" && ulimit -c unlimited && "$PYTHON" "$OLDPWD/testdata/pybench/sessions.py" "$PY_SESSIONS" >truth.txt 2>crash.txt) || true
	[ -f "$pycore" ] || { echo "bench: no CPython core made; see $BENCH_DIR/python/crash.txt" >&2; exit 1; }
	echo "$pykey" >"$BENCH_DIR/python/key"
fi
[ -f "$pycore" ] || echo "bench: no CPython at $PYTHON (set BENCH_PYTHON); the Python rows are left out" >&2

. scripts/measure.sh
bench_name=bench
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
	objs=$(awk '$2 == "heap_objects" {print $3}' "$BENCH_DIR/truth.txt")
	row "heapsift histogram CORE (typed)" "$(fmt "$hist_s") s" "$((anon_kb / 1024)) MiB" "$(ratio "$hist_s" "$cat_s")x cat, $(printf '%.1f' "$(echo "$anon_kb * 1024 / $objs" | bc -l)") B per object"
	if "$HEAPSIFT" help retain >/dev/null 2>&1; then
		measure "$HEAPSIFT" retain "$core"
		retain_s=$secs retain_kb=$anon_kb
		row "heapsift retain CORE (graph, dominators, groups)" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(ratio "$secs" "$hist_s")x histogram"
		# The same with the analysis's arrays in files (--scratch): its
		# anonymous memory is the model's; rmdir fails if a file is left.
		# On a disk, beside the core: on tmpfs the files would be memory.
		scratch=$(mktemp -d -p "$BENCH_DIR")
		measure "$HEAPSIFT" retain --scratch "$scratch" "$core"
		rmdir "$scratch"
		row "heapsift retain --scratch DIR CORE" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(ratio "$secs" "$retain_s")x retain in memory"
	fi
fi

# A live process: bigheap again, left running (-wait), read with --pid.
# Its heap is the core's (same program, same flags).
if [ -n "${hist_s:-}" ]; then
	"$BENCH_DIR/bigheap" -sessions "$SESSIONS" -wait >"$BENCH_DIR/live-truth.txt" 2>&1 &
	live_pid=$!
	trap 'kill "$live_pid" 2>/dev/null || true' EXIT
	for ((i = 0; i < 600; i++)); do
		grep -q '^truth ready 1' "$BENCH_DIR/live-truth.txt" && break
		sleep 0.2
	done
	grep -q '^truth ready 1' "$BENCH_DIR/live-truth.txt" || { echo "bench: bigheap -wait did not get ready" >&2; exit 1; }
	measure "$HEAPSIFT" histogram --pid "$live_pid"
	pid_s=$secs pid_anon=$anon_kb
	paused=$("$HEAPSIFT" histogram --pid "$live_pid" 2>&1 >/dev/null | sed -n 's/.* paused \([0-9.]* s\) while \(.*\) of its memory.*/\1 (\2 copied)/p')
	row "heapsift histogram --pid (running bigheap)" "$(fmt "$pid_s") s" "$((pid_anon / 1024)) MiB" "$(ratio "$pid_s" "$hist_s")x histogram CORE; paused $paused"
	kill "$live_pid" 2>/dev/null || true
	wait "$live_pid" 2>/dev/null || true
	trap - EXIT
fi

# A zstd-compressed core, as systemd-coredump stores them.
zst=$BENCH_DIR/core.zst
if [ ! -f "$zst" ] || [ "$zst" -ot "$core" ]; then
	zstd -q -f -T0 "$core" -o "$zst"
fi
cat "$zst" >/dev/null
measure zstd -dc "$zst"
unzstd_s=$secs
measure "$HEAPSIFT" words "$zst"
zwords_s=$secs
row "zstd -dc CORE.zst >/dev/null (baseline)" "$(fmt "$unzstd_s") s" "-" "$(numfmt --to=iec "$(stat -c %s "$zst")")B compressed"
row "heapsift words CORE.zst" "$(fmt "$zwords_s") s" "$((anon_kb / 1024)) MiB" "$(ratio "$zwords_s" "$(echo "$unzstd_s + $words_s" | bc -l)")x (zstd -dc + words CORE)"

# perobj SECS OBJECTS: nanoseconds per object.
perobj() { printf '%.0f' "$(echo "$1 * 1000000000 / $2" | bc -l)"; }
bytesper() { printf '%.1f' "$(echo "$1 * 1024 / $2" | bc -l)"; }
if [ -f "$pycore" ] && [ -n "${retain_s:-}" ]; then
	go_objs=$(grep heap_objects "$BENCH_DIR/truth.txt" | cut -d' ' -f3)
	py_objs=$("$HEAPSIFT" histogram --json "$pycore" 2>/dev/null | jq '[.types[].count] | add')
	echo "bench: CPython core $pycore, $(numfmt --to=iec "$(stat -c %s "$pycore")")B, $py_objs live objects"
	go_hist_ns=$(perobj "$hist_s" "$go_objs") go_ret_ns=$(perobj "$retain_s" "$go_objs")
	row "Go histogram per object (same run)" "$go_hist_ns ns" "-" "$go_objs objects"
	row "Go retain per object (same run)" "$go_ret_ns ns" "$(bytesper "$retain_kb" "$go_objs") B" "peak anon per object"
	measure "$HEAPSIFT" histogram "$pycore"
	row "heapsift histogram PYCORE" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(perobj "$secs" "$py_objs") ns/object, $(ratio "$(perobj "$secs" "$py_objs")" "$go_hist_ns")x Go's per object"
	measure "$HEAPSIFT" retain "$pycore"
	row "heapsift retain PYCORE" "$(fmt "$secs") s" "$((anon_kb / 1024)) MiB" "$(perobj "$secs" "$py_objs") ns/object, $(ratio "$(perobj "$secs" "$py_objs")" "$go_ret_ns")x Go's per object, $(bytesper "$anon_kb" "$py_objs") B/object peak anon"
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
