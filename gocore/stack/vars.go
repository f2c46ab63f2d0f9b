package stack

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Var is a local variable or parameter, or one piece of one, that is in
// the frame's memory at some PC.
type Var struct {
	Name  string
	Func  string // the function declaring it: the frame's, or a function inlined into it
	Param bool   // a formal parameter or result
	// Offset is where this piece starts relative to the frame's CFA
	// (Frame.FP): its address is FP+Offset.
	Offset int64
	// Size is the piece's size in bytes.
	Size uint64
	// PieceOffset is where the piece starts within the variable. A
	// variable the compiler split between registers and stack slots has
	// one Var per stack piece; a whole variable has PieceOffset 0 and Size
	// equal to its type's size.
	PieceOffset uint64
	Type        dwarf.Type // nil if DWARF gives none
	TypeOffset  dwarf.Offset
}

// VarAt returns the variable whose stack bytes hold addr in a frame whose
// CFA is cfa, and addr's offset within the variable.
func VarAt(vars []Var, cfa, addr uint64) (Var, uint64, bool) {
	for _, v := range vars {
		start := cfa + uint64(v.Offset)
		if addr >= start && addr-start < v.Size {
			return v, v.PieceOffset + addr - start, true
		}
	}
	return Var{}, 0, false
}

// Vars finds the local variables and parameters of Go functions in DWARF
// (DW_TAG_variable and DW_TAG_formal_parameter of each DW_TAG_subprogram,
// its lexical blocks and inlined calls) and where they are in the frame.
// It indexes the functions on first use and decodes each function's
// variables once. It is safe for concurrent use.
type Vars struct {
	d    *dwarf.Data
	locs locLists
	bias uint64

	mu      sync.Mutex
	indexed bool
	err     error
	funcs   []subprogram // sorted by lowPC
	decoded map[dwarf.Offset][]varDecl
	origins map[dwarf.Offset]*dwarf.Entry
}

// subprogram is one concrete function in DWARF.
type subprogram struct {
	lowPC, highPC uint64
	off           dwarf.Offset
	cu            *cuInfo
}

// varDecl is a variable with all its locations.
type varDecl struct {
	name    string
	fn      string
	param   bool
	typeOff dwarf.Offset
	locs    []locRange
}

