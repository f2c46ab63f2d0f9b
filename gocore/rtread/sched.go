package rtread

// The scheduler state a traceback prints beside each goroutine: the time
// a wait began is a runtime nanotime, so wait durations need the latest
// nanotime the core records; and whether the finalizer goroutine is
// running a finalizer decides if the runtime counts it as its own.

// LatestNanotime returns the latest runtime nanotime the core records (the
// last network poll and the last GC), or 0 when neither can be read. A
// wait measured up to it is a lower bound of the wait at the crash.
func (r *Reader) LatestNanotime() int64 {
	var now int64
	if v, err := r.Global("runtime.sched").Field("lastpoll").Int(); err == nil {
		now = max(now, v)
	}
	if v, err := r.Global("runtime.memstats").Field("last_gc_nanotime").Int(); err == nil {
		now = max(now, v)
	}
	return now
}

// FinalizerRunning reports whether the finalizer goroutine was running a
// finalizer (runtime.fingStatus has fingRunningFinalizer), so that the
// runtime counts it as a user goroutine.
func (r *Reader) FinalizerRunning() bool {
	st, err := r.Global("runtime.fingStatus").Uint()
	if err != nil {
		return false
	}
	bit, ok := r.dw.Constant("runtime.fingRunningFinalizer")
	if !ok {
		bit = 2 // Go 1.21–1.26: fingCreated 1, fingRunningFinalizer 2
	}
	return st&uint64(bit) != 0
}
