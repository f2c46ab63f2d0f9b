package native

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/heapsift/heapsift/warn"
)

// ErrNoHeap says that the core holds no glibc malloc heap heapsift can
// find: no brk heap and no arena.
var ErrNoHeap = errors.New("no glibc malloc heap found")

// Options control where Open looks for libc's debugging information.
type Options struct {
	// DebugDirs are searched for libc's debug file by build ID; nil
	// means /usr/lib/debug, an empty slice none.
	DebugDirs []string

	// splitBytes is the smallest heap region walked in parallel parts;
	// 0 means splitMin. Tests set less, so that small cores are split.
	splitBytes uint64
}

// Allocator says what the model knows about malloc itself.
type Allocator struct {
	Name    string // "glibc"
	Version string // "2.36", "" when libc's banner is not at hand
	// LayoutFrom is "dwarf" (libc's debugging information) or "table"
	// (the reference layout, checked against the core's chunks, top and
	// arena ring).
	LayoutFrom string
	// MainArenaFrom is "symbol", "structure" (found by its top chunk or
	// the arena ring) or "" (not found: the brk heap walked alone).
	MainArenaFrom string
	Arenas        int
	Heaps         int // non-main arenas' heaps
	Mmapped       int // mmapped chunks in use
	Tcaches       int
	SafeLinking   bool
}

// opener carries what Open has found so far.
type opener struct {
	p     *dump.Process
	sym   *symbolize.Symbolizer
	l     *Layout
	libc  *dump.Module
	warns *warn.List
	alloc Allocator

	safeLinking, safeLinkingKnown bool
	mainArena                     uint64
	// splitBytes is the smallest region walked in parallel parts; 0
	// means splitMin (tests set less).
	splitBytes uint64
}

func warnAt(a uint64, format string, args ...any) warn.Warning {
	return warn.At("native", a, format, args...)
}

// Open finds glibc's malloc heap in p and builds its object graph. sym
// names globals and vtables; it may be nil.
func Open(p *dump.Process, sym *symbolize.Symbolizer, opts Options) (*Heap, []warn.Warning, error) {
	o := &opener{p: p, sym: sym, warns: &warn.List{}, alloc: Allocator{Name: "glibc"}, splitBytes: opts.splitBytes}
	o.libc = findLibc(p)
	if o.libc == nil {
		o.libc = staticGlibc(p, sym)
	}
	if o.libc == nil {
		return nil, nil, fmt.Errorf("native: no glibc mapped: %w", ErrNoHeap)
	}
	o.chooseLayout(opts)
	regions, arenas, err := o.findRegions()
	if err != nil {
		return nil, o.warns.Items(), err
	}
	t, cls := o.walkAll(regions, runtime.GOMAXPROCS(0))
	var firsts []uint64
	for i := range regions {
		if regions[i].kind != regionMmap {
			firsts = append(firsts, regions[i].start)
		}
	}
	if !sort.IsSorted(t) {
		sort.Sort(t)
	}
	for _, i := range o.findTcaches(t, firsts) {
		o.markTcache(t, t.addr[i]+2*sizeSz)
		o.alloc.Tcaches++
	}
	for _, a := range arenas {
		o.markFastbins(t, a)
	}
	o.alloc.SafeLinking = o.safeLinking
	h := newHeap(o, t, cls, regions)
	h.findRoots(o)
	h.mark()
	return h, o.warns.Items(), nil
}

// findLibc returns the module of glibc's libc, or nil.
func findLibc(p *dump.Process) *dump.Module {
	for _, m := range p.Modules() {
		b := baseName(m.Path)
		if strings.HasPrefix(b, "libc.so") || strings.HasPrefix(b, "libc-2.") {
			return m
		}
	}
	return nil
}

// staticGlibc returns the executable when glibc is linked into it (it
// defines main_arena), or nil.
func staticGlibc(p *dump.Process, sym *symbolize.Symbolizer) *dump.Module {
	exe := p.Executable()
	if exe == nil || sym == nil {
		return nil
	}
	if _, ok := sym.Address(baseName(exe.Path), "main_arena", 0); ok {
		return exe
	}
	return nil
}

func baseName(path string) string { return filepath.Base(path) }

// chooseLayout reads the layout from libc's DWARF, or takes the
// reference table.
func (o *opener) chooseLayout(opts Options) {
	dirs := opts.DebugDirs
	if dirs == nil {
		dirs = []string{"/usr/lib/debug"}
	}
	if o.libc != nil {
		if data := o.libc.FileData(); data != nil {
			o.alloc.Version = glibcVersion(data)
		}
		if path, ok := libcDebugFile(o.libc.LocalPath, o.libc.BuildID, dirs); ok {
			l, err := ReadDWARFLayout(path)
			if err == nil {
				o.l, o.alloc.LayoutFrom = l, "dwarf"
			} else {
				o.warns.Add(warn.New("native", "libc's DWARF: %v; using the reference layout", err))
			}
		}
	}
	if o.l == nil {
		l := referenceLayout
		o.l, o.alloc.LayoutFrom = &l, "table"
	}
	if o.l.Glibc == "" {
		o.l.Glibc = o.alloc.Version
	}
	if o.alloc.Version != "" {
		o.safeLinking, o.safeLinkingKnown = versionAtLeast(o.alloc.Version, 2, 32), true
		if !versionAtLeast(o.alloc.Version, 2, 26) {
			o.l.TcacheSize = 0
		}
	}
}

