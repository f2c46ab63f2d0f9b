package gocore

// Module data: runtime.firstmoduledata and the modules chained from it via
// next. Each describes one Go module's text, data and bss, type
// descriptors, pclntab, and the pointer masks of its data and bss
// (gcdatamask and gcbssmask, one bit per word, built at start-up), which
// are the GC's first roots.

import (
	"fmt"

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

func (p *Program) readModules() error {
	md := p.Global("runtime.firstmoduledata")
	if md.err != nil {
		return md.err
	}
	for i := 0; i < 64; i++ {
		m, err := p.readModule(md)
		if err != nil {
			if i == 0 {
				return fmt.Errorf("reading runtime.firstmoduledata: %w", err)
			}
			p.warnf("reading module %d: %v", i, err)
			break
		}
		p.modules = append(p.modules, m)
		next, err := md.Field("next").Ptr()
		if err != nil || next == 0 {
			break
		}
		md = Value{r: &p.reader, Addr: next, Type: md.Type, path: fmt.Sprintf("moduledata@%#x", uint64(next))}
	}
	if len(p.modules) > 1 {
		p.warnf("the program has %d Go modules (plugins); types of all but the first are named from runtime descriptors only", len(p.modules))
	}
	p.rtypes.types, p.rtypes.etypes = p.modules[0].types, p.modules[0].etypes
	return nil
}

func (p *Program) readModule(md Value) (module, error) {
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
	if m.dataMask, err = p.readBitvector(md.Field("gcdatamask"), uint64(m.edata-m.data)/8); err != nil {
		return m, err
	}
	if m.bssMask, err = p.readBitvector(md.Field("gcbssmask"), uint64(m.ebss-m.bss)/8); err != nil {
		return m, err
	}
	return m, nil
}

// readBitvector reads a runtime.bitvector{n, bytedata} of at most max bits.
func (p *Program) readBitvector(v Value, max uint64) ([]byte, error) {
	n, err := v.Field("n").Int()
	if err != nil {
		return nil, err
	}
	data, err := v.Field("bytedata").Ptr()
	if err != nil {
		return nil, err
	}
	if n < 0 || uint64(n) > max+64 {
		return nil, fmt.Errorf("%s: %d bits for %d words", v.path, n, max)
	}
	if n == 0 || data == 0 {
		return nil, nil
	}
	return p.proc.Slice(data, (uint64(n)+7)/8)
}
