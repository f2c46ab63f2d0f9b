package gocore

// Objects reached only through interior pointers. A typed slot that points
// into the middle of an untyped object (a *Inner to a Holder's Inner
// field, a []rune into a Regexp's Rune0 array) says what lies at that
// offset, not what the object is. Once propagation is done, each such
// object is typed by the struct that encloses what the pointers say, if
// exactly one struct type the program can allocate (one with a runtime
// type descriptor) has a value of the pointer's static type at that
// offset, is allocated in the object's size class, and has the pointer
// bitmap the runtime recorded for the object. Any other number of
// candidates leaves the object untyped. A pointer to the start of an
// object too large for the pointer's type (a struct's first field, an
// embedded header) is looked up the same way, at offset 0.
//
// Only struct types are candidates: an array of the pointer's type
// allocated by make and held only through &s[i] (no slice of it left)
// would fit as well where a struct has a value of that type at an offset
// that is a multiple of its size, and would be named after that struct.
//
// Objects still untyped after that whose first word is the entry of a
// closure function are closures, typed as in closures.go.

import (
	"debug/dwarf"
	"slices"
	"sort"
	"strings"

	"github.com/heapsift/heapsift/gocore/rtread"
)

// interiorOffer records a typed slot pointing into an untyped object.
type interiorOffer struct {
	obj uint32
	t   TypeID // the slot's static type for what it points to
	off uint64 // where it points, from the start of the object's value
}

// enclosing is a struct type that may enclose what interior pointers
// point to.
type enclosing struct {
	entry rtread.StructEntry
	rt    *rtread.RType
}

// sizeClass identifies the objects a struct type is allocated as.
type sizeClass struct {
	elemsize uint64
	noscan   bool
}

// enclosingIndex holds the allocatable struct types by size class, built
// once, the first time an interior pointer needs it, and which of them
// have a value of a type at an offset, found once per (class, type,
// offset): the objects of one type reached the same way ask the same.
type enclosingIndex struct {
	built   bool
	byClass map[sizeClass][]enclosing
	matches map[encloseKey][]int32
}

// encloseKey asks which structs of a size class hold a t at off.
type encloseKey struct {
	class sizeClass
	t     TypeID
	off   uint64
}

// maxInteriorRounds bounds the rounds of typing enclosing objects and
// propagating from them (an enclosing object may point into another).
const maxInteriorRounds = 4

// noteInterior records that a slot of static type t points at offset off
// of the value of object obj, which is untyped.
func (pr *propagator) noteInterior(obj uint32, t TypeID, off uint64) {
	if pr.p.objType[obj] != NoType {
		return
	}
	n := len(pr.interior)
	if n > 0 && pr.interior[n-1] == (interiorOffer{obj, t, off}) {
		return
	}
	pr.interior = append(pr.interior, interiorOffer{obj, t, off})
}

// typeEnclosing types the untyped objects interior pointers point into
// by their unique enclosing struct type, and returns how many it typed.
func (pr *propagator) typeEnclosing() int {
	offers := pr.interior
	pr.interior = nil
	if len(offers) == 0 {
		return 0
	}
	sort.Slice(offers, func(i, j int) bool { return offers[i].obj < offers[j].obj })
	typed := 0
	for i := 0; i < len(offers); {
		j := i + 1
		for j < len(offers) && offers[j].obj == offers[i].obj {
			j++
		}
		if t := pr.enclosingType(offers[i:j]); t != NoType {
			obj := offers[i].obj
			pr.p.objType[obj] = t
			pr.retyped(obj)
			typed++
		}
		i = j
	}
	return typed
}

