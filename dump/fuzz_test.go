package dump

import "testing"

// FuzzCore feeds arbitrary bytes to the core reader and reads around every
// address it reports: nothing may panic.
func FuzzCore(f *testing.F) {
	f.Add(sampleCore().Build())
	full := sampleCore().Build()
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
	for _, n := range sampleCore().Notes {
		f.Add(uint32(n.Type), n.Desc)
	}
	f.Fuzz(func(t *testing.T, typ uint32, desc []byte) {
		parseNotes(desc)
		parsePRStatus(desc, ArchAMD64)
		parsePRStatus(desc, ArchARM64)
		parsePRPSInfo(desc)
		parseAuxv(desc)
		parseSigInfo(desc)
		if fn, err := parseFileNote(desc, pageDropper{}); err == nil {
			n := 0
			fn.each(func(fileEntry) { n++ })
			if uint64(n+fn.dropped) != fn.count {
				t.Fatalf("%d entries given and %d dropped of %d", n, fn.dropped, fn.count)
			}
		}
		buildIDFromImage(func(off, n uint64) []byte {
			if off > uint64(len(desc)) || n > uint64(len(desc))-off {
				return nil
			}
			return desc[off : off+n]
		}, typ%2 == 0)
	})
}

// TestBuildIDHugeHeaderOffset: an ELF header whose program headers are said
// to lie exabytes away is ignored, with no allocation of that size (a
// crasher found in review).
func TestBuildIDHugeHeaderOffset(t *testing.T) {
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF\x02\x01\x01")
	hdr[16] = etDyn
	for i, v := range []byte{0, 0, 0, 0, 0, 0, 0, 0x40} { // e_phoff = 1<<62
		hdr[32+i] = v
	}
	hdr[54], hdr[56] = 56, 1
	read := func(off, n uint64) []byte {
		if off > uint64(len(hdr)) || n > uint64(len(hdr))-off {
			return nil
		}
		return hdr[off : off+n]
	}
	if id := buildIDFromImage(read, true); id != "" {
		t.Errorf("build ID %q from a header with no program headers", id)
	}
}
