package rtread

// Closures' captured variables. Go 1.23+ records where a closure object
// keeps each variable it captures (DW_AT_go_closure_offset on the
// variables of the closure's function); from them ClosureStruct builds a
// struct type for the closure object {fn, captured variables...}.

import "debug/dwarf"

// ClosureStruct returns the struct type of the closures of the function
// whose DWARF entry is at off, named "closure F"; nil if off is not a
// function. Before Go 1.23 it has only the fn word.
func (ix *Index) ClosureStruct(off dwarf.Offset) *dwarf.StructType {
	r := ix.data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil || e.Tag != dwarf.TagSubprogram {
		return nil
	}
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		return nil
	}
	st := &dwarf.StructType{StructName: "closure " + name, Kind: "struct"}
	if uintptrType, err := ix.TypeNamed("uintptr"); err == nil {
		st.Field = append(st.Field, &dwarf.StructField{Name: "fn", Type: uintptrType, ByteOffset: 0})
	}
	size := int64(8)
	for e.Children {
		c, err := r.Next()
		if err != nil || c == nil || c.Tag == 0 {
			break
		}
		if c.Children {
			r.SkipChildren()
		}
		if f := ix.capturedVar(c); f != nil {
			st.Field = append(st.Field, f)
			size = max(size, f.ByteOffset+f.Type.Size())
		}
	}
	st.ByteSize = size
	return st
}

// capturedVar returns the field of a closure object that holds the
// captured variable whose entry is c, or nil if c is not one.
func (ix *Index) capturedVar(c *dwarf.Entry) *dwarf.StructField {
	if c.Tag != dwarf.TagVariable {
		return nil
	}
	var co int64
	switch v := c.Val(attrGoClosureOffset).(type) {
	case int64:
		co = v
	case uint64:
		co = int64(v)
	default:
		return nil
	}
	to, ok := c.Val(dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return nil
	}
	vt, err := ix.TypeAt(to)
	if err != nil {
		return nil
	}
	vn, _ := c.Val(dwarf.AttrName).(string)
	return &dwarf.StructField{Name: vn, Type: vt, ByteOffset: co}
}
