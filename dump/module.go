package dump

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A Module is a file mapped into the process: the executable or a shared
// library, as the core's NT_FILE note lists them.
type Module struct {
	// Path is the file's path as the core records it.
	Path string
	// LocalPath is the file opened on this machine for it ("" if none was
	// found, or it did not match the core).
	LocalPath string
	// Main marks the executable.
	Main bool
	// Start and End bound the module's mappings.
	Start, End Address
	// Mappings are the module's mappings in address order.
	Mappings []*Mapping
	// BuildID is the build ID from the core's copy of the file's ELF
	// headers ("" when the core does not hold them); FileBuildID is the
	// local file's. A GNU build ID is preferred, a Go build ID used
	// otherwise.
	BuildID, FileBuildID string
	// Mismatch is set when both build IDs are known and differ; the local
	// file is then not used.
	Mismatch bool

	data []byte // the mmapped local file
}

// FileData returns the local file's bytes (mmapped, read-only), or nil.
func (m *Module) FileData() []byte { return m.data }

// Base returns the address where the file's offset 0 is mapped.
func (m *Module) Base() Address {
	for _, mp := range m.Mappings {
		if mp.FileOffset == 0 {
			return mp.Start
		}
	}
	if len(m.Mappings) > 0 {
		return m.Mappings[0].Start - Address(m.Mappings[0].FileOffset)
	}
	return m.Start
}

// attachFiles builds the module list from NT_FILE entries, opens each file
// found on this machine, checks its build ID against the core's, and lets
// it supply the bytes the kernel left out of the core. Entries naming one
// file under different spellings of its path make one module, and each
// local file is mapped once.
func (p *Process) attachFiles(files *fileNote, opts Options) {
	byPath := map[string]*Module{}
	look := fileLooker{opts: opts}
	var key []byte // the entry's cleaned path
	files.each(func(fe fileEntry) {
		key = appendClean(key[:0], fe.path)
		mod := byPath[string(key)] // looked up without a string made
		within := p.mappingsWithin(fe.Start, fe.End)
		if mod == nil && len(within) == 0 && !p.holdsEntryPoint(fe) && !look.atHand(key, fe.path) {
			return
		}
		if mod == nil {
			mod = &Module{Path: string(fe.path), Start: fe.Start, End: fe.End}
			byPath[string(key)] = mod
			p.modules = append(p.modules, mod)
		}
		mod.Start = min(mod.Start, fe.Start)
		mod.End = max(mod.End, fe.End)
		for _, m := range within {
			if m.File == "" {
				m.File = mod.Path
				m.FileOffset = fe.Offset + uint64(m.Start-fe.Start)
				mod.Mappings = append(mod.Mappings, m)
			}
		}
	})
	look.warn(p)
	for _, mod := range p.modules {
		sort.Slice(mod.Mappings, func(i, j int) bool { return mod.Mappings[i].Start < mod.Mappings[j].Start })
		mod.BuildID = p.coreBuildID(mod)
	}
	cache := &fileCache{}
	p.markMain(opts, cache)
	if opts.Exe != "" && p.Executable() == nil {
		p.warnf("--exe %s is not used: the core does not say which of its mappings is the executable (no NT_FILE entry holds AT_PHDR or AT_ENTRY), and none has its build ID or its segments", opts.Exe)
	}
	if !opts.NoFiles {
		for _, mod := range p.modules {
			p.openModuleFile(mod, opts, cache)
		}
	}
	sort.SliceStable(p.modules, func(i, j int) bool { return p.modules[i].Main && !p.modules[j].Main })
}

// An NT_FILE entry that covers no segment of the core is still worth a
// module when it is the executable's (it holds AT_PHDR or AT_ENTRY), or
// when its file is at hand and may supply segments the core left out
// (gdb's gcore omits some). A kernel-written core has a segment for every
// entry, so this keeps a million bogus entries from costing a module each.

