// Package dwarfx holds the small DWARF type walks every model needs to
// read runtime layouts by member name: typedefs stripped, members found
// by name or dotted path through anonymous members (bit fields
// included), array lengths. The Go, CPython and glibc models each keep
// their own index of types; this package only walks a type once found.
package dwarfx

import (
	"debug/dwarf"
	"strings"
)

// maxChain bounds typedef and qualifier chains, so that a damaged or
// hostile debug file whose typedefs loop cannot hang a walk.
const maxChain = 100

// Strip returns t with typedefs and qualifiers (const, volatile) removed.
func Strip(t dwarf.Type) dwarf.Type {
	for i := 0; i < maxChain; i++ {
		switch u := t.(type) {
		case *dwarf.TypedefType:
			t = u.Type
		case *dwarf.QualType:
			t = u.Type
		default:
			return t
		}
	}
	return t
}

// Field returns the direct member of struct or union t called name.
func Field(t dwarf.Type, name string) (*dwarf.StructField, bool) {
	st, ok := Strip(t).(*dwarf.StructType)
	if !ok {
		return nil, false
	}
	for _, f := range st.Field {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
}

// Member is a member found by path: its offset from the start of the
// outermost struct, its size and its type. BitSize > 0 marks a bit
// field, BitOffset bits from Offset counted from the least significant
// bit.
type Member struct {
	Offset, Size       int64
	Type               dwarf.Type
	BitOffset, BitSize int64
}

// MemberPath finds a member of t by a dotted path ("interpreters.head"),
// looking through anonymous members on the way.
func MemberPath(t dwarf.Type, path string) (Member, bool) {
	m := Member{Type: t, Size: t.Size()}
	for _, name := range strings.Split(path, ".") {
		var found bool
		if m, found = FindMember(m, name, 0); !found {
			return Member{}, false
		}
	}
	return m, true
}

// FindMember finds name among the members of the struct or union m,
// recursing into anonymous members (depth bounds that recursion).
func FindMember(m Member, name string, depth int) (Member, bool) {
	st, ok := Strip(m.Type).(*dwarf.StructType)
	if !ok || depth > maxChain {
		return Member{}, false
	}
	for _, f := range st.Field {
		sub := member(m.Offset, f)
		if f.Name == name {
			return sub, true
		}
		if f.Name == "" {
			if r, ok := FindMember(sub, name, depth+1); ok {
				return r, true
			}
		}
	}
	return Member{}, false
}

// member describes field f of a struct placed at base.
func member(base int64, f *dwarf.StructField) Member {
	sub := Member{Offset: base + f.ByteOffset, Size: f.Type.Size(), Type: f.Type}
	if f.BitSize > 0 {
		sub.BitSize = f.BitSize
		if f.BitOffset != 0 || f.DataBitOffset == 0 && f.ByteSize > 0 {
			// DWARF 2-4 (DW_AT_bit_offset, which comes with
			// DW_AT_byte_size) counts from the storage unit's most
			// significant bit; 0 there is a field at the top.
			sub.BitOffset = 8*f.ByteSize - f.BitOffset - f.BitSize
		} else {
			sub.BitOffset = f.DataBitOffset - 8*f.ByteOffset
		}
		if f.ByteSize > 0 {
			sub.Size = f.ByteSize
		}
	}
	return sub
}

// ArrayLen is the element count of an array type, 0 for anything else.
func ArrayLen(t dwarf.Type) int {
	if at, ok := Strip(t).(*dwarf.ArrayType); ok && at.Count > 0 {
		return int(at.Count)
	}
	return 0
}
