package stack

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
)

// toolchains are the Go versions the core tests build the test program
// with; "" is the installed go command.
var toolchains = []string{"go1.22.12", "go1.23.12", "go1.24.13", "go1.25.14", ""}

// coreCase is one crashed run of testdata/stack/goroutines.
type coreCase struct {
	core  *coretest.Core
	proc  *dump.Process
	mod   *Module
	vars  *Vars
	dwarf *dwarf.Data
	gs    []goroutine
	trace map[uint64][]tbFrame
}

func loadCore(t *testing.T, build coretest.GoBuild) *coreCase {
	t.Helper()
	exe := coretest.BuildGo(t, coretest.Testdata(t, "stack", "goroutines"), build)
	core := coretest.MakeCore(t, exe, nil, []string{"STACKTEST_SPIN=1"})
	proc, err := dump.Open(core.Path, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proc.Close() })
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	// The load bias of a PIE: where its entry point is (AT_ENTRY) minus
	// where the linker put it.
	var bias uint64
	if ef.Type == elf.ET_DYN {
		const atEntry = 9
		entry, ok := proc.Aux(atEntry)
		if !ok {
			t.Fatal("no AT_ENTRY in the core's auxiliary vector")
		}
		bias = entry - ef.Entry
	}
	mod, err := ModuleFromDWARF(d, proc, bias)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := NewVars(ef, bias)
	if err != nil {
		t.Fatal(err)
	}
	return &coreCase{core: core, proc: proc, mod: mod, vars: vars, dwarf: d,
		gs: readGoroutines(t, d, proc, bias), trace: parseTraceback(core.Stderr)}
}

func TestCoreGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and crashes a program per Go version")
	}
	builds := []coretest.GoBuild{{PIE: true}}
	for _, tc := range toolchains {
		builds = append(builds, coretest.GoBuild{Toolchain: tc})
	}
	for _, b := range builds {
		tc := b.Toolchain
		t.Run(b.String(), func(t *testing.T) {
			c := loadCore(t, b)
			stacks := c.unwindAll(t)
			c.checkWorkers(t, stacks)
			c.checkRecursion(t, stacks)
			c.checkStackObject(t, stacks, "stackobj")
			c.checkStackObject(t, stacks, "bigobj")
			if gcprog := c.usesGCProg(t, stacks, "main.bigStackObjWorker"); gcprog != (tc == "go1.22.12" || tc == "go1.23.12") {
				t.Errorf("main.bigStackObjWorker's stack object uses a GC program: %v; want it in Go 1.22–1.23 only", gcprog)
			}
			c.checkSpinners(t, stacks)
			c.checkThreads(t)
		})
	}
}

// unwindAll unwinds every live goroutine that is not running and checks
// each against the runtime's own traceback, frame by frame.
func (c *coreCase) unwindAll(t *testing.T) map[uint64][]Frame {
	stacks := make(map[uint64][]Frame)
	slots, named, inlined := 0, 0, 0
	for _, g := range c.gs {
		if g.status == gDead {
			continue
		}
		frames, err := Unwind(c.proc, c.mod, g.start, g.lo, g.hi, c.proc.Arch)
		if g.status == gRunning {
			// Its saved context is stale; the heap model starts it from
			// a thread's registers instead.
			t.Logf("running goroutine %d: %d frames from its stale context (err %v)", g.goid, len(frames), err)
			continue
		}
		if err != nil {
			t.Errorf("goroutine %d: %v\n%s", g.goid, err, describe(frames))
			continue
		}
		if last := frames[len(frames)-1]; last.Kind != KindTop || last.Func != "runtime.goexit" {
			t.Errorf("goroutine %d ends in %s (%v), not runtime.goexit", g.goid, last.Func, last.Kind)
		}
		compareTraceback(t, g, frames, c.trace[g.addr])
		stacks[g.addr] = frames
		for _, f := range frames {
			inlined += len(f.Logical) - 1
			vars, err := c.vars.ForPC(f.CallPC)
			if err != nil {
				t.Errorf("variables of %s at %#x: %v", f.Func, f.CallPC, err)
			}
			for _, s := range f.PtrSlots {
				slots++
				if _, _, ok := VarAt(vars, f.FP, s); ok {
					named++
				} else {
					t.Logf("unnamed pointer slot CFA%+d in %s at %s:%d", int64(s-f.FP), f.Func, f.File, f.Line)
				}
			}
		}
	}
	t.Logf("%d goroutines unwound, %d inlined calls in their frames; DWARF names %d of their %d pointer slots", len(stacks), inlined, named, slots)
	if len(stacks) < 8 {
		t.Fatalf("only %d goroutines unwound", len(stacks))
	}
	return stacks
}

