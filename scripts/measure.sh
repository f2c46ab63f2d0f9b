# measure CMD...: sourced by the bench scripts. Runs CMD $RUNS times, its
# standard output into ${out:-/dev/null}; sets $secs to the best wall time,
# $cpu to that run's CPU time (user + system, from /usr/bin/time; empty for
# a shell function, run as it is) and
# $anon_kb to the largest RssAnon seen. RssAnon is sampled every 20 ms from
# /proc/PID/status by a watcher beside the command, so that the sampling
# does not delay the timing; mmapped cores are file-backed and not counted.
# $bench_name names the script in its error message.
measure() {
	secs="" cpu="" anon_kb=0
	local i start end pid watcher a t c child peakfile cpufile
	peakfile=$(mktemp) cpufile=$(mktemp)
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s.%N)
		if [ "$(type -t "$1")" = function ]; then
			"$@" >"${out:-/dev/null}" & # a shell function: no CPU time
		else
			/usr/bin/time -o "$cpufile" -f '%U %S' "$@" >"${out:-/dev/null}" &
		fi
		pid=$!
		(
			peak=0
			while kill -0 "$pid" 2>/dev/null; do
				child=$(pgrep -P "$pid" | head -n 1 || true) # the command, under time
				a=$(awk '/^RssAnon:/ {print $2}' "/proc/${child:-$pid}/status" 2>/dev/null || true)
				if [ -n "$a" ] && [ "$a" -gt "$peak" ]; then peak=$a; fi
				sleep 0.02
			done
			echo "$peak" >"$peakfile"
		) &
		watcher=$!
		wait "$pid" || { echo "${bench_name:-bench}: '$*' failed" >&2; rm -f "$peakfile" "$cpufile"; exit 1; }
		end=$(date +%s.%N)
		wait "$watcher"
		a=$(cat "$peakfile")
		if [ "$a" -gt "$anon_kb" ]; then anon_kb=$a; fi
		t=$(echo "$end - $start" | bc -l)
		c=$(awk '{print $1 + $2}' "$cpufile" 2>/dev/null)
		if [ -z "$secs" ] || [ "$(echo "$t < $secs" | bc -l)" = 1 ]; then secs=$t cpu=$c; fi
	done
	rm -f "$peakfile" "$cpufile"
}
