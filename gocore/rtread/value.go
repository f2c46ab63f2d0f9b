package rtread

// Value is the DWARF-typed cursor through which heapsift reads the runtime's
// data structures by field name:
//
//	spans := r.Global("runtime.mheap_").Field("allspans")
//	n, err := spans.SliceLen()
//
// A Value that could not be formed (a missing field, a nil pointer, memory
// the core lacks) carries its error along, so a chain of Field, Index and
// Deref calls needs one check at the end; the error names the path that
// failed ("runtime.mheap_.allspans: runtime.mheap has no field allspans").

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// Reader reads memory of the core and knows the executable's DWARF.
type Reader struct {
	proc *dump.Process
	dw   *Index
	bias uint64 // load bias of the executable (PIE), added to DWARF addresses
}

// NewReader returns a Reader of the memory of proc, whose executable's
// DWARF ix describes, loaded bias bytes from its link-time addresses.
func NewReader(proc *dump.Process, ix *Index, bias uint64) *Reader {
	return &Reader{proc: proc, dw: ix, bias: bias}
}

// Proc returns the process the Reader reads.
func (r *Reader) Proc() *dump.Process { return r.proc }

// Index returns the executable's DWARF index.
func (r *Reader) Index() *Index { return r.dw }

// Bias returns the executable's load bias.
func (r *Reader) Bias() uint64 { return r.bias }

// Value is a typed location in the core's memory.
type Value struct {
	r    *Reader
	Addr dump.Address
	Type dwarf.Type
	path string
	err  error
}

func (r *Reader) errValue(path string, err error) Value {
	return Value{r: r, path: path, err: fmt.Errorf("%s: %w", path, err)}
}

// Global returns the package-level variable called name (e.g.
// "runtime.mheap_").
func (r *Reader) Global(name string) Value {
	g, ok := r.dw.globals[name]
	if !ok {
		return r.errValue(name, errors.New("no such variable in the executable's DWARF"))
	}
	t, err := r.dw.TypeAt(g.Type)
	if err != nil {
		return r.errValue(name, err)
	}
	return Value{r: r, Addr: dump.Address(g.Addr + r.bias), Type: t, path: name}
}

// ValueAt returns a Value of DWARF type typ at addr, called path in
// errors.
func (r *Reader) ValueAt(addr dump.Address, typ dwarf.Type, path string) Value {
	return Value{r: r, Addr: addr, Type: typ, path: path}
}

// At returns a Value of the named type at addr.
func (r *Reader) At(addr dump.Address, typ string) Value {
	t, err := r.dw.TypeNamed(typ)
	if err != nil {
		return r.errValue(fmt.Sprintf("(%s)%#x", typ, uint64(addr)), err)
	}
	return Value{r: r, Addr: addr, Type: t, path: fmt.Sprintf("(%s)%#x", typ, uint64(addr))}
}

// Err returns the error that made v invalid, or nil.
func (v Value) Err() error { return v.err }

// Path names v in errors, e.g. "runtime.mheap_.allspans".
func (v Value) Path() string { return v.path }

// Size returns the size of v's type in bytes.
func (v Value) Size() int64 {
	if v.err != nil || v.Type == nil {
		return 0
	}
	return v.Type.Size()
}

func (v Value) fail(err error) Value {
	return Value{r: v.r, path: v.path, err: fmt.Errorf("%s: %w", v.path, err)}
}

// Field returns the field of struct v called name.
func (v Value) Field(name string) Value {
	if v.err != nil {
		return v
	}
	f, err := Field(v.Type, name)
	if err != nil {
		return v.fail(err)
	}
	return Value{r: v.r, Addr: v.Addr + dump.Address(f.ByteOffset), Type: f.Type, path: v.path + "." + name}
}

// HasField reports whether struct v has a field called name.
func (v Value) HasField(name string) bool {
	return v.err == nil && HasField(v.Type, name)
}

// Index returns element i of array v.
func (v Value) Index(i int64) Value {
	if v.err != nil {
		return v
	}
	at, ok := StripTypedefs(v.Type).(*dwarf.ArrayType)
	if !ok {
		return v.fail(fmt.Errorf("%s is not an array", TypeName(v.Type)))
	}
	if i < 0 || at.Count >= 0 && i >= at.Count {
		return v.fail(fmt.Errorf("index %d out of range [0,%d)", i, at.Count))
	}
	es := at.Type.Size()
	return Value{r: v.r, Addr: v.Addr + dump.Address(i*es), Type: at.Type, path: fmt.Sprintf("%s[%d]", v.path, i)}
}

// Deref follows pointer v.
func (v Value) Deref() Value {
	if v.err != nil {
		return v
	}
	pt, ok := StripTypedefs(v.Type).(*dwarf.PtrType)
	if !ok {
		return v.fail(fmt.Errorf("%s is not a pointer", TypeName(v.Type)))
	}
	p, err := v.r.proc.Ptr(v.Addr)
	if err != nil {
		return v.fail(err)
	}
	if p == 0 {
		return v.fail(errors.New("nil pointer"))
	}
	return Value{r: v.r, Addr: p, Type: pt.Type, path: "(*" + v.path + ")"}
}

