package native

import (
	"runtime"
	"sync"
)

// References are found conservatively: every aligned word of an
// allocation in use that points into another allocation in use (at its
// start or inside it) is a reference, labelled by the word's offset.

// buildGraph scans every object for references, in parallel over
// contiguous ranges of objects, and then finds the roots.
func (h *Heap) buildGraph(o *opener) {
	n := len(h.addrs)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/4096+1))
	type shard struct {
		lo, hi    int
		counts    []uint32
		to, label []uint32
	}
	shards := make([]shard, workers)
	var wg sync.WaitGroup
	for w := range shards {
		s := &shards[w]
		s.lo, s.hi = n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.counts = make([]uint32, s.hi-s.lo)
			for i := s.lo; i < s.hi; i++ {
				before := len(s.to)
				s.to, s.label = h.scanObject(i, s.to, s.label)
				s.counts[i-s.lo] = uint32(len(s.to) - before)
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, s := range shards {
		total += len(s.to)
	}
	h.edgeStart = make([]int, n+1)
	h.edgeTo = make([]uint32, 0, total)
	h.edgeLabel = make([]uint32, 0, total)
	for w := range shards {
		s := &shards[w]
		for i, c := range s.counts {
			h.edgeStart[s.lo+i+1] = h.edgeStart[s.lo+i] + int(c)
		}
		h.edgeTo = append(h.edgeTo, s.to...)
		h.edgeLabel = append(h.edgeLabel, s.label...)
		*s = shard{}
	}
	h.findRoots(o)
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
	h.live = newBitset(n)
	var queue []uint32
	for _, r := range h.roots {
		if !h.live.has(int(r.Object)) {
			h.live.set(int(r.Object))
			queue = append(queue, r.Object)
		}
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		targets, _ := h.Refs(int(i))
		for _, j := range targets {
			if !h.live.has(int(j)) {
				h.live.set(int(j))
				queue = append(queue, j)
			}
		}
	}
	pointedTo := newBitset(n)
	for i := 0; i < n; i++ {
		if h.live.has(i) {
			h.stats.LiveObjects++
			h.stats.LiveBytes += h.sizes[i]
			continue
		}
		h.stats.Leaked++
		h.stats.LeakedBytes += h.sizes[i]
		targets, _ := h.Refs(i)
		for _, j := range targets {
			pointedTo.set(int(j))
		}
	}
	h.leakRoot = newBitset(n)
	for i := 0; i < n; i++ {
		if !h.live.has(i) && !pointedTo.has(i) {
			h.leakRoot.set(i)
			h.stats.LeakRoots++
		}
	}
}
