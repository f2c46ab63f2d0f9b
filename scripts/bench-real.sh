#!/usr/bin/env bash
# make bench-real: heapsift on the cores of four real Go servers nobody here
# wrote, as a new user would meet them (not part of `make test`):
#
#   caddy        a reverse proxy in front of its own file server, many GETs,
#                then proxied requests left in flight to a slow upstream
#   nats-server  a JetStream memory stream, durable consumers, slow subscribers
#   gopls        an LSP session over this repository
#   etcd         many puts (some overwritten, some under a lease)
#
# Each is installed from the Go module proxy into $BENCH_REAL_DIR/bin
# (GOBIN; etcd, whose module has replace directives, as a module of its own
# around testdata/benchreal/etcd), started on loopback, driven by
# testdata/benchreal/load (the standard library only), left until it stops
# allocating, made to collect garbage through its own net/http/pprof
# (/debug/pprof/heap?gc=1&debug=1, whose runtime.MemStats section gives
# the runtime's counters right after the collection), and killed with
# SIGABRT under GOTRACEBACK=crash, so that the kernel writes a core in its
# run directory (kernel.core_pattern must be a plain name such as "core").
# heapsift histogram --json then reads each core; the table compares its
# live objects and bytes with the runtime's counters and gives the typed
# share of the live bytes, heapsift's time and its peak anonymous memory.
# Targets: within 0.5% of the counters, at least 99% typed. heapsift runs
# $BENCH_RUNS times (default 2) on each core; the best time counts.
#
#   scripts/bench-real.sh install   only installs (no core, no lock needed)
#   scripts/bench-real.sh           installs what is missing, then measures
#
# Run the measuring part under the machine's heavy-run lock:
# flock /tmp/heapsift-heavy.lock make bench-real.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

