package main

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/internal/elfcore"
	"github.com/heapsift/heapsift/internal/mutate"
)

// The mutation suite: damaged copies of a synthetic core and of a real Go
// core (internal/mutate), each run through heapsift's commands in a process
// of its own. A run fails on a crash or internal error, on taking longer
// than mutantTimeout, on a control character reaching the terminal, and on
// peak memory above twice the unmutated core's for the same command (issue
// 14), even for a mutant that repeats a structure 100,000 times and is
// that much bigger: heapsift gives back the pages of the core it has read
// through (dump's pageDropper), and keeps nothing per repeated structure.
// `make test` runs a few hundred; `make fuzz` sets HEAPSIFT_MUTANTS for
// thousands. HEAPSIFT_MUTANT_SEED picks another seed; HEAPSIFT_MUTANT_DIR
// keeps failing mutants there.

// mutantTimeout bounds one run on a small core.
const mutantTimeout = 10 * time.Second

// mutantBase is a core to mutate and the commands to run on each mutant.
type mutantBase struct {
	name     string
	core     []byte
	args     []string   // flags before the core, e.g. --exe
	commands [][]string // each run on every mutant (or in turn, rotate)
	rotate   bool
	brief    int // mutants in a brief run
	maxCount int // repetitions in the repetition families
}

// syntheticBase is a small core built in memory: notes, a file mapping,
// a heap with text, a stack.
func syntheticBase() mutantBase {
	heap := elfcore.Words(0x6c6c6f7320657375, 0x600008, 0x600010, 0xffffffffffffffff)
	c := &elfcore.Core{
		Segments: []elfcore.Segment{
			{Vaddr: 0x400000, Flags: elf.PF_R | elf.PF_X, Memsz: 0x2000},
			{Vaddr: 0x600000, Flags: elf.PF_R | elf.PF_W, Data: append(heap, make([]byte, 8192-len(heap))...)},
			{Vaddr: 0x7ffff000, Flags: elf.PF_R | elf.PF_W, Data: make([]byte, 4096)},
		},
		Notes: []elfcore.Note{
			{Name: "CORE", Type: elfcore.NTPRStatus, Desc: elfcore.PRStatusAMD64(42, 11, 0x401000, 0x7ffffff0, 0)},
			{Name: "CORE", Type: elfcore.NTPRPSInfo, Desc: elfcore.PRPSInfo(42, "demo", "./demo --flag")},
			{Name: "CORE", Type: elfcore.NTSigInfo, Desc: elfcore.SigInfo(11, 0xbad)},
			{Name: "CORE", Type: elfcore.NTAuxv, Desc: elfcore.Auxv(elfcore.ATPhdr, 0x400040, elfcore.ATEntry, 0x401000)},
			{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote([]elfcore.FileEntry{{Start: 0x400000, End: 0x402000, Path: "/no/such/demo"}})},
		},
	}
	return mutantBase{name: "synthetic", core: c.Build(), brief: 150, maxCount: 100000,
		commands: [][]string{{"info"}, {"mappings"}, {"words"}, {"symbol", "CORE", "0x600008"}}}
}

// TestMutants runs the mutation suite on the synthetic core and, unless
// -short, on cores of a Go service, a CPython program and a C++ program.
func TestMutants(t *testing.T) {
	seed := int64(14)
	if s, err := strconv.ParseInt(os.Getenv("HEAPSIFT_MUTANT_SEED"), 10, 64); err == nil {
		seed = s
	}
	bases := []struct {
		name string
		make func(*testing.T) mutantBase
	}{
		{"synthetic", func(*testing.T) mutantBase { return syntheticBase() }},
		{"go", goBase}, {"python", pythonBase}, {"native", nativeBase},
	}
	for _, b := range bases {
		t.Run(b.name, func(t *testing.T) {
			if b.name != "synthetic" && testing.Short() {
				t.Skip("a real core takes building and running a program")
			}
			runMutants(t, b.make(t), seed)
		})
	}
}

// heapCommands are the commands run in turn on the mutants of a core with
// a heap model: each reads the heap its own way.
var heapCommands = [][]string{{"histogram"}, {"retain"}, {"stacks"}, {}}

// goBase is a core of the demo service (testdata/leaky).
func goBase(t *testing.T) mutantBase {
	core := leakyCore(t, 2000)
	return mutantBase{name: "go", core: readCore(t, core), args: []string{"--exe", core.Exe}, rotate: true, brief: 30, maxCount: 100000,
		commands: [][]string{{"info"}, {"histogram"}, {"goroutines"}, {"retain"}, {}, {"mappings"}, {"words"}}}
}

