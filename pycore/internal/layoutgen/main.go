// Command layoutgen writes pycore's layout table (pycore/layouts_gen.go):
// the layouts of CPython's structs, read by pycore's own DWARF reader from
// reference builds, for interpreters whose debugging information is not
// at hand. `go generate ./pycore` runs it.
//
// The reference builds are every pyenv version 3.6 to 3.13 under the pyenv
// root (-pyenv; their libpython carries its DWARF), and each stripped
// executable of -exe (Debian's /usr/bin/python3.11 by default) with its
// separate debug file, found by build ID under -debug-dir. A build that is
// named but missing fails the command: the table must not silently lose a
// build. -exe "" leaves the executables out.
//
// Usage:
//
//	go run ./internal/layoutgen [-o layouts_gen.go] [-pyenv DIR] [-exe LIST] [-debug-dir DIR]
package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/heapsift/heapsift/pycore"
)

func main() {
	out := flag.String("o", "layouts_gen.go", "the Go file to write")
	pyenv := flag.String("pyenv", defaultPyenvRoot(), "the pyenv root whose versions/3.N.P builds to read")
	exes := flag.String("exe", "/usr/bin/python3.11", "comma-separated stripped CPython executables whose build-ID debug files to read")
	debugDir := flag.String("debug-dir", "/usr/lib/debug", "where separate debug files are, by build ID")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	builds, err := pyenvBuilds(*pyenv)
	if err != nil {
		fail(err)
	}
	for _, exe := range strings.Split(*exes, ",") {
		if exe == "" {
			continue
		}
		b, err := exeBuild(exe, *debugDir)
		if err != nil {
			fail(err)
		}
		builds = append(builds, b)
	}
	var buf bytes.Buffer
	command := strings.Join(append([]string{"go run ./internal/layoutgen"}, os.Args[1:]...), " ")
	if err := pycore.WriteLayoutTable(&buf, command, builds); err != nil {
		fail(err)
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		fail(err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "layoutgen: wrote %s from %d builds\n", *out, len(builds))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "layoutgen: %v\n", err)
	os.Exit(1)
}

// defaultPyenvRoot is $PYENV_ROOT, or /root/.pyenv where our machines
// keep the reference builds.
func defaultPyenvRoot() string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	return "/root/.pyenv"
}

var pyenvVersionRE = regexp.MustCompile(`^3\.(\d+)\.(\d+)$`)

// pyenvBuilds reads the layouts of the pyenv versions 3.6-3.13 under
// root, in version order.
func pyenvBuilds(root string) ([]pycore.TableBuild, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "versions", "3.*"))
	if err != nil {
		return nil, fmt.Errorf("listing pyenv versions: %w", err)
	}
	type ver struct {
		dir          string
		minor, patch int
	}
	var vs []ver
	for _, d := range dirs {
		m := pyenvVersionRE.FindStringSubmatch(filepath.Base(d))
		if m == nil {
			continue
		}
		minor, _ := strconv.Atoi(m[1])
		patch, _ := strconv.Atoi(m[2])
		if minor >= 6 && minor <= 13 {
			vs = append(vs, ver{d, minor, patch})
		}
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("no pyenv versions 3.6-3.13 under %s (-pyenv)", root)
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].minor != vs[j].minor {
			return vs[i].minor < vs[j].minor
		}
		return vs[i].patch < vs[j].patch
	})
	var out []pycore.TableBuild
	for _, v := range vs {
		libs, _ := filepath.Glob(filepath.Join(v.dir, "lib", fmt.Sprintf("libpython3.%d*.so.1.0", v.minor)))
		if len(libs) != 1 {
			return nil, fmt.Errorf("%s: want one shared libpython3.%d, found %d (build with --enable-shared)", v.dir, v.minor, len(libs))
		}
		l, err := pycore.ReadLayout(libs[0], v.minor)
		if err != nil {
			return nil, err
		}
		id, err := buildID(libs[0])
		if err != nil {
			return nil, err
		}
		out = append(out, pycore.TableBuild{
			Version: filepath.Base(v.dir),
			Name:    fmt.Sprintf("pyenv %s (build ID %s)", libs[0], id),
			Layout:  l,
		})
	}
	return out, nil
}

// exeBuild reads the layout of a stripped CPython executable from its
// debug file under debugDir.
func exeBuild(exe, debugDir string) (pycore.TableBuild, error) {
	id, err := buildID(exe)
	if err != nil {
		return pycore.TableBuild{}, err
	}
	debug := filepath.Join(debugDir, ".build-id", id[:2], id[2:]+".debug")
	if _, err := os.Stat(debug); err != nil {
		return pycore.TableBuild{}, fmt.Errorf("%s: no debug file: %w (on Debian, apt-get install %s-dbg; or leave it out with -exe)", exe, err, filepath.Base(exe))
	}
	b, err := exec.Command(exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		return pycore.TableBuild{}, fmt.Errorf("asking %s its version: %w", exe, err)
	}
	version := strings.TrimSpace(string(b))
	minor, err := strconv.Atoi(strings.Split(version, ".")[1])
	if err != nil {
		return pycore.TableBuild{}, fmt.Errorf("%s: version %q: %w", exe, version, err)
	}
	l, err := pycore.ReadLayout(debug, minor)
	if err != nil {
		return pycore.TableBuild{}, err
	}
	name := fmt.Sprintf("%s%s (build ID %s), DWARF from %s", exe, debianPackage(exe), id, debug)
	return pycore.TableBuild{Version: version, Name: name, Layout: l}, nil
}

// debianPackage names the Debian package and version that installed
// file, as " of python3.11-minimal 3.11.2-6+deb12u7", or "".
func debianPackage(file string) string {
	out, err := exec.Command("dpkg-query", "-S", file).Output()
	if err != nil {
		return ""
	}
	pkg, _, ok := strings.Cut(strings.TrimSpace(string(out)), ":")
	if !ok {
		return ""
	}
	v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" of Debian's %s %s", pkg, v)
}

// buildID returns the GNU build ID of the ELF file at path, in hex.
func buildID(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		return "", fmt.Errorf("%s has no GNU build ID", path)
	}
	note, err := sec.Data()
	if err != nil || len(note) < 16 {
		return "", fmt.Errorf("%s: reading its build ID note: %v", path, err)
	}
	namesz := binary.LittleEndian.Uint32(note[0:])
	descsz := binary.LittleEndian.Uint32(note[4:])
	start := 12 + (uint64(namesz)+3)&^3
	if start+uint64(descsz) > uint64(len(note)) || descsz < 2 {
		return "", fmt.Errorf("%s: malformed build ID note", path)
	}
	return fmt.Sprintf("%x", note[start:start+uint64(descsz)]), nil
}
