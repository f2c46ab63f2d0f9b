// Package mutate makes damaged copies of core files for heapsift's
// mutation tests: a seeded, reproducible generator of mutants in families
// (ELF header fields, program headers, notes, NT_FILE, thread notes, memory
// contents, counts and pointers in memory, truncation, and structures
// repeated to huge counts: notes, threads (one repeated, or many sharing
// one's registers), program headers, NT_FILE entries spelling one file,
// naming absent files or half malformed), each mutant named by what it
// changed so that a failure can be rebuilt from its seed. One makes a
// regression case of a family at an exact count; DropNotes, ReadAt and
// WriteAt help tests aim their own damage.
//
// It is ordinary (non-test) code so that several packages' tests can share
// it; nothing outside _test.go files should import it.
package mutate

import (
	"fmt"
	"math/rand"
	"strings"
)

// Mutant is one damaged copy of a core.
type Mutant struct {
	Family string // one of Families
	Name   string // what was changed: "phdr[3].p_filesz=0xffffffffffffffff"
	Data   []byte
}

// Options bound the mutants Generate makes.
type Options struct {
	// Seed makes the mutants: the same core, seed and options give the
	// same mutants.
	Seed int64
	// N is the number of mutants.
	N int
	// MaxCount caps the repetition families (notes, threads, NT_FILE
	// entries, program headers); 0 means 100,000.
	MaxCount int
	// Exact makes the repetition families repeat exactly MaxCount times,
	// for a regression case of a known size.
	Exact bool
}

// Families lists the mutation families in the order Generate cycles
// through them.
func Families() []string {
	return []string{"elf-header", "prog-header", "note-header", "nt-file", "memory", "truncate",
		"many-notes", "many-threads", "many-phdrs", "file-spellings", "counts", "pointers",
		"file-absent", "file-malformed", "thread-copies"}
}

// Generate returns opts.N mutants of core, taking the families in turn.
func Generate(core []byte, opts Options) []Mutant {
	var out []Mutant
	Each(core, opts, func(m Mutant) { out = append(out, m) })
	return out
}

// Each calls fn with each of the mutants Generate returns, in order,
// making one at a time, so that large mutants need not all be held.
func Each(core []byte, opts Options, fn func(Mutant)) {
	g := newGen(core, opts)
	fams := Families()
	made := 0
	for i := 0; made < opts.N && i < 4*opts.N+len(fams); i++ {
		fam := fams[i%len(fams)]
		if m, ok := g.mutate(fam); ok {
			m.Family = fam
			fn(m)
			made++
		}
	}
}

// gen holds what the mutators share.
type gen struct {
	core     []byte
	l        layout
	rng      *rand.Rand
	maxCount int
	exact    bool
}

// One returns the mutant of family fam that opts.Seed makes, or ok=false
// when the core has nothing that family can change: a regression case
// named by its family, seed and count.
func One(core []byte, fam string, opts Options) (Mutant, bool) {
	m, ok := newGen(core, opts).mutate(fam)
	m.Family = fam
	return m, ok
}

func newGen(core []byte, opts Options) *gen {
	maxCount := opts.MaxCount
	if maxCount <= 0 {
		maxCount = 100000
	}
	return &gen{core: core, l: readLayout(core), rng: rand.New(rand.NewSource(opts.Seed)), maxCount: maxCount, exact: opts.Exact}
}

// mutate makes one mutant of family fam, or ok=false when the core has
// nothing that family can change.
func (g *gen) mutate(fam string) (Mutant, bool) {
	switch fam {
	case "elf-header":
		return g.elfHeader(), true
	case "prog-header":
		return g.progHeader()
	case "note-header":
		return g.noteHeader()
	case "nt-file":
		return g.ntFile()
	case "memory":
		return g.memory()
	case "truncate":
		return g.truncate(), true
	case "many-notes":
		return g.manyNotes()
	case "many-threads":
		return g.manyThreads(false)
	case "thread-copies":
		return g.manyThreads(true)
	case "many-phdrs":
		return g.manyPhdrs()
	case "file-spellings":
		return g.fileEntries(entriesSpelling)
	case "file-absent":
		return g.fileEntries(entriesAbsent)
	case "file-malformed":
		return g.fileEntries(entriesMalformed)
	case "counts":
		return g.counts()
	case "pointers":
		return g.pointers()
	}
	return Mutant{}, false
}

// edge returns a value likely to break a reader of a field of width bytes:
// 0, 1, powers of two near the width's limits, all ones, or near the file
// size.
func (g *gen) edge(width int) uint64 {
	size := uint64(len(g.core))
	vals := []uint64{0, 1, 2, 7, 0xff, 0xffff, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 40, 1 << 62, 1 << 63,
		^uint64(0), ^uint64(0) - 1, size, size - 1, size + 1, size / 2, g.rng.Uint64()}
	v := vals[g.rng.Intn(len(vals))]
	if width < 8 {
		v &= 1<<(8*width) - 1
	}
	return v
}

// put writes v as a width-byte little-endian field at off of b.
func put(b []byte, off, width int, v uint64) {
	switch width {
	case 1:
		b[off] = byte(v)
	case 2:
		le.PutUint16(b[off:], uint16(v))
	case 4:
		le.PutUint32(b[off:], uint32(v))
	default:
		le.PutUint64(b[off:], v)
	}
}

