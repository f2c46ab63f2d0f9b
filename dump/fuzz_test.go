package dump

import "testing"

// FuzzCore feeds arbitrary bytes to the core reader and reads around every
// address it reports: nothing may panic.
func FuzzCore(f *testing.F) {
	f.Add(sampleCore().build())
	full := sampleCore().build()
	f.Add(full[:len(full)/2])
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := newProcess("fuzz", data, Options{NoFiles: true})
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		for _, m := range p.Mappings() {
			for _, a := range []Address{m.Start, m.End - 1, m.Start + Address(m.Size()/2)} {
				p.ReadAt(buf, a)
				p.Slice(a, 16)
				p.CString(a, 32)
			}
			_ = m.String()
		}
		for _, th := range p.Threads {
			p.Uint64(th.SP)
		}
		_ = p.Totals()
	})
}

// FuzzNotes feeds arbitrary bytes to the note decoders.
func FuzzNotes(f *testing.F) {
	for _, n := range sampleCore().notes {
		f.Add(n.typ, n.desc)
	}
	f.Fuzz(func(t *testing.T, typ uint32, desc []byte) {
		parseNotes(desc)
		parsePRStatus(desc, ArchAMD64)
		parsePRStatus(desc, ArchARM64)
		parsePRPSInfo(desc)
		parseAuxv(desc)
		parseSigInfo(desc)
		parseFileNote(desc)
		buildIDFromImage(func(off, n uint64) []byte {
			if off > uint64(len(desc)) || n > uint64(len(desc))-off {
				return nil
			}
			return desc[off : off+n]
		}, typ%2 == 0)
	})
}
