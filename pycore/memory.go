package pycore

import (
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// source is what pycore reads the dumped process through: the process
// itself while the layout is checked, then a coreView that reads the
// core's bytes without a mapping lookup per word.
type source interface {
	Uint64(a dump.Address) (uint64, error)
	Uint32(a dump.Address) (uint32, error)
	Uint8(a dump.Address) (uint8, error)
	Slice(a dump.Address, n uint64) ([]byte, error)
	FindMapping(a dump.Address) *dump.Mapping
	CString(a dump.Address, max int) (string, error)
}

// memory reads the dumped process with bounds: every count read from the
// core is checked against what is mapped before anything is allocated for
// it.
type memory struct {
	p source
	// v is p when p is a coreView: the hot paths' words are read from it
	// directly, its first guess inlined, without a call through p.
	v *coreView
}

func (m memory) u64(a uint64) (uint64, error) {
	if m.v != nil {
		if b := m.v.guess(a, 8); b != nil {
			return le64(b), nil
		}
	}
	return m.p.Uint64(dump.Address(a))
}

func (m memory) i64(a uint64) (int64, error) {
	v, err := m.u64(a)
	return int64(v), err
}

func (m memory) u32(a uint64) (uint32, error) { return m.p.Uint32(dump.Address(a)) }

func (m memory) u8(a uint64) (uint8, error) { return m.p.Uint8(dump.Address(a)) }

// words reads n pointer-sized words at a. n is checked against mapped
// memory.
func (m memory) words(a uint64, n int64) ([]uint64, error) {
	b, err := m.wordBytes(a, n)
	if err != nil || b == nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = le64(b[8*i:])
	}
	return out, nil
}

// wordBytes reads n pointer-sized words at a as bytes, a view of the core
// where it can be (the hot paths' words): word i is le64(b[8*i:]). n is
// checked against mapped memory.
func (m memory) wordBytes(a uint64, n int64) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative count %d at %#x", n, a)
	}
	if n == 0 {
		return nil, nil
	}
	if m.v != nil && n < 1<<60 {
		if b := m.v.guess(a, uint64(n)*8); b != nil {
			return b, nil
		}
	}
	if uint64(n) > m.mapped(a)/8 {
		return nil, fmt.Errorf("%d words at %#x run past mapped memory", n, a)
	}
	return m.p.Slice(dump.Address(a), uint64(n)*8)
}

// bytes reads n bytes at a, bounded by mapped memory.
func (m memory) bytes(a uint64, n int64) ([]byte, error) {
	if m.v != nil && n >= 0 {
		if b := m.v.guess(a, uint64(n)); b != nil {
			return b, nil
		}
	}
	if n < 0 || uint64(n) > m.mapped(a) {
		return nil, fmt.Errorf("%d bytes at %#x run past mapped memory", n, a)
	}
	return m.p.Slice(dump.Address(a), uint64(n))
}

// mapped returns how many bytes are mapped from a on, in its mapping.
func (m memory) mapped(a uint64) uint64 {
	mp := m.p.FindMapping(dump.Address(a))
	if mp == nil {
		return 0
	}
	return uint64(mp.End) - a
}

// cstring reads a NUL-terminated string of at most max bytes.
func (m memory) cstring(a uint64, max int) (string, error) {
	return m.p.CString(dump.Address(a), max)
}

// heapAddr reports whether a can be a heap object's address: aligned and
// in mapped memory that no file backs (objects in libpython's own data,
// such as static types and None, are not heap objects).
func (m memory) heapAddr(a uint64) bool {
	if a == 0 || a&7 != 0 {
		return false
	}
	mp := m.p.FindMapping(dump.Address(a))
	return mp != nil && mp.File == "" && uint64(mp.End)-a >= 16
}

// coreView reads the process from the bytes the core holds for each
// mapping, found by a binary search over a dense array of mapping ends;
// what the core does not hold is read through the process.
type coreView struct {
	p      *dump.Process
	ms     []*dump.Mapping
	starts []uint64 // ms[i].Start
	ends   []uint64 // ms[i].End
	held   [][]byte // ms[i].CoreData()
	anon   []bool   // ms[i] maps no file
	// spans are the mappings' held bytes again, packed for view's first
	// guess, with one empty span after them.
	spans []heldSpan
	// recent remembers, per 1 MiB of the address space (direct-mapped,
	// so distant regions share a slot), the mapping the last lookup
	// there found: an object's references point into a few regions (its
	// arena, the malloc heap, libpython's data), which a single "last
	// mapping" would keep missing between. A slot is only a guess,
	// checked against the mapping's bounds. A coreView is used by one
	// goroutine at a time.
	recent [recentSlots]int32
}

