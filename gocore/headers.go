package gocore

import (
	"encoding/binary"

	"github.com/heapsift/heapsift/dump"
)

// typeFromHeaders gives objects the type the runtime recorded for them: the
// malloc header of small objects over 512 bytes, span.largeType of large
// ones. Such a type may be the element type of an array allocation, so the
// object becomes [n]T when more than one T fits.
func (p *Program) typeFromHeaders() {
	h := &p.heap
	for si := range h.spans {
		s := &h.spans[si]
		if s.noscan || s.mem == nil || !s.header && s.class != 0 {
			continue
		}
		for obj := s.firstObj; obj < s.firstObj+s.nobj; obj++ {
			off := uint64(h.addr[obj] - s.base)
			var ta dump.Address
			usable := s.elemsize
			if s.header {
				ta = dump.Address(binary.LittleEndian.Uint64(s.mem[off:]))
				usable -= h.hp.mallocHeader
			} else {
				ta = s.largeType
			}
			if ta == 0 {
				continue
			}
			rt, err := p.rtypes.get(ta)
			if err != nil {
				continue
			}
			t := p.typeOfRuntime(rt)
			if t == NoType {
				continue
			}
			p.setType(obj, p.types.fit(t, usable), true)
		}
	}
}

// setType records object obj's type; fixed types come from the runtime's
// own records and are never replaced.
func (p *Program) setType(obj uint32, t TypeID, fixed bool) {
	p.objType[obj] = t
	if fixed {
		p.fixed[obj/64] |= 1 << (obj % 64)
	}
}

func (p *Program) isFixed(obj uint32) bool { return p.fixed[obj/64]&(1<<(obj%64)) != 0 }

// dataStart returns the offset in object obj where its value starts.
func (p *Program) dataStart(obj uint32) uint64 {
	if p.heap.spans[p.heap.spanOf[obj]].header {
		return p.heap.hp.mallocHeader
	}
	return 0
}
