package gocore

import (
	"os"
	"strconv"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
)

// BenchmarkOpenBig opens the core of testdata/gocore/big, a heap of about
// 19 million objects (1 GB) with the default GOCORE_BIG_N=4500000. Making
// the core takes a while and needs as much memory again, so it runs only
// with GOCORE_BIG=1:
//
//	GOCORE_BIG=1 go test -run XXX -bench OpenBig -benchtime 3x ./gocore
func BenchmarkOpenBig(b *testing.B) {
	if os.Getenv("GOCORE_BIG") == "" {
		b.Skip("set GOCORE_BIG=1 to run")
	}
	n := "4500000"
	if v := os.Getenv("GOCORE_BIG_N"); v != "" {
		n = v
	}
	if _, err := strconv.Atoi(n); err != nil {
		b.Fatalf("GOCORE_BIG_N=%q: %v", n, err)
	}
	exe := coretest.BuildGo(b, coretest.Testdata(b, "gocore", "big"), coretest.GoBuild{})
	c := coretest.MakeCore(b, exe, []string{"-n", n}, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := dump.Open(c.Path, dump.Options{Exe: exe})
		if err != nil {
			b.Fatal(err)
		}
		prog, _, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		h := prog.Histogram()
		tot := prog.Totals()
		if i == 0 {
			b.Logf("%d objects, %d live bytes, %.2f%% typed, %d histogram rows; MemStats %s / %s",
				prog.NumObjects(), tot.LiveBytes, 100*float64(tot.TypedBytes)/float64(tot.LiveBytes), len(h),
				c.Truth["HeapObjects"], c.Truth["HeapAlloc"])
		}
		p.Close()
	}
}
