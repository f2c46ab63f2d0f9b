package mutate

import (
	"fmt"
	"strconv"
)

// The NT_FILE repetition family: the note rewritten with many more
// entries, each at its own address past the core's mappings, in one of
// three kinds, each a family of its own.
const (
	entriesSpelling  = iota // the core's first mapped file, its path spelled differently each time
	entriesAbsent           // distinct paths of files that exist nowhere
	entriesMalformed        // every other entry empty or out of order
)

// fileEntries rewrites the NT_FILE note with g.count() more entries of the
// given kind after the note's own.
func (g *gen) fileEntries(kind int) (Mutant, bool) {
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
		start, end := top+uint64(i)*0x2000, top+uint64(i)*0x2000+0x1000
		if kind == entriesMalformed && i%2 == 1 {
			if i%4 == 1 {
				end = start // empty
			} else {
				start, end = top, top+0x1000 // before the entry above
			}
		}
		newDesc = le.AppendUint64(le.AppendUint64(le.AppendUint64(newDesc, start), end), 0)
	}
	for _, p := range paths {
		newDesc = append(append(newDesc, p...), 0)
	}
	what := "spelling " + paths[0]
	for i := range k {
		switch kind {
		case entriesSpelling:
			newDesc = append(newDesc, respell(paths[0], i)...)
		case entriesAbsent:
			newDesc = strconv.AppendInt(append(newDesc, "/no/such/dir/lib"...), int64(i), 10)
			newDesc = append(newDesc, ".so"...)
			what = "naming files that exist nowhere"
		default:
			newDesc = append(newDesc, "/no/such/lib.so"...)
			what = "half of them malformed"
		}
		newDesc = append(newDesc, 0)
	}
	// The old segment's notes with the old NT_FILE renamed out of the way,
	// then the new one, replace the segment.
	old := clone(g.core[seg.off : seg.off+seg.filesz])
	le.PutUint32(old[n.at-int(seg.off)+8:], 0x7777)
	b, off := g.appendBlob(append(old, noteBytes("CORE", ntFile, newDesc)...))
	le.PutUint64(b[seg.at+8:], off)
	le.PutUint64(b[seg.at+32:], uint64(len(b))-off)
	return Mutant{Name: fmt.Sprintf("%d more NT_FILE entries %s", k, what), Data: b}, true
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
