package gocore

// The pointer graph. Each word of an allocated object that the GC treats as
// a pointer (scan.go) and that points into an allocated heap object is an
// edge: source object, offset of the word in it, target object. The edges
// are found once, before marking, by reading every scannable span's memory
// in address order, in parallel; marking, type propagation, ForEachPointer
// and Edges then read them instead of resolving the same pointers again.
//
// They are kept in compressed sparse row form, in chunks of 1<<16 objects
// so that workers fill chunks independently and nothing is copied into one
// array afterwards: for the chunk's i-th object, its edges are entries
// start[i] up to start[i+1] of two parallel arrays, the target object
// numbers and the byte offsets of the pointer words, in increasing offset
// order. The start arrays of all chunks share one allocation; each worker
// appends the edges of the chunks it takes to blocks of a few MiB, which
// the chunks then share. Cost: 4 bytes per object and 8 per edge.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
)

const (
	// edgeChunkShift is log2 of the number of objects in a chunk.
	edgeChunkShift = 16
	// maxEdgeIndex bounds the edges of one chunk (indices are uint32).
	maxEdgeIndex = 1<<32 - 1
	// edgeBlock is the number of edges in a block of a worker's edges.
	edgeBlock = 1 << 20
)

// edgeChunk holds the edges of a chunk of consecutive objects.
type edgeChunk struct {
	start   []uint32 // one entry per object, and one more
	targets []uint32
	offsets []uint32
}

// edgeGraph is the heap's pointer graph.
type edgeGraph struct {
	shift  uint // log2 of the objects in a chunk
	chunks []edgeChunk
	starts []uint32 // the chunks' start arrays, one after the other
	count  uint64   // edges in all
}

// of returns object obj's edges: target objects and the offsets of the
// pointer words, in increasing offset order. The slices are shared.
func (g *edgeGraph) of(obj uint32) (targets, offsets []uint32) {
	c := &g.chunks[obj>>g.shift]
	i := obj & (1<<g.shift - 1)
	lo, hi := c.start[i], c.start[i+1]
	return c.targets[lo:hi:hi], c.offsets[lo:hi:hi]
}

// buildEdges extracts the edges of all objects, in chunks of 1<<shift
// objects, with one worker per CPU.
func (p *Program) buildEdges(shift uint) (edgeGraph, error) {
	n := len(p.heap.addr)
	size := 1 << shift
	nchunks := (n + size - 1) / size
	g := edgeGraph{shift: shift, chunks: make([]edgeChunk, nchunks), starts: makeHuge[uint32](n + nchunks)}
	workers := max(1, min(runtime.GOMAXPROCS(0), nchunks))
	var (
		next    atomic.Int64
		typesMu sync.Mutex // guards p.rtypes
		wg      sync.WaitGroup
		failed  atomic.Value // the first panic of a worker, on data too broken to read
	)
	builders := make([]*edgeBuilder, workers)
	for w := range builders {
		b := &edgeBuilder{p: p, h: &p.heap, typesMu: &typesMu}
		builders[w] = b
		wg.Add(1)
		go func() {
			defer wg.Done()
			debug.SetPanicOnFault(true) // a core that shrinks mid-read faults here
			defer func() {
				if r := recover(); r != nil {
					failed.CompareAndSwap(nil, fmt.Sprint(r))
					next.Store(int64(nchunks)) // stop the other workers
				}
			}()
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks {
					return
				}
				lo := c * size
				hi := min(n, (c+1)*size)
				start := g.starts[lo+c : hi+c+1 : hi+c+1]
				g.chunks[c] = b.chunk(uint32(lo), uint32(hi), start)
			}
		}()
	}
	wg.Wait()
	if r := failed.Load(); r != nil {
		return g, fmt.Errorf("building the pointer graph: the heap is too damaged to read (%v)", r)
	}
	var dropped uint64
	for _, b := range builders {
		dropped += b.dropped
	}
	for i := range g.chunks {
		g.count += uint64(len(g.chunks[i].targets))
	}
	if dropped > 0 {
		p.warnf("%d pointers were left out of the pointer graph (more than 4 GiB into an object, or more than 4G edges in %d objects)", dropped, size)
	}
	return g, nil
}

// edgeBuilder extracts the edges of chunks of objects.
type edgeBuilder struct {
	p       *Program
	h       *heap
	typesMu *sync.Mutex
	lastTA  dump.Address // the last type looked up, and its descriptor
	lastRT  *rtread.RType
	dropped uint64
	// The current blocks; the chunk being built starts at first.
	targets, offsets []uint32
	first            int
}

