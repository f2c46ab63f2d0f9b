package mutate

import "fmt"

// The repetition families: structures a core may repeat, repeated to
// counts no real core has, in blobs appended to the core and reached
// through new or redirected program headers.

// maxPhnum is the largest e_phnum that needs no section header.
const maxPhnum = 0xfffe

// appendBlob returns a copy of the core with blob appended at an 8-byte
// aligned offset, and that offset.
func (g *gen) appendBlob(blob []byte) ([]byte, uint64) {
	b := clone(g.core)
	b = append(b, make([]byte, -len(b)&7)...)
	off := uint64(len(b))
	return append(b, blob...), off
}

// addPhdrs returns b with a new program header table, the core's headers
// followed by extra (56 bytes each), appended and pointed at.
func addPhdrs(b []byte, l layout, extra [][]byte) []byte {
	n := min(len(l.phdrs)+len(extra), maxPhnum)
	b = append(b, make([]byte, -len(b)&7)...)
	tab := uint64(len(b))
	for _, p := range l.phdrs {
		b = append(b, b[p.at:p.at+phdrSize]...)
	}
	for _, h := range extra[:n-len(l.phdrs)] {
		b = append(b, h...)
	}
	le.PutUint64(b[offPhoff:], tab)
	le.PutUint16(b[offPhentsize:], phdrSize)
	le.PutUint16(b[offPhnum:], uint16(n))
	return b
}

// phdrBytes encodes one program header.
func phdrBytes(typ, flags uint32, off, vaddr, filesz, memsz uint64) []byte {
	h := make([]byte, phdrSize)
	le.PutUint32(h, typ)
	le.PutUint32(h[4:], flags)
	le.PutUint64(h[8:], off)
	le.PutUint64(h[16:], vaddr)
	le.PutUint64(h[32:], filesz)
	le.PutUint64(h[40:], memsz)
	return h
}

// manyNotes appends an area of tiny notes (unknown types, and thread notes
// too short to decode) and points up to a thousand PT_NOTE headers at it.
func (g *gen) manyNotes() (Mutant, bool) {
	if len(g.l.phdrs) == 0 {
		return Mutant{}, false
	}
	k := g.count()
	var blob []byte
	for i := range k {
		typ := uint32(0x77)
		if i%3 == 0 {
			typ = ntPRStatus
		}
		blob = append(blob, noteBytes("CORE", typ, nil)...)
	}
	b, off := g.appendBlob(blob)
	segs := 1 + g.rng.Intn(1000)
	extra := make([][]byte, segs)
	for i := range extra {
		extra[i] = phdrBytes(ptNote, 0, off, 0, uint64(len(blob)), 0)
	}
	return Mutant{Name: fmt.Sprintf("%d PT_NOTE headers of %d tiny notes", segs, k), Data: addPhdrs(b, g.l, extra)}, true
}

// manyThreads appends copies of the first thread's NT_PRSTATUS note:
// the same thread again and again, or with distinct = true, as many
// threads of their own (distinct thread IDs) sharing its registers, its
// stack and its thread pointer.
func (g *gen) manyThreads(distinct bool) (Mutant, bool) {
	n, ok := g.l.note(ntPRStatus)
	if !ok || n.descLen < prstatusPIDOff+4 {
		return Mutant{}, false
	}
	one := noteBytes("CORE", ntPRStatus, g.core[n.descAt:n.descAt+n.descLen])
	pid := 12 + align4(len("CORE")+1) + prstatusPIDOff // pr_pid in one
	k := g.count()
	blob := make([]byte, 0, k*len(one))
	for i := range k {
		if distinct {
			le.PutUint32(one[pid:], uint32(1<<22+i))
		}
		blob = append(blob, one...)
	}
	b, off := g.appendBlob(blob)
	extra := [][]byte{phdrBytes(ptNote, 0, off, 0, uint64(len(blob)), 0)}
	what := "more NT_PRSTATUS notes"
	if distinct {
		what = "threads sharing the first one's registers and thread pointer"
	}
	return Mutant{Name: fmt.Sprintf("%d %s", k, what), Data: addPhdrs(b, g.l, extra)}, true
}

// manyPhdrs repeats one PT_LOAD header (or shifts it by a page each time)
// up to the largest e_phnum.
func (g *gen) manyPhdrs() (Mutant, bool) {
	loads := g.l.loads(g.core, 1, false)
	if len(loads) == 0 {
		return Mutant{}, false
	}
	p := loads[g.rng.Intn(len(loads))]
	k := min(g.count(), maxPhnum-len(g.l.phdrs))
	shift := g.rng.Intn(2) == 0
	extra := make([][]byte, k)
	for i := range extra {
		vaddr := p.vaddr
		if shift {
			vaddr += uint64(i+1) * 4096
		}
		extra[i] = phdrBytes(ptLoad, p.flags, p.off, vaddr, p.filesz, p.memsz)
	}
	what := "identical"
	if shift {
		what = "overlapping"
	}
	return Mutant{Name: fmt.Sprintf("%d %s copies of the PT_LOAD at %#x", k, what, p.vaddr), Data: addPhdrs(clone(g.core), g.l, extra)}, true
}
