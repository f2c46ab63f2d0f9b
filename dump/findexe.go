package dump

import (
	"path/filepath"
	"strings"
)

// Finding the executable when the core does not say which file it is.
// Normally AT_PHDR or AT_ENTRY of the auxiliary vector lies in the
// executable's mappings (markMain), or the file the program was started as
// is known (AT_EXECFN, the command line's first word: markMainByName). A
// core whose NT_AUXV and NT_PRPSINFO notes are both lost still lists its
// files: --exe is matched to them by build ID, or by where its segments
// lie (markMainByExe); without --exe, the file that looks like the
// program's is taken (markMainByShape). Either way a warning says so.

// ptInterp is the program header naming an executable's interpreter.
const ptInterp = 3

// markMainByExe marks the module that the user's --exe is: the one whose
// build ID (from the core's copy of its first page) is --exe's, or else
// the only one whose mappings lie where --exe's segments would, at their
// file offsets (and, for a fixed-address executable, their addresses).
func (p *Process) markMainByExe(opts Options, cache *fileCache) bool {
	data, err := cache.open(p, opts.Exe)
	if err != nil || !isELF(data) {
		return false // openModuleFile is not reached; attachFiles says --exe is unused
	}
	img := imageOf(data)
	id := buildIDFromImage(img, false)
	if id != "" {
		for _, mod := range p.modules {
			if mod.BuildID == id {
				mod.Main = true
				p.warnf("the core does not say which file is the executable; --exe %s has the build ID of %s, so it is that", opts.Exe, mod.Path)
				return true
			}
		}
	}
	h, err := parseELFHeader(data)
	if err != nil {
		return false
	}
	progs, err := parseProgHeaders(data, h)
	if err != nil {
		return false
	}
	var match *Module
	for _, mod := range p.modules {
		if (mod.BuildID == "" || id == "") && segmentsMatch(mod, progs, h.Type == etExec) {
			if match != nil {
				return false // two files fit: neither is known to be it
			}
			match = mod
		}
	}
	if match == nil {
		return false
	}
	match.Main = true
	p.warnf("the core does not say which file is the executable; --exe %s has its segments where %s is mapped, so it is that", opts.Exe, match.Path)
	return true
}

// segmentsMatch reports whether mod has a mapping for every loaded
// segment of progs with file bytes, at the segment's file offset rounded
// down to a page (of up to 64 KiB) and, when fixed, at its address too.
func segmentsMatch(mod *Module, progs []progHeader, fixed bool) bool {
	n := 0
	for _, ph := range progs {
		if ph.Type != ptLoad || ph.Filesz == 0 {
			continue
		}
		n++
		found := false
		for _, m := range mod.Mappings {
			if m.FileOffset <= ph.Off && ph.Off-m.FileOffset < maxFilePageSize &&
				(!fixed || uint64(m.Start) <= ph.Vaddr && ph.Vaddr-uint64(m.Start) < maxFilePageSize) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return n > 0
}

// markMainByShape marks the module that looks like the program's, when
// nothing names it: among the files mapped with code that are not named
// like shared libraries, those whose ELF header (the core's copy of the
// first page, or the file here) says executable (a fixed-address
// executable, or a position-independent one with an interpreter) if any,
// the one mapped lowest.
func (p *Process) markMainByShape(opts Options, cache *fileCache) bool {
	var best *Module
	bestExec := false
	for _, mod := range p.modules {
		if !hasCode(mod) || sharedLibName(mod.Path) {
			continue
		}
		exec := p.looksExecutable(mod, opts, cache)
		if best == nil || exec && !bestExec || exec == bestExec && mod.Start < best.Start {
			best, bestExec = mod, exec
		}
	}
	if best == nil {
		return false
	}
	best.Main = true
	why := "the lowest-mapped file with code that is not named like a shared library"
	if bestExec {
		why = "the lowest-mapped file whose ELF header says it is an executable"
	}
	p.warnf("the core does not say which file is the executable (no auxiliary vector); taking %s, %s", best.Path, why)
	return true
}

func hasCode(mod *Module) bool {
	for _, m := range mod.Mappings {
		if m.Perm&PermExec != 0 {
			return true
		}
	}
	return false
}

// sharedLibName reports whether path is named like a shared library
// ("libc.so.6", "ld-linux-x86-64.so.2", "libfoo.so").
func sharedLibName(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.")
}

// looksExecutable reports whether mod's ELF header, from the core or else
// from its file here, is an executable's.
func (p *Process) looksExecutable(mod *Module, opts Options, cache *fileCache) bool {
	img := p.coreImage(mod)
	if img == nil && !opts.NoFiles {
		for _, path := range localCandidates(mod, opts) {
			if data, err := cache.open(p, path); err == nil && isELF(data) {
				img = imageOf(data)
				break
			}
		}
	}
	if img == nil {
		return false
	}
	h, err := parseELFHeader(img(0, 64))
	if err != nil {
		return false
	}
	if h.Type == etExec {
		return true
	}
	if h.Type != etDyn {
		return false
	}
	ph := img(h.PhOff, uint64(h.PhNum)*uint64(h.PhEntSize))
	at := *h
	at.PhOff = 0
	progs, err := parseProgHeaders(ph, &at)
	if err != nil {
		return false
	}
	for _, ph := range progs {
		if ph.Type == ptInterp {
			return true
		}
	}
	return false
}

// imageOf reads ranges of data, nil for one past its end.
func imageOf(data []byte) func(off, n uint64) []byte {
	return func(off, n uint64) []byte {
		if off > uint64(len(data)) || n > uint64(len(data))-off {
			return nil
		}
		return data[off : off+n]
	}
}

// coreImage reads the core's copy of the start of mod's file (the mapping
// at file offset 0), or returns nil when the core does not hold it.
func (p *Process) coreImage(mod *Module) func(off, n uint64) []byte {
	for _, m := range mod.Mappings {
		if m.FileOffset == 0 && len(m.core) >= 64 {
			return imageOf(m.core)
		}
	}
	return nil
}
