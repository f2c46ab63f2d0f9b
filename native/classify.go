package native

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/ianlancetaylor/demangle"
)

// Classifying allocations by their contents: a first word that is a
// vtable's address point names the C++ class (by the "vtable for" symbol,
// or through the vtable's typeinfo when the executable is stripped); a
// second word naming a CPython type object makes a CPython object; text up
// to a NUL is "<text>"; anything else is known by its size, "<48 bytes>".

// textType names allocations holding a C string.
const textType = "<text>"

// minText is the fewest printable bytes before the NUL of a "<text>".
const minText = 4

// classCacheSize is the number of entries in the direct-mapped cache of
// resolved first words: a heap has few vtables, and each is resolved once.
const classCacheSize = 4096

type classEntry struct {
	word uint64
	id   heap.TypeID
	ok   bool // id is valid; else the word names no class
	used bool
}

// classifier resolves words to classes through a cache. The chunk walk
// classifies each allocation as it reads the chunk's header, whose cache
// line most often holds the allocation's first words too. A walk in
// parallel parts gives each part a classifier of its own: a type it gives
// carries its number in the top bits and indexes its own names, and
// newHeap numbers the names of the objects in address order (retag), as
// one classifier of the whole heap in order would have.
type classifier struct {
	p         *dump.Process
	sym       *symbolize.Symbolizer
	tag       heap.TypeID // the classifier's number, in the types' top bits
	modules   [][2]uint64 // module ranges, sorted
	names     heap.TypeNames
	sizeTypes []heap.TypeID // "<N bytes>" by N/8 for small N, 0 unset
	textID    heap.TypeID   // "<text>", 0 unset
	// Caches of resolved words, made with the modules: no word of a core
	// without modules is resolved.
	vtables, pytypes []classEntry
}

// classTagShift places a classifier's number in a type it gives. A
// classifier gives far fewer than 1<<24 names: each is a distinct
// vtable, type object or usable size of the core's allocations.
const classTagShift = 24

// maxClassifiers is how many classifiers a walk may use.
const maxClassifiers = 1 << (32 - classTagShift)

// newClassifier returns classifier number tag for o's core.
func newClassifier(o *opener, tag int) *classifier {
	c := &classifier{p: o.p, sym: o.sym, tag: heap.TypeID(tag) << classTagShift}
	if o.p != nil {
		for _, m := range o.p.Modules() {
			c.modules = append(c.modules, [2]uint64{uint64(m.Start), uint64(m.End)})
		}
	}
	slices.SortFunc(c.modules, func(a, b [2]uint64) int { return compareU64(a[0], b[0]) })
	if len(c.modules) > 0 {
		c.vtables, c.pytypes = make([]classEntry, classCacheSize), make([]classEntry, classCacheSize)
	}
	return c
}

// chunkType classifies the allocation of the chunk at a of r (size and
// flags as the walk found them), returning a tagged type.
func (c *classifier) chunkType(r *region, a, size uint64, flags uint8) heap.TypeID {
	usable := size - sizeSz
	if flags&chunkMmapped != 0 {
		usable -= sizeSz
	}
	var b []byte
	if off := a + 2*sizeSz - r.start; off+usable <= uint64(len(r.data)) {
		b = r.data[off : off+usable]
	}
	return c.tag | c.typeOf(b, usable)
}

// typeNumbering turns the tagged types of classifiers into the heap's
// TypeIDs, numbered in the order retag meets them.
type typeNumbering struct {
	cls   []*classifier
	ids   [][]heap.TypeID // by classifier and its own ID: TypeID+1, 0 unset
	names heap.TypeNames
}

