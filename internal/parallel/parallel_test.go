package parallel

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// settle waits for the goroutines started since a count of before to end,
// failing the test if some are still running after a while.
func settle(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still running, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestChunksEachOnce(t *testing.T) {
	const n, workers = 10000, 4
	var calls [n]atomic.Int32
	var busy [workers]atomic.Int32
	err := Chunks(workers, n, func(w, c int) {
		if busy[w].Add(1) != 1 {
			t.Errorf("worker %d runs on two goroutines at once", w)
		}
		calls[c].Add(1)
		busy[w].Add(-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	for c := range calls {
		if k := calls[c].Load(); k != 1 {
			t.Fatalf("chunk %d done %d times", c, k)
		}
	}
	if err := Chunks(workers, 0, func(int, int) { t.Error("work without chunks") }); err != nil {
		t.Fatal(err)
	}
}

func TestChunksPanicStops(t *testing.T) {
	const n, bad = 10000, 10
	var done atomic.Int32
	err := Chunks(4, n, func(_, c int) {
		if c == bad {
			panic("broken chunk")
		}
		time.Sleep(time.Millisecond) // all of them would take seconds
		done.Add(1)
	})
	var f *Failure
	if !errors.As(err, &f) || f.Chunk != bad || f.Value != "broken chunk" || err.Error() != "broken chunk" {
		t.Fatalf("err %#v, want the panic of chunk %d", err, bad)
	}
	if k := done.Load(); k > n/2 {
		t.Fatalf("%d chunks done after a failure at chunk %d", k, bad)
	}
}

// shrunkMapping returns a page of a mapped file truncated to nothing, as
// a core is when it shrinks while it is read: reading it faults (SIGBUS).
func shrunkMapping(t *testing.T) []byte {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("faults are made on Linux")
	}
	name := filepath.Join(t.TempDir(), "core")
	page := os.Getpagesize()
	if err := os.WriteFile(name, make([]byte, page), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, page, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(b) })
	if err := os.Truncate(name, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// faultError is what the runtime panics with on a fault.
type faultError interface {
	error
	Addr() uintptr
}

func TestChunksFault(t *testing.T) {
	b := shrunkMapping(t)
	var sink atomic.Int64
	err := Chunks(2, 100, func(_, c int) {
		if c == 42 {
			sink.Add(int64(b[0]))
		}
	})
	var f *Failure
	var fault faultError
	if !errors.As(err, &f) || f.Chunk != 42 || !errors.As(err, &fault) {
		t.Fatalf("err %#v, want a fault in chunk 42", err)
	}
}

func TestOrdered(t *testing.T) {
	const n, workers = 5000, 4
	before := runtime.NumGoroutine()
	next := 0
	bufs := map[*[]int]bool{}
	err := Ordered(workers, n, func(_, c int, buf *[]int) {
		if c%7 == 0 {
			time.Sleep(50 * time.Microsecond) // finish out of order
		}
		*buf = append((*buf)[:0], c, 2*c)
	}, func(c int, buf *[]int) {
		if c != next || len(*buf) != 2 || (*buf)[0] != c || (*buf)[1] != 2*c {
			t.Fatalf("chunk %d with %v, want chunk %d", c, *buf, next)
		}
		next++
		bufs[buf] = true
	})
	if err != nil || next != n {
		t.Fatalf("%d chunks consumed, err %v", next, err)
	}
	if len(bufs) > 4*workers+4 {
		t.Errorf("%d buffers for %d workers: not reused", len(bufs), workers)
	}
	settle(t, before)
}

func TestOrderedWorkFails(t *testing.T) {
	const n, bad = 5000, 300
	before := runtime.NumGoroutine()
	consumed := 0
	err := Ordered(3, n, func(_, c int, _ *struct{}) {
		if c == bad {
			panic(errors.New("unreadable"))
		}
	}, func(c int, _ *struct{}) {
		if c != consumed {
			t.Fatalf("chunk %d, want %d", c, consumed)
		}
		consumed++
	})
	var f *Failure
	if !errors.As(err, &f) || f.Chunk != bad || err.Error() != "unreadable" || consumed != bad {
		t.Fatalf("err %v after %d chunks, want chunk %d's failure after %d", err, consumed, bad, bad)
	}
	settle(t, before)
}

func TestOrderedFault(t *testing.T) {
	b := shrunkMapping(t)
	var sink atomic.Int64
	err := Ordered(2, 100, func(_, c int, _ *int) {
		if c == 7 {
			sink.Add(int64(b[0]))
		}
	}, func(int, *int) {})
	var f *Failure
	var fault faultError
	if !errors.As(err, &f) || f.Chunk != 7 || !errors.As(err, &fault) {
		t.Fatalf("err %#v, want a fault in chunk 7", err)
	}
}

// TestOrderedConsumerPanics checks that a consumer leaving early (here by
// a panic) stops the producer and the workers: none is left running, and
// they ran only a few chunks ahead.
func TestOrderedConsumerPanics(t *testing.T) {
	const n, stop = 100000, 50
	before := runtime.NumGoroutine()
	var worked atomic.Int32
	func() {
		defer func() {
			if r := recover(); r != "enough" {
				t.Fatalf("recovered %v", r)
			}
		}()
		Ordered(4, n, func(int, int, *int) { worked.Add(1) }, func(c int, _ *int) {
			if c == stop {
				panic("enough")
			}
		})
		t.Fatal("Ordered returned")
	}()
	settle(t, before)
	if k := worked.Load(); k > stop+200 {
		t.Fatalf("%d chunks worked for a consumer that stopped at %d", k, stop)
	}
}
