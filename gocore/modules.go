package gocore

// Module data: runtime.firstmoduledata and the modules chained from it via
// next. Each describes one Go module's text, data and bss, type
// descriptors, pclntab, and the pointer masks of its data and bss
// (gcdatamask and gcbssmask, one bit per word, built at start-up), which
// are the GC's first roots.

import (
	"fmt"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/warn"

	"github.com/heapsift/heapsift/dump"
)

// module is one Go module (the executable, or a plugin).
type module struct {
	types, etypes dump.Address
	data, edata   dump.Address
	bss, ebss     dump.Address
	text, etext   dump.Address
	pcHeader      dump.Address
	gofunc        dump.Address
	rodata        dump.Address
	minpc, maxpc  dump.Address
	dataMask      []byte // one bit per word of [data, edata)
	bssMask       []byte // one bit per word of [bss, ebss)
}

// maxModules bounds the chain of moduledata followed.
const maxModules = 64

// readModules reads runtime.firstmoduledata and the modules chained from
// it; there is at least one.
func readModules(rd *rtread.Reader, w *warn.List) ([]module, error) {
	md := rd.Global("runtime.firstmoduledata")
	if md.Err() != nil {
		return nil, md.Err()
	}
	var mods []module
	for i := 0; i < maxModules; i++ {
		m, err := readModule(rd, md)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("reading runtime.firstmoduledata: %w", err)
			}
			w.Addf(source, "reading module %d: %v", i, err)
			break
		}
		mods = append(mods, m)
		next, err := md.Field("next").Ptr()
		if err != nil || next == 0 {
			break
		}
		md = rd.ValueAt(next, md.Type, fmt.Sprintf("moduledata@%#x", uint64(next)))
	}
	if len(mods) > 1 {
		w.Addf(source, "the program has %d Go modules (plugins); types of all but the first are named from runtime descriptors only", len(mods))
	}
	return mods, nil
}

func readModule(rd *rtread.Reader, md rtread.Value) (module, error) {
	var m module
	var firstErr error
	ptr := func(name string) dump.Address {
		a, err := md.Field(name).Ptr()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return a
	}
	m.types, m.etypes = ptr("types"), ptr("etypes")
	m.data, m.edata = ptr("data"), ptr("edata")
	m.bss, m.ebss = ptr("bss"), ptr("ebss")
	m.text, m.etext = ptr("text"), ptr("etext")
	m.minpc, m.maxpc = ptr("minpc"), ptr("maxpc")
	m.pcHeader = ptr("pcHeader")
	m.gofunc = ptr("gofunc")
	m.rodata = ptr("rodata")
	if firstErr != nil {
		return m, firstErr
	}
	var err error
	if m.dataMask, err = readBitvector(rd, md.Field("gcdatamask"), uint64(m.edata-m.data)/8); err != nil {
		return m, err
	}
	if m.bssMask, err = readBitvector(rd, md.Field("gcbssmask"), uint64(m.ebss-m.bss)/8); err != nil {
		return m, err
	}
	return m, nil
}

// readBitvector reads a runtime.bitvector{n, bytedata} of at most max bits.
func readBitvector(rd *rtread.Reader, v rtread.Value, max uint64) ([]byte, error) {
	n, err := v.Field("n").Int()
	if err != nil {
		return nil, err
	}
	data, err := v.Field("bytedata").Ptr()
	if err != nil {
		return nil, err
	}
	if n < 0 || uint64(n) > max+64 {
		return nil, fmt.Errorf("%s: %d bits for %d words", v.Path(), n, max)
	}
	if n == 0 || data == 0 {
		return nil, nil
	}
	return rd.Proc().Slice(data, (uint64(n)+7)/8)
}
