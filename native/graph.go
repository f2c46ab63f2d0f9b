package native

import (
	"runtime"
	"sync"

	"github.com/heapsift/heapsift/internal/bitset"
)

// References are found conservatively: every aligned word of an
// allocation in use that points into another allocation in use (at its
// start or inside it) is a reference, labelled by the word's offset.

// edgeShard holds the references of the objects lo..hi-1, found by one
// worker: object i's are to[start[i-lo]:start[i-lo+1]]. The shards are
// the graph's final storage, so no copy of the edges is ever made.
type edgeShard struct {
	lo, hi    int
	start     []uint32
	to, label []uint32
}

// buildGraph scans every object for references, in parallel over
// contiguous ranges of objects, and then finds the roots.
func (h *Heap) buildGraph(o *opener) {
	n := len(h.addrs)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/4096+1))
	h.shards = make([]edgeShard, workers)
	var wg sync.WaitGroup
	for w := range h.shards {
		s := &h.shards[w]
		s.lo, s.hi = n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.start = make([]uint32, s.hi-s.lo+1)
			for i := s.lo; i < s.hi; i++ {
				s.to, s.label = h.scanObject(i, s.to, s.label)
				s.start[i-s.lo+1] = uint32(len(s.to))
			}
		}()
	}
	wg.Wait()
	h.findRoots(o)
}

// refs returns object i's references.
func (h *Heap) refs(i int) (targets, labels []uint32) {
	k := 0
	for k+1 < len(h.shards) && i >= h.shards[k].hi {
		k++
	}
	s := &h.shards[k]
	a, b := s.start[i-s.lo], s.start[i-s.lo+1]
	return s.to[a:b:b], s.label[a:b:b]
}

// scanObject appends object i's references.
func (h *Heap) scanObject(i int, to, label []uint32) ([]uint32, []uint32) {
	b := h.bytesOf(i)
	lo, hi := h.index.lo, h.index.hi
	for off := 0; off+8 <= len(b); off += 8 {
		v := le64(b[off:])
		if v < lo || v >= hi {
			continue
		}
		if j, ok := h.index.find(h.addrs, h.sizes, v); ok && j != i {
			to = append(to, uint32(j))
			label = append(label, uint32(off))
		}
	}
	return to, label
}

// mark finds the live objects (reachable from the roots), and among the
// rest, the leaked ones no other leaked object points to.
func (h *Heap) mark() {
	n := len(h.addrs)
	h.live = bitset.New(n)
	var queue []uint32
	for _, r := range h.roots {
		if !h.live.Has(int(r.Object)) {
			h.live.Add(int(r.Object))
			queue = append(queue, r.Object)
		}
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		targets, _ := h.Refs(int(i))
		for _, j := range targets {
			if !h.live.Has(int(j)) {
				h.live.Add(int(j))
				queue = append(queue, j)
			}
		}
	}
	pointedTo := bitset.New(n)
	for i := 0; i < n; i++ {
		if h.live.Has(i) {
			h.stats.LiveObjects++
			h.stats.LiveBytes += h.sizes[i]
			continue
		}
		h.stats.Leaked++
		h.stats.LeakedBytes += h.sizes[i]
		targets, _ := h.Refs(i)
		for _, j := range targets {
			pointedTo.Add(int(j))
		}
	}
	h.leakRoot = bitset.New(n)
	for i := 0; i < n; i++ {
		if !h.live.Has(i) && !pointedTo.Has(i) {
			h.leakRoot.Add(i)
			h.stats.LeakRoots++
		}
	}
}
