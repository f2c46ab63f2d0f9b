package pycore

import (
	"encoding/binary"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/heapsift/heapsift/warn"
)

// fuzzBase is where FuzzObjectReaders places its bytes: an address no
// core maps (user space ends below 2^47).
const fuzzBase = 0x7ff0_0000_0000

// overlay is a source that reads the fuzzer's bytes at fuzzBase, as an
// anonymous mapping, and the real core elsewhere.
type overlay struct {
	source
	data []byte
	m    *dump.Mapping
}

func newOverlay(under source, data []byte) *overlay {
	end := dump.Address(fuzzBase + uint64(len(data)))
	return &overlay{source: under, data: data, m: &dump.Mapping{Start: fuzzBase, End: end}}
}

func (o *overlay) slice(a dump.Address, n uint64) ([]byte, bool) {
	if a < o.m.Start || a >= o.m.End {
		return nil, false
	}
	off := uint64(a - o.m.Start)
	if n > uint64(len(o.data))-off {
		return nil, true // in the overlay, but running past it
	}
	return o.data[off : off+n], true
}

func (o *overlay) Slice(a dump.Address, n uint64) ([]byte, error) {
	if b, in := o.slice(a, n); in {
		if b == nil {
			return nil, &dump.MissingError{Addr: a + dump.Address(n), Reason: "past the fuzz bytes"}
		}
		return b, nil
	}
	return o.source.Slice(a, n)
}

func (o *overlay) Uint64(a dump.Address) (uint64, error) {
	b, err := o.Slice(a, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (o *overlay) Uint32(a dump.Address) (uint32, error) {
	b, err := o.Slice(a, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (o *overlay) Uint8(a dump.Address) (uint8, error) {
	b, err := o.Slice(a, 1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (o *overlay) FindMapping(a dump.Address) *dump.Mapping {
	if o.m.Contains(a) {
		return o.m
	}
	return o.source.FindMapping(a)
}

func (o *overlay) CString(a dump.Address, max int) (string, error) {
	if b, in := o.slice(a, 0); in && b != nil {
		rest := o.data[a-o.m.Start:]
		for i, c := range rest {
			if c == 0 || i == max {
				return string(rest[:i]), nil
			}
		}
		return "", &dump.MissingError{Addr: o.m.End, Reason: "past the fuzz bytes"}
	}
	return o.source.CString(a, max)
}

// fuzzHeap opens the heap of a small heapmodel core under CPython 3.11
// (managed dicts, inline values, 3.11 frames).
func fuzzHeap(tb testing.TB) *Heap {
	python := coretest.PyenvPython(tb, "3.11.7")
	c := coretest.MakeCore(tb, python, []string{coretest.Testdata(tb, "python", "heapmodel", "heapmodel.py"), "200"}, nil)
	p, err := dump.Open(c.Path, dump.Options{Exe: python})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	h, _, err := Open(p, s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// FuzzObjectReaders places random bytes in memory as an object of one of
// the types of a real heap (the first byte picks it; its ob_type is set
// to that type) and runs every reader of objects over it: references with
// and without folding, sys.getsizeof, dict and keys decoding, instance
// storage, strs and ints, frames. Words of the input may point into the
// input itself (at fuzzBase), so that keys objects, values arrays, item
// arrays and frames read from it too. Nothing may panic, and what a
// reader emits is bounded by the input.
func FuzzObjectReaders(f *testing.F) {
	h := fuzzHeap(f)
	seed := make([]byte, 256)
	for i := 16; i+8 <= len(seed); i += 8 {
		binary.LittleEndian.PutUint64(seed[i:], fuzzBase+uint64(i*3%len(seed))&^7)
	}
	for k := 0; k < len(h.types.all) && k < 64; k++ {
		s := append([]byte(nil), seed...)
		s[0] = byte(k)
		f.Add(s)
	}
	f.Add(append([]byte{3, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 24 || len(data) > 1<<16 {
			return
		}
		data = append([]byte(nil), data...)
		ti := h.types.all[int(data[0])%len(h.types.all)]
		binary.LittleEndian.PutUint64(data[h.l.ObType:], ti.addr)
		fh := *h
		fh.warns = warn.List{}
		fh.mem = memory{p: newOverlay(h.mem.p, data)}
		readObject(t, &fh, fuzzBase, ti, len(data))
	})
}

// readObject runs the object readers over the object at a.
func readObject(t *testing.T, h *Heap, a uint64, ti *typeInfo, n int) {
	emitted := 0
	emit := func(uint64, uint32) { emitted++ }
	h.refs(a, ti, false, emit)
	h.refs(a, ti, true, emit)
	// Each reference is a word of the input, or of the real core's
	// static data (a class's shared keys): none is invented.
	if limit := 4*n + 1<<16; emitted > limit {
		t.Fatalf("%s: %d references emitted from %d bytes", ti.name, emitted, n)
	}
	h.getsizeof(a, ti)
	h.ownDict(a, ti)
	h.instanceStorage(a, ti)
	h.dictEntries(a, func(dictEntry) bool { return true })
	h.readKeys(a)
	h.readStr(a, 100)
	h.intValue(a)
	h.simpleRepr(a)
	h.readFrameObject(a)
	h.readInterpFrame(a)
	h.localNames(a)
}
