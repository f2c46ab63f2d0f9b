// Command traceback parks a few hundred goroutines in varied states —
// blocked in channel operations, select, sleep, a mutex, a condition
// variable; inside calls the compiler inlines and inside a generic
// function; started by main and by other goroutines — then panics, so that
// with GOTRACEBACK=crash its stderr holds the runtime's own traceback of
// every goroutine and its core file the same goroutines, for heapsift's
// goroutine list to be compared with, frame by frame.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	ready   sync.WaitGroup
	never   = make(chan int)
	never2  = make(chan int)
	mu      sync.Mutex
	cond    = sync.NewCond(&sync.Mutex{})
	sink    []any
	sinkMu  sync.Mutex
	workers = 60
)

// wait is small enough to be inlined into its callers.
func wait(c chan int) int { return <-c }

// relay is inlined too, and calls wait, inlined in turn.
func relay(c chan int) int { return wait(c) + 1 }

//go:noinline
func chanWorker(n int) {
	buf := make([]byte, 64+n)
	sinkAdd(buf)
	ready.Done()
	relay(never)
}

//go:noinline
func selectWorker() {
	ready.Done()
	select {
	case <-never:
	case <-never2:
	}
}

//go:noinline
func sleepWorker() {
	ready.Done()
	time.Sleep(time.Hour)
}

//go:noinline
func mutexWorker() {
	ready.Done()
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func condWorker() {
	cond.L.Lock()
	ready.Done()
	cond.Wait()
	cond.L.Unlock()
}

type box[T any] struct{ v T }

//go:noinline
func genericWorker[T any](v T) {
	b := &box[T]{v: v}
	sinkAdd(b)
	ready.Done()
	<-never2
}

//go:noinline
func spawner(n int) {
	for i := 0; i < n; i++ {
		ready.Add(1)
		go chanWorker(i)
	}
	ready.Done()
	<-never
}

//go:noinline
func recurse(n int) {
	if n == 0 {
		ready.Done()
		<-never
		return
	}
	recurse(n - 1)
}

func sinkAdd(v any) {
	sinkMu.Lock()
	sink = append(sink, v)
	sinkMu.Unlock()
}

func main() {
	mu.Lock()
	for i := 0; i < workers; i++ {
		ready.Add(6)
		go chanWorker(i)
		go selectWorker()
		go sleepWorker()
		go mutexWorker()
		go condWorker()
		if i%2 == 0 {
			go genericWorker(i)
		} else {
			go genericWorker("s")
		}
	}
	ready.Add(3)
	go spawner(20)
	go recurse(30)
	go recurse(200) // deeper than the 100 frames a traceback prints
	ready.Wait()
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	if len(os.Args) > 1 {
		return
	}
	// Ground truth for which goroutines the runtime counts as its own:
	// NumGoroutine leaves them out.
	fmt.Printf("truth numgoroutine %d\n", runtime.NumGoroutine())
	fmt.Printf("truth workers %d\n", workers)
	panic("traceback test: crashing on purpose")
}