// pythonBase is a core of the seed's profiler (testdata/python/profiler.py)
// under a CPython with a shared libpython.
func pythonBase(t *testing.T) mutantBase {
	python, _ := coretest.FindSharedPython(t)
	core := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), "2000"}, nil)
	return mutantBase{name: "python", core: readCore(t, core), rotate: true, brief: 24, maxCount: 100000, commands: heapCommands}
}

// nativeBase is a core of testdata/native/leaks.cpp, read through the
// glibc malloc model.
func nativeBase(t *testing.T) mutantBase {
	core := leaksCore(t, "300", "50", "10")
	return mutantBase{name: "native", core: readCore(t, core), args: []string{"--exe", core.Exe}, rotate: true, brief: 24, maxCount: 100000,
		commands: [][]string{{"histogram"}, {"retain"}, {"objects", "--leaked"}, {}}}
}

func readCore(t *testing.T, core *coretest.Core) []byte {
	t.Helper()
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// baselines measures the peak memory of commands on the unmutated core
// at path, once each, keyed by cmdKey. The overview of a core whose heap
// cannot be modelled is the words histogram, which reads every page of
// the core: its baseline is the larger of the two.
type baselines struct {
	b    mutantBase
	path string
	peak map[string]uint64
}

func (bl *baselines) of(t *testing.T, cmd []string) uint64 {
	k := cmdKey(cmd)
	if v, ok := bl.peak[k]; ok {
		return v
	}
	r := runChild(t, 4*mutantTimeout, bl.b.argv(cmd, bl.path)...)
	if r.code != 0 {
		t.Fatalf("%v on the unmutated core: exit %d: %s", cmd, r.code, r.stderr)
	}
	v := r.peakRSS
	if len(cmd) == 0 {
		v = max(v, bl.of(t, []string{"words"}))
	}
	bl.peak[k] = v
	return v
}

func cmdKey(cmd []string) string { return strings.Join(cmd, " ") }

// mutantRegressions are mutants that once failed, made again at their
// size for every core and run with "mappings" and the core's first
// command: NT_FILE notes of a million entries spelling one file, naming
// absent files, or half malformed (they peaked at 2.6 times the unmutated
// run's memory with a string of garbage per entry and a lookup per
// absent file).
var mutantRegressions = []struct {
	family string
	count  int
}{
	{"file-spellings", 1000000}, {"file-absent", 1000000}, {"file-malformed", 1000000},
}

// runRegressions runs mutantRegressions on b.
func runRegressions(t *testing.T, b mutantBase, bl *baselines, dir string, seed int64) {
	start := time.Now()
	var c campaign
	for _, rc := range mutantRegressions {
		m, ok := mutate.One(b.core, rc.family, mutate.Options{Seed: seed, MaxCount: rc.count, Exact: true})
		if !ok {
			continue
		}
		path := filepath.Join(dir, "regression")
		if err := writeSparse(path, m.Data); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{{"mappings"}, b.commands[0]} {
			r := runMutant(t, b.argv(cmd, path))
			what := fmt.Sprintf("regression %s (%s), heapsift %v", m.Family, m.Name, cmd)
			c.add(r, bl.of(t, cmd), what)
			if p := runProblem(r, bl.of(t, cmd)); p != "" {
				t.Errorf("%s: %s\nstderr: %.500s", what, p, r.stderr)
			}
		}
		os.Remove(path)
	}
	if c.runs == 0 {
		t.Errorf("no regression mutant could be made of %s: mutate.One made none of %v", b.name, mutantRegressions)
	}
	t.Logf("%d regression runs on %s in %v: peak memory at most %.2fx the unmutated core's (%s)", c.runs, b.name, time.Since(start).Round(time.Millisecond), c.peakRatio, c.worst)
}

// runProblem says what is wrong with r, a run on a mutant: a crash, a
// hang, a control character let through, or a peak above twice the
// baseline; "" if nothing.
func runProblem(r childRun, baseline uint64) string {
	if p := r.problem(); p != "" {
		return p
	}
	if r.peakRSS > 2*baseline {
		return fmt.Sprintf("peak memory %d MiB, over twice the unmutated core's %d MiB", r.peakRSS>>20, baseline>>20)
	}
	return ""
}

// campaign counts a mutation run's results for its closing line.
type campaign struct {
	mu                   sync.Mutex
	runs, clean, refused int
	failed               int
	peakRatio            float64
	worst                string
}

// add counts run r of what.
func (c *campaign) add(r childRun, baseline uint64, what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs++
	switch {
	case runProblem(r, baseline) != "":
		c.failed++
	case r.code == 0:
		c.clean++
	default:
		c.refused++
	}
	if ratio := float64(r.peakRSS) / float64(baseline); ratio > c.peakRatio {
		c.peakRatio, c.worst = ratio, fmt.Sprintf("%s, %d MiB", what, r.peakRSS>>20)
	}
}

// runMutants runs the regression cases and then every mutant of b, two
// at a time.
func runMutants(t *testing.T, b mutantBase, seed int64) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "core")
	if err := os.WriteFile(orig, b.core, 0o600); err != nil {
		t.Fatal(err)
	}
	bl := &baselines{b: b, path: orig, peak: map[string]uint64{}}
	for _, cmd := range b.commands {
		bl.of(t, cmd)
	}
	runRegressions(t, b, bl, dir, seed)
	n := mutantCountFor(b.brief)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	var c campaign
	i := -1
	mutate.Each(b.core, mutate.Options{Seed: seed, N: n, MaxCount: b.maxCount}, func(m mutate.Mutant) {
		i++
		path := filepath.Join(dir, fmt.Sprintf("mutant%d", i))
		if err := writeSparse(path, m.Data); err != nil {
			t.Fatal(err)
		}
		for ci, cmd := range b.commands {
			if b.rotate && ci != i%len(b.commands) {
				continue
			}
			baseline := bl.peak[cmdKey(cmd)]
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				r := runMutant(t, b.argv(cmd, path))
				what := fmt.Sprintf("seed %d mutant %d (%s: %s), heapsift %v", seed, i, m.Family, m.Name, cmd)
				c.add(r, baseline, what)
				if p := runProblem(r, baseline); p != "" {
					t.Errorf("%s: %s\nstderr: %.500s", what, p, r.stderr)
					keepMutant(t, m, seed, i)
				}
			}()
		}
		wg.Wait() // the mutant's file is removed after its runs
		os.Remove(path)
	})
	t.Logf("%d mutants of %s, %d runs: %d exit 0, %d a clean error, %d failed; peak memory at most %.2fx the unmutated core's (%s)",
		n, b.name, c.runs, c.clean, c.refused, c.failed, c.peakRatio, c.worst)
}

