package histogram

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// odPipeline is the shell pipeline users run, with od's two words a line
// split into one word a line. The file name is $1.
const odPipeline = `od -A n -t x8 -v "$1" | tr -s ' ' '\n' | grep -v '^$' | LC_ALL=C sort | uniq -c`

// odCounts counts the words of file with od, through the shell pipeline
// when sh, tr, grep, sort and uniq are there, else by reading od's output.
func odCounts(t *testing.T, file string) map[uint64]uint64 {
	t.Helper()
	if _, err := exec.LookPath("od"); err != nil {
		t.Skip("od not found")
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("od prints words in host order, and this host is big-endian")
	}
	m := map[uint64]uint64{}
	if pipelineTools() {
		out, err := exec.Command("sh", "-c", odPipeline, "sh", file).Output()
		if err != nil {
			t.Fatalf("%s: %v", odPipeline, err)
		}
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) != 2 {
				t.Fatalf("uniq -c printed %q", line)
			}
			m[parseUint(t, f[1], 16)] = parseUint(t, f[0], 10)
		}
		return m
	}
	out, err := exec.Command("od", "-A", "n", "-t", "x8", "-v", file).Output()
	if err != nil {
		t.Fatalf("od: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		m[parseUint(t, sc.Text(), 16)]++
	}
	return m
}

func pipelineTools() bool {
	for _, tool := range []string{"sh", "tr", "grep", "sort", "uniq"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false
		}
	}
	return true
}

func parseUint(t *testing.T, s string, base int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		t.Fatalf("parsing od output: %v", err)
	}
	return v
}

// TestAgainstOd writes files with skewed distributions, counts them with
// od | sort | uniq -c, and checks that Count gives the same complete top
// list, through the exact path and the sampled one.
func TestAgainstOd(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	files := map[string][]byte{
		"skewed-200KB": skewed(rng, 25000),
		"core-1MB":     coreLike(7, 1<<20),
		"zipf-1MB":     zipfWords(rng, 1<<17),
	}
	if !testing.Short() {
		files["core-24MB"] = coreLike(8, 24<<20) // sampled with the default config
	}
	dir := t.TempDir()
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name)
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			m := odCounts(t, file)
			type run struct {
				cfg  config
				opts Options
			}
			runs := []run{{defaultConfig(), Options{Top: 40}}, {defaultConfig(), Options{Top: 15, SkipZero: true}}}
			if len(data) <= 1<<20 {
				// The small config's sketch is too coarse to certify
				// the tail of a long listing, or a large file.
				runs = append(runs, run{smallConfig(), Options{Top: 4}}, run{smallConfig(), Options{Top: 3, SkipZero: true}})
			}
			for _, r := range runs {
				res, err := count([]Region{{Data: data}}, r.opts, r.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if want := naiveTop(m, r.opts); !res.Complete || !slices.Equal(res.Rows, want) {
					t.Errorf("%+v: complete=%v unlisted=%d, %d rows\n%v\nod says\n%v",
						r.opts, res.Complete, res.UnlistedMax, len(res.Rows), res.Rows, want)
				}
				if res.Words != uint64(len(data)/8) {
					t.Errorf("Words = %d, want %d", res.Words, len(data)/8)
				}
			}
		})
	}
}

// zipfWords returns n words drawn from a Zipf distribution over random
// values.
func zipfWords(rng *rand.Rand, n int) []byte {
	vals := make([]uint64, 5000)
	for i := range vals {
		vals[i] = rng.Uint64()
	}
	z := rand.NewZipf(rng, 1.1, 1, uint64(len(vals)-1))
	b := make([]byte, 0, 8*n)
	for range n {
		b = binary.LittleEndian.AppendUint64(b, vals[z.Uint64()])
	}
	return b
}