// compareTraceback checks frames against the traceback the runtime printed
// for the goroutine as it crashed.
func compareTraceback(t *testing.T, g goroutine, frames []Frame, want []tbFrame) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("goroutine %d (g %#x) is missing from the crash traceback", g.goid, g.addr)
		return
	}
	if len(want) != len(frames) {
		t.Errorf("goroutine %d: %d frames, the runtime printed %d\nours:\n%s", g.goid, len(frames), len(want), describe(frames))
		return
	}
	for i, w := range want {
		f := frames[i]
		if f.PC != w.pc || f.SP != w.sp || f.FP != w.fp || !sameFunc(f.Func, w.fn) {
			t.Errorf("goroutine %d frame %d: %s pc=%#x sp=%#x fp=%#x, runtime says %s pc=%#x sp=%#x fp=%#x",
				g.goid, i, f.Func, f.PC, f.SP, f.FP, w.fn, w.pc, w.sp, w.fp)
		}
		if !sameLogical(f.Logical, w.logical) {
			t.Errorf("goroutine %d frame %d: logical frames %+v, runtime printed %+v", g.goid, i, f.Logical, w.logical)
		}
	}
}

// sameFunc compares a pclntab name with the name a traceback prints, which
// drops type arguments and shows runtime.gopanic as panic.
func sameFunc(name, printed string) bool {
	if name == printed || name == "runtime.gopanic" && printed == "panic" {
		return true
	}
	if i := strings.Index(name, "[...]"); i >= 0 {
		return strings.HasPrefix(printed, name[:i])
	}
	return false
}

// sameLogical compares inlined frames with those a traceback printed.
func sameLogical(got, printed []LogicalFrame) bool {
	if len(got) != len(printed) {
		return false
	}
	for i, p := range printed {
		g := got[i]
		if !sameFunc(g.Func, p.Func) || g.File != p.File || g.Line != p.Line {
			return false
		}
	}
	return true
}

func describe(frames []Frame) string {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "  %s %s:%d pc=%#x sp=%#x fp=%#x %v slots=%d objs=%d cons=%d %s\n",
			f.Func, f.File, f.Line, f.PC, f.SP, f.FP, f.Kind, len(f.PtrSlots), len(f.StackObjects), len(f.Conservative), f.Warning)
	}
	return b.String()
}

// findFrame returns the goroutine (g address and frames) and the frame
// running fn.
func findFrame(stacks map[uint64][]Frame, fn string) (uint64, []Frame, int) {
	for g, frames := range stacks {
		for i, f := range frames {
			if f.Func == fn {
				return g, frames, i
			}
		}
	}
	return 0, nil, -1
}

