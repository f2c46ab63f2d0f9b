package gocore

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heapsift/heapsift/dump"
)

// BenchmarkStages opens the core $HEAPSIFT_STAGES_CORE (executable
// $HEAPSIFT_STAGES_EXE, or the one the core records) and reports, for each
// stage of Program.build (after dump.Open and indexing the executable's
// DWARF) and then for the histogram, its time, the Go heap
// it leaves live (after a collection at the stage's end) and the peak
// anonymous memory of the process while it ran (RssAnon, sampled every
// 5 ms). With $HEAPSIFT_STAGES_PROF set to a directory it also writes a heap
// profile there at the end of each stage (NN-stage.pprof; `go tool pprof
// -sample_index=inuse_space`). A diagnostic for the model's memory per
// object; the collections at stage boundaries make peaks lower than in
// `heapsift histogram`.
//
//	HEAPSIFT_STAGES_CORE=build/bench/core go test -run XXX -bench Stages -benchtime 1x ./gocore
func BenchmarkStages(b *testing.B) {
	path := os.Getenv("HEAPSIFT_STAGES_CORE")
	if path == "" {
		b.Skip("set HEAPSIFT_STAGES_CORE to a Go core to run")
	}
	profDir := os.Getenv("HEAPSIFT_STAGES_PROF")
	for i := 0; i < b.N; i++ {
		sm := newStageMeter(b, profDir)
		sm.next("dump.Open")
		p, err := dump.Open(path, dump.Options{Exe: os.Getenv("HEAPSIFT_STAGES_EXE")})
		if err != nil {
			b.Fatal(err)
		}
		prog, _, err := open(p, sm.next)
		if err != nil {
			b.Fatal(err)
		}
		sm.next("Histogram+Totals")
		h := prog.Histogram()
		tot := prog.Totals()
		sm.next("")
		live := float64(tot.LiveObjects)
		// On stderr: a benchmark's log is cut after ten lines.
		out := fmt.Sprintf("%d objects (%d live), %d histogram rows", prog.NumObjects(), tot.LiveObjects, len(h))
		for _, r := range sm.rows {
			out += fmt.Sprintf("\n%-18s %6.2f s (CPU %6.2f s)  live heap %7.1f MiB (%5.1f B/live object)  peak anon %7.1f MiB (%5.1f B/live object)",
				r.name, r.dur.Seconds(), r.cpu.Seconds(), mib(r.heapLive), float64(r.heapLive)/live, mib(r.peakAnon), float64(r.peakAnon)/live)
		}
		fmt.Fprintln(os.Stderr, out)
		runtime.KeepAlive(prog)
		p.Close()
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// stageMeter measures the stages it is told of.
type stageMeter struct {
	b       *testing.B
	profDir string
	rows    []stageRow
	cur     string
	start   time.Time
	cpu0    time.Duration
	peak    atomic.Uint64
	stop    chan struct{}
	done    chan struct{}
}

type stageRow struct {
	name               string
	dur, cpu           time.Duration
	heapLive, peakAnon uint64
}

func newStageMeter(b *testing.B, profDir string) *stageMeter {
	sm := &stageMeter{b: b, profDir: profDir}
	if profDir != "" {
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	return sm
}

// next ends the current stage and starts the one called name ("" ends
// the last).
func (sm *stageMeter) next(name string) {
	if sm.cur != "" {
		close(sm.stop)
		<-sm.done
		dur, cpu := time.Since(sm.start), cpuTime()-sm.cpu0
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		sm.rows = append(sm.rows, stageRow{name: sm.cur, dur: dur, cpu: cpu, heapLive: ms.HeapAlloc, peakAnon: sm.peak.Load()})
		if sm.profDir != "" {
			sm.writeProfile(fmt.Sprintf("%02d-%s.pprof", len(sm.rows), sm.cur))
		}
	}
	sm.cur = name
	if name == "" {
		return
	}
	runtime.GC()
	sm.peak.Store(rssAnon())
	sm.stop, sm.done = make(chan struct{}), make(chan struct{})
	go sm.sample(sm.stop, sm.done)
	sm.start, sm.cpu0 = time.Now(), cpuTime()
}

// cpuTime returns the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (sm *stageMeter) sample(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if a := rssAnon(); a > sm.peak.Load() {
			sm.peak.Store(a)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (sm *stageMeter) writeProfile(name string) {
	f, err := os.Create(filepath.Join(sm.profDir, name))
	if err != nil {
		sm.b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		sm.b.Fatal(err)
	}
}

// rssAnon returns the process's anonymous resident memory in bytes (0 if
// /proc cannot tell).
func rssAnon() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("RssAnon:")); ok {
			f := bytes.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(string(f[0]), 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// BenchmarkMarkPropagate opens $HEAPSIFT_STAGES_CORE once, then marks and
// propagates types again b.N times (types from malloc headers kept),
// reporting each phase's CPU time: the two phases that read every live
// object's pointers, measured often enough to compare changes on a busy
// machine.
//
//	HEAPSIFT_STAGES_CORE=build/bench/core go test -run XXX -bench MarkPropagate -benchtime 5x ./gocore
func BenchmarkMarkPropagate(b *testing.B) {
	path := os.Getenv("HEAPSIFT_STAGES_CORE")
	if path == "" {
		b.Skip("set HEAPSIFT_STAGES_CORE to a Go core to run")
	}
	p, err := dump.Open(path, dump.Options{Exe: os.Getenv("HEAPSIFT_STAGES_EXE")})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	prog, _, err := Open(p)
	if err != nil {
		b.Fatal(err)
	}
	want := slices.Clone(prog.objType)
	var markCPU, propCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for o := range prog.objType {
			if !prog.isFixed(uint32(o)) {
				prog.objType[o] = NoType
			}
		}
		c0 := cpuTime()
		if prog.live, err = prog.mark(prog.roots, maxSweeps); err != nil {
			b.Fatal(err)
		}
		c1 := cpuTime()
		prog.propagateTypes(maxSweeps)
		c2 := cpuTime()
		markCPU += c1 - c0
		propCPU += c2 - c1
	}
	b.ReportMetric(markCPU.Seconds()/float64(b.N), "mark-cpu-s/op")
	b.ReportMetric(propCPU.Seconds()/float64(b.N), "propagate-cpu-s/op")
	if !slices.Equal(prog.objType, want) {
		b.Errorf("types differ from Open's after marking and propagating again")
	}
}
