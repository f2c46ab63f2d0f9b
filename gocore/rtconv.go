package gocore

// Runtime types without DWARF. Some types exist only as runtime type
// descriptors: the compiler's map buckets and groups of some versions,
// types made by reflect, synthetic array types. For those, a DWARF-like
// type is built from the descriptor (struct fields with names, types and
// offsets; array element and length; pointer element), reusing the real
// DWARF type of every part DWARF does know, so that such objects get
// layouts and field names like any other.

import (
	"debug/dwarf"
	"strings"

	"github.com/heapsift/heapsift/dump"
)

// runtimeDWARF returns a DWARF type describing the runtime type rt.
func (p *Program) runtimeDWARF(rt *rtype) dwarf.Type {
	if p.rtDWARF == nil {
		p.rtDWARF = make(map[dump.Address]dwarf.Type)
	}
	return p.convRuntime(rt.addr, 0)
}

func (p *Program) convRuntime(addr dump.Address, depth int) dwarf.Type {
	if t, ok := p.rtDWARF[addr]; ok {
		return t
	}
	rt, err := p.rtypes.get(addr)
	if err != nil || depth > 20 {
		return nil
	}
	if t := p.joinedDWARF(rt); t != nil {
		p.rtDWARF[addr] = t
		return t
	}
	common := dwarf.CommonType{ByteSize: int64(rt.size), Name: rt.name}
	switch rt.kind {
	case kindPointer, kindUnsafePointer:
		pt := &dwarf.PtrType{CommonType: common}
		p.rtDWARF[addr] = pt // before the element: types may point to themselves
		if e := p.rtypes.elem(rt); e != 0 {
			pt.Type = p.convRuntime(e, depth+1)
		}
		if pt.Type == nil {
			pt.Type = &dwarf.VoidType{}
		}
		return pt
	case kindArray:
		at := &dwarf.ArrayType{CommonType: common}
		p.rtDWARF[addr] = at
		b, err := p.proc.Slice(addr, uint64(p.rtypes.l.arrayLen.off+8))
		if err != nil {
			return nil
		}
		at.Count = int64(p.rtypes.l.arrayLen.read(b))
		at.Type = p.convRuntime(dump.Address(p.rtypes.l.arrayElem.read(b)), depth+1)
		if at.Type == nil {
			at.Type = &dwarf.UintType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 1, Name: "uint8"}}}
		}
		return at
	case kindStruct:
		st := &dwarf.StructType{CommonType: common, StructName: rt.name, Kind: "struct"}
		p.rtDWARF[addr] = st
		st.Field = p.runtimeFields(addr, depth)
		if strings.HasPrefix(rt.name, "map.bucket[") {
			// A bucket's overflow field is an unsafe.Pointer to the
			// next bucket of the same type (reflectdata MapBucketType).
			for _, f := range st.Field {
				if pt, ok := f.Type.(*dwarf.PtrType); ok && f.Name == "overflow" {
					f.Type = &dwarf.PtrType{CommonType: pt.CommonType, Type: st}
				}
			}
		}
		return st
	case kindFunc:
		t := &dwarf.FuncType{CommonType: common}
		p.rtDWARF[addr] = t
		return t
	}
	// Other kinds without DWARF (maps, channels, interfaces, strings,
	// slices, scalars) are described by size only.
	t := &dwarf.UintType{BasicType: dwarf.BasicType{CommonType: common}}
	p.rtDWARF[addr] = t
	return t
}

// joinedDWARF returns the DWARF type for rt, if DWARF has one.
func (p *Program) joinedDWARF(rt *rtype) dwarf.Type {
	if p.rtypes.types == 0 || rt.addr < p.rtypes.types || rt.addr >= p.rtypes.etypes {
		return nil
	}
	off, ok := p.dw.byRT[uint64(rt.addr-p.rtypes.types)]
	if !ok {
		return nil
	}
	t, err := p.dw.typeAt(off)
	if err != nil {
		return nil
	}
	return t
}

// runtimeFields converts the fields of the struct descriptor at addr.
func (p *Program) runtimeFields(addr dump.Address, depth int) []*dwarf.StructField {
	l := &p.rtypes.l
	ext, err := p.proc.Slice(addr, uint64(l.structFields.off+16))
	if err != nil {
		return nil
	}
	fields := dump.Address(l.structFields.read(ext))
	nf := leUint64(ext[l.structFields.off+8:])
	if nf > 1<<12 || l.fieldSize.size == 0 {
		return nil
	}
	fb, err := p.proc.Slice(fields, nf*uint64(l.fieldSize.size))
	if err != nil {
		return nil
	}
	var out []*dwarf.StructField
	for i := uint64(0); i < nf; i++ {
		f := fb[i*uint64(l.fieldSize.size):]
		ft := p.convRuntime(dump.Address(l.fieldTyp.read(f)), depth+1)
		if ft == nil {
			continue
		}
		out = append(out, &dwarf.StructField{
			Name:       p.rtypes.readName(dump.Address(l.fieldName.read(f))),
			Type:       ft,
			ByteOffset: int64(l.fieldOffset.read(f)),
		})
	}
	return out
}