// enclosingType returns the type of the object the offers (all for one
// object) point into, or NoType unless exactly one struct type fits.
func (pr *propagator) enclosingType(offers []interiorOffer) TypeID {
	p := pr.p
	obj := offers[0].obj
	if p.objType[obj] != NoType || p.isFixed(obj) || !p.isLive(obj) {
		return NoType
	}
	s := p.heap.spanOf(obj)
	if s.mem == nil || s.header || !s.noscan && s.heapBits == 0 {
		return NoType // typed by its header, or its pointer words unknown
	}
	class := sizeClass{s.elemsize, s.noscan}
	cands := pr.enclosingIndex().byClass[class]
	if t := pr.timeTimer(obj, offers, cands); t != NoType {
		return p.types.fit(t, s.elemsize)
	}
	var found *enclosing
	for _, k := range pr.enclosers(class, offers[0]) {
		c := &cands[k]
		if !pr.enclosesAll(class, k, offers[1:]) || !s.noscan && !p.sameBitmap(obj, c.rt) {
			continue
		}
		if found != nil {
			return NoType // ambiguous
		}
		found = c
	}
	if found == nil {
		return NoType
	}
	dt, err := p.dw.TypeAt(found.entry.Off)
	if err != nil {
		return NoType
	}
	t := p.types.internDWARF(dt)
	if g := &p.types.types[t]; g.rt == nil {
		g.rt = found.rt
	}
	return p.types.fit(t, s.elemsize)
}

// timeTimer returns runtime.timeTimer if an offer is a time.Timer or
// time.Ticker at the object's start and runtime.timeTimer is allocated in
// the object's class with its pointer bitmap: from Go 1.23 the runtime
// allocates every Timer and Ticker as a timeTimer, of which the time
// package's struct is the first fields (runtime/time.go), so neither a
// *time.Timer's type nor an enclosing struct names the object.
func (pr *propagator) timeTimer(obj uint32, offers []interiorOffer, cands []enclosing) TypeID {
	p := pr.p
	prefix := false
	for _, o := range offers {
		name := p.types.types[o.t].name
		prefix = prefix || o.off == 0 && (name == "time.Timer" || name == "time.Ticker")
	}
	if !prefix {
		return NoType
	}
	for i := range cands {
		c := &cands[i]
		dt, err := p.dw.TypeAt(c.entry.Off)
		if err != nil || rtread.TypeName(dt) != "runtime.timeTimer" {
			continue
		}
		s := p.heap.spanOf(obj)
		if !s.noscan && !p.sameBitmap(obj, c.rt) {
			return NoType
		}
		t := p.types.internDWARF(dt)
		if g := &p.types.types[t]; g.rt == nil {
			g.rt = c.rt
		}
		return t
	}
	return NoType
}

// enclosingIndex returns the allocatable struct types by size class,
// building the index on first use.
func (pr *propagator) enclosingIndex() *enclosingIndex {
	ei := &pr.enclosing
	if ei.built {
		return ei
	}
	ei.built = true
	ei.byClass = make(map[sizeClass][]enclosing)
	ei.matches = make(map[encloseKey][]int32)
	p := pr.p
	for _, e := range p.dw.AllocatableStructs() {
		rt, err := p.rtypes.AtOffset(e.RType)
		if err != nil || rt.Kind != rtread.KindStruct || rt.Size == 0 || rt.PtrBytes > 0 && rt.MaskErr != nil {
			continue
		}
		noscan := rt.PtrBytes == 0
		k := sizeClass{p.allocSize(rt.Size, noscan), noscan}
		ei.byClass[k] = append(ei.byClass[k], enclosing{entry: e, rt: rt})
	}
	return ei
}

// enclosers returns the indices in the index's list for class of the
// structs that have a value of o's type at o's offset.
func (pr *propagator) enclosers(class sizeClass, o interiorOffer) []int32 {
	ei := pr.enclosingIndex()
	key := encloseKey{class, o.t, o.off}
	if m, ok := ei.matches[key]; ok {
		return m
	}
	p := pr.p
	g := &p.types.types[o.t]
	var m []int32
	for k, c := range ei.byClass[class] {
		if o.off+g.size > c.rt.Size {
			continue
		}
		if dt, err := p.dw.TypeAt(c.entry.Off); err == nil && valueAt(dt, g.name, o.off, 0) {
			m = append(m, int32(k))
		}
	}
	ei.matches[key] = m
	return m
}

