package native

import (
	"fmt"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/parallel"
	"github.com/heapsift/heapsift/warn"
)

// Walking a large region in parts. A walk is one chain of dependent
// reads, each chunk's size leading to the next, so that one walk of a
// heap of millions of chunks waits on memory for most of its time; both
// walks (counting, then recording) are run in parts instead, a few parts
// to each of several workers, which step their parts in turn so that the
// processor has several reads in flight. Part k > 0 starts where resync
// finds a run of consistent headers after the region's k-th fraction, and
// part k-1 walks up to that address: if it lands on it exactly, the two
// chains are one and part k's chunks are the ones a walk of the whole
// region finds, since each step depends on the address alone. If any part
// fails to join the next (a damaged heap, or a run of data that looks
// like headers), the region is walked whole, as if it were small.

// splitMin is the smallest region walked in parts.
const splitMin = 64 << 20

func (o *opener) splitMin() uint64 {
	if o.splitBytes != 0 {
		return o.splitBytes
	}
	return splitMin
}

// walkPart is one part of a region: its chunks from start up to, not
// including, the next part's start; n counted.
type walkPart struct {
	start, stop uint64
	n           int
}

// splitRegion returns the parts of r, counted, or nil when r is walked
// whole: too small to split, or a part does not join the next.
func (o *opener) splitRegion(r *region, workers int) []walkPart {
	nparts := workers * walkInterleave
	if workers < 2 || r.end-r.start < o.splitMin() || uint64(len(r.data)) < r.end-r.start {
		return nil
	}
	quiet := &opener{p: o.p, l: o.l, warns: &warn.List{}}
	parts := []walkPart{{start: r.start}}
	for k := 1; k < nparts; k++ {
		s := quiet.resync(r, alignUp(r.start+(r.end-r.start)*uint64(k)/uint64(nparts), chunkAlign))
		if s <= parts[len(parts)-1].start || s >= r.end {
			return nil
		}
		parts[len(parts)-1].stop = s
		parts = append(parts, walkPart{start: s})
	}
	parts[len(parts)-1].stop = r.end
	counts := make([]chunkTable, len(parts))
	walkers := make([]*chunkWalker, len(parts))
	for k, p := range parts {
		counts[k].noRecord = true
		walkers[k] = &chunkWalker{o: &opener{p: o.p, l: o.l, warns: &warn.List{}}, r: r, t: &counts[k], a: p.start, stop: p.stop}
	}
	runWalkers(walkers, workers)
	for k := range parts {
		if k < len(parts)-1 && walkers[k].end != parts[k].stop {
			return nil
		}
		parts[k].n = counts[k].counted
	}
	return parts
}

// recordParts records the chunks of r's parts at the end of t, which has
// room for them, in parallel. It reports false, leaving t as it was, if
// a part does not find the chunks it counted.
func (o *opener) recordParts(r *region, parts []walkPart, t *chunkTable, cls []*classifier, workers int) bool {
	base := len(t.addr)
	total := 0
	for _, p := range parts {
		total += p.n
	}
	if cap(t.addr)-base < total {
		return false
	}
	subs := make([]chunkTable, len(parts))
	off := base
	for w, p := range parts {
		subs[w] = chunkTable{addr: t.addr[off : off : off+p.n], size: t.size[off : off : off+p.n],
			flags: t.flags[off : off : off+p.n], types: t.types[off : off : off+p.n], cls: cls[w]}
		off += p.n
	}
	walkers := make([]*chunkWalker, len(parts))
	for k, p := range parts {
		walkers[k] = &chunkWalker{o: &opener{p: o.p, l: o.l, warns: &warn.List{}}, r: r, t: &subs[k], a: p.start, stop: p.stop}
	}
	runWalkers(walkers, workers)
	for w, p := range parts {
		// A part that found other chunks than it counted has appended
		// past its room into an array of its own.
		if len(subs[w].addr) != p.n || cap(subs[w].addr) != p.n {
			return false
		}
	}
	t.addr, t.size, t.flags, t.types = t.addr[:base+total], t.size[:base+total], t.flags[:base+total], t.types[:base+total]
	for _, sub := range subs {
		for a, size := range sub.big {
			if t.big == nil {
				t.big = map[uint64]uint64{}
			}
			t.big[a] = size
		}
	}
	for _, w := range walkers {
		o.warns.Add(w.o.warns.Items()...)
	}
	return true
}

// walkInterleave is how many parts of a region each worker walks, a step
// of each in turn: the parts' reads do not depend on each other, so that
// the processor waits on several at once.
const walkInterleave = 4

// runWalkers runs the walkers to their ends: workers goroutines, each
// taking turns between the walkers of its share. A fault reading the core
// in one is raised again here, where the caller's recovery sees it.
func runWalkers(walkers []*chunkWalker, workers int) {
	err := parallel.Chunks(workers, workers, func(_, g int) {
		share := walkers[len(walkers)*g/workers : len(walkers)*(g+1)/workers]
		for busy := true; busy; {
			busy = false
			for _, w := range share {
				if !w.done {
					w.step()
					busy = true
				}
			}
		}
	})
	if err != nil {
		panic(fmt.Sprintf("native: walking the heap: %v", err))
	}
}

// walkAll walks every region twice: counting its chunks, then recording
// and classifying them in a table allocated once at that size. Large
// regions are walked in parts, one a worker, in parallel. It returns the
// table and its classifiers: the first for the regions walked whole, then
// one for each part.
func (o *opener) walkAll(regions []region, workers int) (*chunkTable, []*classifier) {
	workers = max(1, min(workers, (maxClassifiers-1)/walkInterleave))
	cls := make([]*classifier, workers*walkInterleave+1)
	for k := range cls {
		cls[k] = newClassifier(o, k)
	}
	parts := make([][]walkPart, len(regions))
	n := 0
	quiet := &opener{p: o.p, l: o.l, warns: &warn.List{}}
	for i := range regions {
		if parts[i] = o.splitRegion(&regions[i], workers); parts[i] != nil {
			for _, p := range parts[i] {
				n += p.n
			}
			continue
		}
		count := chunkTable{noRecord: true}
		quiet.walkRegion(&regions[i], &count)
		n += count.counted
	}
	t := &chunkTable{addr: make([]uint64, 0, n), size: make([]uint32, 0, n), flags: make([]uint8, 0, n),
		types: make([]heap.TypeID, 0, n), cls: cls[0]}
	for i := range regions {
		if parts[i] == nil || !o.recordParts(&regions[i], parts[i], t, cls[1:], workers) {
			o.walkRegion(&regions[i], t)
		}
	}
	return t, cls
}