// checkWorkers looks for each heap object a worker holds in a local
// variable: it must be in a live pointer slot of that worker's frame, and
// DWARF must name the slot as the program says.
func (c *coreCase) checkWorkers(t *testing.T, stacks map[uint64][]Frame) {
	for _, k := range []string{"chan", "select", "sleep", "mutex", "recurse", "inline"} {
		fn, varName, held := c.core.Value(t, "func_"+k), c.core.Value(t, "var_"+k), c.core.Hex(t, "held_"+k)
		varFunc := fn // the function declaring the variable
		if in, ok := c.core.Truth["inlined_"+k]; ok {
			varFunc = in
		}
		_, frames, i := findFrame(stacks, fn)
		if i < 0 {
			t.Errorf("%s: no goroutine is in %s", k, fn)
			continue
		}
		f := frames[i]
		vars, err := c.vars.ForPC(f.CallPC)
		if err != nil {
			t.Errorf("%s: variables of %s: %v", k, fn, err)
		}
		found := false
		for _, s := range f.PtrSlots {
			if v, err := c.proc.Uint64(dump.Address(s)); err != nil || v != held {
				continue
			}
			found = true
			v, off, ok := VarAt(vars, f.FP, s)
			if !ok || v.Name != varName || off != 0 || v.Func != varFunc {
				t.Errorf("%s: slot %#x (CFA%+d) holding %#x is variable %q+%d of %s (found %v), want %q of %s; variables: %+v",
					k, s, int64(s-f.FP), held, v.Name, off, v.Func, ok, varName, varFunc, vars)
			}
			if varFunc != fn && (len(f.Logical) < 2 || f.Logical[len(f.Logical)-2].Func != varFunc) {
				t.Errorf("%s: frame of %s does not show the inlined call to %s: %+v", k, fn, varFunc, f.Logical)
			}
		}
		if !found {
			t.Errorf("%s: %#x is in none of the %d pointer slots of %s\n%s", k, held, len(f.PtrSlots), fn, describe(frames))
		}
	}
}

// checkRecursion counts the frames of main.recurse.
func (c *coreCase) checkRecursion(t *testing.T, stacks map[uint64][]Frame) {
	want := int(c.core.Int(t, "depth"))
	_, frames, i := findFrame(stacks, "main.recurseWorker")
	if i < 0 {
		t.Fatal("no goroutine is in main.recurseWorker")
	}
	n := 0
	for _, f := range frames[:i] {
		if f.Func == "main.recurse" {
			n++
		}
	}
	if n != want {
		t.Errorf("%d frames of main.recurse below main.recurseWorker, want %d", n, want)
	}
}

// checkStackObject finds the heap object referenced only from a stack
// object (h of main.stackObjWorker, big of main.bigStackObjWorker), which
// only a pointer in a callee's frame keeps alive: the object must be
// reachable, its pointer word must hold the heap object, and DWARF must
// name the word as the program says.
func (c *coreCase) checkStackObject(t *testing.T, stacks map[uint64][]Frame, key string) {
	fn, varName, held := c.core.Value(t, "func_"+key), c.core.Value(t, "var_"+key), c.core.Hex(t, "held_"+key)
	gaddr, frames, i := findFrame(stacks, fn)
	if i < 0 {
		t.Fatalf("no goroutine is in %s", fn)
	}
	var g goroutine
	for _, gr := range c.gs {
		if gr.addr == gaddr {
			g = gr
		}
	}
	for _, f := range frames {
		for _, s := range f.PtrSlots {
			if v, _ := c.proc.Uint64(dump.Address(s)); v == held {
				t.Errorf("%#x is in a pointer slot %#x of %s; the program meant it to be reachable only through a stack object", held, s, f.Func)
			}
		}
	}
	live := ReachableStackObjects(c.proc, frames, g.lo, g.hi, nil)
	f := frames[i]
	vars, _ := c.vars.ForPC(f.CallPC)
	found := false
	for j, o := range f.StackObjects {
		for w := uint64(0); w < o.PtrBytes/8; w++ {
			if o.PtrMask[w/8]>>(w%8)&1 == 0 {
				continue
			}
			slot := o.Addr + 8*w
			if v, err := c.proc.Uint64(dump.Address(slot)); err != nil || v != held {
				continue
			}
			found = true
			if !live[i][j] {
				t.Errorf("stack object %#x of %s holds %#x but is not reachable\n%s", o.Addr, fn, held, describe(frames))
			}
			if v, _, ok := VarAt(vars, f.FP, slot); !ok || v.Name != varName {
				t.Errorf("stack object slot %#x is variable %q (found %v), want %q", slot, v.Name, ok, varName)
			}
		}
	}
	if !found {
		t.Errorf("%#x is in none of the %d stack objects of %s\n%s", held, len(f.StackObjects), fn, describe(frames))
	}
}

