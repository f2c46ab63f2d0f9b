package rtread

// Runtime type descriptors (internal/abi.Type) as the heap refers to them:
// malloc headers, span.largeType, interface type words, itabs, channel
// element types. Each descriptor is decoded once and cached by address (a
// program has a few thousand); its pointer mask is unpacked into 64-bit
// words, built from the array and struct descriptors when the runtime builds
// it on demand (TFlagGCMaskOnDemand, Go 1.24+) and has not done so yet.

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/warn"
)

// rtypeLayout holds offsets into internal/abi.Type and its kind-specific
// extensions, and the version-specific flag encodings.
type rtypeLayout struct {
	size                                        int64
	size_, ptrBytes, tflag, kind, gcdata, str   FieldLoc
	ptrElem, sliceElem, arrayElem, arrayLen     FieldLoc
	chanElem, structFields                      FieldLoc
	fieldName, fieldTyp, fieldOffset, fieldSize FieldLoc
	itabType                                    FieldLoc
	kindMask                                    uint8
	directIfaceInTFlag                          bool  // Go 1.26+: TFlagDirectIface
	directIfaceBit                              uint8 // in Kind_ or TFlag
	gcMaskOnDemand                              uint8 // TFlag bit, 0 before Go 1.24
	gcProgKind                                  uint8 // Kind_ bit, 0 from Go 1.24
	extraStar                                   uint8
}

// readRTypeLayout locates the fields of internal/abi.Type and its
// extensions, and the flag encodings of the version.
func (r *Reader) readRTypeLayout() (rtypeLayout, []warn.Warning, error) {
	var l rtypeLayout
	b := &layoutBuilder{r: r}
	const abiType = "internal/abi.Type"
	t, err := r.dw.TypeNamed(abiType)
	if err != nil {
		return l, nil, err
	}
	l.size = t.Size()
	l.size_ = b.need(abiType, "Size_")
	l.ptrBytes = b.need(abiType, "PtrBytes")
	l.tflag = b.need(abiType, "TFlag")
	l.kind = b.need(abiType, "Kind_")
	l.gcdata = b.need(abiType, "GCData")
	l.str = b.need(abiType, "Str")
	l.ptrElem = b.need("internal/abi.PtrType", "Elem")
	l.sliceElem = b.opt("slices' element types are not followed", "internal/abi.SliceType", "Elem")
	l.arrayElem = b.need("internal/abi.ArrayType", "Elem")
	l.arrayLen = b.need("internal/abi.ArrayType", "Len")
	l.chanElem = b.opt("channels' element types are not followed", "internal/abi.ChanType", "Elem")
	l.structFields = b.need("internal/abi.StructType", "Fields", "array")
	l.fieldName = b.need("internal/abi.StructField", "Name", "Bytes")
	l.fieldTyp = b.need("internal/abi.StructField", "Typ")
	l.fieldOffset = b.need("internal/abi.StructField", "Offset")
	if st, err := r.dw.TypeNamed("internal/abi.StructField"); err == nil {
		l.fieldSize = FieldLoc{0, st.Size()}
	}
	if _, err := r.dw.TypeNamed("internal/abi.ITab"); err == nil {
		l.itabType = b.need("internal/abi.ITab", "Type")
	} else {
		l.itabType = b.need("runtime.itab", "_type")
	}
	l.readFlags(b)
	return l, b.warns, b.firstErr
}

// readFlags reads the version's kind and flag encodings. Go 1.26 moved
// the direct-interface bit from Kind_ to TFlag (and Kind_ became the kind
// itself); Go 1.24 replaced GC programs by masks built on demand.
func (l *rtypeLayout) readFlags(b *layoutBuilder) {
	dw := b.r.dw
	directInTFlag, has126 := dw.Constant("internal/abi.TFlagDirectIface")
	switch v, ok := dw.Constant("internal/abi.KindMask"); {
	case ok:
		l.kindMask = uint8(v)
	case has126:
		l.kindMask = 0xff // Go 1.26: Kind_ is the kind itself
	default:
		l.kindMask = uint8(b.constant("internal/abi.KindMask", 31))
	}
	if has126 {
		l.directIfaceInTFlag, l.directIfaceBit = true, uint8(directInTFlag)
	} else {
		l.directIfaceBit = uint8(b.constant("internal/abi.KindDirectIface", 32))
	}
	if v, ok := dw.Constant("internal/abi.TFlagGCMaskOnDemand"); ok {
		l.gcMaskOnDemand = uint8(v)
	} else {
		l.gcProgKind = uint8(b.constant("internal/abi.KindGCProg", 64))
	}
	l.extraStar = uint8(b.constant("internal/abi.TFlagExtraStar", 2))
}

// maxPtrBytes bounds the pointer data of a type gocore unpacks a mask for
// (its mask takes 1/64 of it).
const maxPtrBytes = 1 << 34

