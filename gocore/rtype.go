package gocore

// Runtime type descriptors (internal/abi.Type) as the heap refers to them:
// malloc headers, span.largeType, interface type words, itabs, channel
// element types. Each descriptor is decoded once and cached by address (a
// program has a few thousand); its pointer mask is unpacked into 64-bit
// words, built from the array and struct descriptors when the runtime builds
// it on demand (TFlagGCMaskOnDemand, Go 1.24+) and has not done so yet.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// rtypeLayout holds offsets into internal/abi.Type and its kind-specific
// extensions, and the version-specific flag encodings.
type rtypeLayout struct {
	size                                        int64
	size_, ptrBytes, tflag, kind, gcdata, str   fieldLoc
	ptrElem, sliceElem, arrayElem, arrayLen     fieldLoc
	chanElem, structFields                      fieldLoc
	fieldName, fieldTyp, fieldOffset, fieldSize fieldLoc
	itabType                                    fieldLoc
	kindMask                                    uint8
	directIfaceInTFlag                          bool  // Go 1.26+: TFlagDirectIface
	directIfaceBit                              uint8 // in Kind_ or TFlag
	gcMaskOnDemand                              uint8 // TFlag bit, 0 before Go 1.24
	gcProgKind                                  uint8 // Kind_ bit, 0 from Go 1.24
	extraStar                                   uint8
}

func (r *reader) rtypeLayout() (rtypeLayout, error) {
	var l rtypeLayout
	var firstErr error
	get := func(typ string, optional bool, path ...string) fieldLoc {
		f, err := r.locate(typ, optional, path...)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return f
	}
	const abiType = "internal/abi.Type"
	t, err := r.dw.typeNamed(abiType)
	if err != nil {
		return l, err
	}
	l.size = t.Size()
	l.size_ = get(abiType, false, "Size_")
	l.ptrBytes = get(abiType, false, "PtrBytes")
	l.tflag = get(abiType, false, "TFlag")
	l.kind = get(abiType, false, "Kind_")
	l.gcdata = get(abiType, false, "GCData")
	l.str = get(abiType, false, "Str")
	l.ptrElem = get("internal/abi.PtrType", false, "Elem")
	l.sliceElem = get("internal/abi.SliceType", true, "Elem")
	l.arrayElem = get("internal/abi.ArrayType", false, "Elem")
	l.arrayLen = get("internal/abi.ArrayType", false, "Len")
	l.chanElem = get("internal/abi.ChanType", true, "Elem")
	l.structFields = get("internal/abi.StructType", false, "Fields", "array")
	l.fieldName = get("internal/abi.StructField", false, "Name", "Bytes")
	l.fieldTyp = get("internal/abi.StructField", false, "Typ")
	l.fieldOffset = get("internal/abi.StructField", false, "Offset")
	if st, err := r.dw.typeNamed("internal/abi.StructField"); err == nil {
		l.fieldSize = fieldLoc{0, st.Size()}
	}
	if _, err := r.dw.typeNamed("internal/abi.ITab"); err == nil {
		l.itabType = get("internal/abi.ITab", false, "Type")
	} else {
		l.itabType = get("runtime.itab", false, "_type")
	}
	c := func(name string, def int64) uint8 {
		if v, ok := r.dw.constant(name); ok {
			return uint8(v)
		}
		return uint8(def)
	}
	l.kindMask = 31
	if v, ok := r.dw.constant("internal/abi.KindMask"); ok {
		l.kindMask = uint8(v)
	} else if _, ok := r.dw.constant("internal/abi.TFlagDirectIface"); ok {
		l.kindMask = 0xff // Go 1.26: Kind_ is the kind itself
	}
	if v, ok := r.dw.constant("internal/abi.TFlagDirectIface"); ok {
		l.directIfaceInTFlag, l.directIfaceBit = true, uint8(v)
	} else {
		l.directIfaceBit = c("internal/abi.KindDirectIface", 32)
	}
	if v, ok := r.dw.constant("internal/abi.TFlagGCMaskOnDemand"); ok {
		l.gcMaskOnDemand = uint8(v)
	} else {
		l.gcProgKind = c("internal/abi.KindGCProg", 64)
	}
	l.extraStar = c("internal/abi.TFlagExtraStar", 2)
	return l, firstErr
}

