package rtread

// The runtime's own heap accounting, as runtime.ReadMemStats computes it
// (mstats.go readmemstats_m): the sum of the three heapStatsDelta entries of
// memstats.heapStats, plus what the spans cached in each P's mcache have
// allocated since they were cached (ReadMemStats flushes the mcaches
// first). It is the ground truth the heap walk is checked against.

import (
	"debug/dwarf"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// HeapStats are the runtime's heap totals.
type HeapStats struct {
	HeapAlloc   uint64 // bytes of allocated heap objects
	HeapObjects uint64 // allocated heap objects
}

// ReadHeapStats computes HeapAlloc and HeapObjects from the core, as
// runtime.ReadMemStats would have; l is the mspan layout.
func (r *Reader) ReadHeapStats(l SpanLayout) (HeapStats, error) {
	var ms HeapStats
	sizes, err := r.ClassSizes()
	if err != nil {
		return ms, err
	}
	stats := r.Global("runtime.memstats").Field("heapStats").Field("stats")
	if stats.err != nil {
		return ms, stats.err
	}
	var alloc, objs, free, frees uint64
	for i := int64(0); i < 3; i++ {
		d := stats.Index(i)
		u := func(name string) uint64 {
			v, e := d.Field(name).Uint()
			if e != nil && err == nil {
				err = e
			}
			return v
		}
		alloc += u("largeAlloc")
		objs += u("largeAllocCount")
		free += u("largeFree")
		frees += u("largeFreeCount")
		for c := range sizes {
			a, e1 := d.Field("smallAllocCount").Index(int64(c)).Uint()
			f, e2 := d.Field("smallFreeCount").Index(int64(c)).Uint()
			if e1 != nil || e2 != nil {
				return ms, fmt.Errorf("reading heapStats size class %d: %v %v", c, e1, e2)
			}
			alloc += a * sizes[c]
			objs += a
			free += f * sizes[c]
			frees += f
		}
	}
	if err != nil {
		return ms, err
	}
	ca, co, err := r.mcacheCorrection(l)
	if err != nil {
		return ms, err
	}
	ms.HeapAlloc = alloc - free + ca
	ms.HeapObjects = objs - frees + co
	return ms, nil
}

// ClassSizes returns the size of each size class, ascending.
func (r *Reader) ClassSizes() ([]uint64, error) {
	v := r.Global("internal/runtime/gc.SizeClassToSize")
	if v.err != nil {
		v = r.Global("runtime.class_to_size")
	}
	if v.err != nil {
		return nil, v.err
	}
	at, ok := StripTypedefs(v.Type).(*dwarf.ArrayType)
	if !ok || at.Count <= 0 || at.Count > 1024 {
		return nil, fmt.Errorf("%s: not a size class table", v.path)
	}
	sizes := make([]uint64, at.Count)
	for i := range sizes {
		s, err := v.Index(int64(i)).Uint()
		if err != nil {
			return nil, err
		}
		sizes[i] = s
	}
	return sizes, nil
}

// mcacheCorrection sums what the spans cached in mcaches allocated since
// they were cached, which heapStats does not count yet.
func (r *Reader) mcacheCorrection(l SpanLayout) (bytes, objects uint64, err error) {
	empty := r.Global("runtime.emptymspan").Addr
	allp := r.Global("runtime.allp")
	n, err := allp.SliceLen()
	if err != nil {
		return 0, 0, err
	}
	for i := int64(0); i < n; i++ {
		pp := allp.SliceIndex(i).Deref()
		mc := pp.Field("mcache").Deref()
		if mc.err != nil {
			continue // a P without an mcache
		}
		alloc := mc.Field("alloc")
		if alloc.err != nil {
			return 0, 0, alloc.err
		}
		for c := int64(0); alloc.Index(c).err == nil; c++ {
			sa, err := alloc.Index(c).Ptr()
			if err != nil || sa == 0 || sa == empty {
				continue
			}
			b, err := r.proc.Slice(dump.Address(sa), uint64(l.Size))
			if err != nil {
				return 0, 0, fmt.Errorf("reading the mspan at %#x cached by P %d: %w", uint64(sa), i, err)
			}
			used := l.AllocCount.Read(b) - l.AllocCountBeforeCache.Read(b)
			objects += used
			bytes += used * l.ElemSize.Read(b)
		}
	}
	return bytes, objects, nil
}
