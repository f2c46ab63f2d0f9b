package parallel

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heapsift/heapsift/internal/coretest"
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

// faultError is what the runtime panics with on a fault.
type faultError interface {
	error
	Addr() uintptr
}

// TestFault: a memory fault in a worker, reading a file that shrank as a
// core may while it is read, is returned as the failure of its chunk.
func TestFault(t *testing.T) {
	b := coretest.ShrunkMapping(t, os.Getpagesize())
	var sink atomic.Int64
	read := func(c int) {
		if c == 42 {
			sink.Add(int64(b[0]))
		}
	}
	for name, run := range map[string]func() error{
		"Chunks":  func() error { return Chunks(2, 100, func(_, c int) { read(c) }) },
		"Ordered": func() error { return Ordered(2, 100, func(_, c int, _ *int) { read(c) }, func(int, *int) {}) },
	} {
		var f *Failure
		var fault faultError
		if err := run(); !errors.As(err, &f) || f.Chunk != 42 || !errors.As(err, &fault) {
			t.Errorf("%s: err %#v, want a fault in chunk 42", name, err)
		}
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

// TestOrderedConsumerPanics checks that a consumer leaving early (here by
// a panic) stops the producer and the workers before Ordered is left (the
// caller may unmap the memory they read): no work runs after it, none is
// left running, and they ran only a few chunks ahead.
func TestOrderedConsumerPanics(t *testing.T) {
	const n, stop = 100000, 50
	before := runtime.NumGoroutine()
	var worked, active atomic.Int32
	func() {
		defer func() {
			if r := recover(); r != "enough" {
				t.Fatalf("recovered %v", r)
			}
		}()
		Ordered(4, n, func(int, int, *int) {
			active.Add(1)
			time.Sleep(20 * time.Microsecond)
			worked.Add(1)
			active.Add(-1)
		}, func(c int, _ *int) {
			if c == stop {
				panic("enough")
			}
		})
		t.Fatal("Ordered returned")
	}()
	if k := active.Load(); k != 0 {
		t.Fatalf("%d workers still working after Ordered", k)
	}
	k := worked.Load()
	settle(t, before)
	if k > stop+200 || worked.Load() != k {
		t.Fatalf("%d chunks worked for a consumer that stopped at %d, then %d", k, stop, worked.Load())
	}
}

// TestEachRefs checks that each object's references reach fn whole, in
// object order, and that objects without any are left out.
func TestEachRefs(t *testing.T) {
	const n, per = 1000, 64
	// Object i refers to i%5 objects: i+1, i+2, ..., labelled by 8k.
	next := 0
	err := EachRefs(3, n, per, func(_, lo, hi int, r *Refs) {
		if lo%per != 0 || hi > n || hi-lo > per {
			t.Errorf("chunk %d..%d", lo, hi)
		}
		for i := lo; i < hi; i++ {
			for k := range i % 5 {
				r.Targets = append(r.Targets, uint32(i+k+1))
				r.Labels = append(r.Labels, uint32(8*k))
			}
			r.End(i)
		}
	}, func(obj int, targets, labels []uint32) {
		for next%5 == 0 {
			next++
		}
		var want, wantLabels []uint32
		for k := range obj % 5 {
			want = append(want, uint32(obj+k+1))
			wantLabels = append(wantLabels, uint32(8*k))
		}
		if obj != next || !slices.Equal(targets, want) || !slices.Equal(labels, wantLabels) {
			t.Fatalf("object %d: %v %v, want object %d", obj, targets, labels, next)
		}
		next++
	})
	if err != nil || next != n {
		t.Fatalf("up to object %d, err %v", next, err)
	}
}