// holdsEntryPoint reports whether fe holds AT_PHDR or AT_ENTRY.
func (p *Process) holdsEntryPoint(fe fileEntry) bool {
	for _, key := range []uint64{atPhdr, atEntry} {
		if v, ok := p.Aux(key); ok && Address(v) >= fe.Start && Address(v) < fe.End {
			return true
		}
	}
	return false
}

// maxFileLooks bounds how many lookups of files are made on this
// machine for NT_FILE entries that cover no segment: a process maps a few
// thousand files at most, and a core naming a million absent ones must
// not cost a million lookups (and their garbage).
const maxFileLooks = 4096

// fileLooker looks for the files of NT_FILE entries that cover no segment,
// and counts those it leaves out.
type fileLooker struct {
	opts         Options
	last         []byte // the cleaned path last looked for
	asked, found bool   // whether it was looked for, and found
	looks        int    // lookups made (consecutive entries of one file share one)
	skipped      int    // entries left out, their file not found
	unasked      int    // entries left out past maxFileLooks
}

// atHand reports whether the file of an entry, at path (cleaned: key), is
// on this machine. Consecutive entries of one file share its path: one
// look.
func (l *fileLooker) atHand(key, path []byte) bool {
	if l.last == nil || !bytes.Equal(l.last, key) {
		l.last = append(l.last[:0], key...)
		l.asked, l.found = false, false
		if !l.opts.NoFiles && l.looks < maxFileLooks {
			l.looks++
			l.asked, l.found = true, fileAtHand(string(path), l.opts)
		}
	}
	switch {
	case l.found:
		return true
	case l.asked || l.opts.NoFiles:
		l.skipped++
	default:
		l.unasked++
	}
	return false
}

// warn says how many entries were left out.
func (l *fileLooker) warn(p *Process) {
	switch {
	case l.unasked > 0:
		p.warnf("ignored %d NT_FILE entries that cover no segment of the core: %d name no file found here, and %d were not looked for (after %d lookups)",
			l.skipped+l.unasked, l.skipped, l.unasked, maxFileLooks)
	case l.skipped > 0:
		p.warnf("ignored %d NT_FILE entries that cover no segment of the core and name no file found here", l.skipped)
	}
}

// fileAtHand reports whether the file at path is on this machine.
func fileAtHand(path string, opts Options) bool {
	for _, c := range localCandidates(&Module{Path: path}, opts) {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// mappingsWithin returns the mappings lying wholly inside [start, end),
// found by binary search in the sorted mappings.
func (p *Process) mappingsWithin(start, end Address) []*Mapping {
	ms := p.mappings
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Start >= start })
	j := i
	for j < len(ms) && ms[j].End <= end {
		j++
	}
	return ms[i:j]
}

// markMain finds the executable: the module holding the program headers
// (AT_PHDR) or the entry point; else the file the program was started as;
// else, when the core names neither, --exe matched to the files, or the
// file that looks like the program's (see findexe.go).
func (p *Process) markMain(opts Options, cache *fileCache) {
	for _, key := range []uint64{atPhdr, atEntry} {
		v, ok := p.Aux(key)
		if !ok {
			continue
		}
		for _, mod := range p.modules {
			if Address(v) >= mod.Start && Address(v) < mod.End {
				mod.Main = true
				return
			}
		}
	}
	if p.markMainByName() || opts.Exe != "" && p.markMainByExe(opts, cache) {
		return
	}
	_, phdr := p.Aux(atPhdr)
	if _, entry := p.Aux(atEntry); !phdr && !entry {
		// Only a core that does not say where the program is: one
		// that does, and lacks the file there, is not guessed at.
		p.markMainByShape(opts, cache)
	}
}

