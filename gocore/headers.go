package gocore

import (
	"encoding/binary"

	"github.com/heapsift/heapsift/dump"
)

// typeFromHeaders returns the type the runtime recorded for each object
// (objType), and which objects have one (fixed: such types are never
// replaced): the malloc header of small objects over 512 bytes,
// span.largeType of large ones. Such a type may be the element type of an
// array allocation, so the object becomes [n]T when more than one T fits.
func (p *Program) typeFromHeaders() (objType []TypeID, fixed []uint64) {
	h := &p.heap
	objType = makeHuge[TypeID](h.numObjects())
	fixed = makeHuge[uint64]((h.numObjects() + 63) / 64)
	for si := range h.spans {
		s := &h.spans[si]
		if s.noscan || s.mem == nil || !s.header && s.class != 0 {
			continue
		}
		h.eachObject(s, func(obj uint32, slot uint64) {
			off := slot * s.elemsize
			var ta dump.Address
			usable := s.elemsize
			if s.header {
				ta = dump.Address(binary.LittleEndian.Uint64(s.mem[off:]))
				usable -= h.hp.MallocHeader
			} else {
				ta = s.largeType
			}
			if ta == 0 {
				return
			}
			rt, err := p.rtypes.Get(ta)
			if err != nil {
				return
			}
			t := p.typeOfRuntime(rt)
			if t == NoType {
				return
			}
			objType[obj] = p.types.fit(t, usable)
			fixed[obj/64] |= 1 << (obj % 64)
		})
	}
	return objType, fixed
}

func (p *Program) isFixed(obj uint32) bool { return p.fixed[obj/64]&(1<<(obj%64)) != 0 }

// dataStart returns the offset in object obj where its value starts.
func (p *Program) dataStart(obj uint32) uint64 { return p.heap.dataStart(obj) }

// dataStart returns the offset in object obj where its value starts.
func (h *heap) dataStart(obj uint32) uint64 {
	if h.spanOf(obj).header {
		return h.hp.MallocHeader
	}
	return 0
}
