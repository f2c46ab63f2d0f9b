package native

import (
	"slices"
)

// Free lists whose chunks look in use: a chunk in a thread's tcache or in
// an arena's fastbin keeps its neighbour's PREV_INUSE bit set, so only
// following the lists tells it is free. Since glibc 2.32 the links are
// "safe-linked": stored XORed with their own address shifted right by 12
// (PROTECT_PTR); the list heads are stored plainly.

// reveal undoes safe-linking of a link stored at addr, when the libc
// uses it.
func (o *opener) reveal(addr, stored uint64) uint64 {
	if o.safeLinking {
		return addr>>12 ^ stored
	}
	return stored
}

// chooseSafeLinking decides from glibc's version, or else from the first
// non-empty link which decoding leads to a chunk.
// A link points memOff bytes into the chunk it names (tcache: to its
// memory; fastbins: to its header).
func (o *opener) chooseSafeLinking(t *chunkTable, link, stored, memOff uint64) {
	if o.safeLinkingKnown || stored == 0 {
		return
	}
	o.safeLinkingKnown = true
	if _, ok := t.find(stored - memOff); ok {
		o.safeLinking = false
		return
	}
	_, o.safeLinking = t.find(link>>12 ^ stored - memOff)
}

// findTcaches returns the chunks holding tcache_perthread_structs: chunks
// of its size whose counts and entries agree, pointed to from a thread's
// static TLS (the tcache variable) or first in their region.
func (o *opener) findTcaches(t *chunkTable, firsts []uint64) []int {
	if o.l.TcacheSize == 0 {
		return nil
	}
	want := alignUp(uint64(o.l.TcacheSize)+sizeSz, chunkAlign)
	tls := o.tlsWords()
	var out []int
	for i, a := range t.addr {
		if t.sizeAt(i) != want || t.flags[i]&chunkInUse == 0 || t.flags[i]&chunkMmapped != 0 {
			continue
		}
		mem := a + 2*sizeSz
		_, inTLS := slices.BinarySearch(tls, mem)
		_, first := slices.BinarySearch(firsts, a)
		if (inTLS || first) && o.tcacheConsistent(t, mem) {
			t.flags[i] |= chunkInternal
			out = append(out, i)
		}
	}
	return out
}

// tlsWords returns the words of every thread's static TLS block (the
// page below its thread pointer), sorted. Blocks that overlap are read
// once: a core may claim 100,000 threads with one thread pointer.
func (o *opener) tlsWords() []uint64 {
	var tps []uint64
	for _, th := range o.p.Threads {
		if tp := uint64(th.TLS); tp >= pageSize {
			tps = append(tps, tp&^7)
		}
	}
	slices.Sort(tps)
	var out []uint64
	next := uint64(0) // words below next are read
	for _, tp := range tps {
		for a := max(tp-pageSize, next); a < tp; a += 8 {
			if v, ok := o.word(a); ok && v != 0 {
				out = append(out, v)
			}
		}
		next = max(next, tp)
	}
	slices.Sort(out)
	return out
}

// tcacheConsistent checks a tcache_perthread_struct at mem: a bin is
// empty exactly when its count is 0, and each head is a chunk's memory.
func (o *opener) tcacheConsistent(t *chunkTable, mem uint64) bool {
	for i := 0; i < o.l.TcacheBins; i++ {
		cnt, ok1 := o.tcacheCount(mem, i)
		e, ok2 := o.word(mem + uint64(o.l.TcacheEntries+8*i))
		if !ok1 || !ok2 || (cnt == 0) != (e == 0) {
			return false
		}
		if e != 0 {
			if _, ok := t.find(e - 2*sizeSz); !ok {
				return false
			}
		}
	}
	return true
}

// tcacheCount reads counts[i].
func (o *opener) tcacheCount(mem uint64, i int) (uint64, bool) {
	a := mem + uint64(o.l.TcacheCounts+i*o.l.TcacheCountSize)
	w, ok := o.word(a &^ 7)
	if !ok {
		return 0, false
	}
	shift := (a & 7) * 8
	mask := uint64(1)<<(8*o.l.TcacheCountSize) - 1
	return w >> shift & mask, true
}

// markTcache marks the chunks in the tcache at mem free.
func (o *opener) markTcache(t *chunkTable, mem uint64) {
	for i := 0; i < o.l.TcacheBins; i++ {
		cnt, _ := o.tcacheCount(mem, i)
		e, _ := o.word(mem + uint64(o.l.TcacheEntries+8*i))
		for n := uint64(0); e != 0 && n <= cnt; n++ {
			j, ok := t.find(e - 2*sizeSz)
			if !ok || e%chunkAlign != 0 {
				o.warns.Add(warnAt(e, "tcache bin %d of the tcache at %#x links to no chunk; the rest of that bin is not known", i, mem))
				break
			}
			t.flags[j] |= chunkFree
			stored, ok := o.word(e)
			if !ok {
				break
			}
			o.chooseSafeLinking(t, e, stored, 2*sizeSz)
			e = o.reveal(e, stored)
		}
	}
}

// markFastbins marks the chunks in an arena's fastbins free.
func (o *opener) markFastbins(t *chunkTable, a arena) {
	for i := 0; i < o.l.StateNFastbins; i++ {
		p, ok := o.word(a.addr + uint64(o.l.StateFastbins+8*i))
		for n := 0; ok && p != 0 && n < len(t.addr); n++ {
			j, found := t.find(p)
			if !found {
				o.warns.Add(warnAt(p, "fastbin %d of arena %#x links to no chunk; the rest of that bin is not known", i, a.addr))
				break
			}
			t.flags[j] |= chunkFree
			link := p + 2*sizeSz
			var stored uint64
			if stored, ok = o.word(link); !ok {
				break
			}
			o.chooseSafeLinking(t, link, stored, 0)
			p = o.reveal(link, stored)
		}
	}
}
