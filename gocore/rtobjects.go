package gocore

// Runtime objects no typed pointer slot describes, typed from what the
// runtime's own variables say.
//
// The GC's idle background mark workers. Each parked runtime.gcBgMarkWorker
// goroutine has pushed its node (a runtime.gcBgMarkWorkerNode, from Go 1.25
// the first field of a 512-byte runtime.gcBgMarkWorkerNodePadded) onto
// runtime.gcBgMarkWorkerPool, a lock-free stack whose head and links
// (lfnode.next) are tagged pointers: the address shifted up, a counter in
// the low bits. No pointer slot reaches the nodes (the goroutine's own
// reference sits in a stack slot no variable describes), so they are typed
// from the stack's tagged words, unpacked as runtime.lfstackUnpack does with
// the shifts the runtime's DWARF constants give.

import "github.com/heapsift/heapsift/dump"

// maxPoolNodes bounds the nodes followed (one per P).
const maxPoolNodes = 1 << 12

// lfUnpack returns runtime.lfstackUnpack for this runtime: the tag's width
// and the alignment bits below the address.
func (p *Program) lfUnpack() (shift, align uint, ok bool) {
	if tb, ok := p.dw.Constant("runtime.tagBits"); ok {
		ta, ok := p.dw.Constant("runtime.tagAlignBits")
		if !ok || tb <= 0 || tb >= 64 || ta < 0 || ta >= tb {
			return 0, 0, false
		}
		return uint(tb), uint(ta), true
	}
	// Before Go 1.23: cntBits = 64 - addrBits + 3, pointers 8-aligned.
	if cb, ok := p.dw.Constant("runtime.cntBits"); ok && cb > 3 && cb < 64 {
		return uint(cb), 3, true
	}
	return 0, 0, false
}

// gcWorkerNodes types the nodes on runtime.gcBgMarkWorkerPool.
func (pr *propagator) gcWorkerNodes() {
	p := pr.p
	pool := p.rd.Global("runtime.gcBgMarkWorkerPool")
	head, err := pool.Scalar().Uint()
	if err != nil || head == 0 {
		return
	}
	shift, align, ok := p.lfUnpack()
	if !ok {
		return
	}
	typ := NoType
	for _, name := range []string{"runtime.gcBgMarkWorkerNodePadded", "runtime.gcBgMarkWorkerNode"} {
		if t, err := p.dw.TypeNamed(name); err == nil && t.Size() > 0 {
			typ = p.types.internDWARF(t)
			break
		}
	}
	next, err := p.rd.FieldOffset("runtime.lfnode", "next")
	if typ == NoType || err != nil {
		return
	}
	v := head
	for i := 0; i < maxPoolNodes && v != 0; i++ {
		node := uint64(int64(v)>>shift) << align
		pr.offer(nil, 0, node, typ, p.types.types[typ].size, offerExact)
		if v, err = p.proc.Uint64(dump.Address(node) + dump.Address(next)); err != nil {
			return
		}
	}
}

// itabTableType types the object runtime.itabTable points to: an
// itabTableType whose entries array the runtime allocated longer than the
// type says (itabsinit and itabAdd allocate 2+2*size words, noscan), so no
// pointer's static type has its size. It is one itabTableType, not an
// array of them.
func (pr *propagator) itabTableType() {
	p := pr.p
	a, err := p.rd.Global("runtime.itabTable").Ptr()
	if err != nil || a == 0 {
		return
	}
	obj, off, _, ok := p.heap.lookup(uint64(a))
	if !ok || off != p.dataStart(obj) || p.objType[obj] != NoType || !p.isLive(obj) {
		return
	}
	t, err := p.dw.TypeNamed("runtime.itabTableType")
	if err != nil || t.Size() <= 0 || uint64(t.Size()) > uint64(len(p.heap.bytesOf(obj))) {
		return
	}
	id := p.types.internDWARF(t)
	p.types.types[id].single = true
	p.objType[obj] = id
}
