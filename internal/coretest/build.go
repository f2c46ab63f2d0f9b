package coretest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// GoBuild says how BuildGo builds a Go test program.
type GoBuild struct {
	// Toolchain is "" for the installed go command, or a toolchain name
	// such as "go1.22.12", which the go command fetches from the module
	// proxy on first use (GOTOOLCHAIN).
	Toolchain string
	// PIE builds a position-independent executable (-buildmode=pie).
	PIE bool
	// LDFlags is passed to go build as -ldflags, e.g. "-s -w".
	LDFlags string
	// Env holds extra environment for go build, e.g. "CGO_ENABLED=0".
	Env []string
}

func (o GoBuild) String() string {
	tc := o.Toolchain
	if tc == "" {
		tc = "local"
	}
	s := tc
	if o.PIE {
		s += " pie"
	}
	if o.LDFlags != "" {
		s += fmt.Sprintf(" -ldflags=%q", o.LDFlags)
	}
	if len(o.Env) > 0 {
		s += fmt.Sprintf(" env=%q", o.Env)
	}
	return s
}

// BuildGo builds the Go program in srcDir (normally under testdata/, which
// the main module's build ignores) and returns the executable.
//
// The directory is copied into a temporary directory that gets its own
// go.mod ("module testprog", "go 1.22"; a go.mod already in srcDir is kept)
// and testdata/progkit as the package testprog/progkit, and is built there with GOTOOLCHAIN set from opts and GOFLAGS=-mod=mod, so
// the program never becomes part of heapsift's module.
//
// Executables are cached per (srcDir, opts) for the life of the test
// process, so tests and packages can share one build. The cache lives in the
// go command's work directory next to the test binary, which `go test`
// removes when it finishes; when the test binary was not started by `go
// test`, each test builds into its own t.TempDir instead.
func BuildGo(t testing.TB, srcDir string, opts GoBuild) string {
	t.Helper()
	src, err := filepath.Abs(srcDir)
	if err != nil {
		t.Fatalf("coretest: BuildGo: %v", err)
	}
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		t.Fatalf("coretest: BuildGo: %s is not a directory (err=%v)", src, err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		missing(t, fmt.Sprintf("no go command on PATH to build %s: %v", srcDir, err),
			".ci/run expects it at /usr/local/go/bin/go and puts that directory on PATH")
	}
	key := strings.Join([]string{"go", src, opts.String()}, "\x00")
	kit := Testdata(t, "progkit")
	return cachedBuild(t, key, filepath.Base(src), func(outDir string) (string, error) {
		return buildGo(goCmd, src, kit, outDir, opts)
	})
}

// buildGo builds the program in src, with the shared package in kit
// (testdata/progkit) beside it as testprog/progkit.
func buildGo(goCmd, src, kit, outDir string, opts GoBuild) (string, error) {
	work := filepath.Join(outDir, "src")
	if err := copyTree(src, work); err != nil {
		return "", fmt.Errorf("copying %s: %w", src, err)
	}
	if err := copyTree(kit, filepath.Join(work, "progkit")); err != nil {
		return "", fmt.Errorf("copying %s: %w", kit, err)
	}
	if _, err := os.Stat(filepath.Join(work, "go.mod")); os.IsNotExist(err) {
		goLine := "1.22"
		if strings.HasPrefix(opts.Toolchain, "go1.21") {
			goLine = "1.21" // such a toolchain would refuse "go 1.22"
		}
		mod := fmt.Sprintf("module testprog\n\ngo %s\n", goLine)
		if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(mod), 0o644); err != nil {
			return "", err
		}
	}
	exe := filepath.Join(outDir, filepath.Base(src))
	args := []string{"build", "-o", exe}
	if opts.PIE {
		args = append(args, "-buildmode=pie")
	}
	if opts.LDFlags != "" {
		args = append(args, "-ldflags="+opts.LDFlags)
	}
	args = append(args, ".")
	toolchain := opts.Toolchain
	if toolchain == "" {
		toolchain = "local"
	}
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"GOTOOLCHAIN="+toolchain,
		"GOFLAGS=-mod=mod -buildvcs=false",
		"GOWORK=off",
	)
	cmd.Env = append(cmd.Env, opts.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("GOTOOLCHAIN=%s go %s in %s: %v\n%s",
			toolchain, strings.Join(args, " "), work, err, tail(string(out), 40))
	}
	return exe, nil
}

