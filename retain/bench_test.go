package retain

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"
)

// heapShape is a synthetic object graph shaped like a Go heap: a few big
// containers (arrays, map buckets) at the front, each pointing to every
// fourth object of its own stretch of small objects; small objects with
// 0-6 pointers, mostly to their neighbours (struct children, list links),
// some backwards (parent pointers, doubly linked lists: cycles), some
// within 64K objects and a tenth anywhere. An edge's label is its pointer
// slot. Edges come from a hash of the object number, so both passes of
// BuildGraph see the same ones.
type heapShape struct {
	n, containers int
}

// indexLabel is the first label of container element edges.
const indexLabel = 1000

func (h heapShape) stretch() int { return (h.n - h.containers) / h.containers }

func (h heapShape) sizes() []uint64 {
	sizes := make([]uint64, h.n)
	for i := range sizes {
		if i < h.containers {
			sizes[i] = uint64(8 * h.stretch() / 4)
		} else {
			sizes[i] = 16 << (mix64(uint64(i)^0x5bd1e995) % 5)
		}
	}
	return sizes
}

func (h heapShape) typeOf() []uint32 {
	types := make([]uint32, h.n)
	for i := range types {
		if i < h.containers {
			types[i] = 100 + uint32(i%3)
		} else {
			types[i] = smallType(uint64(i))
		}
	}
	return types
}

func (h heapShape) roots() []Root {
	var roots []Root
	for c := 0; c < h.containers; c++ {
		roots = append(roots, Root{Object: uint32(c), Label: uint32(c)})
	}
	for i := 0; i < h.n/2000; i++ {
		x := mix64(uint64(i) ^ 0x85ebca6b)
		roots = append(roots, Root{Object: uint32(h.containers + int(x%uint64(h.n-h.containers))), Label: uint32(x >> 60)})
	}
	return roots
}

// smallType is the type id of small object i.
func smallType(i uint64) uint32 { return uint32(mix64(i^0x27d4eb2f) % 50) }

// degrees is the out-degree distribution of small objects (mean 2.6).
var degrees = [8]uint64{0, 1, 2, 2, 3, 3, 4, 6}

func (h heapShape) edges(emit func(from, to, label uint32)) {
	k, span := uint64(h.containers), uint64(h.n-h.containers)
	for c := uint64(0); c < k; c++ {
		first := k + c*uint64(h.stretch())
		for j := uint64(0); j < uint64(h.stretch()); j += 4 {
			emit(uint32(c), uint32(first+j), indexLabel+uint32(j/4%64))
		}
	}
	for i := k; i < uint64(h.n); i++ {
		x := mix64(i)
		for j := uint64(0); j < degrees[x&7]; j++ {
			y := mix64(x + j)
			r, kind := y>>8, y%100
			var to uint64
			switch {
			case kind < 50:
				to = i + 1 + r%4
			case kind < 70:
				to = i - 1 - r%16
			case kind < 90:
				to = i + r%65536 - 32768
			default:
				to = k + r%span
			}
			if to < k || to >= uint64(h.n) {
				to = k + r%span
			}
			// A label is a field: the pointer slot.
			emit(uint32(i), uint32(to), uint32(j))
		}
	}
}

// newPhases returns a function that reports the wall and CPU time since
// its previous call under the given name (none if empty).
func newPhases(b *testing.B) func(name string) {
	wall, cpu := time.Now(), cpuTime()
	return func(name string) {
		w, c := time.Now(), cpuTime()
		if name != "" {
			b.ReportMetric(w.Sub(wall).Seconds(), name+"-s")
			b.ReportMetric((c - cpu).Seconds(), name+"-cpu-s")
		}
		wall, cpu = w, c
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes.
func peakRSS() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(rest, []byte("kB")))), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchmarkHeap reports, per phase, wall and CPU seconds, and the peak
// resident set after the dominators (graph, dominators, retained sizes and
// the caller's sizes) and at the end (paths and groups too). The edge
// source's own cost is measured apart ("emit") and is paid twice by build.
func benchmarkHeap(b *testing.B, h heapShape) {
	sizes, roots := h.sizes(), h.roots()
	collapse := func(l uint32) uint32 { return min(l, indexLabel) }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		phase := newPhases(b)
		h.edges(func(from, to, label uint32) {})
		phase("emit")
		g, err := BuildGraph(h.n, sizes, roots, h.edges)
		if err != nil {
			b.Fatal(err)
		}
		phase("build")
		d := ComputeDominators(g)
		phase("dom")
		b.ReportMetric(float64(peakRSS())/1e6, "peakRSS-dom-MB")
		types := h.typeOf()
		phase("")
		p := ShortestPaths(g)
		phase("bfs")
		groups, err := Groups(d, p, types, collapse)
		if err != nil {
			b.Fatal(err)
		}
		phase("groups")
		b.ReportMetric(float64(peakRSS())/1e6, "peakRSS-end-MB")
		b.ReportMetric(float64(g.NumEdges())/1e6, "Medges")
		b.ReportMetric(float64(d.NumReachable())/1e6, "Mreachable")
		b.ReportMetric(float64(len(groups)), "groups")
	}
}

func BenchmarkHeap1M(b *testing.B)  { benchmarkHeap(b, heapShape{n: 1 << 20, containers: 8}) }
func BenchmarkHeap18M(b *testing.B) { benchmarkHeap(b, heapShape{n: 18_000_000, containers: 32}) }