const (
	recentShift = 20
	recentSlots = 1 << 12
)

// heldSpan is the bytes the core holds of one mapping, from start on.
type heldSpan struct {
	start uint64
	data  []byte
}

func newCoreView(p *dump.Process) *coreView {
	v := &coreView{p: p, ms: p.Mappings()}
	v.starts = make([]uint64, len(v.ms))
	v.ends = make([]uint64, len(v.ms))
	v.held = make([][]byte, len(v.ms))
	v.anon = make([]bool, len(v.ms))
	for i, m := range v.ms {
		v.starts[i] = uint64(m.Start)
		v.ends[i] = uint64(m.End)
		v.held[i] = m.CoreData()
		v.anon[i] = m.File == ""
		v.spans = append(v.spans, heldSpan{v.starts[i], v.held[i]})
	}
	v.spans = append(v.spans, heldSpan{})
	return v
}

// find returns the index of the mapping holding a, or -1, trying first
// the mapping last found in a's MiB.
func (v *coreView) find(a uint64) int {
	slot := (a >> recentShift) & (recentSlots - 1)
	if i := int(v.recent[slot]); i < len(v.ends) && v.starts[i] <= a && a < v.ends[i] {
		return i
	}
	return v.search(a, slot)
}

// search finds a's mapping by a binary search over the mappings' ends,
// and remembers it in slot.
func (v *coreView) search(a, slot uint64) int {
	lo, hi := 0, len(v.ends)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if v.ends[mid] > a {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo < len(v.ms) && v.starts[lo] <= a {
		v.recent[slot] = int32(lo)
		return lo
	}
	return -1
}

// view returns the n bytes at a from the core's own bytes, or nil.
func (v *coreView) view(a, n uint64) []byte {
	if b := v.guess(a, n); b != nil {
		return b
	}
	return v.viewFound(a, n)
}

// guess is view's first guess, the mapping last found in a's MiB, which
// inlines: nil if that is not a's mapping.
func (v *coreView) guess(a, n uint64) []byte {
	s := &v.spans[v.recent[(a>>recentShift)&(recentSlots-1)]]
	if off := a - s.start; off < uint64(len(s.data)) && n <= uint64(len(s.data))-off {
		return s.data[off:][:n:n]
	}
	return nil
}

// guessHeld is a's mapping by view's first guess, and a's offset in it,
// if the core holds the byte at a; it inlines.
func (v *coreView) guessHeld(a uint64) (i int, off uint64, ok bool) {
	i = int(v.recent[(a>>recentShift)&(recentSlots-1)])
	s := &v.spans[i]
	off = a - s.start
	return i, off, off < uint64(len(s.data))
}

// viewFound is view after a lookup of a's mapping.
func (v *coreView) viewFound(a, n uint64) []byte {
	i := v.find(a)
	if i < 0 {
		return nil
	}
	off, b := a-v.starts[i], v.held[i]
	if off > uint64(len(b)) || n > uint64(len(b))-off {
		return nil
	}
	return b[off : off+n : off+n]
}

func (v *coreView) Uint64(a dump.Address) (uint64, error) {
	if b := v.view(uint64(a), 8); b != nil {
		return le64(b), nil
	}
	return v.p.Uint64(a)
}

func (v *coreView) Uint32(a dump.Address) (uint32, error) {
	if b := v.view(uint64(a), 4); b != nil {
		return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
	}
	return v.p.Uint32(a)
}

func (v *coreView) Uint8(a dump.Address) (uint8, error) {
	if b := v.view(uint64(a), 1); b != nil {
		return b[0], nil
	}
	return v.p.Uint8(a)
}

func (v *coreView) Slice(a dump.Address, n uint64) ([]byte, error) {
	if b := v.view(uint64(a), n); b != nil {
		return b, nil
	}
	return v.p.Slice(a, n)
}

func (v *coreView) FindMapping(a dump.Address) *dump.Mapping {
	if i := v.find(uint64(a)); i >= 0 {
		return v.ms[i]
	}
	return nil
}

func (v *coreView) CString(a dump.Address, max int) (string, error) {
	return v.p.CString(a, max)
}