// NewVars reads the DWARF of the executable f. bias is the load bias of a
// PIE executable (the difference between run-time and link-time
// addresses), 0 otherwise.
func NewVars(f *elf.File, bias uint64) (*Vars, error) {
	d, err := f.DWARF()
	if err != nil {
		return nil, fmt.Errorf("reading DWARF: %w", err)
	}
	v := &Vars{d: d, bias: bias}
	for name, dst := range map[string]*[]byte{".debug_loc": &v.locs.loc, ".debug_loclists": &v.locs.loclists, ".debug_addr": &v.locs.addr} {
		if s := f.Section(name); s != nil {
			if *dst, err = s.Data(); err != nil {
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
		}
	}
	return v, nil
}

// ForPC returns the variables that are in memory in the frame of the
// function holding pc, at pc. Pass Frame.CallPC, the PC the frame's
// liveness and source position are taken at.
func (v *Vars) ForPC(pc uint64) ([]Var, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	decls, err := v.declsAt(pc)
	if err != nil {
		return nil, err
	}
	pc -= v.bias
	var out []Var
	for _, d := range decls {
		out = v.appendAt(out, &d, pc)
	}
	return out, nil
}

// declsAt returns the variables of the function holding pc, decoded once.
// v.mu must be held.
func (v *Vars) declsAt(pc uint64) ([]varDecl, error) {
	if err := v.index(); err != nil {
		return nil, err
	}
	pc -= v.bias
	i := sort.Search(len(v.funcs), func(i int) bool { return v.funcs[i].lowPC > pc }) - 1
	if i < 0 || pc >= v.funcs[i].highPC {
		return nil, nil
	}
	sp := &v.funcs[i]
	decls, ok := v.decoded[sp.off]
	if !ok {
		var err error
		if decls, err = v.decode(sp); err != nil {
			return nil, err
		}
		v.decoded[sp.off] = decls
	}
	return decls, nil
}

// appendAt appends the stack pieces of d's location at pc.
func (v *Vars) appendAt(out []Var, d *varDecl, pc uint64) []Var {
	for _, r := range d.locs {
		if pc < r.lo || pc >= r.hi {
			continue
		}
		var typ dwarf.Type
		if d.typeOff != 0 {
			typ, _ = v.d.Type(d.typeOff)
		}
		for _, p := range r.pieces {
			if !p.onStack {
				continue
			}
			size := p.size
			if size == 0 && typ != nil && typ.Size() > 0 {
				size = uint64(typ.Size())
			}
			out = append(out, Var{Name: d.name, Func: d.fn, Param: d.param, Offset: p.cfaOff,
				Size: size, PieceOffset: p.pieceOff, Type: typ, TypeOffset: d.typeOff})
		}
		break
	}
	return out
}

// index lists every concrete subprogram with its PC range.
func (v *Vars) index() error {
	if v.indexed {
		return v.err
	}
	v.indexed = true
	v.decoded = make(map[dwarf.Offset][]varDecl)
	v.origins = make(map[dwarf.Offset]*dwarf.Entry)
	r := v.d.Reader()
	var cu *cuInfo
	for {
		e, err := r.Next()
		if err != nil {
			v.err = fmt.Errorf("indexing DWARF functions: %w", err)
			return v.err
		}
		if e == nil {
			break
		}
		switch e.Tag {
		case dwarf.TagCompileUnit:
			cu = v.cuInfo(e)
			continue
		case dwarf.TagSubprogram:
			if lo, hi, ok := pcRange(e); ok && cu != nil {
				v.funcs = append(v.funcs, subprogram{lowPC: lo, highPC: hi, off: e.Offset, cu: cu})
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	sort.Slice(v.funcs, func(i, j int) bool { return v.funcs[i].lowPC < v.funcs[j].lowPC })
	return nil
}

// cuInfo collects what reading e's location lists needs.
func (v *Vars) cuInfo(e *dwarf.Entry) *cuInfo {
	cu := &cuInfo{}
	cu.lowPC, _ = e.Val(dwarf.AttrLowpc).(uint64)
	if base, ok := e.Val(dwarf.AttrAddrBase).(int64); ok {
		cu.addrBase, cu.dwarf5 = uint64(base), true
	}
	if _, ok := e.Val(dwarf.AttrLoclistsBase).(int64); ok {
		cu.dwarf5 = true
	}
	if len(v.locs.loc) == 0 && len(v.locs.loclists) > 0 {
		cu.dwarf5 = true
	}
	return cu
}

// pcRange returns an entry's [low_pc, high_pc); high_pc may be an address
// or a length.
func pcRange(e *dwarf.Entry) (uint64, uint64, bool) {
	lo, ok := e.Val(dwarf.AttrLowpc).(uint64)
	if !ok {
		return 0, 0, false
	}
	f := e.AttrField(dwarf.AttrHighpc)
	if f == nil {
		return 0, 0, false
	}
	switch hv := f.Val.(type) {
	case uint64:
		return lo, hv, hv > lo
	case int64:
		return lo, lo + uint64(hv), hv > 0
	}
	return 0, 0, false
}

// decode reads the variables of the subprogram sp, including those of its
// lexical blocks and inlined calls.
func (v *Vars) decode(sp *subprogram) ([]varDecl, error) {
	r := v.d.Reader()
	r.Seek(sp.off)
	e, err := r.Next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("reading DWARF function at %#x: %v", sp.off, err)
	}
	fn := v.name(e)
	var decls []varDecl
	if !e.Children {
		return nil, nil
	}
	err = v.walk(r, sp, fn, &decls)
	return decls, err
}

// walk reads entries up to the end of the current list of children.
func (v *Vars) walk(r *dwarf.Reader, sp *subprogram, fn string, decls *[]varDecl) error {
	for {
		e, err := r.Next()
		if err != nil {
			return fmt.Errorf("reading variables of %s: %w", fn, err)
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		switch e.Tag {
		case dwarf.TagVariable, dwarf.TagFormalParameter:
			if d, ok := v.decl(e, sp, fn); ok {
				*decls = append(*decls, d)
			}
		case dwarf.TagLexDwarfBlock:
			if e.Children {
				if err := v.walk(r, sp, fn, decls); err != nil {
					return err
				}
			}
			continue
		case dwarf.TagInlinedSubroutine:
			if e.Children {
				if err := v.walk(r, sp, v.name(e), decls); err != nil {
					return err
				}
			}
			continue
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

// decl reads one variable and its locations.
func (v *Vars) decl(e *dwarf.Entry, sp *subprogram, fn string) (varDecl, bool) {
	d := varDecl{name: v.name(e), fn: fn, param: e.Tag == dwarf.TagFormalParameter}
	if t, ok := v.attr(e, dwarf.AttrType).(dwarf.Offset); ok {
		d.typeOff = t
	}
	f := e.AttrField(dwarf.AttrLocation)
	if f == nil {
		return d, false
	}
	switch f.Class {
	case dwarf.ClassExprLoc:
		expr, _ := f.Val.([]byte)
		d.locs = appendRange(nil, sp.lowPC, sp.highPC, expr)
	case dwarf.ClassLocListPtr, dwarf.ClassLocList:
		off, ok := f.Val.(int64)
		if !ok {
			return d, false
		}
		locs, err := v.locs.read(sp.cu, off)
		if err != nil {
			return d, false // an unreadable list names nothing
		}
		d.locs = locs
	}
	return d, len(d.locs) > 0
}

// name returns e's name, following DW_AT_abstract_origin.
func (v *Vars) name(e *dwarf.Entry) string {
	s, _ := v.attr(e, dwarf.AttrName).(string)
	return s
}

// attr returns e's attribute a, or that of its abstract origin.
func (v *Vars) attr(e *dwarf.Entry, a dwarf.Attr) any {
	if x := e.Val(a); x != nil {
		return x
	}
	off, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	if !ok {
		return nil
	}
	o, err := v.origin(off)
	if err != nil {
		return nil
	}
	return o.Val(a)
}

func (v *Vars) origin(off dwarf.Offset) (*dwarf.Entry, error) {
	if e, ok := v.origins[off]; ok {
		return e, nil
	}
	r := v.d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err == nil && e == nil {
		err = errors.New("no entry")
	}
	if err != nil {
		return nil, fmt.Errorf("abstract origin at %#x: %w", off, err)
	}
	v.origins[off] = e
	return e, nil
}

// SlotVars returns the stack pieces that the variables of the function
// holding pc occupy at any PC of the function, whether or not DWARF
// describes them at pc: optimized code keeps values live in stack slots
// past the ranges its location lists give (the GC's stack map still marks
// them). The compiler reuses a spill slot only for values of the slot's
// type (cmd/compile's stackalloc), but may overlap variables of different
// types that are never live together (mergelocals), so a caller must
// check a piece against the frame's live pointer words. Pieces that
// overlap with another type or piece are left out.
func (v *Vars) SlotVars(pc uint64) ([]Var, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	decls, err := v.declsAt(pc)
	if err != nil || decls == nil {
		return nil, err
	}
	var out []Var
	for di := range decls {
		d := &decls[di]
		if d.typeOff == 0 {
			continue
		}
		typ, err := v.d.Type(d.typeOff)
		if err != nil || typ.Size() <= 0 {
			continue
		}
		for _, r := range d.locs {
			for _, p := range r.pieces {
				size := p.size
				if size == 0 {
					size = uint64(typ.Size())
				}
				if p.onStack {
					out = append(out, Var{Name: d.name, Func: d.fn, Param: d.param, Offset: p.cfaOff,
						Size: size, PieceOffset: p.pieceOff, Type: typ, TypeOffset: d.typeOff})
				}
			}
		}
	}
	return disjointPieces(out), nil
}

// disjointPieces sorts pieces by offset, merges repeats of one piece and
// drops every piece that overlaps a different one.
func disjointPieces(vs []Var) []Var {
	sort.Slice(vs, func(i, j int) bool { return vs[i].Offset < vs[j].Offset })
	same := func(a, b Var) bool {
		return a.Offset == b.Offset && a.Size == b.Size && a.PieceOffset == b.PieceOffset && a.TypeOffset == b.TypeOffset
	}
	var out []Var
	for i := 0; i < len(vs); {
		j := i + 1
		for j < len(vs) && same(vs[i], vs[j]) {
			j++
		}
		end := vs[i].Offset + int64(vs[i].Size)
		clash := j < len(vs) && vs[j].Offset < end
		if n := len(out); n > 0 && out[n-1].Offset+int64(out[n-1].Size) > vs[i].Offset {
			out = out[:n-1]
			clash = true
		}
		if !clash {
			out = append(out, vs[i])
		}
		for j < len(vs) && vs[j].Offset < end {
			j++
		}
		i = j
	}
	return out
}
