package symbolize

import (
	"bytes"
	"debug/elf"
	"os"
	"testing"
)

// FuzzModule feeds arbitrary bytes, as the local copy of a module, to the
// ELF parsing symbolize does: segment range and load bias, section table,
// build ID, symbol tables (.symtab, .dynsym, a Go binary's pclntab) and
// lookups in the table built from them. Nothing may panic.
func FuzzModule(f *testing.F) {
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<20 {
			f.Add(data)
			break
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		lo, hi, ok := segmentRange(ef)
		if !ok {
			hi = lo + 1<<20
		}
		loadBias(ef, 0x7f0000000000)
		gnuBuildID(ef)
		mod := &module{path: "fuzz", start: lo, end: hi, sections: newSectionTable(ef), vaddrEnd: hi, file: ef}
		syms := mod.symbols(func(string) {})
		for _, a := range []uint64{0, lo, hi - 1, lo + (hi-lo)/2} {
			lookup(syms, a)
			mod.sections.find(a)
		}
		mod.sections.dense()
	})
}
