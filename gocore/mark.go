package gocore

// Marking: every object reachable from the roots, following the edges of
// the pointer graph (edges.go), read from each object's memory as it is
// scanned: the pointer words the runtime's GC information names (scan.go).
// (Objects with finalizers are not marked by their finalizer, but what
// they point to is: roots.go adds those referents as roots.)
//
// Marked objects not yet scanned are grey. As in a sweepQueue, grey
// objects wait in a bitset and are scanned in sweeps over it in address
// order, so that the heap's memory is read in order; but here one worker
// per CPU takes the next chunk of the bitset in turn, and the mark and grey
// bits are set atomically, since a worker's object may point into any
// chunk. An object greyed ahead of the chunks taken waits for its chunk,
// one behind them for the next sweep. After maxSweeps sweeps, each worker
// scans what it greys at once, from a stack of its own.

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/heapsift/heapsift/internal/parallel"
)

func (p *Program) isLive(obj uint32) bool { return p.live[obj/64]&(1<<(obj%64)) != 0 }

// markChunkWords is the number of words of the grey bitset (64 objects
// each) a worker takes at a time.
const markChunkWords = 1 << 10

// marker holds the state of the mark phase shared by its workers.
type marker struct {
	p         *Program
	live      []uint64 // set atomically while marking
	grey      []uint64 // objects waiting for a sweep; atomically
	atOnce    bool     // the workers scan what they grey at once
	maxSweeps int
}

// markWorker is one worker's state.
type markWorker struct {
	m     *marker
	sc    *edgeScanner
	stack []uint32
	// greyed and scanned count the objects this worker put in the grey
	// bitset and took out of it during a sweep.
	greyed, scanned int
}

// mark returns which of the heap's objects the roots reach (one bit per
// object), making at most maxSweeps sweeps before the workers' stacks take
// over. It fails if a worker faults on the core's memory.
func (p *Program) mark(roots []Root, maxSweeps int) ([]uint64, error) {
	n := p.heap.numObjects()
	m := &marker{p: p, live: makeHuge[uint64]((n + 63) / 64), grey: makeHuge[uint64]((n + 63) / 64), maxSweeps: maxSweeps}
	workers := make([]*markWorker, max(1, runtime.GOMAXPROCS(0)))
	for i := range workers {
		workers[i] = &markWorker{m: m, sc: p.newEdgeScanner()}
	}
	pending := 0
	for i := range roots {
		o := uint32(roots[i].Object)
		w, bit := o/64, uint64(1)<<(o%64)
		if m.live[w]&bit == 0 {
			m.live[w] |= bit
			m.grey[w] |= bit
			pending++
		}
	}
	for sweep := 1; pending > 0; sweep++ {
		if err := m.sweep(workers); err != nil {
			return nil, err
		}
		for _, w := range workers {
			pending += w.greyed - w.scanned
			w.greyed, w.scanned = 0, 0
		}
		m.atOnce = sweep >= m.maxSweeps
	}
	m.grey = nil
	return m.live, nil
}

// sweep runs one sweep with the workers.
func (m *marker) sweep(workers []*markWorker) error {
	nchunks := (len(m.grey) + markChunkWords - 1) / markChunkWords
	err := parallel.Chunks(len(workers), nchunks, func(w, c int) { workers[w].chunk(c * markChunkWords) })
	if err != nil {
		return fmt.Errorf("marking: the heap is too damaged to read (%v)", err)
	}
	return nil
}

// chunk scans the grey objects of the chunk of the grey bitset starting
// at word lo.
func (w *markWorker) chunk(lo int) {
	grey := w.m.grey
	hi := min(lo+markChunkWords, len(grey))
	for i := lo; i < hi; i++ {
		for atomic.LoadUint64(&grey[i]) != 0 {
			g := atomic.SwapUint64(&grey[i], 0)
			w.scanned += bits.OnesCount64(g)
			for g != 0 {
				b := uint32(bits.TrailingZeros64(g))
				g &= g - 1
				w.scan(uint32(i)*64 + b)
				for len(w.stack) > 0 {
					o := w.stack[len(w.stack)-1]
					w.stack = w.stack[:len(w.stack)-1]
					w.scan(o)
				}
			}
		}
	}
}

// scan shades the targets of obj.
func (w *markWorker) scan(obj uint32) {
	m := w.m
	targets, _ := w.sc.scan(obj)
	for _, t := range targets {
		i, bit := t/64, uint64(1)<<(t%64)
		if atomic.LoadUint64(&m.live[i])&bit != 0 || atomic.OrUint64(&m.live[i], bit)&bit != 0 {
			continue
		}
		if m.atOnce {
			w.stack = append(w.stack, t)
			continue
		}
		atomic.OrUint64(&m.grey[i], bit)
		w.greyed++
	}
}
