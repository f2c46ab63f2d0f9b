// Package parallel runs work on a core's memory (the models' marks and
// references, histogram's scans) in worker goroutines: Chunks for work
// whose chunks may finish in any order (a mark's sweep, walking a heap in
// parts); Ordered for chunks whose results a caller takes in order, and
// EachRefs on it for the models' EachLiveRefs (the references of every
// live object, in object order, for retain). They make a memory fault in
// a worker a panic (a core mapped from a file that shrinks while it is
// read faults) and recover it, with any other panic of the work, into a
// *Failure returned to the caller, which words the error in its own terms.
//
// The work is given whole chunks: a closure call a chunk, never one an
// object, so that the loops over objects stay the callers' own.
package parallel

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Failure is a worker's panic, or memory fault, recovered.
type Failure struct {
	Chunk int // the chunk whose work failed
	Value any // what the work panicked with
}

// Error returns the panic's value as text, without the chunk: callers
// word the failure themselves, naming the chunk in their own terms.
func (f *Failure) Error() string { return fmt.Sprint(f.Value) }

// Unwrap returns the panic's value when it is an error: a runtime.Error
// for a fault.
func (f *Failure) Unwrap() error {
	err, _ := f.Value.(error)
	return err
}

// Chunks calls fn(worker, chunk) for every chunk 0..n-1 on up to workers
// goroutines (worker in 0..workers-1), each taking the next chunk in turn
// as it becomes free; a worker's state indexed by worker is used by one
// goroutine at a time. The first failure stops the workers from taking
// more chunks and is returned once they have all stopped.
func Chunks(workers, n int, fn func(worker, chunk int)) error {
	var (
		next   atomic.Int64
		failed atomic.Pointer[Failure]
		wg     sync.WaitGroup
	)
	for w := range max(1, min(workers, n)) {
		wg.Go(func() {
			debug.SetPanicOnFault(true) // a core that shrinks mid-read faults here
			chunk := -1
			defer func() {
				if r := recover(); r != nil {
					failed.CompareAndSwap(nil, &Failure{Chunk: chunk, Value: r})
					next.Store(int64(n)) // stop the other workers
				}
			}()
			for {
				c := next.Add(1) - 1
				if c >= int64(n) {
					return
				}
				chunk = int(c)
				fn(w, chunk)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		return f
	}
	return nil
}