// BuildCXX compiles the single C++ source file src with g++ -O1 -g and
// returns the executable. Like BuildGo, builds are cached per test process.
// If g++ is not installed the test is skipped, or fails in CI.
func BuildCXX(t testing.TB, src string) string {
	t.Helper()
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatalf("coretest: BuildCXX: %v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("coretest: BuildCXX: %v", err)
	}
	gxx, err := exec.LookPath("g++")
	if err != nil {
		missing(t, fmt.Sprintf("g++ is not installed, cannot build %s: %v", src, err),
			".ci/run installs it with apt-get install g++ when it is missing (it needs root); install it by hand otherwise")
	}
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	return cachedBuild(t, "c++\x00"+abs, name, func(outDir string) (string, error) {
		exe := filepath.Join(outDir, name)
		args := []string{"-O1", "-g", "-o", exe, abs}
		if out, err := exec.Command(gxx, args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("g++ %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 40))
		}
		return exe, nil
	})
}

// Testdata returns the path of elem under the repository's testdata
// directory, found by walking up from the current directory (a package
// directory, under go test) to the directory holding heapsift's go.mod.
func Testdata(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("coretest: %v", err)
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(mod, []byte("module github.com/heapsift/heapsift\n")) {
			return filepath.Join(append([]string{dir, "testdata"}, elem...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("coretest: no heapsift go.mod above the current directory")
		}
		dir = parent
	}
}

type buildResult struct {
	once sync.Once
	dir  string
	exe  string
	err  error
	took time.Duration
}

var (
	cacheOnce sync.Once
	cacheDir  string // "" when builds cannot be shared between tests
	buildMu   sync.Mutex
	builds    = map[string]*buildResult{}
)

// cachedBuild runs build once per key and process, giving it an empty output
// directory, and returns what it built. Failures are cached too, so tests
// sharing a broken build all report the same error without rebuilding. When
// there is no process-wide cache directory, builds are shared only within
// the calling test and live in its t.TempDir.
func cachedBuild(t testing.TB, key, name string, build func(outDir string) (string, error)) string {
	t.Helper()
	cacheOnce.Do(initCacheDir)
	if cacheDir == "" {
		key = t.Name() + "\x00" + key
	}

	buildMu.Lock()
	r, ok := builds[key]
	if !ok {
		r = &buildResult{}
		if cacheDir != "" {
			sum := sha256.Sum256([]byte(key))
			r.dir = filepath.Join(cacheDir,
				fmt.Sprintf("%03d-%s-%s", len(builds), name, hex.EncodeToString(sum[:4])))
		} else {
			r.dir = t.TempDir()
			t.Cleanup(func() {
				buildMu.Lock()
				delete(builds, key)
				buildMu.Unlock()
			})
		}
		builds[key] = r
	}
	buildMu.Unlock()

	built := false
	r.once.Do(func() {
		built = true
		start := time.Now()
		if r.err = os.MkdirAll(r.dir, 0o755); r.err == nil {
			r.exe, r.err = build(r.dir)
		}
		r.took = time.Since(start)
	})
	if r.err != nil {
		t.Fatalf("coretest: building %s: %v", name, r.err)
	}
	if built {
		scope := ""
		if cacheDir == "" {
			scope = " (shared only within this test: not run by go test)"
		}
		t.Logf("coretest: built %s in %v%s", name, r.took.Round(time.Millisecond), scope)
	}
	return r.exe
}

// initCacheDir puts the build cache inside the go command's temporary work
// directory ($WORK/bNNN, which holds the test binary and is deleted by go
// test afterwards), so nothing is left behind without needing a TestMain.
func initCacheDir() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	bdir := filepath.Dir(exe)
	if !strings.HasPrefix(filepath.Base(filepath.Dir(bdir)), "go-build") ||
		!strings.HasPrefix(filepath.Base(bdir), "b") {
		return
	}
	dir := filepath.Join(bdir, "coretest-builds")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	cacheDir = dir
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
		return nil // symlinks and the like are not expected in testdata
	})
}
