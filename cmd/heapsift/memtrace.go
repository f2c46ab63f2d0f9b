package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memTrace is for heapsift's own developers: with HEAPSIFT_MEMTRACE=1 the
// retention analysis reports on stderr, as each of its stages ends, the
// largest anonymous memory the process had during the stage (sampled
// every few milliseconds from /proc/self/status, so that the arrays
// mapped anonymously outside the Go heap count too; with --scratch they
// are file pages and do not), what it has at the end
// and the Go heap's live bytes. With HEAPSIFT_MEMPROFILE=PREFIX it also
// writes a heap profile, after a collection, at the end of each stage
// (PREFIX-1-naming-roots.pb.gz, ...), for `go tool pprof -sample_index
// inuse_space`. A peak found this way is the real one, not a sum of
// guesses.
type memTrace struct {
	w       io.Writer
	profile string
	mu      sync.Mutex
	stage   string
	start   time.Time
	peakKB  int64
	files   int
}

// newMemTrace returns a tracer if $HEAPSIFT_MEMTRACE or
// $HEAPSIFT_MEMPROFILE asks for one, else nil; it samples until the
// process ends.
func newMemTrace(w io.Writer) *memTrace {
	prefix := os.Getenv("HEAPSIFT_MEMPROFILE")
	if os.Getenv("HEAPSIFT_MEMTRACE") == "" && prefix == "" {
		return nil
	}
	t := &memTrace{w: w, profile: prefix, stage: "opening the core", start: time.Now()}
	go func() {
		for {
			kb := anonKB()
			t.mu.Lock()
			t.peakKB = max(t.peakKB, kb)
			t.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return t
}

// mark ends the current stage, reports it, and starts stage next ("" for
// none). A nil tracer does nothing.
func (t *memTrace) mark(next string) {
	if t == nil {
		return
	}
	now := anonKB()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.peakKB = max(t.peakKB, now)
	fmt.Fprintf(t.w, "memtrace: %-28s %6.2fs  peak anon %5d MiB  at end %5d MiB  go heap live %5d MiB, from the OS %5d MiB\n",
		t.stage, time.Since(t.start).Seconds(), t.peakKB>>10, now>>10, ms.HeapAlloc>>20, (ms.HeapSys-ms.HeapReleased)>>20)
	if t.profile != "" {
		t.files++
		name := fmt.Sprintf("%s-%d-%s.pb.gz", t.profile, t.files, strings.ReplaceAll(t.stage, " ", "-"))
		runtime.GC()
		if f, err := os.Create(name); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	t.stage, t.start, t.peakKB = next, time.Now(), anonKB()
}

// anonKB returns the process's resident anonymous memory in KiB, 0 where
// /proc/self/status does not say.
func anonKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
