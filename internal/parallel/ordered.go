package parallel

import (
	"runtime/debug"
	"sync"
)

// An ordered pipeline: a producer goroutine hands chunk after chunk to
// the workers and, in the same order, to the consumer (the calling
// goroutine) through a channel a few chunks deep, which bounds how far the
// workers run ahead; the consumer waits for each chunk's work to be done.
// The chunks' buffers (C) go back through a free list to be filled again,
// so that a pass allocates a few of them whatever its length.

// slot is one chunk in the pipeline.
type slot[C any] struct {
	chunk  int
	buf    *C
	done   chan struct{} // closed when the work is done
	failed any           // what the work panicked with
}

// Ordered calls work(worker, chunk, buf) for every chunk 0..n-1 on
// workers goroutines, to fill buf, and consume(chunk, buf) on the calling
// goroutine in chunk order, at most a few chunks behind the workers. A buf
// is reused from chunk to chunk: work starts from what it held, and
// consume must not keep it. A failure of the work is returned when its
// chunk's turn comes, after the chunks before it are consumed. Ordered
// returns (or a panic of consume goes on) once the workers have stopped.
func Ordered[C any](workers, n int, work func(worker, chunk int, buf *C), consume func(chunk int, buf *C)) error {
	workers = max(1, workers)
	jobs := make(chan *slot[C])
	ordered := make(chan *slot[C], 2*workers)
	free := make(chan *slot[C], 2*workers+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			debug.SetPanicOnFault(true) // a core that shrinks mid-read faults here
			for s := range jobs {
				s.failed = fill(w, s, work)
				close(s.done)
			}
		})
	}
	stop := make(chan struct{})
	go func() {
		defer close(ordered)
		defer close(jobs)
		for i := range n {
			var s *slot[C]
			select {
			case <-stop:
				return
			case s = <-free:
			default:
				s = &slot[C]{buf: new(C)}
			}
			s.chunk, s.done, s.failed = i, make(chan struct{}), nil
			select {
			case ordered <- s:
			case <-stop:
				return
			}
			jobs <- s
		}
	}()
	defer func() {
		close(stop)
		for range ordered { // let the producer and the workers finish
		}
		wg.Wait()
	}()
	for s := range ordered {
		<-s.done
		if s.failed != nil {
			return &Failure{Chunk: s.chunk, Value: s.failed}
		}
		consume(s.chunk, s.buf)
		select {
		case free <- s:
		default:
		}
	}
	return nil
}

// fill runs the work of slot s, returning its panic if any.
func fill[C any](worker int, s *slot[C], work func(worker, chunk int, buf *C)) (failed any) {
	defer func() { failed = recover() }()
	work(worker, s.chunk, s.buf)
	return nil
}