// retag returns the TypeID of the tagged type t.
func (n *typeNumbering) retag(t heap.TypeID) heap.TypeID {
	k, own := t>>classTagShift, t&(1<<classTagShift-1)
	ids := n.ids[k]
	if int(own) >= len(ids) {
		ids = append(ids, make([]heap.TypeID, int(own)+1-len(ids))...)
		n.ids[k] = ids
	}
	if ids[own] == 0 {
		ids[own] = n.names.ID(n.cls[k].names.Name(own)) + 1
	}
	return ids[own] - 1
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// typeOf classifies an allocation of usable size n whose bytes are b
// (nil when the core lacks them), returning the classifier's own ID.
func (c *classifier) typeOf(b []byte, n uint64) heap.TypeID {
	if len(b) >= 8 {
		// Most allocations of a heap of objects start with one of a few
		// vtables: the cache answers before the modules are searched.
		w0 := le64(b)
		if len(c.vtables) > 0 {
			if e := &c.vtables[cacheSlot(w0)]; e.used && e.word == w0 && e.ok {
				return e.id
			}
		}
		if c.inModule(w0) {
			if id, ok := c.cached(c.vtables, w0, c.className); ok {
				return id
			}
		}
	}
	if len(b) >= 16 {
		if rc, w1 := le64(b), le64(b[8:]); rc > 0 && rc < 1<<40 && c.inModule(w1) {
			if id, ok := c.cached(c.pytypes, w1, c.pyTypeName); ok {
				return id
			}
		}
	}
	if isText(b) {
		if c.textID == 0 {
			c.textID = c.names.ID(textType) + 1
		}
		return c.textID - 1
	}
	return c.sizeType(n)
}

// cached resolves w through a direct-mapped cache.
func (c *classifier) cached(cache []classEntry, w uint64, resolve func(uint64) string) (heap.TypeID, bool) {
	e := &cache[cacheSlot(w)]
	if e.used && e.word == w {
		return e.id, e.ok
	}
	*e = classEntry{word: w, used: true}
	if name := resolve(w); name != "" {
		e.id, e.ok = c.names.ID(name), true
	}
	return e.id, e.ok
}

// cacheSlot is w's slot in a cache of resolved words.
func cacheSlot(w uint64) uint64 { return (w>>3 ^ w>>15) % classCacheSize }

func (c *classifier) inModule(w uint64) bool {
	if w%8 != 0 {
		return false
	}
	i, _ := slices.BinarySearchFunc(c.modules, w, func(m [2]uint64, w uint64) int {
		if m[1] <= w {
			return -1
		}
		if m[0] > w {
			return 1
		}
		return 0
	})
	return i < len(c.modules) && c.modules[i][0] <= w && w < c.modules[i][1]
}

// className names the class whose vtable address point is w.
func (c *classifier) className(w uint64) string {
	if c.sym != nil {
		if n, ok := c.sym.Symbol(w); ok {
			if name, found := strings.CutPrefix(n.Symbol, "vtable for "); found && n.Offset >= 16 {
				return name
			}
			if n.Section == ".text" || strings.HasPrefix(n.Symbol, "typeinfo") {
				return ""
			}
		}
	}
	return c.typeinfoName(w)
}

// typeinfoName reads the class name through the vtable: offset-to-top 0
// at w-16, the typeinfo at w-8, whose second word is the mangled name.
func (c *classifier) typeinfoName(w uint64) string {
	p := c.p
	top, err1 := p.Uint64(dump.Address(w - 16))
	ti, err2 := p.Uint64(dump.Address(w - 8))
	if err1 != nil || err2 != nil || top != 0 || !c.inModule(ti) {
		return ""
	}
	tiVtable, err1 := p.Uint64(dump.Address(ti))
	namePtr, err2 := p.Uint64(dump.Address(ti + 8))
	if err1 != nil || err2 != nil || !c.inModule(tiVtable) || namePtr == 0 {
		return ""
	}
	name, err := p.CString(dump.Address(namePtr), 1024)
	name = strings.TrimPrefix(name, "*")
	if err != nil || name == "" || !mangledName(name) {
		return ""
	}
	d, err := demangle.ToString("_ZTS"+name, demangle.NoParams)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(d, "typeinfo name for ")
}

// mangledName reports whether s looks like an Itanium-mangled type name.
func mangledName(s string) bool {
	if s[0] != 'N' && (s[0] < '1' || s[0] > '9') && s[0] != 'S' && s[0] != 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch <= ' ' || ch >= 0x7f {
			return false
		}
	}
	return true
}

// pyTypeNameOffset is where PyTypeObject's tp_name sits in CPython's
// default 64-bit builds: right after PyObject_VAR_HEAD (ob_refcnt, ob_type,
// ob_size). Free-threaded (3.13t) and Py_TRACE_REFS builds have a larger
// header; there the name read is not a C string of a type and the word is
// left unnamed. The native model names a word this way without reading
// libpython's DWARF; pycore reads the layout from DWARF when it models the
// Python heap itself.
const pyTypeNameOffset = 3 * 8

// pyTypeName names a CPython type object at w: a libpython or
// interpreter symbol ending in "Type", whose tp_name (after the
// PyVarObject header) is the type's name.
func (c *classifier) pyTypeName(w uint64) string {
	if c.sym == nil {
		return ""
	}
	n, ok := c.sym.Symbol(w)
	if !ok || n.Offset != 0 || !strings.HasSuffix(n.Symbol, "Type") || !strings.Contains(strings.ToLower(baseName(n.Module)), "python") {
		return ""
	}
	tpName, err := c.p.Uint64(dump.Address(w + pyTypeNameOffset))
	if err != nil {
		return ""
	}
	name, err := c.p.CString(dump.Address(tpName), 256)
	if err != nil || name == "" {
		return ""
	}
	return name
}

// isText reports whether b starts with printable UTF-8 text ended by a
// NUL.
func isText(b []byte) bool {
	for i, ch := range b {
		switch {
		case ch == 0:
			return i >= minText && utf8.Valid(b[:i])
		case ch < ' ' && ch != '\n' && ch != '\t' && ch != '\r', ch == 0x7f:
			return false
		}
	}
	return false
}

// smallSizeTypes is how many usable sizes get a dense slot for their
// "<N bytes>" type.
const smallSizeTypes = 8192

// sizeType is the type of unclassified allocations of usable size n.
func (c *classifier) sizeType(n uint64) heap.TypeID {
	if n/8 < smallSizeTypes && n%8 == 0 {
		if c.sizeTypes == nil {
			c.sizeTypes = make([]heap.TypeID, smallSizeTypes)
		}
		if id := c.sizeTypes[n/8]; id != 0 {
			return id - 1
		}
		id := c.names.ID(sizeName(n))
		c.sizeTypes[n/8] = id + 1
		return id
	}
	return c.names.ID(sizeName(n))
}

// sizeName names an unclassified size.
func sizeName(n uint64) string { return fmt.Sprintf("<%d bytes>", n) }