// Cast returns v's memory seen as the named type.
func (v Value) Cast(typ string) Value {
	if v.err != nil {
		return v
	}
	t, err := v.r.dw.TypeNamed(typ)
	if err != nil {
		return v.fail(err)
	}
	return Value{r: v.r, Addr: v.Addr, Type: t, path: "(" + typ + ")" + v.path}
}

// Scalar descends through structs that wrap a single value (the runtime's
// atomic types, mSpanStateBox) to the value itself.
func (v Value) Scalar() Value {
	for i := 0; i < 8 && v.err == nil; i++ {
		st, ok := StripTypedefs(v.Type).(*dwarf.StructType)
		if !ok {
			return v
		}
		var only *dwarf.StructField
		for _, f := range st.Field {
			if f.Type.Size() == 0 {
				continue
			}
			if only != nil {
				return v.fail(fmt.Errorf("%s is a struct, not a number", TypeName(v.Type)))
			}
			only = f
		}
		if only == nil {
			return v.fail(fmt.Errorf("%s is an empty struct", TypeName(v.Type)))
		}
		v = v.Field(only.Name)
	}
	return v
}

// Uint reads v as an unsigned integer of its size (1, 2, 4 or 8 bytes).
func (v Value) Uint() (uint64, error) {
	v = v.Scalar()
	if v.err != nil {
		return 0, v.err
	}
	n := v.Type.Size()
	switch n {
	case 1, 2, 4, 8:
	default:
		return 0, fmt.Errorf("%s: %s has size %d, not an integer", v.path, TypeName(v.Type), n)
	}
	b, err := v.r.proc.Slice(v.Addr, uint64(n))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", v.path, err)
	}
	switch n {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// Int reads v as a signed integer of its size.
func (v Value) Int() (int64, error) {
	u, err := v.Uint()
	if err != nil {
		return 0, err
	}
	switch v.Scalar().Type.Size() {
	case 1:
		return int64(int8(u)), nil
	case 2:
		return int64(int16(u)), nil
	case 4:
		return int64(int32(u)), nil
	}
	return int64(u), nil
}

// Ptr reads pointer (or uintptr) v.
func (v Value) Ptr() (dump.Address, error) {
	v = v.Scalar()
	if v.err != nil {
		return 0, v.err
	}
	if v.Type.Size() != 8 {
		return 0, fmt.Errorf("%s: %s is not pointer-sized", v.path, TypeName(v.Type))
	}
	p, err := v.r.proc.Ptr(v.Addr)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", v.path, err)
	}
	return p, nil
}

// SliceLen returns the length of Go slice v, checked against what the core
// can hold (see checkSliceLen): a length read from a damaged core never
// sizes a loop over memory that is not there.
func (v Value) SliceLen() (int64, error) {
	n, err := v.Field("len").Int()
	if err != nil {
		return 0, err
	}
	if err := v.checkSliceLen(n); err != nil {
		return 0, fmt.Errorf("%s: %w", v.path, err)
	}
	return n, nil
}

// SliceIndex returns element i of Go slice v.
func (v Value) SliceIndex(i int64) Value {
	arr := v.Field("array")
	if arr.err != nil {
		return arr
	}
	n, err := v.SliceLen()
	if err != nil {
		return v.fail(err)
	}
	if i < 0 || i >= n {
		return v.fail(fmt.Errorf("index %d out of range [0,%d)", i, n))
	}
	p, err := arr.Ptr()
	if err != nil {
		return v.fail(err)
	}
	pt, ok := StripTypedefs(arr.Type).(*dwarf.PtrType)
	if !ok {
		return v.fail(fmt.Errorf("%s.array is not a pointer", TypeName(v.Type)))
	}
	es := pt.Type.Size()
	return Value{r: v.r, Addr: p + dump.Address(i*es), Type: pt.Type, path: fmt.Sprintf("%s[%d]", v.path, i)}
}

// ReadString reads Go string v (at most max bytes of it).
func (v Value) ReadString(max int) (string, error) {
	p, err := v.Field("str").Ptr()
	if err != nil {
		return "", err
	}
	n, err := v.Field("len").Int()
	if err != nil {
		return "", err
	}
	if n <= 0 || p == 0 {
		return "", nil
	}
	n = min(n, int64(max))
	b, err := v.r.proc.Slice(p, uint64(n))
	if err != nil {
		return "", fmt.Errorf("%s: %w", v.path, err)
	}
	return string(b), nil
}

// FieldOffset returns the offset of the field at path (e.g. "state.s.value")
// in the named runtime type.
func (r *Reader) FieldOffset(typ string, path ...string) (int64, error) {
	t, err := r.dw.TypeNamed(typ)
	if err != nil {
		return 0, err
	}
	var off int64
	for _, name := range path {
		f, err := Field(t, name)
		if err != nil {
			return 0, err
		}
		off += f.ByteOffset
		t = f.Type
	}
	return off, nil
}
