package gocore

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

// readMemStats computes HeapAlloc and HeapObjects from the core.
func (p *Program) readMemStats() (MemStats, error) {
	var ms MemStats
	sizes, err := p.classSizes()
	if err != nil {
		return ms, err
	}
	stats := p.Global("runtime.memstats").Field("heapStats").Field("stats")
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
	ca, co, err := p.mcacheCorrection()
	if err != nil {
		return ms, err
	}
	ms.HeapAlloc = alloc - free + ca
	ms.HeapObjects = objs - frees + co
	return ms, nil
}

// classSizes returns the size of each size class.
func (p *Program) classSizes() ([]uint64, error) {
	v := p.Global("internal/runtime/gc.SizeClassToSize")
	if v.err != nil {
		v = p.Global("runtime.class_to_size")
	}
	if v.err != nil {
		return nil, v.err
	}
	at, ok := stripTypedefs(v.Type).(*dwarf.ArrayType)
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
func (p *Program) mcacheCorrection() (bytes, objects uint64, err error) {
	empty := p.Global("runtime.emptymspan").Addr
	allp := p.Global("runtime.allp")
	n, err := allp.SliceLen()
	if err != nil {
		return 0, 0, err
	}
	l := p.spanL
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
			b, err := p.proc.Slice(dump.Address(sa), uint64(l.size))
			if err != nil {
				return 0, 0, err
			}
			used := l.allocCount.read(b) - l.allocCountBeforeCache.read(b)
			objects += used
			bytes += used * l.elemsize.read(b)
		}
	}
	return bytes, objects, nil
}

// checkMemStats compares the heap walk with the runtime's accounting.
func (p *Program) checkMemStats() {
	ms, err := p.readMemStats()
	if err != nil {
		p.warnf("cannot read the runtime's heap statistics to check the heap walk: %v", err)
		return
	}
	p.truth, p.haveTruth = ms, true
	var objs, bytes uint64
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		objs += uint64(s.nobj)
		bytes += uint64(s.nobj) * s.elemsize
	}
	if objs != ms.HeapObjects || bytes != ms.HeapAlloc {
		p.warnf("the heap walk found %d objects / %d bytes allocated, but the runtime counts %d / %d (HeapObjects/HeapAlloc)",
			objs, bytes, ms.HeapObjects, ms.HeapAlloc)
	}
}