// usesGCProg reports whether the first stack object record of fn has a
// negative pointer-data field, meaning a GC program.
func (c *coreCase) usesGCProg(t *testing.T, stacks map[uint64][]Frame, fn string) bool {
	_, frames, i := findFrame(stacks, fn)
	if i < 0 {
		t.Fatalf("no goroutine is in %s", fn)
	}
	tab, err := c.mod.Table(c.proc)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := tab.FuncForPC(frames[i].PC)
	if !ok {
		t.Fatalf("no function at %#x", frames[i].PC)
	}
	addr, ok := tab.FuncDataAddr(&f, FuncDataStackObjects)
	if !ok {
		t.Fatalf("%s has no stack objects", fn)
	}
	lay := c.mod.StackObjectRecord
	v, err := c.proc.Uint64(dump.Address(addr + 8 + lay.PtrBytes))
	if err != nil {
		t.Fatal(err)
	}
	return int32(uint32(v)) < 0
}

// checkSpinners looks at the goroutines stopped by asynchronous
// preemption: their asyncPreempt frame and the frame it interrupted are
// conservative, and the object each holds is among their words.
func (c *coreCase) checkSpinners(t *testing.T, stacks map[uint64][]Frame) {
	seen := 0
	for _, frames := range stacks {
		k := -1
		for i, f := range frames {
			if f.Func == "main.spinWorker" {
				k = i
			}
		}
		if k < 1 || frames[k-1].Kind != KindAsyncPreempt {
			continue
		}
		seen++
		if len(frames[k].Conservative) == 0 || len(frames[k-1].Conservative) == 0 || len(frames[k].PtrSlots) != 0 {
			t.Errorf("asyncPreempt and main.spinWorker frames are not conservative:\n%s", describe(frames))
		}
		if k+1 < len(frames) && len(frames[k+1].Conservative) != 0 {
			t.Errorf("the frame above main.spinWorker is conservative too:\n%s", describe(frames))
		}
		words := map[uint64]bool{}
		for _, f := range frames {
			for _, r := range f.Conservative {
				for a := r[0]; a+8 <= r[1]; a += 8 {
					if v, err := c.proc.Uint64(dump.Address(a)); err == nil {
						words[v] = true
					}
				}
			}
		}
		if !words[c.core.Hex(t, "held_spin1")] && !words[c.core.Hex(t, "held_spin2")] {
			t.Errorf("neither spinner's object is in the conservative words of a preempted spinner:\n%s", describe(frames))
		}
	}
	if seen == 0 {
		t.Errorf("no goroutine was stopped in main.spinWorker by asyncPreempt")
	}
}

// TestUnwindGarbage checks that nonsense starts end in errors, not panics.
func TestUnwindGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a core")
	}
	c := loadCore(t, coretest.GoBuild{})
	var g goroutine
	for _, gr := range c.gs {
		if gr.status != gDead && gr.status != gRunning {
			g = gr
			break
		}
	}
	for _, s := range []Start{
		{PC: 1, SP: g.start.SP},
		{PC: g.start.PC, SP: g.hi + 64},
		{PC: g.start.PC, SP: g.lo - 8},
		{PC: g.start.PC, SP: g.hi - 8},
		{PC: c.mod.Text + 1, SP: g.start.SP + 8},
	} {
		frames, err := Unwind(c.proc, c.mod, s, g.lo, g.hi, c.proc.Arch)
		if !errors.Is(err, ErrStackEnd) {
			t.Errorf("Unwind(%+v) = %d frames, %v; want an ErrStackEnd", s, len(frames), err)
		}
	}

	// Random stacks: random words, started at random PCs and SPs.
	rng := rand.New(rand.NewPCG(1, 2))
	const lo, size = 0x10000, 0x4000
	stack := make([]byte, size)
	mem := overlay{Memory: c.proc, lo: lo, data: stack}
	var nframes, nslots, nobjs, nwarn int
	for i := 0; i < 3000; i++ {
		for j := range stack {
			stack[j] = byte(rng.Uint32())
		}
		// Some words are return addresses into the text.
		for j := 0; j < 64; j++ {
			binary.LittleEndian.PutUint64(stack[rng.IntN(size/8)*8:], c.mod.Text+rng.Uint64N(c.mod.EText-c.mod.Text))
		}
		s := Start{PC: c.mod.Text + rng.Uint64N(c.mod.EText-c.mod.Text), SP: lo + rng.Uint64N(size), Async: i%2 == 0}
		frames, err := Unwind(mem, c.mod, s, lo, lo+size, c.proc.Arch)
		if err == nil && (len(frames) == 0 || frames[len(frames)-1].Kind != KindTop) {
			t.Errorf("random stack %d: %d frames without error or top frame", i, len(frames))
		}
		ReachableStackObjects(mem, frames, lo, lo+size, nil)
		for _, f := range frames {
			nframes++
			nslots += len(f.PtrSlots)
			nobjs += len(f.StackObjects)
			if f.Warning != "" {
				nwarn++
			}
		}
	}
	t.Logf("random stacks: %d frames, %d pointer slots, %d stack objects, %d warnings", nframes, nslots, nobjs, nwarn)
}