DIR=$ROOT/${BENCH_REAL_DIR:-build/bench-real}
CADDY_VERSION=${CADDY_VERSION:-v2.11.9}
NATS_VERSION=${NATS_VERSION:-v2.15.3}
GOPLS_VERSION=${GOPLS_VERSION:-v0.23.0}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
HTTP_REQUESTS=${BENCH_REAL_HTTP:-200000}
HTTP_INFLIGHT=${BENCH_REAL_INFLIGHT:-100}
NATS_MESSAGES=${BENCH_REAL_NATS:-200000}
ETCD_PUTS=${BENCH_REAL_ETCD:-100000}
SERVERS=${BENCH_REAL_SERVERS:-caddy nats gopls etcd}
RUNS=${BENCH_RUNS:-2}
BIN=$DIR/bin
HEAPSIFT=$ROOT/bin/heapsift

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench-real: needs $1 ($2)" >&2; exit 1; }; }
need go "Go toolchain"
[ -x /usr/bin/time ] || { echo "bench-real: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
need curl "apt-get install curl"
need jq "apt-get install jq"
need bc "apt-get install bc"

# install NAME VERSION PKG@VERSION: go install (the command's name is
# NAME) into $BIN unless the recorded version is already there; run from
# $DIR, outside any module.
install() {
	[ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.version" 2>/dev/null)" = "$2" ] && return
	echo "bench-real: installing $3"
	(cd "$DIR" && GOBIN=$BIN GOFLAGS= GOWORK=off go install "$3") || { echo "bench-real: go install $3 failed" >&2; exit 1; }
	echo "$2" >"$BIN/$1.version"
}

# module NAME VERSION SRC REQUIRE...: builds the main package in SRC (a
# directory of .go files) as its own module requiring REQUIRE..., into
# $BIN/NAME.
module() {
	local name=$1 version=$2 src=$3 m
	shift 3
	[ -x "$BIN/$name" ] && [ "$(cat "$BIN/$name.version" 2>/dev/null)" = "$version" ] && return
	echo "bench-real: building $name ($version) in its own module"
	m=$DIR/src/$name
	rm -rf "$m" && mkdir -p "$m"
	cp "$src"/*.go "$m/"
	printf 'module benchreal/%s\n\ngo 1.22\n' "$name" >"$m/go.mod"
	(cd "$m" && export GOFLAGS=-mod=mod GOWORK=off &&
		for r in "$@"; do go get "$r"; done && go mod tidy && go build -o "$BIN/$name" .) ||
		{ echo "bench-real: building $name failed" >&2; exit 1; }
	echo "$version" >"$BIN/$name.version"
}

mkdir -p "$BIN"
for s in $SERVERS; do
	case $s in
	caddy) install caddy "$CADDY_VERSION" "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION" ;;
	nats) install nats-server "$NATS_VERSION" "github.com/nats-io/nats-server/v2@$NATS_VERSION" ;;
	gopls) install gopls "$GOPLS_VERSION" "golang.org/x/tools/gopls@$GOPLS_VERSION" ;;
	etcd) module etcd "$ETCD_VERSION" testdata/benchreal/etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" ;;
	esac
done
module load "$(cat testdata/benchreal/load/*.go | cksum | cut -d' ' -f1)" testdata/benchreal/load
[ "${1:-}" = install ] && exit 0

go build -o bin/heapsift ./cmd/heapsift

. scripts/measure.sh
bench_name=bench-real

# wait_http URL: waits up to 60 s for URL to answer.
wait_http() {
	local i
	for ((i = 0; i < 300; i++)); do
		curl -sf -o /dev/null "$1" && return 0
		kill -0 "$server" 2>/dev/null || { echo "bench-real: the server exited; see $run/server.log" >&2; tail -n 20 "$run/server.log" >&2; exit 1; }
		sleep 0.2
	done
	echo "bench-real: $1 did not answer" >&2
	exit 1
}

# fresh NAME: an empty run directory $run for server NAME.
fresh() {
	run=$DIR/run/$1
	rm -rf "$run" && mkdir -p "$run"
}

# start CMD...: starts the server in $run with cores enabled; sets $server.
start() {
	(cd "$run" && ulimit -c unlimited && GOTRACEBACK=crash exec "$@" >server.log 2>&1) &
	server=$!
}

# drive ARGS...: runs the load driver with ARGS, waits for its "ready" and
# leaves it holding its connections (its stdin is the fifo on fd 8).
drive() {
	local i
	rm -f "$run/hold" && mkfifo "$run/hold"
	"$BIN/load" "$@" <"$run/hold" >"$run/load.log" 2>&1 &
	loader=$!
	exec 8>"$run/hold"
	for ((i = 0; ; i++)); do
		grep -q '^ready' "$run/load.log" && break
		kill -0 "$loader" 2>/dev/null || { echo "bench-real: load $1 failed:" >&2; cat "$run/load.log" >&2; kill "$server"; exit 1; }
		sleep 0.2
	done
	grep -v '^ready' "$run/load.log" | sed 's/^/bench-real: /'
}

# settle PPROF: waits (up to 2 minutes) until the server stops allocating,
# TotalAlloc growing by less than 1 MiB in 2 s, so that the counters read
# before the crash still hold at the crash (gopls analyses on after its
# answers).
settle() {
	local i a b
	a=$(curl -sf "$1/heap?debug=1" | sed -n 's/^# TotalAlloc = \([0-9]*\).*/\1/p')
	for ((i = 0; i < 60; i++)); do
		sleep 2
		b=$(curl -sf "$1/heap?debug=1" | sed -n 's/^# TotalAlloc = \([0-9]*\).*/\1/p')
		[ $((b - a)) -lt $((1 << 20)) ] && return
		a=$b
	done
	echo "bench-real: $run: the server kept allocating; its counters will differ" >&2
}

# crash PPROF: forces a GC through the server's net/http/pprof at PPROF,
# keeps the runtime's counters it prints, kills the server with SIGABRT,
# lets the load driver go and finds the core; sets $core, $rt_objects and
# $rt_bytes.
crash() {
	settle "$1"
	curl -sf "$1/heap?gc=1&debug=1" >"$run/heap.txt"
	kill -ABRT "$server"
	{ wait "$server"; } 2>/dev/null || true
	exec 8>&-
	wait "$loader" || true
	rt_bytes=$(sed -n 's/^# HeapAlloc = \([0-9]*\).*/\1/p' "$run/heap.txt")
	rt_objects=$(sed -n 's/^# HeapObjects = \([0-9]*\).*/\1/p' "$run/heap.txt")
	core=$(ls "$run" | grep '^core' | head -n 1 || true)
	[ -n "$core" ] || { echo "bench-real: no core in $run: kernel.core_pattern is '$(cat /proc/sys/kernel/core_pattern)'" >&2; exit 1; }
	core=$run/$core
}

pct() { printf '%+.2f%%' "$(echo "($1 - $2) * 100 / $2" | bc -l)"; }
results=()
untyped=()

# analyse NAME: heapsift histogram --json on $core, one row of the table.
analyse() {
	out=$run/histogram.json
	measure "$HEAPSIFT" histogram --json --top 0 "$core"
	local lo lb tb go gb
	lo=$(jq .live.objects "$out") lb=$(jq .live.bytes "$out") tb=$(jq .typed_bytes "$out")
	go=$(jq .garbage.objects "$out") gb=$(jq .garbage.bytes "$out")
	results+=("$(printf '| %s | %s | %s / %s (%s) | %s / %s (%s) | %s B | %.2f%% | %.2f s | %d MiB |' \
		"$1" "$(numfmt --to=iec --suffix=B "$(stat -c %s "$core")")" \
		"$lo" "$rt_objects" "$(pct "$lo" "$rt_objects")" "$lb" "$rt_bytes" "$(pct "$lb" "$rt_bytes")" \
		"$gb" "$(echo "$tb * 100 / $lb" | bc -l)" "$secs" "$((anon_kb / 1024))")")
	untyped+=("$1: $(jq -r '[.types[] | select(.typed | not)] | sort_by(-.bytes) | .[:4] | map("\(.type) ×\(.count)") | join(", ")' "$out")")
	echo "bench-real: $1: core $core; live $lo objects, $lb bytes ($go objects, $gb bytes garbage); $(jq .memstats -c "$out") in the core"
}

for s in $SERVERS; do
	case $s in
	caddy)
		fresh caddy
		mkdir -p "$run/www"
		for ((i = 0; i < 1000; i++)); do head -c $((512 + (i * 997) % 32768)) /dev/zero | tr '\0' 'x' >"$run/www/f$i"; done
		cat >"$run/caddy.json" <<-EOF
			{"admin": {"listen": "127.0.0.1:24019"},
			 "apps": {"http": {"servers": {
			   "files": {"listen": ["127.0.0.1:24081"], "automatic_https": {"disable": true},
			             "routes": [{"handle": [{"handler": "file_server", "root": "$run/www"}]}]},
			   "proxy": {"listen": ["127.0.0.1:24080"], "automatic_https": {"disable": true},
			             "routes": [{"match": [{"path": ["/slow/*"]}],
			                         "handle": [{"handler": "reverse_proxy", "flush_interval": -1, "upstreams": [{"dial": "127.0.0.1:24082"}]}]},
			                        {"handle": [{"handler": "encode", "encodings": {"gzip": {}}},
			                                    {"handler": "headers", "response": {"set": {"X-Bench": ["real"]}}},
			                                    {"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:24081"}]}]}]}}}}}
		EOF
		start "$BIN/caddy" run --config "$run/caddy.json"
		wait_http http://127.0.0.1:24019/debug/pprof/
		drive http -url http://127.0.0.1:24080 -paths 1000 -n "$HTTP_REQUESTS" -c 32 -upstream 127.0.0.1:24082 -inflight "$HTTP_INFLIGHT"
		crash http://127.0.0.1:24019/debug/pprof
		;;
	nats)
		fresh nats
		start "$BIN/nats-server" -a 127.0.0.1 -p 24222 -profile 24223 -js -sd "$DIR/run/nats/js"
		wait_http http://127.0.0.1:24223/debug/pprof/
		drive nats -addr 127.0.0.1:24222 -n "$NATS_MESSAGES"
		crash http://127.0.0.1:24223/debug/pprof
		;;
	gopls)
		fresh gopls
		start "$BIN/gopls" -debug 127.0.0.1:24031 serve -listen 127.0.0.1:24030
		wait_http http://127.0.0.1:24031/debug/pprof/
		drive lsp -addr 127.0.0.1:24030 -root "$ROOT"
		crash http://127.0.0.1:24031/debug/pprof
		;;
	etcd)
		fresh etcd
		start "$BIN/etcd" --data-dir "$DIR/run/etcd/data" --enable-pprof \
			--listen-client-urls http://127.0.0.1:24379 --advertise-client-urls http://127.0.0.1:24379 \
			--listen-peer-urls http://127.0.0.1:24380 --initial-advertise-peer-urls http://127.0.0.1:24380 \
			--initial-cluster default=http://127.0.0.1:24380
		wait_http http://127.0.0.1:24379/debug/pprof/
		drive etcd -url http://127.0.0.1:24379 -n "$ETCD_PUTS" -c 16
		crash http://127.0.0.1:24379/debug/pprof
		;;
	*)
		echo "bench-real: unknown server $s" >&2
		exit 1
		;;
	esac
	analyse "$s"
done

echo
echo "| server | core | live objects: heapsift / runtime | live bytes: heapsift / runtime | garbage | typed | time | peak anon |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${results[@]}"
echo
echo "largest untyped groups:"
printf '  %s\n' "${untyped[@]}"
echo
echo "runtime: the counters of /debug/pprof/heap?gc=1&debug=1 just before SIGABRT; machine: $(nproc) CPUs, $(go version | cut -d' ' -f3)"
