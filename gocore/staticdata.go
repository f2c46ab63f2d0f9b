package gocore

// Values in data and bss reached through typed pointers. For
// `var p = &T{...}` at package level the compiler may place the T itself in
// data or bss, under no variable DWARF describes (statics.go names such
// roots); a `var pool = &sync.Pool{...}` keeps its per-P arrays and, through
// them, every pooled value there. A typed slot pointing into a module's data
// or bss says what lies there, so the pointee's layout is applied to that
// memory like a global's, once per (address, type).

import "github.com/heapsift/heapsift/dump"

// staticValue is a typed value in data or bss waiting to be applied.
type staticValue struct {
	addr dump.Address
	t    TypeID
}

// maxStaticValues bounds the static values applied (each is small; the
// bound keeps a corrupt core from queueing without end).
const maxStaticValues = 1 << 16

// offerStatic queues type t for the value at a if a lies in a module's
// data or bss and the value fits there.
func (pr *propagator) offerStatic(a uint64, t TypeID) {
	p := pr.p
	size := p.types.types[t].size
	if size == 0 || p.types.types[t].dw == nil || len(pr.staticSeen) >= maxStaticValues {
		return
	}
	addr := dump.Address(a)
	in := false
	for _, m := range p.modules {
		if addr >= m.data && addr+dump.Address(size) <= m.edata || addr >= m.bss && addr+dump.Address(size) <= m.ebss {
			in = true
			break
		}
	}
	if !in {
		return
	}
	v := staticValue{addr, t}
	if pr.staticSeen == nil {
		pr.staticSeen = make(map[staticValue]bool)
	}
	if pr.staticSeen[v] {
		return
	}
	pr.staticSeen[v] = true
	pr.statics = append(pr.statics, v)
}

// applyStatics applies the queued static values' layouts, and those they
// queue in turn; it returns how many it applied.
func (pr *propagator) applyStatics() int {
	n := 0
	for len(pr.statics) > 0 {
		v := pr.statics[len(pr.statics)-1]
		pr.statics = pr.statics[:len(pr.statics)-1]
		lay := pr.p.layoutOf(v.t)
		if len(lay) == 0 {
			continue
		}
		size := pr.p.types.types[v.t].size
		mem, err := pr.p.proc.Slice(v.addr, size)
		if err != nil {
			continue
		}
		pr.apply(lay, &region{addr: v.addr, mem: mem, hi: size}, 0)
		n++
	}
	return n
}
