package gocore

import (
	"strings"
	"testing"
)

// TestTyping checks, on the core of testdata/gocore/typing, that values
// whose type only the program's data says are typed: a sync.Pool's values
// (of a pool in data too), closures stored in interfaces and what they
// capture, closures held only as unsafe.Pointers (by their first word,
// their function), objects reached only through interior pointers or a
// statically allocated struct, a goroutine's local slice's backing array
// and an inlined function's, and the idle GC workers' nodes (by the tagged
// pointers of runtime.gcBgMarkWorkerPool). Counts are the program's own.
func TestTyping(t *testing.T) {
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			prog, c := openCore(t, "typing", b.build)
			tot := prog.Totals()
			share := float64(tot.TypedBytes) / float64(tot.LiveBytes)
			t.Logf("%s: live %d objects / %d bytes, MemStats %d / %d; typed %.2f%%", prog.Version(),
				tot.LiveObjects, tot.LiveBytes, c.Int(t, "HeapObjects"), c.Int(t, "HeapAlloc"), 100*share)
			if tot.LiveBytes != c.Int(t, "HeapAlloc") || tot.LiveObjects != c.Int(t, "HeapObjects") {
				t.Errorf("live %d objects / %d bytes, want MemStats' %d / %d",
					tot.LiveObjects, tot.LiveBytes, c.Int(t, "HeapObjects"), c.Int(t, "HeapAlloc"))
			}
			// Go 1.22's DWARF does not say where a closure keeps its
			// captured variables: the main.Captured values only closures
			// hold (about 3% of the bytes) stay untyped.
			want := 0.99
			if strings.HasPrefix(prog.Version(), "go1.22") {
				want = 0.97
			}
			if share < want {
				t.Errorf("typed %.2f%% of the live bytes, want ≥ %.1f%%", 100*share, 100*want)
			}
			logUntypedHistogram(t, prog)
			hist := make(map[string]uint64)
			for _, st := range prog.Histogram() {
				hist[st.Type] = st.Count
			}
			if got, want := hist["chan main.Tick"], c.Int(t, "buffered_chans"); got != want {
				t.Errorf("chan main.Tick: %d live objects, the program made %d (buffers in the channels' objects)", got, want)
			}
			timer := "runtime.timeTimer" // from Go 1.23, the runtime allocates each Timer so
			if prog.minor < 23 {
				timer = "time.Timer"
			}
			if got, want := hist[timer], c.Int(t, "timers"); got != want {
				t.Errorf("%s: %d live objects, the program made %d timers", timer, got, want)
			}
			if got, want := hist["closure main.hide.func1"], c.Int(t, "hidden_closures"); got != want {
				t.Errorf("closure main.hide.func1: %d live objects, the program made %d (held only as unsafe.Pointers)", got, want)
			}
			// From Go 1.25 each node is the first field of a padded one.
			node := "runtime.gcBgMarkWorkerNode"
			if prog.minor >= 25 {
				node = "runtime.gcBgMarkWorkerNodePadded"
			}
			if got, want := hist[node], c.Int(t, "gc_workers"); got != want {
				t.Errorf("%s: %d live objects, want one per P's GC worker, %d", node, got, want)
			}
			for key := range c.Truth {
				typ, ok := strings.CutPrefix(key, "count.")
				if !ok {
					continue
				}
				got, want := hist[typ], c.Int(t, key)
				if gap := knownTypingGap(prog.Version(), typ); gap != "" && got != want {
					t.Logf("%s: %d live objects, the program made %d (known gap: %s)", typ, got, want, gap)
					continue
				}
				if got != want {
					t.Errorf("%s: %d live objects, the program made %d", typ, got, want)
				}
			}
		})
	}
}

// knownTypingGap says why objects of type typ are not all typed on a core
// of Go version v, or "" if they should be.
func knownTypingGap(v, typ string) string {
	switch {
	case typ == "main.Captured" && strings.HasPrefix(v, "go1.22"):
		return "Go 1.22's DWARF does not say where a closure keeps its captured variables"
	}
	return ""
}

// TestStackSlotTyping checks, on the core of testdata/gocore/inflight,
// that values live in stack slots DWARF describes only at other PCs are
// typed: each in-flight request's net/http.transportRequest, which from
// Go 1.23 only its connection's readLoop goroutine holds (from Go 1.25 in
// such a slot); and that a variable whose pieces lie next to each other
// (an interface's two words) types what it points to.
func TestStackSlotTyping(t *testing.T) {
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			prog, c := openCore(t, "inflight", b.build)
			hist := make(map[string]uint64)
			for _, st := range prog.Histogram() {
				hist[st.Type] = st.Count
			}
			tot := prog.Totals()
			t.Logf("%s: typed %.2f%%", prog.Version(), 100*float64(tot.TypedBytes)/float64(tot.LiveBytes))
			logUntypedHistogram(t, prog)
			if got, want := hist["main.Sink"], c.Int(t, "count.main.Sink"); got != want {
				t.Errorf("main.Sink: %d live objects, the program made %d (each held by an io.Writer argument)", got, want)
			}
			if strings.HasPrefix(prog.Version(), "go1.22") {
				// Go 1.22's readLoop keeps the *Request, not the
				// transportRequest, which is garbage by then.
				return
			}
			if got, want := hist["net/http.transportRequest"], c.Int(t, "inflight"); got != want {
				t.Errorf("net/http.transportRequest: %d live objects, want one per request in flight, %d", got, want)
			}
		})
	}
}