// runMutant runs heapsift with args on a mutant, twice if the first run
// times out: on a machine shared with other builds a run of a second can
// stall past mutantTimeout, and a real hang times out again.
func runMutant(t *testing.T, args []string) childRun {
	r := runChild(t, mutantTimeout, args...)
	if r.timedOut {
		r = runChild(t, mutantTimeout, args...)
	}
	return r
}

// argv is the command line running cmd on the core at path.
func (b mutantBase) argv(cmd []string, path string) []string {
	var out []string
	if len(cmd) > 0 {
		out = append(out, cmd[0])
	}
	out = append(out, b.args...)
	for i, a := range cmd {
		if i == 0 {
			continue
		}
		if a == "CORE" {
			a = path
		}
		out = append(out, a)
	}
	if len(cmd) == 0 || cmd[0] != "symbol" {
		out = append(out, path)
	}
	return out
}

// mutantCountFor is the number of mutants: brief, or HEAPSIFT_MUTANTS.
func mutantCountFor(brief int) int {
	if n, err := strconv.Atoi(os.Getenv("HEAPSIFT_MUTANTS")); err == nil && n > 0 {
		return n
	}
	return brief
}

// keepMutant saves a failing mutant in HEAPSIFT_MUTANT_DIR, if set.
func keepMutant(t *testing.T, m mutate.Mutant, seed int64, i int) {
	dir := os.Getenv("HEAPSIFT_MUTANT_DIR")
	if dir == "" {
		return
	}
	path := filepath.Join(dir, fmt.Sprintf("seed%d-mutant%d-%s.core", seed, i, m.Family))
	if err := os.WriteFile(path, m.Data, 0o600); err != nil {
		t.Logf("keeping mutant: %v", err)
	}
}

// writeSparse writes data to a new file at path, leaving holes where it is
// zero, as the kernel writes cores: a mutant of a 100 MiB core that is
// mostly holes takes a few MiB of disk.
func writeSparse(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	const block = 64 << 10
	for off := 0; off < len(data); off += block {
		chunk := data[off:min(off+block, len(data))]
		if allZero(chunk) {
			continue
		}
		if _, err := f.WriteAt(chunk, int64(off)); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
