package mutate

import "fmt"

// fileSpellings rewrites the NT_FILE note with many more entries naming the
// core's first mapped file under different spellings of its path, each at
// its own address past the core's mappings: the note's entries stay in
// order, and every spelling names the same file.
func (g *gen) fileSpellings() (Mutant, bool) {
	n, ok := g.l.note(ntFile)
	if !ok || n.descLen < 16 {
		return Mutant{}, false
	}
	var seg phdr
	for _, p := range g.l.phdrs {
		if p.typ == ptNote && uint64(n.at) >= p.off && uint64(n.at)-p.off < p.filesz {
			seg = p
		}
	}
	desc := g.core[n.descAt : n.descAt+n.descLen]
	count := int(min(le.Uint64(desc), uint64(len(desc)-16)/24))
	if count == 0 {
		return Mutant{}, false
	}
	paths := splitPaths(desc[16+24*count:], count)
	k := g.count()
	var top uint64
	for i := range count {
		top = max(top, le.Uint64(desc[16+24*i+8:]))
	}
	top = (top + 0xfffff) &^ 0xfffff
	newDesc := make([]byte, 16, 16+24*(count+k))
	le.PutUint64(newDesc, uint64(count+k))
	copy(newDesc[8:16], desc[8:16])
	newDesc = append(newDesc, desc[16:16+24*count]...)
	for i := range k {
		e := make([]byte, 24)
		le.PutUint64(e, top+uint64(i)*0x2000)
		le.PutUint64(e[8:], top+uint64(i)*0x2000+0x1000)
		newDesc = append(newDesc, e...)
	}
	for _, p := range paths {
		newDesc = append(append(newDesc, p...), 0)
	}
	for i := range k {
		newDesc = append(append(newDesc, respell(paths[0], i)...), 0)
	}
	// The old segment's notes with the old NT_FILE renamed out of the way,
	// then the new one, replace the segment.
	old := clone(g.core[seg.off : seg.off+seg.filesz])
	le.PutUint32(old[n.at-int(seg.off)+8:], 0x7777)
	b, off := g.appendBlob(append(old, noteBytes("CORE", ntFile, newDesc)...))
	le.PutUint64(b[seg.at+8:], off)
	le.PutUint64(b[seg.at+32:], uint64(len(b))-off)
	return Mutant{Name: fmt.Sprintf("%d more NT_FILE entries spelling %s", k, paths[0]), Data: b}, true
}

// splitPaths returns the first count NUL-terminated strings of b.
func splitPaths(b []byte, count int) []string {
	var out []string
	for len(out) < count {
		i := 0
		for i < len(b) && b[i] != 0 {
			i++
		}
		out = append(out, string(b[:i]))
		b = b[min(i+1, len(b)):]
	}
	return out
}
