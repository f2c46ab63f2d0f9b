package pycore

import "github.com/heapsift/heapsift/warn"

// References on demand. The model keeps no reference arrays once it has
// decided what is live (that would be 4 bytes an object and 8 a
// reference, as much again as the rest of the model): Refs reads an
// object's references from the core again, exactly as the build did
// (folded dicts have none, their owners hold their entries), and
// EachLiveRefs does so for every live object in one pass over the address
// index, into buffers it reuses, which is what a graph builder wants.
// Warnings were given by the build and are not given twice.

// Refs returns the object's references and their labels, in new slices.
func (h *Heap) Refs(obj int) (targets, labels []uint32) {
	if obj < 0 || obj >= h.n {
		return nil, nil
	}
	defer h.quiet()()
	return h.appendRefs(obj, h.Addr(obj), nil, nil)
}

// EachLiveRefs calls fn with the references of every live object, in
// object order. The slices are reused from call to call: fn must not
// keep them.
func (h *Heap) EachLiveRefs(fn func(obj int, targets, labels []uint32)) {
	if h.index == nil {
		return
	}
	defer h.quiet()()
	var targets, labels []uint32
	h.index.each(func(i int, a uint64) {
		if !h.live.Has(i) {
			return
		}
		targets, labels = h.appendRefs(i, a, targets[:0], labels[:0])
		fn(i, targets, labels)
	})
}

// appendRefs appends the references of object obj, at address a, to
// targets and labels.
func (h *Heap) appendRefs(obj int, a uint64, targets, labels []uint32) ([]uint32, []uint32) {
	if obj >= h.refsStop || h.folded.Has(obj) {
		return targets, labels
	}
	h.refs(a, h.ti(obj), true, func(t uint64, label uint32) {
		if j, ok := h.Find(t); ok {
			targets = append(targets, uint32(j))
			labels = append(labels, label)
		}
	})
	return targets, labels
}

// quiet sets the warnings aside until the function it returns is called:
// reading references again repeats what the build already warned of.
func (h *Heap) quiet() func() {
	saved := h.warns
	h.warns = warn.List{}
	return func() { h.warns = saved }
}
