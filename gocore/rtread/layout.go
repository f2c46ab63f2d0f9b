package rtread

// Field locations. The runtime structures read in bulk (mspan, g,
// abi.Type, _defer) are read as raw bytes, once per structure, and decoded
// through a layout: the offset and size of each field gocore needs, found
// once in DWARF by field name. A layout is built by a layoutBuilder, which
// remembers the first missing required field and turns each missing
// optional field into a warning, since what depends on it is left out.

import (
	"encoding/binary"
	"strings"

	"github.com/heapsift/heapsift/warn"
)

// source names this package's warnings as gocore's: the reader is its
// layer.
const source = "gocore"

// FieldLoc is a field's offset and size within a runtime struct; Off is
// -1 for a field the version does not have.
type FieldLoc struct{ Off, Size int64 }

// Present reports whether the field exists.
func (f FieldLoc) Present() bool { return f.Off >= 0 }

// Read decodes the field from the struct's bytes b (little-endian), or
// returns 0 if the field is absent or b too short.
func (f FieldLoc) Read(b []byte) uint64 {
	if f.Off < 0 || f.Off+f.Size > int64(len(b)) {
		return 0
	}
	b = b[f.Off : f.Off+f.Size]
	switch f.Size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	case 8:
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// Locate finds a field's offset and size (descending into single-value
// wrappers such as atomics); missing optional fields get offset -1.
func (r *Reader) Locate(typ string, optional bool, path ...string) (FieldLoc, error) {
	t, err := r.dw.TypeNamed(typ)
	if err != nil {
		return FieldLoc{-1, 0}, err
	}
	v := Value{r: r, Type: t, path: typ}
	for _, p := range path {
		v = v.Field(p)
	}
	v = v.Scalar()
	if v.err != nil {
		if optional {
			return FieldLoc{-1, 0}, nil
		}
		return FieldLoc{-1, 0}, v.err
	}
	return FieldLoc{int64(v.Addr), v.Type.Size()}, nil
}

// layoutBuilder locates the fields of a layout.
type layoutBuilder struct {
	r        *Reader
	firstErr error
	warns    []warn.Warning
}

// need locates a field the layout cannot do without.
func (b *layoutBuilder) need(typ string, path ...string) FieldLoc {
	f, err := b.r.Locate(typ, false, path...)
	if err != nil && b.firstErr == nil {
		b.firstErr = err
	}
	return f
}

// opt locates a field whose absence leaves out what depends on it (said
// by without), with a warning.
func (b *layoutBuilder) opt(without, typ string, path ...string) FieldLoc {
	f, err := b.r.Locate(typ, true, path...)
	if err == nil && !f.Present() {
		b.warns = append(b.warns, warn.New(source, "%s has no field %s: %s", typ, joinPath(path), without))
	} else if err != nil {
		b.warns = append(b.warns, warn.New(source, "%v: %s", err, without))
	}
	return f
}

// constant returns the runtime constant called name, or def with a
// warning when the executable's DWARF lacks it.
func (b *layoutBuilder) constant(name string, def int64) int64 {
	if v, ok := b.r.dw.Constant(name); ok {
		return v
	}
	b.warns = append(b.warns, warn.New(source, "DWARF has no constant %s; assuming %d", name, def))
	return def
}

func joinPath(path []string) string { return strings.Join(path, ".") }