// findRegions finds the arenas and every region of chunks, sorted by
// address.
func (o *opener) findRegions() ([]region, []arena, error) {
	var brk *region
	for _, m := range o.p.Mappings() {
		if m.Name == "[heap]" {
			brk = &region{start: alignUp(uint64(m.Start), chunkAlign), end: uint64(m.End), kind: regionBrk, data: m.CoreData()}
			break
		}
	}
	// The brk heap's last chunk finds main_arena without symbols and
	// checks a layout from the table; one walk more, only then.
	var brkTop uint64
	main, how := o.findMainArena(0)
	if brk != nil && (main == 0 || o.alloc.LayoutFrom == "table") {
		brkTop = o.walkTop(brk)
		if main == 0 {
			main, how = o.findMainArena(brkTop)
		}
	}
	if main != 0 && !o.mainArenaOK(main, how, brk, brkTop) {
		main, how = 0, ""
	}
	if main == 0 {
		main, how = o.mainFromHeapInfos()
	}
	o.alloc.MainArenaFrom, o.mainArena = how, main
	var arenas []arena
	if main != 0 {
		arenas = o.arenaRing(main)
	} else {
		o.warns.Add(warn.New("native", "main_arena not found (no libc symbols, and no arena matches the %s layout); fastbins and other threads' arenas are not read", o.alloc.LayoutFrom))
	}
	o.alloc.Arenas = len(arenas)
	var regions []region
	for _, a := range arenas {
		if a.main {
			if brk != nil {
				brk.top = a.top
			}
			continue
		}
		hs := o.heapsOf(a)
		o.alloc.Heaps += len(hs)
		for i := range hs {
			o.attachData(&hs[i])
			regions = append(regions, hs[i])
		}
	}
	if brk != nil {
		if brk.top == 0 {
			brk.top = brkTop
		}
		regions = append(regions, *brk)
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i].start < regions[j].start })
	mm := o.scanMmapped(regions)
	o.alloc.Mmapped = len(mm)
	regions = append(regions, mm...)
	sort.Slice(regions, func(i, j int) bool { return regions[i].start < regions[j].start })
	regions = o.disjoint(regions)
	if len(regions) == 0 {
		return nil, nil, fmt.Errorf("native: %w", ErrNoHeap)
	}
	return regions, arenas, nil
}

// disjoint drops the regions (sorted by start) that overlap the one
// before: a damaged arena ring or heap_info chain can name one heap many
// times, and its chunks must be counted once.
func (o *opener) disjoint(regions []region) []region {
	out := regions[:0]
	dropped := 0
	for _, r := range regions {
		if n := len(out); n > 0 && r.start < out[n-1].end {
			if dropped++; dropped == 1 {
				o.warns.Add(warnAt(r.start, "heap region %#x-%#x overlaps region %#x-%#x; its chunks are counted once", r.start, r.end, out[n-1].start, out[n-1].end))
			}
			continue
		}
		out = append(out, r)
	}
	if dropped > 1 {
		o.warns.Add(warn.New("native", "%d more heap regions overlapping another were dropped", dropped-1))
	}
	return out
}

// attachData gives a region its bytes, or a warning.
func (o *opener) attachData(r *region) {
	b, err := o.p.Slice(dump.Address(r.start), r.end-r.start)
	if err != nil {
		o.warns.Add(warnAt(r.start, "heap %#x-%#x: %v; its chunks are not counted", r.start, r.end, err))
		return
	}
	r.data = b
}

// walkTop walks the brk heap without recording and returns its last
// chunk, the top chunk when the heap is intact.
func (o *opener) walkTop(r *region) uint64 {
	t := chunkTable{noRecord: true}
	quiet := &opener{p: o.p, l: o.l, warns: &warn.List{}}
	quiet.walkRegion(r, &t)
	return t.lastTop
}

// mainArenaOK checks a main_arena against the brk heap: its top is the
// heap's last chunk, and its ring closes. A layout from the table that
// fails is reported as not matching this glibc. A ring that does not
// close is damage, not a wrong layout, when libc's symbol and DWARF both
// say where main_arena and its next link are: arenaRing then reads the
// ring as far as it goes and says where it breaks.
func (o *opener) mainArenaOK(main uint64, how string, brk *region, brkTop uint64) bool {
	top, ok := o.word(main + uint64(o.l.StateTop))
	known := how == "symbol" && o.alloc.LayoutFrom == "dwarf"
	switch {
	case !ok:
		o.warns.Add(warnAt(main, "main_arena is not in the core"))
		return false
	case !known && !o.ringOK(main):
		o.warns.Add(warnAt(main, "main_arena's next ring does not close: the %s layout does not match this glibc %s", o.alloc.LayoutFrom, o.alloc.Version))
		return false
	case brk != nil && brkTop != 0 && top != brkTop && top >= brk.start && top < brk.end:
		o.warns.Add(warnAt(main, "main_arena's top %#x is not the brk heap's last chunk %#x: the %s layout does not match this glibc %s, or the heap is damaged", top, brkTop, o.alloc.LayoutFrom, o.alloc.Version))
		return false
	}
	return true
}

// mainFromHeapInfos finds main_arena on the ring of a non-main arena
// found by its heap_info: the ring's member outside every heap.
func (o *opener) mainFromHeapInfos() (uint64, string) {
	for _, a := range o.scanHeapInfos() {
		if !o.ringOK(a) {
			continue
		}
		for _, m := range o.arenaRing(a) {
			if o.libc != nil && dump.Address(m.addr) >= o.libc.Start && dump.Address(m.addr) < o.libc.End+1<<20 {
				return m.addr, "structure"
			}
		}
	}
	return 0, ""
}