// field is a named field of a structure: its offset and width.
type field struct {
	name       string
	off, width int
}

// setField copies the core with one field of the structure at base set to
// an edge value.
func (g *gen) setField(what string, base int, fields []field) Mutant {
	f := fields[g.rng.Intn(len(fields))]
	v := g.edge(f.width)
	b := clone(g.core)
	if base+f.off+f.width <= len(b) {
		put(b, base+f.off, f.width, v)
	}
	return Mutant{Name: fmt.Sprintf("%s.%s=%#x", what, f.name, v), Data: b}
}

func (g *gen) elfHeader() Mutant {
	return g.setField("ehdr", 0, []field{{"ei_class", 4, 1}, {"ei_data", 5, 1}, {"e_type", 16, 2}, {"e_machine", 18, 2},
		{"e_phoff", 32, 8}, {"e_shoff", 40, 8}, {"e_phentsize", 54, 2}, {"e_phnum", 56, 2}})
}

func (g *gen) progHeader() (Mutant, bool) {
	if len(g.l.phdrs) == 0 {
		return Mutant{}, false
	}
	i := g.rng.Intn(len(g.l.phdrs))
	return g.setField(fmt.Sprintf("phdr[%d]", i), g.l.phdrs[i].at, []field{{"p_type", 0, 4}, {"p_flags", 4, 4},
		{"p_offset", 8, 8}, {"p_vaddr", 16, 8}, {"p_filesz", 32, 8}, {"p_memsz", 40, 8}}), true
}

func (g *gen) noteHeader() (Mutant, bool) {
	if len(g.l.notes) == 0 {
		return Mutant{}, false
	}
	i := g.rng.Intn(len(g.l.notes))
	return g.setField(fmt.Sprintf("note[%d]", i), g.l.notes[i].at, []field{{"n_namesz", 0, 4}, {"n_descsz", 4, 4}, {"n_type", 8, 4}}), true
}

// ntFile damages the NT_FILE note: its count, its page size, or one
// entry's start, end or page offset.
func (g *gen) ntFile() (Mutant, bool) {
	n, ok := g.l.note(ntFile)
	if !ok || n.descLen < 16 {
		return Mutant{}, false
	}
	count := int(min(le.Uint64(g.core[n.descAt:]), uint64(n.descLen-16)/24))
	fields := []field{{"count", 0, 8}, {"page_size", 8, 8}}
	if count > 0 {
		e := g.rng.Intn(count)
		for j, name := range []string{"start", "end", "pgoff"} {
			fields = append(fields, field{fmt.Sprintf("entry[%d].%s", e, name), 16 + 24*e + 8*j, 8})
		}
	}
	return g.setField("nt_file", n.descAt, fields), true
}

// memory overwrites words of a writable segment with edge values or with
// pointers into the same segment, or randomizes one page of it.
func (g *gen) memory() (Mutant, bool) {
	segs := g.l.loads(g.core, 4096, true)
	if len(segs) == 0 {
		return Mutant{}, false
	}
	b := clone(g.core)
	s := segs[g.rng.Intn(len(segs))]
	if g.rng.Intn(4) == 0 {
		page := s.off + uint64(g.rng.Int63n(int64(s.filesz/4096)))*4096
		g.rng.Read(b[page : page+4096])
		return Mutant{Name: fmt.Sprintf("page at vaddr %#x randomized", s.vaddr+page-s.off), Data: b}, true
	}
	words := 1 << g.rng.Intn(12)
	for range words {
		off := s.off + uint64(g.rng.Int63n(int64(s.filesz/8)))*8
		v := g.edge(8)
		if g.rng.Intn(2) == 0 {
			v = s.vaddr + uint64(g.rng.Int63n(int64(s.filesz)))&^7
		}
		le.PutUint64(b[off:], v)
	}
	return Mutant{Name: fmt.Sprintf("%d words of the segment at %#x", words, s.vaddr), Data: b}, true
}

// truncate cuts the core at a random offset or at a structure's edge.
func (g *gen) truncate() Mutant {
	cuts := []int{0, 1, 4, 63, 64, g.rng.Intn(len(g.core) + 1)}
	for _, p := range g.l.phdrs {
		cuts = append(cuts, p.at+phdrSize/2, int(min(p.off, uint64(len(g.core)))))
	}
	for _, n := range g.l.notes {
		cuts = append(cuts, n.descAt+n.descLen/2)
	}
	cut := min(cuts[g.rng.Intn(len(cuts))], len(g.core))
	return Mutant{Name: fmt.Sprintf("cut at byte %d of %d", cut, len(g.core)), Data: clone(g.core[:cut])}
}

// count returns a repetition count: up to MaxCount, mostly small
// (MaxCount itself when Exact).
func (g *gen) count() int {
	if g.exact {
		return g.maxCount
	}
	return 1 + g.rng.Intn(max(1, g.maxCount>>g.rng.Intn(8)))
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// respell writes path differently, naming the same file: "/a//b",
// "/a/./b", "/a/x/../b" .
func respell(path string, i int) string {
	dir, base := path, ""
	if j := strings.LastIndexByte(path, '/'); j >= 0 {
		dir, base = path[:j], path[j+1:]
	}
	return dir + strings.Repeat("/.", i%7) + strings.Repeat("/", 1+i/7%5) + strings.Repeat("x/../", i/35%3) + base
}