// RType is a decoded runtime type descriptor.
type RType struct {
	Addr        dump.Address
	Size        uint64
	PtrBytes    uint64
	Kind        uint8
	TFlag       uint8
	DirectIface bool
	Name        string   // the runtime's name for it (abi.Type.Str)
	Mask        []uint64 // pointer bits, one per word of the first PtrBytes
	MaskErr     error    // why Mask could not be read
	// ID numbers the descriptors of an RTypes densely, in the order they
	// were first decoded, so that callers can keep what they attach to
	// descriptors in arrays.
	ID int
}

// RTypes decodes and caches runtime type descriptors. It is not safe for
// concurrent use.
type RTypes struct {
	r      *Reader
	l      rtypeLayout
	types  dump.Address // moduledata.types: base of name and type offsets
	etypes dump.Address
	cache  map[dump.Address]*RType
	dwarf  map[dump.Address]dwarf.Type // DWARF-like types built from descriptors
	mapped uint64                      // bytes the core maps: no object is larger
}

// NewRTypes returns a decoder of the type descriptors of the module whose
// moduledata.types and etypes are types and etypes, with the warnings
// about what the version's layout lacks.
func NewRTypes(r *Reader, types, etypes dump.Address) (*RTypes, []warn.Warning, error) {
	l, warns, err := r.readRTypeLayout()
	if err != nil {
		return nil, warns, fmt.Errorf("reading internal/abi.Type layout: %w", err)
	}
	rt := &RTypes{r: r, l: l, types: types, etypes: etypes,
		cache: make(map[dump.Address]*RType), dwarf: make(map[dump.Address]dwarf.Type)}
	for _, m := range r.proc.Mappings() {
		rt.mapped += m.Size()
	}
	return rt, warns, nil
}

// Len returns how many descriptors have been decoded: their IDs are
// 0..Len()-1.
func (rt *RTypes) Len() int { return len(rt.cache) }

// Get returns the descriptor at addr.
func (rt *RTypes) Get(addr dump.Address) (*RType, error) {
	if t, ok := rt.cache[addr]; ok {
		return t, nil
	}
	t, err := rt.decode(addr)
	if err != nil {
		return nil, err
	}
	t.ID = len(rt.cache)
	rt.cache[addr] = t
	return t, nil
}

// ItabType returns the type descriptor of the itab at addr.
func (rt *RTypes) ItabType(itab dump.Address) (dump.Address, error) {
	if !rt.l.itabType.Present() {
		return 0, errors.New("the itab layout is unknown")
	}
	return rt.r.proc.Ptr(itab + dump.Address(rt.l.itabType.Off))
}

func (rt *RTypes) decode(addr dump.Address) (*RType, error) {
	if addr == 0 || addr%8 != 0 {
		return nil, fmt.Errorf("bad type descriptor address %#x", uint64(addr))
	}
	b, err := rt.r.proc.Slice(addr, uint64(rt.l.size))
	if err != nil {
		return nil, fmt.Errorf("reading type descriptor at %#x: %w", uint64(addr), err)
	}
	l := &rt.l
	t := &RType{
		Addr:     addr,
		Size:     l.size_.Read(b),
		PtrBytes: l.ptrBytes.Read(b),
		TFlag:    uint8(l.tflag.Read(b)),
	}
	rawKind := uint8(l.kind.Read(b))
	t.Kind = rawKind & l.kindMask
	if l.directIfaceInTFlag {
		t.DirectIface = t.TFlag&l.directIfaceBit != 0
	} else {
		t.DirectIface = rawKind&l.directIfaceBit != 0
	}
	if t.PtrBytes > t.Size || t.Size > 1<<40 || t.PtrBytes > maxPtrBytes {
		return nil, fmt.Errorf("type descriptor at %#x: bad size %d / ptrBytes %d", uint64(addr), t.Size, t.PtrBytes)
	}
	if str := int32(uint32(l.str.Read(b))); str != 0 && rt.types != 0 {
		t.Name = rt.readName(rt.types + dump.Address(str))
		if t.TFlag&l.extraStar != 0 && len(t.Name) > 0 && t.Name[0] == '*' {
			t.Name = t.Name[1:]
		}
	}
	if t.PtrBytes > 0 {
		t.Mask, t.MaskErr = rt.mask(t, b, rawKind)
	}
	return t, nil
}

