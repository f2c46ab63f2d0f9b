package gocore

// sync.Pool. A Pool's local and victim fields are unsafe.Pointers to arrays
// of localSize and victimSize sync.poolLocal, one per P; each poolLocal
// holds a private value (an interface) and a chain of ring buffers of
// sync.eface, whose type words say what the pooled values are. With these
// slots, a pool's values, including those in its victim cache that
// sync.oldPools keeps until the next GC, are typed like any interface's.

import (
	"debug/dwarf"

	"github.com/heapsift/heapsift/gocore/rtread"
)

// compilePool appends the slots of a sync.Pool at offset base: its typed
// fields, and local and victim as counted arrays of sync.poolLocal.
func (p *Program) compilePool(u *dwarf.StructType, base uint64, out []slot, depth int) []slot {
	out = p.compileFields(u, base, out, depth, "")
	local, err := p.dw.TypeNamed("sync.poolLocal")
	if err != nil || local.Size() <= 0 {
		return out
	}
	elem := p.types.internDWARF(local)
	for _, pair := range [][2]string{{"local", "localSize"}, {"victim", "victimSize"}} {
		ptr, err1 := rtread.Field(u, pair[0])
		n, err2 := rtread.Field(u, pair[1])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, slot{
			off:    base + uint64(ptr.ByteOffset),
			kind:   slotCounted,
			target: elem,
			auxOff: base + uint64(n.ByteOffset),
		})
	}
	return out
}

// counted handles a slotCounted: a pointer to as many of s.target as the
// word at s.auxOff says, plus s.count.
func (pr *propagator) counted(r *region, base uint64, s *slot) {
	ptr, ok := pr.word(r, base+s.off)
	if !ok || ptr == 0 {
		return
	}
	n, ok := pr.rawWord(r, base+s.auxOff)
	n += s.count
	if !ok || n == 0 || n > 1<<32 {
		return
	}
	pr.offer(r, base+s.off, ptr, s.target, n*pr.p.types.types[s.target].size, offerFit)
}