// maxPtrBytes bounds the pointer data of a type gocore unpacks a mask for
// (its mask takes 1/64 of it).
const maxPtrBytes = 1 << 34

// rtype is a decoded runtime type descriptor.
type rtype struct {
	addr        dump.Address
	size        uint64
	ptrBytes    uint64
	kind        uint8
	tflag       uint8
	directIface bool
	name        string   // the runtime's name for it (abi.Type.Str)
	mask        []uint64 // pointer bits, one per word of the first ptrBytes
	maskErr     error
	typ         TypeID // the type this descriptor stands for, 0 until joined
	joined      bool
}

// rtypes decodes and caches runtime type descriptors.
type rtypes struct {
	r      *reader
	l      rtypeLayout
	types  dump.Address // moduledata.types: base of name and type offsets
	etypes dump.Address
	cache  map[dump.Address]*rtype
}

// get returns the descriptor at addr.
func (rt *rtypes) get(addr dump.Address) (*rtype, error) {
	if t, ok := rt.cache[addr]; ok {
		return t, nil
	}
	t, err := rt.decode(addr)
	if err != nil {
		return nil, err
	}
	rt.cache[addr] = t
	return t, nil
}

func (rt *rtypes) decode(addr dump.Address) (*rtype, error) {
	if addr == 0 || addr%8 != 0 {
		return nil, fmt.Errorf("bad type descriptor address %#x", uint64(addr))
	}
	b, err := rt.r.proc.Slice(addr, uint64(rt.l.size))
	if err != nil {
		return nil, fmt.Errorf("reading type descriptor at %#x: %w", uint64(addr), err)
	}
	l := &rt.l
	t := &rtype{
		addr:     addr,
		size:     l.size_.read(b),
		ptrBytes: l.ptrBytes.read(b),
		tflag:    uint8(l.tflag.read(b)),
	}
	rawKind := uint8(l.kind.read(b))
	t.kind = rawKind & l.kindMask
	if l.directIfaceInTFlag {
		t.directIface = t.tflag&l.directIfaceBit != 0
	} else {
		t.directIface = rawKind&l.directIfaceBit != 0
	}
	if t.ptrBytes > t.size || t.size > 1<<40 || t.ptrBytes > maxPtrBytes {
		return nil, fmt.Errorf("type descriptor at %#x: bad size %d / ptrBytes %d", uint64(addr), t.size, t.ptrBytes)
	}
	if str := int32(uint32(l.str.read(b))); str != 0 && rt.types != 0 {
		t.name = rt.readName(rt.types + dump.Address(str))
		if t.tflag&l.extraStar != 0 && len(t.name) > 0 && t.name[0] == '*' {
			t.name = t.name[1:]
		}
	}
	if t.ptrBytes > 0 {
		t.mask, t.maskErr = rt.mask(t, b, rawKind)
	}
	return t, nil
}

