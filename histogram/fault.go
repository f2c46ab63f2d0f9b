package histogram

import (
	"fmt"
	"runtime/debug"
)

// FaultError reports that reading the words faulted: the memory is a
// mapped file that shrank (or vanished) while it was read. Count and
// CountValues return it instead of crashing, from whichever goroutine the
// fault struck.
type FaultError struct {
	// Addr is the faulting address in heapsift's own memory, for
	// reports; it is not an address of the dump.
	Addr uintptr
}

func (e *FaultError) Error() string {
	return fmt.Sprintf("the file shrank or changed while it was read (memory fault at %#x)", e.Addr)
}

// asFault returns r, a recovered panic value, as a *FaultError when it is
// a memory fault, or nil.
func asFault(r any) *FaultError {
	switch v := r.(type) {
	case *FaultError:
		return v
	case interface{ Addr() uintptr }:
		if _, ok := r.(error); ok {
			return &FaultError{Addr: v.Addr()}
		}
	}
	return nil
}

// guardFaults makes faults in the calling goroutine panics, and turns such
// a panic (or a *FaultError re-raised from a worker) into *err. Use it as
// defer guardFaults(&err)() at the top of an exported function; panics
// that are not faults go on.
func guardFaults(err *error) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			f := asFault(r)
			if f == nil {
				panic(r)
			}
			*err = f
		}
	}
}