// readName decodes an abi.Name: a flag byte, a uvarint length, the bytes.
func (rt *RTypes) readName(a dump.Address) string {
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
func (rt *RTypes) mask(t *RType, b []byte, rawKind uint8) ([]uint64, error) {
	l := &rt.l
	if t.PtrBytes > rt.mapped {
		// An object of this type could not lie in the core: its mask
		// would be an allocation of a claimed size.
		return nil, fmt.Errorf("type %s at %#x claims %d bytes of pointers, more than the core maps", t.Name, uint64(t.Addr), t.PtrBytes)
	}
	words := t.PtrBytes / 8
	out := make([]uint64, (words+63)/64)
	gcdata := dump.Address(l.gcdata.Read(b))
	switch {
	case l.gcProgKind != 0 && rawKind&l.gcProgKind != 0:
		return nil, fmt.Errorf("type %s at %#x uses a GC program", t.Name, uint64(t.Addr))
	case l.gcMaskOnDemand != 0 && t.TFlag&l.gcMaskOnDemand != 0:
		built, err := rt.r.proc.Ptr(gcdata)
		if err == nil && built != 0 {
			return out, rt.copyMask(out, 0, built, words)
		}
		// The runtime has not needed the mask yet: build it from the
		// type's structure, as runtime.buildGCMask does.
		work := maskWork{left: 4*words + 1<<16}
		return out, rt.buildMask(t.Addr, b, out, 0, &work)
	}
	return out, rt.copyMask(out, 0, gcdata, words)
}

// copyMask ORs n bits of the mask at addr into dst starting at bit off.
func (rt *RTypes) copyMask(dst []uint64, off uint64, addr dump.Address, n uint64) error {
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

// maskWork bounds building one pointer mask: the nesting of types, and
// the descriptors visited, which for a real type are about as many as
// the mask's words, but for a damaged one whose fields name the struct
// itself would grow as its field count to the power of the nesting.
type maskWork struct {
	depth int
	left  uint64
}

// buildMask writes the pointer bits of the type at addr (whose descriptor
// bytes are b, if already read) into dst at word offset off.
func (rt *RTypes) buildMask(addr dump.Address, b []byte, dst []uint64, off uint64, w *maskWork) error {
	if w.depth > 64 {
		return errors.New("type nesting too deep building a pointer mask")
	}
	if w.left == 0 {
		return fmt.Errorf("type at %#x: building its pointer mask visits too many descriptors", uint64(addr))
	}
	w.left--
	w.depth++
	defer func() { w.depth-- }()
	l := &rt.l
	var err error
	if b == nil {
		if b, err = rt.r.proc.Slice(addr, uint64(l.size)); err != nil {
			return err
		}
	}
	ptrBytes := l.ptrBytes.Read(b)
	if ptrBytes == 0 {
		return nil
	}
	tflag := uint8(l.tflag.Read(b))
	if l.gcMaskOnDemand == 0 || tflag&l.gcMaskOnDemand == 0 {
		return rt.copyMask(dst, off, dump.Address(l.gcdata.Read(b)), ptrBytes/8)
	}
	switch uint8(l.kind.Read(b)) & l.kindMask {
	case KindArray:
		ext, err := rt.r.proc.Slice(addr, uint64(l.arrayLen.Off+8))
		if err != nil {
			return err
		}
		elem := dump.Address(l.arrayElem.Read(ext))
		n := l.arrayLen.Read(ext)
		eb, err := rt.r.proc.Slice(elem, uint64(l.size))
		if err != nil {
			return err
		}
		esize := l.size_.Read(eb)
		for i := uint64(0); i < n; i++ {
			if esize == 0 || (off+i*esize/8)/64 >= uint64(len(dst)) {
				break
			}
			if err := rt.buildMask(elem, eb, dst, off+i*esize/8, w); err != nil {
				return err
			}
		}
		return nil
	case KindStruct:
		ext, err := rt.r.proc.Slice(addr, uint64(l.structFields.Off+16))
		if err != nil {
			return err
		}
		fields := dump.Address(l.structFields.Read(ext))
		nf := binary.LittleEndian.Uint64(ext[l.structFields.Off+8:])
		if nf > 1<<16 {
			return fmt.Errorf("struct type at %#x has %d fields", uint64(addr), nf)
		}
		fb, err := rt.r.proc.Slice(fields, nf*uint64(l.fieldSize.Size))
		if err != nil {
			return err
		}
		for i := uint64(0); i < nf; i++ {
			f := fb[i*uint64(l.fieldSize.Size):]
			ft := dump.Address(l.fieldTyp.Read(f))
			if err := rt.buildMask(ft, nil, dst, off+l.fieldOffset.Read(f)/8, w); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("type at %#x builds its mask on demand but is neither array nor struct", uint64(addr))
}

// Elem returns the element type of a pointer, slice, array or channel
// descriptor, or 0.
func (rt *RTypes) Elem(t *RType) dump.Address {
	var f FieldLoc
	switch t.Kind {
	case KindPointer:
		f = rt.l.ptrElem
	case KindSlice:
		f = rt.l.sliceElem
	case KindArray:
		f = rt.l.arrayElem
	case KindChan:
		f = rt.l.chanElem
	default:
		return 0
	}
	if f.Off < 0 {
		return 0
	}
	p, err := rt.r.proc.Ptr(t.Addr + dump.Address(f.Off))
	if err != nil {
		return 0
	}
	return p
}
