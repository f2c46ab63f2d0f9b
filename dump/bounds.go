package dump

import (
	"fmt"
	"sort"
)

// This file holds the checks that keep a hostile core's claimed counts and
// sizes from sizing heapsift's work: overlapping note segments are read
// once, sums saturate instead of wrapping, and a fault repeated a million
// times is said a few times and then counted.

// maxSameWarnings is how many warnings of one kind a core's structures may
// raise one by one; the rest are counted in one summary line.
const maxSameWarnings = 3

// warnLimiter says the first maxSameWarnings problems of one kind and
// counts the rest.
type warnLimiter struct {
	what string // the kind, plural: "malformed notes"
	n    int
}

// warnf records one problem, as a warning while few have been seen.
func (l *warnLimiter) warnf(p *Process, format string, args ...any) {
	if l.say() {
		p.warnf(format, args...)
	}
}

// say counts one problem and reports whether it is to be said: a caller
// of a million problems checks it before building the warning's
// arguments.
func (l *warnLimiter) say() bool {
	l.n++
	return l.n <= maxSameWarnings
}

// flush says how many problems were not said one by one.
func (l *warnLimiter) flush(p *Process) {
	if more := l.n - maxSameWarnings; more > 0 {
		p.warnf("%d more %s like the above", more, l.what)
	}
	l.n = 0
}

// addSat returns a+b, or the largest uint64 when the sum would wrap.
func addSat(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// noteSegmentsToSkip returns the indexes of PT_NOTE headers among progs
// whose bytes overlap those of an earlier-starting note segment, so that no
// byte of the core is parsed as notes twice: a core of ten thousand
// PT_NOTE headers naming the same bytes costs one parse. Real cores have
// one PT_NOTE segment.
func noteSegmentsToSkip(progs []progHeader, size uint64) map[int]bool {
	var idx []int
	for i, ph := range progs {
		if ph.Type == ptNote && ph.Filesz > 0 && ph.Off < size {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return progs[idx[a]].Off < progs[idx[b]].Off })
	skip := map[int]bool{}
	var end uint64
	for k, i := range idx {
		ph := progs[i]
		if k > 0 && ph.Off < end {
			skip[i] = true
			continue
		}
		end = min(addSat(ph.Off, ph.Filesz), size)
	}
	return skip
}

// noteRange returns the bytes of the core a PT_NOTE header names, clipped
// to the file, or an error saying where the header points.
func (p *Process) noteRange(ph progHeader) ([]byte, error) {
	size := uint64(len(p.data))
	if ph.Off >= size {
		return nil, fmt.Errorf("notes at byte %#x lie past the end of the core (%d bytes)", ph.Off, size)
	}
	end := min(addSat(ph.Off, ph.Filesz), size)
	return p.data[ph.Off:end], nil
}

// sharedSegments returns, for each program header, whether it is a PT_LOAD
// whose bytes in the core overlap those of one placed earlier in the file:
// the kernel writes each segment's bytes once, so a core whose thousands of
// PT_LOAD headers name the same bytes is damaged, and each copy would cost
// a mapping. Those segments are ignored, with a warning.
func (p *Process) sharedSegments(progs []progHeader) []bool {
	size := uint64(len(p.data))
	var held []int
	for i, ph := range progs {
		if ph.Type == ptLoad && ph.Filesz > 0 && ph.Memsz > 0 && ph.Off < size {
			held = append(held, i)
		}
	}
	sort.SliceStable(held, func(a, b int) bool { return progs[held[a]].Off < progs[held[b]].Off })
	skip := make([]bool, len(progs))
	shared := warnLimiter{what: "segments sharing bytes ignored"}
	var end uint64
	last := -1
	for _, i := range held {
		ph := progs[i]
		if last >= 0 && ph.Off < end {
			if shared.say() {
				p.warnf("segment %d at %#x uses bytes %#x-%#x of the core, which hold segment %d; ignoring it",
					i, ph.Vaddr, ph.Off, min(addSat(ph.Off, ph.Filesz), size), last)
			}
			skip[i] = true
			continue
		}
		end, last = min(addSat(ph.Off, min(ph.Filesz, ph.Memsz)), size), i
	}
	shared.flush(p)
	return skip
}