// overlay replaces the memory [lo, lo+len(data)) of a Memory.
type overlay struct {
	Memory
	lo   uint64
	data []byte
}

func (o overlay) Slice(a dump.Address, n uint64) ([]byte, error) {
	if uint64(a) >= o.lo && uint64(a)-o.lo+n <= uint64(len(o.data)) {
		return o.data[uint64(a)-o.lo:][:n], nil
	}
	return o.Memory.Slice(a, n)
}

func (o overlay) Uint64(a dump.Address) (uint64, error) {
	b, err := o.Slice(a, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// checkThreads unwinds each thread from its registers, as the heap model
// must for running goroutines. The crashing thread died in the signal
// handler, on its gsignal stack; SignalContext leads from there back to
// the goroutine that called runtime.raise, which must then unwind to
// runtime.goexit through the frames the runtime printed for it. Threads
// idle on their g0 stacks are only logged.
func (c *coreCase) checkThreads(t *testing.T) {
	if c.proc.Arch != dump.ArchAMD64 {
		t.Logf("finding g from TLS is only done on amd64 here")
		return
	}
	onGoroutine := 0
	for _, th := range c.proc.Threads {
		g, err := c.proc.Uint64(th.TLS - 8)
		if err != nil || g == 0 {
			t.Logf("thread %d: no g (%v)", th.TID, err)
			continue
		}
		gi := readG(t, c.dwarf, c.proc, g)
		start := Start{PC: uint64(th.PC), SP: uint64(th.SP), Async: true}
		frames, err := c.unwindOn(gi, start)
		if sig, ok, serr := SignalContext(c.proc, c.mod, frames, c.proc.Arch); serr != nil {
			t.Errorf("thread %d: %v", th.TID, serr)
		} else if ok {
			t.Logf("thread %d: in a signal handler (%d frames) interrupted at PC %#x SP %#x", th.TID, len(frames), sig.PC, sig.SP)
			frames, err = c.unwindOn(gi, sig)
		}
		want, printed := c.trace[g]
		if gi.status != gRunning || !printed {
			t.Logf("thread %d on g %#x (status %d, a system stack): %d frames, err %v", th.TID, g, gi.status, len(frames), err)
			continue
		}
		onGoroutine++
		if err != nil || len(frames) < len(want) {
			t.Errorf("thread %d on goroutine g %#x: %v\n%s", th.TID, g, err, describe(frames))
			continue
		}
		if f := frames[0]; len(f.PtrSlots) != 0 || f.VarP > f.SP && len(f.Conservative) == 0 {
			t.Errorf("thread %d: the innermost frame of an Async start is not conservative:\n%s", th.TID, describe(frames[:1]))
		}
		// The runtime printed the panicking goroutine from the panic on.
		compareTraceback(t, goroutine{addr: g}, frames[len(frames)-len(want):], want)
	}
	if onGoroutine == 0 {
		t.Errorf("no thread was running a goroutine")
	}
}

// unwindOn unwinds from start on whichever of gi's stacks holds its SP.
func (c *coreCase) unwindOn(gi gInfo, start Start) ([]Frame, error) {
	s, ok := stackOf(gi.stacks, start.SP)
	if !ok {
		return nil, fmt.Errorf("SP %#x is on none of the stacks %#x", start.SP, gi.stacks)
	}
	return Unwind(c.proc, c.mod, start, s[0], s[1], c.proc.Arch)
}
