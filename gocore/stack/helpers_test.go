package stack

import (
	"bufio"
	"debug/dwarf"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
)

// goroutine is what the tests need of a runtime.g, read through DWARF.
type goroutine struct {
	addr, goid, status uint64
	lo, hi             uint64
	start              Start
}

// Goroutine status values (runtime2.go), the same in 1.22–1.26.
const (
	gRunning = 2
	gDead    = 6
)

// readGoroutines reads runtime.allgs, with field offsets of runtime.g,
// runtime.gobuf and runtime.stack taken from DWARF by name; bias is the
// executable's load bias.
func readGoroutines(t *testing.T, d *dwarf.Data, mem Memory, bias uint64) []goroutine {
	t.Helper()
	ents, err := findNamed(d, map[string]dwarf.Tag{
		"runtime.allgs":      dwarf.TagVariable,
		"runtime.g":          dwarf.TagStructType,
		"runtime.gobuf":      dwarf.TagStructType,
		"runtime.stack":      dwarf.TagStructType,
		"runtime.moduledata": dwarf.TagStructType,
	})
	if err != nil {
		t.Fatal(err)
	}
	allgs, err := globalAddr(ents["runtime.allgs"])
	if err != nil {
		t.Fatal(err)
	}
	gf := mustFields(t, d, ents, "runtime.g")
	bf := mustFields(t, d, ents, "runtime.gobuf")
	sf := mustFields(t, d, ents, "runtime.stack")
	allgs += bias
	ptr, n := mustWord(t, mem, allgs), mustWord(t, mem, allgs+8)
	if n == 0 || n > 1<<20 {
		t.Fatalf("allgs has %d entries", n)
	}
	var gs []goroutine
	for i := uint64(0); i < n; i++ {
		g := mustWord(t, mem, ptr+8*i)
		status, err := mem.Slice(dump.Address(g+gf["atomicstatus"]), 4)
		if err != nil {
			t.Fatal(err)
		}
		gr := goroutine{
			addr:   g,
			goid:   mustWord(t, mem, g+gf["goid"]),
			status: uint64(status[0]) | uint64(status[1])<<8,
			lo:     mustWord(t, mem, g+gf["stack"]+sf["lo"]),
			hi:     mustWord(t, mem, g+gf["stack"]+sf["hi"]),
		}
		sched := g + gf["sched"]
		if sp := mustWord(t, mem, g+gf["syscallsp"]); sp != 0 {
			gr.start = Start{PC: mustWord(t, mem, g+gf["syscallpc"]), SP: sp, Syscall: true}
		} else {
			gr.start = Start{PC: mustWord(t, mem, sched+bf["pc"]), SP: mustWord(t, mem, sched+bf["sp"]), LR: mustWord(t, mem, sched+bf["lr"])}
		}
		gs = append(gs, gr)
	}
	return gs
}

func mustFields(t *testing.T, d *dwarf.Data, ents map[string]*dwarf.Entry, name string) map[string]uint64 {
	t.Helper()
	f, err := structFields(d, ents, name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustWord(t *testing.T, mem Memory, a uint64) uint64 {
	t.Helper()
	v, err := mem.Uint64(dump.Address(a))
	if err != nil {
		t.Fatalf("reading %#x: %v", a, err)
	}
	return v
}

// tbFrame is one physical frame of a runtime traceback.
type tbFrame struct {
	fn         string
	pc, sp, fp uint64
	logical    []LogicalFrame // the inlined calls printed before it, then itself
}

// parseTraceback reads the goroutine tracebacks that GOTRACEBACK=crash
// prints, keyed by the g's address: for each physical frame (a line pair
// whose second line carries fp=, sp= and pc=; inlined frames have none)
// the function as printed and the three addresses.
func parseTraceback(stderr string) map[uint64][]tbFrame {
	out := make(map[uint64][]tbFrame)
	var gp uint64 // the goroutine being read, 0 outside one
	var fn string
	var logical []LogicalFrame
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "goroutine "):
			gp, logical = 0, nil
			for _, w := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(w, "gp="); ok {
					gp, _ = strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
				}
			}
		case gp == 0 || line == "" || strings.HasPrefix(line, "created by"):
			gp = 0
		case !strings.HasPrefix(line, "\t"):
			fn = line
			if i := strings.LastIndexByte(fn, '('); i > 0 {
				fn = fn[:i]
			}
		default:
			logical = append(logical, parsePosition(fn, line))
			if f, ok := parseTBLine(fn, line); ok {
				f.logical, logical = logical, nil
				out[gp] = append(out[gp], f)
			}
		}
	}
	return out
}

// parsePosition reads the "\tFILE:LINE [+0xOFF fp=...]" line of a frame.
func parsePosition(fn, line string) LogicalFrame {
	pos, _, _ := strings.Cut(strings.TrimPrefix(line, "\t"), " ")
	lf := LogicalFrame{Func: fn, File: pos}
	if i := strings.LastIndexByte(pos, ':'); i > 0 {
		lf.File = pos[:i]
		lf.Line, _ = strconv.Atoi(pos[i+1:])
	}
	return lf
}

// parseTBLine reads fp=, sp= and pc= from the second line of a frame.
func parseTBLine(fn, line string) (tbFrame, bool) {
	f := tbFrame{fn: fn}
	n := 0
	for _, w := range strings.Fields(line) {
		for _, k := range []struct {
			p string
			v *uint64
		}{{"fp=", &f.fp}, {"sp=", &f.sp}, {"pc=", &f.pc}} {
			if v, ok := strings.CutPrefix(w, k.p); ok {
				*k.v, _ = strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
				n++
			}
		}
	}
	return f, n == 3
}

// gInfo is a g's stack bounds and status, and the stacks of its m's g0
// and gsignal.
type gInfo struct {
	status uint64
	stacks [][2]uint64 // the g's own stack, then g0's and gsignal's if it has an m
}

// readG reads the g at addr, with offsets of runtime.g, runtime.m and
// runtime.stack from DWARF.
func readG(t *testing.T, d *dwarf.Data, mem Memory, addr uint64) gInfo {
	t.Helper()
	ents, err := findNamed(d, map[string]dwarf.Tag{
		"runtime.g": dwarf.TagStructType, "runtime.m": dwarf.TagStructType, "runtime.stack": dwarf.TagStructType})
	if err != nil {
		t.Fatal(err)
	}
	gf := mustFields(t, d, ents, "runtime.g")
	mf := mustFields(t, d, ents, "runtime.m")
	sf := mustFields(t, d, ents, "runtime.stack")
	bounds := func(g uint64) [2]uint64 {
		return [2]uint64{mustWord(t, mem, g+gf["stack"]+sf["lo"]), mustWord(t, mem, g+gf["stack"]+sf["hi"])}
	}
	st, err := mem.Slice(dump.Address(addr+gf["atomicstatus"]), 4)
	if err != nil {
		t.Fatal(err)
	}
	gi := gInfo{status: uint64(st[0]) | uint64(st[1])<<8, stacks: [][2]uint64{bounds(addr)}}
	if m := mustWord(t, mem, addr+gf["m"]); m != 0 {
		for _, f := range []string{"g0", "gsignal"} {
			if g := mustWord(t, mem, m+mf[f]); g != 0 {
				gi.stacks = append(gi.stacks, bounds(g))
			}
		}
	}
	return gi
}

// stackOf returns the stack among stacks that holds sp.
func stackOf(stacks [][2]uint64, sp uint64) ([2]uint64, bool) {
	for _, s := range stacks {
		if sp >= s[0] && sp < s[1] {
			return s, true
		}
	}
	return [2]uint64{}, false
}
