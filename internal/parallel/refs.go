package parallel

// Refs is the references of one chunk of objects, for EachRefs: those of
// its objects one after another in Targets and Labels, object objs[k]'s
// ending at ends[k].
type Refs struct {
	Targets, Labels []uint32
	objs, ends      []uint32
}

// End ends object obj's references: those appended to Targets and Labels
// since the last object's. An object without any is left out.
func (r *Refs) End(obj int) {
	last := uint32(0)
	if len(r.ends) > 0 {
		last = r.ends[len(r.ends)-1]
	}
	if n := uint32(len(r.Targets)); n > last {
		r.objs = append(r.objs, uint32(obj))
		r.ends = append(r.ends, n)
	}
}

// EachRefs is Ordered for a model's references: fill(worker, lo, hi, r)
// finds those of objects lo..hi-1 of 0..n-1, per objects a chunk, into r
// (emptied first), on workers goroutines; fn is called with each object's
// that has any, in object order, in slices reused from call to call. A
// failure is a *Failure for chunk Chunk: objects Chunk*per up to
// min(n, (Chunk+1)*per).
func EachRefs(workers, n, per int, fill func(worker, lo, hi int, r *Refs), fn func(obj int, targets, labels []uint32)) error {
	return Ordered(workers, (n+per-1)/per, func(w, chunk int, r *Refs) {
		r.Targets, r.Labels, r.objs, r.ends = r.Targets[:0], r.Labels[:0], r.objs[:0], r.ends[:0]
		fill(w, chunk*per, min(n, (chunk+1)*per), r)
	}, func(_ int, r *Refs) {
		from := uint32(0)
		for k, obj := range r.objs {
			to := r.ends[k]
			fn(int(obj), r.Targets[from:to:to], r.Labels[from:to:to])
			from = to
		}
	})
}
