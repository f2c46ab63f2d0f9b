package native

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/heapsift/heapsift/internal/bitset"
	"github.com/heapsift/heapsift/internal/parallel"
)

// Marking: the live allocations are those the roots reach, following the
// references read from each allocation's memory as it is reached
// (graph.go). As in gocore's mark, reached allocations not yet read are
// grey: they wait in a bitset, and sweeps over it in address order read
// them, so that the heap is read front to back; one worker per CPU takes
// the next chunk of the bitset in turn, setting the live and grey bits
// atomically, since an allocation may point into any chunk. What a worker
// greys ahead of the chunks taken is read in the same sweep, what it
// greys behind them in the next. A heap whose references mostly point
// backwards (a list built by prepending) would take a sweep an
// allocation: after maxSweeps sweeps, each worker reads what it reaches
// at once, from a stack of its own.

// markChunkWords is how many words of the grey bitset (64 allocations
// each) a worker takes at a time.
const markChunkWords = 1 << 8

// maxSweeps is how many sweeps run before the workers' stacks take over.
const maxSweeps = 16

// marker is the state of a mark that its workers share.
type marker struct {
	h          *Heap
	live, grey []uint64 // set atomically while marking
	atOnce     bool     // workers read what they reach at once
}

// markWorker is one worker's state; greyed and scanned count the
// allocations it put in the grey bitset and took out of it in a sweep.
type markWorker struct {
	m               *marker
	stack           []uint32
	greyed, scanned int
	shade           func(j int, off uint32)
}

// mark finds the live objects and sums them up.
func (h *Heap) mark() { h.markWith(max(1, min(runtime.GOMAXPROCS(0), len(h.addrs)/4096+1))) }

// markWith marks with the given number of workers.
func (h *Heap) markWith(nworkers int) {
	n := len(h.addrs)
	m := &marker{h: h, live: bitset.New(n), grey: bitset.New(n)}
	workers := make([]*markWorker, nworkers)
	for i := range workers {
		w := &markWorker{m: m}
		w.shade = w.shadeRef
		workers[i] = w
	}
	pending := 0
	for _, r := range h.roots {
		if o := int(r.Object); !bitset.Set(m.live).Has(o) {
			bitset.Set(m.live).Add(o)
			bitset.Set(m.grey).Add(o)
			pending++
		}
	}
	for sweep := 1; pending > 0; sweep++ {
		m.sweep(workers)
		for _, w := range workers {
			pending += w.greyed - w.scanned
			w.greyed, w.scanned = 0, 0
		}
		m.atOnce = sweep >= maxSweeps
	}
	h.live = m.live
	for i := 0; i < n; i++ {
		if h.live.Has(i) {
			h.stats.LiveObjects++
			h.stats.LiveBytes += h.size(i)
		} else {
			h.stats.Leaked++
			h.stats.LeakedBytes += h.size(i)
		}
	}
}

// sweep runs one sweep with the workers. A fault reading the core in a
// worker is raised again here, where the caller's recovery sees it.
func (m *marker) sweep(workers []*markWorker) {
	nchunks := (len(m.grey) + markChunkWords - 1) / markChunkWords
	err := parallel.Chunks(len(workers), nchunks, func(w, c int) { workers[w].chunk(c * markChunkWords) })
	if err != nil {
		panic(fmt.Sprintf("native: marking: %v", err))
	}
}

// chunk reads the grey allocations of the chunk of the grey bitset
// starting at word lo.
func (w *markWorker) chunk(lo int) {
	grey := w.m.grey
	for i := lo; i < min(lo+markChunkWords, len(grey)); i++ {
		for atomic.LoadUint64(&grey[i]) != 0 {
			g := atomic.SwapUint64(&grey[i], 0)
			w.scanned += bits.OnesCount64(g)
			for g != 0 {
				b := bits.TrailingZeros64(g)
				g &= g - 1
				w.m.h.eachRef(i*64+b, w.shade)
				for len(w.stack) > 0 {
					o := w.stack[len(w.stack)-1]
					w.stack = w.stack[:len(w.stack)-1]
					w.m.h.eachRef(int(o), w.shade)
				}
			}
		}
	}
}

// shadeRef marks j live, and grey or on the stack, unless it is live.
func (w *markWorker) shadeRef(j int, _ uint32) {
	m := w.m
	i, bit := j/64, uint64(1)<<(j%64)
	if atomic.LoadUint64(&m.live[i])&bit != 0 || atomic.OrUint64(&m.live[i], bit)&bit != 0 {
		return
	}
	if m.atOnce {
		w.stack = append(w.stack, uint32(j))
		return
	}
	atomic.OrUint64(&m.grey[i], bit)
	w.greyed++
}

// findLeakRoots finds, once, the leaked allocations no other leaked
// allocation points to.
func (h *Heap) findLeakRoots() {
	h.leakOnce.Do(func() {
		n := len(h.addrs)
		pointedTo := bitset.New(n)
		mark := func(j int, _ uint32) { pointedTo.Add(j) }
		for i := 0; i < n; i++ {
			if !h.live.Has(i) {
				h.eachRef(i, mark)
			}
		}
		h.leakRoot = bitset.New(n)
		for i := 0; i < n; i++ {
			if !h.live.Has(i) && !pointedTo.Has(i) {
				h.leakRoot.Add(i)
				h.stats.LeakRoots++
			}
		}
	})
}