// readName decodes an abi.Name: a flag byte, a uvarint length, the bytes.
func (rt *rtypes) readName(a dump.Address) string {
	b, err := rt.r.proc.Slice(a, 1+binary.MaxVarintLen32)
	if err != nil {
		return ""
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > 1<<16 {
		return ""
	}
	s, err := rt.r.proc.Slice(a+dump.Address(1+k), n)
	if err != nil {
		return ""
	}
	return string(s)
}

// mask returns t's pointer bitmap as 64-bit words.
func (rt *rtypes) mask(t *rtype, b []byte, rawKind uint8) ([]uint64, error) {
	l := &rt.l
	words := t.ptrBytes / 8
	out := make([]uint64, (words+63)/64)
	gcdata := dump.Address(l.gcdata.read(b))
	switch {
	case l.gcProgKind != 0 && rawKind&l.gcProgKind != 0:
		return nil, fmt.Errorf("type %s at %#x uses a GC program", t.name, uint64(t.addr))
	case l.gcMaskOnDemand != 0 && t.tflag&l.gcMaskOnDemand != 0:
		built, err := rt.r.proc.Ptr(gcdata)
		if err == nil && built != 0 {
			return out, rt.copyMask(out, 0, built, words)
		}
		// The runtime has not needed the mask yet: build it from the
		// type's structure, as runtime.buildGCMask does.
		return out, rt.buildMask(t.addr, b, out, 0, 0)
	}
	return out, rt.copyMask(out, 0, gcdata, words)
}

// copyMask ORs n bits of the mask at addr into dst starting at bit off.
func (rt *rtypes) copyMask(dst []uint64, off uint64, addr dump.Address, n uint64) error {
	src, err := rt.r.proc.Slice(addr, (n+7)/8)
	if err != nil {
		return fmt.Errorf("reading pointer mask at %#x: %w", uint64(addr), err)
	}
	for i := uint64(0); i < n; i++ {
		if src[i/8]&(1<<(i%8)) != 0 {
			bit := off + i
			if bit/64 < uint64(len(dst)) {
				dst[bit/64] |= 1 << (bit % 64)
			}
		}
	}
	return nil
}

// buildMask writes the pointer bits of the type at addr (whose descriptor
// bytes are b, if already read) into dst at word offset off.
func (rt *rtypes) buildMask(addr dump.Address, b []byte, dst []uint64, off uint64, depth int) error {
	if depth > 64 {
		return errors.New("type nesting too deep building a pointer mask")
	}
	l := &rt.l
	var err error
	if b == nil {
		if b, err = rt.r.proc.Slice(addr, uint64(l.size)); err != nil {
			return err
		}
	}
	ptrBytes := l.ptrBytes.read(b)
	if ptrBytes == 0 {
		return nil
	}
	tflag := uint8(l.tflag.read(b))
	if l.gcMaskOnDemand == 0 || tflag&l.gcMaskOnDemand == 0 {
		return rt.copyMask(dst, off, dump.Address(l.gcdata.read(b)), ptrBytes/8)
	}
	switch uint8(l.kind.read(b)) & l.kindMask {
	case kindArray:
		ext, err := rt.r.proc.Slice(addr, uint64(l.arrayLen.off+8))
		if err != nil {
			return err
		}
		elem := dump.Address(l.arrayElem.read(ext))
		n := l.arrayLen.read(ext)
		eb, err := rt.r.proc.Slice(elem, uint64(l.size))
		if err != nil {
			return err
		}
		esize := l.size_.read(eb)
		for i := uint64(0); i < n; i++ {
			if esize == 0 || (off+i*esize/8)/64 >= uint64(len(dst)) {
				break
			}
			if err := rt.buildMask(elem, eb, dst, off+i*esize/8, depth+1); err != nil {
				return err
			}
		}
		return nil
	case kindStruct:
		ext, err := rt.r.proc.Slice(addr, uint64(l.structFields.off+16))
		if err != nil {
			return err
		}
		fields := dump.Address(l.structFields.read(ext))
		nf := binary.LittleEndian.Uint64(ext[l.structFields.off+8:])
		if nf > 1<<16 {
			return fmt.Errorf("struct type at %#x has %d fields", uint64(addr), nf)
		}
		fb, err := rt.r.proc.Slice(fields, nf*uint64(l.fieldSize.size))
		if err != nil {
			return err
		}
		for i := uint64(0); i < nf; i++ {
			f := fb[i*uint64(l.fieldSize.size):]
			ft := dump.Address(l.fieldTyp.read(f))
			if err := rt.buildMask(ft, nil, dst, off+l.fieldOffset.read(f)/8, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("type at %#x builds its mask on demand but is neither array nor struct", uint64(addr))
}

// elem returns the element type of a pointer, slice, array or channel
// descriptor, or 0.
func (rt *rtypes) elem(t *rtype) dump.Address {
	var f fieldLoc
	switch t.kind {
	case kindPointer:
		f = rt.l.ptrElem
	case kindSlice:
		f = rt.l.sliceElem
	case kindArray:
		f = rt.l.arrayElem
	case kindChan:
		f = rt.l.chanElem
	default:
		return 0
	}
	if f.off < 0 {
		return 0
	}
	p, err := rt.r.proc.Ptr(t.addr + dump.Address(f.off))
	if err != nil {
		return 0
	}
	return p
}
