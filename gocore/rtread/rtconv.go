package rtread

// Runtime types without DWARF. Some types exist only as runtime type
// descriptors: the compiler's map buckets and groups of some versions,
// types made by reflect, synthetic array types. For those, a DWARF-like
// type is built from the descriptor (struct fields with names, types and
// offsets; array element and length; pointer element), reusing the real
// DWARF type of every part DWARF does know, so that such objects get
// layouts and field names like any other.

import (
	"debug/dwarf"
	"encoding/binary"
	"strings"

	"github.com/heapsift/heapsift/dump"
)

// DWARF returns a DWARF type describing the runtime type t: its own
// DWARF entry if it has one, else one built from the descriptor.
func (rt *RTypes) DWARF(t *RType) dwarf.Type {
	return rt.convRuntime(t.Addr, 0)
}

func (rt *RTypes) convRuntime(addr dump.Address, depth int) dwarf.Type {
	if t, ok := rt.dwarf[addr]; ok {
		return t
	}
	d, err := rt.Get(addr)
	if err != nil || depth > 20 {
		return nil
	}
	if t, ok := rt.Joined(d); ok {
		rt.dwarf[addr] = t
		return t
	}
	common := dwarf.CommonType{ByteSize: int64(d.Size), Name: d.Name}
	switch d.Kind {
	case KindPointer, KindUnsafePointer:
		pt := &dwarf.PtrType{CommonType: common}
		rt.dwarf[addr] = pt // before the element: types may point to themselves
		if e := rt.Elem(d); e != 0 {
			pt.Type = rt.convRuntime(e, depth+1)
		}
		if pt.Type == nil {
			pt.Type = &dwarf.VoidType{}
		}
		return pt
	case KindArray:
		at := &dwarf.ArrayType{CommonType: common}
		rt.dwarf[addr] = at
		b, err := rt.r.proc.Slice(addr, uint64(rt.l.arrayLen.Off+8))
		if err != nil {
			return nil
		}
		at.Count = int64(rt.l.arrayLen.Read(b))
		at.Type = rt.convRuntime(dump.Address(rt.l.arrayElem.Read(b)), depth+1)
		if at.Type == nil {
			at.Type = &dwarf.UintType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 1, Name: "uint8"}}}
		}
		return at
	case KindStruct:
		st := &dwarf.StructType{CommonType: common, StructName: d.Name, Kind: "struct"}
		rt.dwarf[addr] = st
		st.Field = rt.runtimeFields(addr, depth)
		if strings.HasPrefix(d.Name, "map.bucket[") {
			// A bucket's overflow field is an unsafe.Pointer to the
			// next bucket of the same type (reflectdata MapBucketType).
			for _, f := range st.Field {
				if pt, ok := f.Type.(*dwarf.PtrType); ok && f.Name == "overflow" {
					f.Type = &dwarf.PtrType{CommonType: pt.CommonType, Type: st}
				}
			}
		}
		return st
	case KindFunc:
		t := &dwarf.FuncType{CommonType: common}
		rt.dwarf[addr] = t
		return t
	}
	// Other kinds without DWARF (maps, channels, interfaces, strings,
	// slices, scalars) are described by size only.
	t := &dwarf.UintType{BasicType: dwarf.BasicType{CommonType: common}}
	rt.dwarf[addr] = t
	return t
}

// Joined returns the DWARF type whose runtime type descriptor
// (DW_AT_go_runtime_type) is t, if DWARF has one.
func (rt *RTypes) Joined(t *RType) (dwarf.Type, bool) {
	if rt.types == 0 || t.Addr < rt.types || t.Addr >= rt.etypes {
		return nil, false
	}
	off, ok := rt.r.dw.RuntimeTypeEntry(uint64(t.Addr - rt.types))
	if !ok {
		return nil, false
	}
	dt, err := rt.r.dw.TypeAt(off)
	if err != nil {
		return nil, false
	}
	return dt, true
}

// runtimeFields converts the fields of the struct descriptor at addr.
func (rt *RTypes) runtimeFields(addr dump.Address, depth int) []*dwarf.StructField {
	l := &rt.l
	ext, err := rt.r.proc.Slice(addr, uint64(l.structFields.Off+16))
	if err != nil {
		return nil
	}
	fields := dump.Address(l.structFields.Read(ext))
	nf := binary.LittleEndian.Uint64(ext[l.structFields.Off+8:])
	if nf > 1<<12 || l.fieldSize.Size == 0 {
		return nil
	}
	fb, err := rt.r.proc.Slice(fields, nf*uint64(l.fieldSize.Size))
	if err != nil {
		return nil
	}
	var out []*dwarf.StructField
	for i := uint64(0); i < nf; i++ {
		f := fb[i*uint64(l.fieldSize.Size):]
		ft := rt.convRuntime(dump.Address(l.fieldTyp.Read(f)), depth+1)
		if ft == nil {
			continue
		}
		out = append(out, &dwarf.StructField{
			Name:       rt.readName(dump.Address(l.fieldName.Read(f))),
			Type:       ft,
			ByteOffset: int64(l.fieldOffset.Read(f)),
		})
	}
	return out
}