// chunk returns the edges of objects [lo, hi), filling start (hi-lo+1
// entries).
func (b *edgeBuilder) chunk(lo, hi uint32, start []uint32) edgeChunk {
	h := b.h
	b.first = len(b.targets)
	start[0] = 0
	for obj := lo; obj < hi; obj++ {
		s := &h.spans[h.spanOf[obj]]
		if !s.noscan && s.mem != nil {
			base := uint64(h.addr[obj] - s.base)
			mem := s.mem[base : base+s.elemsize]
			if s.heapBits != 0 {
				b.bitmapWords(mem, s.mem[s.heapBits:], base/8)
			} else if rt, from := b.scanType(s, mem); rt != nil {
				// Offsets are kept from the value's start, after
				// any malloc header.
				tilePointers(rt, mem, from, func(off, val uint64) bool {
					b.add(off-from, val)
					return true
				})
			}
		}
		start[obj-lo+1] = uint32(len(b.targets) - b.first)
	}
	end := len(b.targets)
	return edgeChunk{start: start, targets: b.targets[b.first:end:end], offsets: b.offsets[b.first:end:end]}
}

// grow moves the edges of the chunk being built to new blocks.
func (b *edgeBuilder) grow() {
	n := len(b.targets) - b.first
	size := max(edgeBlock, 2*n)
	targets, offsets := make([]uint32, n, size), make([]uint32, n, size)
	copy(targets, b.targets[b.first:])
	copy(offsets, b.offsets[b.first:])
	b.targets, b.offsets, b.first = targets, offsets, 0
}

// bitmapWords adds the edges of an object of a span with a heap bitmap:
// mem is the object, hb the bitmap, w0 the object's first word's bit.
func (b *edgeBuilder) bitmapWords(mem, hb []byte, w0 uint64) {
	nw := uint64(len(mem)) / 8
	for w := uint64(0); w < nw; {
		bit := w0 + w
		// Take the bits of up to 64 words at once.
		var m uint64
		var n uint64
		if i := bit / 8; i+8 <= uint64(len(hb)) {
			m = binary.LittleEndian.Uint64(hb[i:]) >> (bit % 8)
			n = min(64-bit%8, nw-w)
		} else {
			m = uint64(hb[i]) >> (bit % 8)
			n = min(8-bit%8, nw-w)
		}
		if n < 64 {
			m &= 1<<n - 1
		}
		for m != 0 {
			i := w + uint64(bits.TrailingZeros64(m))
			m &= m - 1
			b.add(i*8, binary.LittleEndian.Uint64(mem[i*8:]))
		}
		w += n
	}
}

// add records an edge to what val points to, if it is a heap object.
func (b *edgeBuilder) add(off, val uint64) {
	h := b.h
	if val-uint64(h.lo) >= uint64(h.hi-h.lo) {
		return
	}
	t, _, _, ok := h.lookup(val)
	if !ok {
		return
	}
	if off > 1<<32-1 || len(b.targets)-b.first >= maxEdgeIndex {
		b.dropped++
		return
	}
	if len(b.targets) == cap(b.targets) {
		b.grow()
	}
	b.targets = append(b.targets, t)
	b.offsets = append(b.offsets, uint32(off))
}

// scanType is Program.scanType for a worker: descriptors are looked up
// under typesMu, the last one kept.
func (b *edgeBuilder) scanType(s *span, mem []byte) (*rtread.RType, uint64) {
	ta, start := b.h.scanTypeAddr(s, mem)
	if ta == 0 {
		return nil, 0
	}
	if ta != b.lastTA {
		b.typesMu.Lock()
		rt := usableRType(b.p.rtypes.Get(ta))
		b.typesMu.Unlock()
		b.lastTA, b.lastRT = ta, rt
	}
	if b.lastRT == nil {
		return nil, 0
	}
	return b.lastRT, start
}

// Edges returns object obj's pointers to heap objects, as ForEachPointer
// gives them: the target object numbers and the byte offsets of the
// pointer words from obj's Addr (its value, after any malloc header), in
// increasing offset order; FieldPath(obj, offset)
// names an edge. Together they are the heap's object graph in compressed
// sparse row form, built once by Open (8 bytes per edge, 4 per object).
// The slices are the Program's own: do not modify them. (Pointers more
// than 4 GiB into an object are left out, with a warning from Open.)
func (p *Program) Edges(obj int) (targets, offsets []uint32) {
	if obj < 0 || obj >= len(p.heap.addr) {
		return nil, nil
	}
	return p.edges.of(uint32(obj))
}

// NumEdges returns the number of pointers between heap objects (the sum of
// len(targets) of Edges over all objects).
func (p *Program) NumEdges() uint64 { return p.edges.count }
