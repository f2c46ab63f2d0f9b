package histogram

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/heapsift/heapsift/internal/parallel"
)

// plan cuts the aligned words of regions into chunks of at most chunkWords
// words each. Every chunk starts at an aligned address and holds whole
// words. It also returns the total number of words.
func plan(regions []Region, chunkWords int) ([][]byte, uint64) {
	var chunks [][]byte
	var words uint64
	step := max(chunkWords, 1) * 8
	for _, r := range regions {
		skip := -r.Addr & 7 // bytes before the first aligned address
		if uint64(len(r.Data)) <= skip {
			continue
		}
		d := r.Data[skip:]
		d = d[:len(d)&^7]
		words += uint64(len(d) / 8)
		for len(d) > 0 {
			n := min(len(d), step)
			chunks = append(chunks, d[:n:n])
			d = d[n:]
		}
	}
	return chunks, words
}

// run splits p, which holds at least one word, into its first word, the
// number of times that word repeats at the start of p, and the rest of p.
func run(p []byte) (uint64, uint64, []byte) {
	w := binary.LittleEndian.Uint64(p)
	n := uint64(1)
	p = p[8:]
	for len(p) >= 8 && binary.LittleEndian.Uint64(p) == w {
		n++
		p = p[8:]
	}
	return w, n, p
}

// countInto adds the words of p to t, except 0, whose count it returns.
func countInto(t *counter, p []byte) (zeros uint64) {
	for len(p) >= 8 {
		w, n, rest := run(p)
		p = rest
		if w == 0 {
			zeros += n
			continue
		}
		t.add(w, n)
	}
	return zeros
}

// countAll counts every word of chunks exactly. It is meant for small
// inputs: the table grows with the number of distinct values.
func countAll(chunks [][]byte) (*counter, uint64) {
	t := newCounter(0)
	var zeros uint64
	for _, c := range chunks {
		zeros += countInto(t, c)
	}
	return t, zeros
}

// sample counts blocks of cfg.sampleBlock words spaced evenly over the
// words of chunks, about cfg.sampleWords words in all. Zero is left out: it
// is counted exactly by every full pass.
func sample(chunks [][]byte, words uint64, cfg config) *counter {
	block := uint64(max(cfg.sampleBlock, 1))
	// Small inputs need a smaller sample: a 128th of the words, but never
	// under an eighth of the configured size.
	want := min(uint64(cfg.sampleWords), max(uint64(cfg.sampleWords)/8, words/128))
	blocks := max(want/block, 1)
	stride := max(words/blocks, block)
	t := newCounter(0)
	// Size the table for a sample of mostly repeated values (a core's
	// are): it grows if they are not, while a table for every word
	// distinct would cost more to clear than the sample to count.
	t.resize(uint(max(bits.Len64(want/8), int(minTableBits))))
	var base, next uint64 // word index of the chunk, of the next block
	for _, c := range chunks {
		n := uint64(len(c) / 8)
		for next < base+n {
			start := next - base
			end := min(start+block, n)
			countInto(t, c[start*8:end*8])
			next += stride
		}
		base += n
	}
	return t
}

// scanChunks calls scan(worker, chunk) for every chunk, on workers
// goroutines that take chunks in order as they become free
// (parallel.Chunks). The first memory fault stops the workers and is
// raised again, as a *FaultError, on the calling goroutine (see
// guardFaults), as is any other panic of scan.
func scanChunks(chunks [][]byte, workers int, scan func(worker int, chunk []byte)) {
	raiseFailure(parallel.Chunks(workers, len(chunks), func(w, i int) { scan(w, chunks[i]) }))
}

// scanStrided is scanChunks for a scan whose per-worker state must not
// depend on timing: worker w scans chunks w, w+workers, w+2*workers, ...,
// so the same input gives the same result on every run (the repair pass's
// tables fill up, and overflow, chunk by chunk).
func scanStrided(chunks [][]byte, workers int, scan func(worker int, chunk []byte)) {
	raiseFailure(parallel.Chunks(workers, workers, func(_, w int) {
		for i := w; i < len(chunks); i += workers {
			scan(w, chunks[i])
		}
	}))
}

// raiseFailure raises a failure of parallel.Chunks again on the calling
// goroutine: a memory fault as a *FaultError, any other panic as itself.
func raiseFailure(err error) {
	var f *parallel.Failure
	if errors.As(err, &f) {
		if fault := asFault(f.Value); fault != nil {
			panic(fault)
		}
		panic(f.Value)
	}
}
