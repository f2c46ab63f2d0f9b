package main

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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

// baselines runs b's commands on the unmutated core at path and returns
// each one's peak memory. The overview of a core whose heap cannot be
// modelled is the words histogram, which reads every page of the core:
// its baseline is the larger of the two.
func (b mutantBase) baselines(t *testing.T, path string) map[int]uint64 {
	peak := func(cmd []string) uint64 {
		r := runChild(t, 4*mutantTimeout, b.argv(cmd, path)...)
		if r.code != 0 {
			t.Fatalf("%v on the unmutated core: exit %d: %s", cmd, r.code, r.stderr)
		}
		return r.peakRSS
	}
	out := map[int]uint64{}
	for ci, cmd := range b.commands {
		out[ci] = peak(cmd)
		if len(cmd) == 0 {
			out[ci] = max(out[ci], peak([]string{"words"}))
		}
	}
	return out
}

// runMutants runs every mutant of b, two at a time.
func runMutants(t *testing.T, b mutantBase, seed int64) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "core")
	if err := os.WriteFile(orig, b.core, 0o600); err != nil {
		t.Fatal(err)
	}
	baseline := b.baselines(t, orig)
	n := mutantCountFor(b.brief)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	var mu sync.Mutex
	var peakRatio float64
	var worst string
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
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				r := runChild(t, mutantTimeout, b.argv(cmd, path)...)
				limit := 2 * baseline[ci]
				problem := r.problem()
				if problem == "" && r.peakRSS > limit {
					problem = fmt.Sprintf("peak memory %d MiB, over the limit of %d MiB", r.peakRSS>>20, limit>>20)
				}
				mu.Lock()
				defer mu.Unlock()
				if ratio := float64(r.peakRSS) / float64(baseline[ci]); ratio > peakRatio {
					peakRatio, worst = ratio, fmt.Sprintf("mutant %d, %s: %s, heapsift %v, %d MiB", i, m.Family, m.Name, cmd, r.peakRSS>>20)
				}
				if problem != "" {
					t.Errorf("seed %d mutant %d (%s: %s), heapsift %v: %s\nstderr: %.500s", seed, i, m.Family, m.Name, cmd, problem, r.stderr)
					keepMutant(t, m, seed, i)
				}
			}()
		}
		wg.Wait() // the mutant's file is removed after its runs
		os.Remove(path)
	})
	t.Logf("%d mutants of %s; peak memory at most %.2fx the unmutated core's (%s)", n, b.name, peakRatio, worst)
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