// markMainByName finds the executable when no module holds the program
// headers or the entry point (their NT_FILE entry was malformed and
// dropped, or the auxiliary vector is lost): the module of the path the
// program was started as, from AT_EXECFN or else the command line's first
// word (either may be relative), said in a warning.
func (p *Process) markMainByName() bool {
	var names, from []string
	if v, ok := p.Aux(atExecFn); ok {
		if name, err := p.CString(Address(v), 4096); err == nil && name != "" {
			names, from = append(names, name), append(from, "AT_EXECFN")
		}
	}
	if p.Info != nil {
		if arg0, _, _ := strings.Cut(p.Info.Args, " "); arg0 != "" {
			names, from = append(names, arg0), append(from, "the command line")
		}
	}
	for i, name := range names {
		name = filepath.Clean(name)
		for _, mod := range p.modules {
			path := filepath.Clean(mod.Path)
			if path == name || !filepath.IsAbs(name) && strings.HasSuffix(path, "/"+name) {
				mod.Main = true
				p.warnf("no NT_FILE entry holds the program's entry point; taking %s, the file it was started as (%s), for the executable", mod.Path, from[i])
				return true
			}
		}
	}
	return false
}

// coreBuildID reads the build ID from the core's copy of the module's first
// page, without falling back to the file.
func (p *Process) coreBuildID(mod *Module) string {
	for _, m := range mod.Mappings {
		if m.FileOffset != 0 || len(m.core) < 64 {
			continue
		}
		return buildIDFromImage(imageOf(m.core), true)
	}
	return ""
}

// localCandidates lists where the module's file may be on this machine:
// for the executable, --exe first, then the places of the path the core
// records, which are the fallback when --exe does not fit.
func localCandidates(mod *Module, opts Options) []string {
	var c []string
	if mod.Main && opts.Exe != "" {
		c = append(c, opts.Exe)
	}
	for _, d := range opts.LibDirs {
		c = append(c, filepath.Join(d, filepath.Base(mod.Path)))
	}
	if opts.Sysroot != "" {
		c = append(c, filepath.Join(opts.Sysroot, mod.Path))
	} else {
		c = append(c, mod.Path)
	}
	// A file named twice (--exe naming the recorded path) is tried once.
	seen := map[string]bool{}
	out := c[:0]
	for _, p := range c {
		if k := filepath.Clean(p); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// openModuleFile maps the module's file, if one is found and matches. A
// file already attached to another module (the same inode under another
// path) backs this one's mappings but adds no segments again.
func (p *Process) openModuleFile(mod *Module, opts Options, cache *fileCache) {
	cands := localCandidates(mod, opts)
	userExe := mod.Main && opts.Exe != "" // cands[0] is --exe
	fallback := ""
	if len(cands) > 1 {
		fallback = "; trying the path the core records, " + mod.Path
	}
	for i, path := range cands {
		byUser := userExe && i == 0
		data, err := cache.open(p, path)
		if err == nil && !isELF(data) {
			err = fmt.Errorf("%s is not an ELF file", path)
			if len(data) == 0 {
				err = fmt.Errorf("%s is empty", path)
			} else if !byUser {
				markNotELF(mod)
			}
		}
		if err != nil {
			if byUser {
				p.warnf("cannot use --exe %s: %v%s", opts.Exe, err, fallback)
			}
			continue
		}
		mod.FileBuildID = buildIDFromImage(imageOf(data), false)
		if mod.BuildID != "" && mod.FileBuildID != "" && mod.BuildID != mod.FileBuildID {
			mod.Mismatch = true
			if byUser && fallback != "" {
				p.warnf("--exe %s does not match the core: its build ID %s differs from the core's %s%s", path, short(mod.FileBuildID), short(mod.BuildID), fallback)
			} else {
				p.warnf("%s: build ID %s in the core differs from %s's %s; not using that file", baseName(mod.Path), short(mod.BuildID), path, short(mod.FileBuildID))
			}
			continue
		}
		if mod.Mismatch {
			p.warnf("%s: using %s, whose build ID matches the core's", baseName(mod.Path), path)
		}
		mod.Mismatch = false
		mod.LocalPath, mod.data = path, data
		p.backWithFile(mod)
		if cache.firstUse(data) {
			p.addAbsentSegments(mod)
		}
		return
	}
}

// markNotELF notes that mod's file is at hand but is not an ELF file, so
// that what the core left out of it is said to be that, not missing.
func markNotELF(mod *Module) {
	for _, m := range mod.Mappings {
		m.notELF = true
	}
}

// backWithFile lets the module's file supply the bytes of its mappings that
// the kernel left out of the core (never bytes lost to truncation).
func (p *Process) backWithFile(mod *Module) {
	size := uint64(len(mod.data))
	for _, m := range mod.Mappings {
		if m.Omitted == 0 || m.Truncated != 0 {
			continue
		}
		from := m.FileOffset + m.fileFrom
		if from >= size {
			continue
		}
		end := min(m.FileOffset+m.Size(), size)
		m.fileData = mod.data[from:end]
	}
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16] + "…"
	}
	return id
}