// enclosesAll reports whether the struct at index k of class's list
// encloses what every one of offers points to.
func (pr *propagator) enclosesAll(class sizeClass, k int32, offers []interiorOffer) bool {
	for _, o := range offers {
		if !slices.Contains(pr.enclosers(class, o), k) {
			return false
		}
	}
	return true
}

// valueAt reports whether a value of type t holds a value of the type
// named want at offset off, in itself, its fields or its array elements.
func valueAt(t dwarf.Type, want string, off uint64, depth int) bool {
	if depth > 30 || t == nil {
		return false
	}
	if off == 0 && rtread.TypeName(t) == want {
		return true
	}
	switch u := rtread.StripTypedefs(t).(type) {
	case *dwarf.StructType:
		for _, f := range u.Field {
			fo, fs := uint64(f.ByteOffset), uint64(max(f.Type.Size(), 0))
			if off >= fo && off < fo+fs && valueAt(f.Type, want, off-fo, depth+1) {
				return true
			}
		}
	case *dwarf.ArrayType:
		es := uint64(max(u.Type.Size(), 0))
		if es > 0 && u.Count > 0 && off < es*uint64(u.Count) {
			return valueAt(u.Type, want, off%es, depth+1)
		}
	}
	return false
}

// sameBitmap reports whether the runtime's pointer bitmap of object obj
// (a small object of a scan span) is that of one value of rt: rt's mask,
// then no pointer words.
func (p *Program) sameBitmap(obj uint32, rt *rtread.RType) bool {
	words := p.heap.size(obj) / 8
	want := make([]uint64, (words+63)/64)
	for w := uint64(0); w < rt.PtrBytes/8 && w < words; w++ {
		if rt.Mask[w/64]&(1<<(w%64)) != 0 {
			want[w/64] |= 1 << (w % 64)
		}
	}
	same := true
	p.forEachPointerWord(obj, func(off, _ uint64) bool {
		w := off / 8
		if want[w/64]&(1<<(w%64)) == 0 {
			same = false
			return false
		}
		want[w/64] &^= 1 << (w % 64)
		return true
	})
	if !same {
		return false
	}
	for _, m := range want {
		if m != 0 {
			return false
		}
	}
	return true
}

// typeClosuresByEntry types the live untyped objects whose first word is
// the entry address of a closure function as that function's closures.
// It returns how many it typed.
func (pr *propagator) typeClosuresByEntry() int {
	p := pr.p
	typed := 0
	for obj := range p.objType {
		o := uint32(obj)
		if p.objType[o] != NoType || !p.isLive(o) || p.isFixed(o) {
			continue
		}
		mem := p.heap.bytesOf(o)
		start := p.dataStart(o)
		if uint64(len(mem)) < start+8 {
			continue
		}
		pc := leUint64(mem[start:])
		if pc < p.bias {
			continue
		}
		_, name, ok := p.dw.FuncEntryAt(pc - p.bias)
		if !ok || !isClosureFunc(name) {
			continue
		}
		t := p.closureType(pc)
		if t == NoType {
			continue
		}
		p.objType[o] = t
		pr.retyped(o)
		typed++
	}
	return typed
}

// isClosureFunc reports whether the function called name is the code of
// closures: a function literal (F.func1, F.gowrap1, F.deferwrap1, a
// range-over-func body F-range1) or a method value (T.M-fm).
func isClosureFunc(name string) bool {
	for _, marker := range []string{".func", ".gowrap", ".deferwrap", "-range"} {
		if i := strings.LastIndex(name, marker); i >= 0 {
			rest := name[i+len(marker):]
			if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
				return true
			}
		}
	}
	return strings.HasSuffix(name, "-fm")
}