// addAbsentSegments adds mappings, read from the module's file, for the
// file-backed parts of its PT_LOAD segments that the core does not list at
// all (gdb's gcore, for one, can leave read-only segments out entirely). The
// mappings stay sorted.
func (p *Process) addAbsentSegments(mod *Module) {
	h, err := parseELFHeader(mod.data)
	if err != nil {
		return
	}
	progs, err := parseProgHeaders(mod.data, h)
	if err != nil {
		return
	}
	var bias Address
	if h.Type == etDyn {
		for _, ph := range progs {
			if ph.Type == ptLoad && ph.Off == 0 {
				bias = mod.Base() - Address(ph.Vaddr)
				break
			}
		}
	}
	var added []*Mapping
	for _, ph := range progs {
		if ph.Type != ptLoad || ph.Filesz == 0 || ph.Off >= uint64(len(mod.data)) {
			continue
		}
		filesz := min(ph.Filesz, uint64(len(mod.data))-ph.Off)
		start := Address(ph.Vaddr) + bias
		end := start + Address(filesz)
		if end <= start {
			continue // wraps around the address space
		}
		for _, gap := range p.uncovered(start, end) {
			off := ph.Off + uint64(gap[0]-start)
			n := uint64(gap[1] - gap[0])
			added = append(added, &Mapping{
				Start: gap[0], End: gap[1], Perm: permOf(ph.Flags), File: mod.Path, FileOffset: off,
				CoreOffset: -1, Omitted: n, fileData: mod.data[off : off+n],
			})
		}
	}
	// The file's own segments may overlap each other: keep the first.
	sort.SliceStable(added, func(i, j int) bool { return added[i].Start < added[j].Start })
	kept := added[:0]
	var prevEnd Address
	for _, m := range added {
		if m.Start >= prevEnd {
			kept = append(kept, m)
			prevEnd = m.End
		}
	}
	if len(kept) == 0 {
		return
	}
	p.mappings = mergeMappings(p.mappings, kept)
	mod.Mappings = mergeMappings(mod.Mappings, kept)
}

// mergeMappings merges two lists of disjoint mappings, each sorted by
// address, into one sorted list, in time linear in their lengths.
func mergeMappings(a, b []*Mapping) []*Mapping {
	out := make([]*Mapping, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Start <= b[0].Start {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// uncovered returns the parts of [start, end) that no mapping covers. It
// finds the first candidate by binary search in the sorted mappings.
func (p *Process) uncovered(start, end Address) [][2]Address {
	var gaps [][2]Address
	cur := start
	ms := p.mappings
	i := sort.Search(len(ms), func(i int) bool { return ms[i].End > start })
	for ; i < len(ms) && ms[i].Start < end; i++ {
		if ms[i].Start > cur {
			gaps = append(gaps, [2]Address{cur, ms[i].Start})
		}
		cur = max(cur, ms[i].End)
	}
	if cur < end {
		gaps = append(gaps, [2]Address{cur, end})
	}
	return gaps
}
