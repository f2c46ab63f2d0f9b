package histogram

import "math/bits"

// Stream counts words that can be read only once, front to back: a core
// being decompressed, whose bytes are not kept. Count's sample and second
// passes need the memory at hand; Stream makes one pass, in two phases.
//
// While its table has room, every nonzero value is counted exactly in it
// (the prefix). A value first seen once the table is full goes to a
// sketch like the exact pass's, and so do all its later occurrences, so a
// value in the table has all its prefix occurrences there. When the table
// fills, its best values become the candidates and keep their counts; the
// other values' counts move into the sketch; the rest of the input goes
// through the exact pass's scan. The result has Count's guarantee (every
// count exact, UnlistedMax a true bound), but it is as complete as a
// prefix allows: candidates chosen from the start of the input miss values
// frequent only later, which then raise the bound. A caller that needs
// Count's answer reads the input again when Result.Complete is false.
// An input of fewer distinct values than the table holds is counted
// exactly and completely.
type Stream struct {
	o   options
	cfg config

	table *counter // the prefix's exact counts; nil after the prefix
	zeros uint64   // zeros counted in the prefix
	x     *exactWorker
	words uint64

	next  uint64  // address just after the last byte written
	carry [8]byte // bytes of a word cut between two writes
	held  int     // how many of carry are in use
}

// NewStream returns a Stream counting under opts (its Workers is ignored:
// the caller's goroutine does the counting).
func NewStream(opts Options) (*Stream, error) {
	return newStream(opts, defaultConfig())
}

func newStream(opts Options, cfg config) (*Stream, error) {
	o, err := normalize(opts)
	if err != nil {
		return nil, err
	}
	s := &Stream{o: o, cfg: cfg, table: newCounter(cfg.streamTable)}
	// Room for the limit at half load, without growing.
	s.table.resize(uint(max(bits.Len(uint(2*cfg.streamTable-1)), minTableBits)))
	return s, nil
}

// Write counts the bytes b at address addr. Pieces of one region come in
// order. An empty b, or a piece that does not start where the last one
// ended, starts a new region; words are counted as Count counts a region
// (bytes before its first aligned address and a word cut short at its end
// are not).
func (s *Stream) Write(addr uint64, b []byte) {
	if addr != s.next || len(b) == 0 {
		s.held = 0 // a new region: the cut word is dropped
	}
	s.next = addr + uint64(len(b))
	if s.held == 0 {
		skip := -addr & 7 // bytes before the first aligned address
		if uint64(len(b)) <= skip {
			return
		}
		b = b[skip:]
	} else {
		n := copy(s.carry[s.held:], b)
		s.held += n
		b = b[n:]
		if s.held < 8 {
			return
		}
		s.count(s.carry[:])
		s.held = 0
	}
	whole := len(b) &^ 7
	s.count(b[:whole])
	s.held = copy(s.carry[:], b[whole:])
}

// count counts whole words.
func (s *Stream) count(b []byte) {
	s.words += uint64(len(b) / 8)
	for len(b) > 0 && s.table != nil {
		b = s.prefix(b)
	}
	if len(b) > 0 {
		s.x.scan(b)
	}
}

// prefix counts words of b into the table until it fills, then turns the
// table into candidates; it returns the words it did not count.
func (s *Stream) prefix(b []byte) []byte {
	for len(b) >= 8 {
		w, n, rest := run(b)
		b = rest
		switch {
		case w == 0:
			s.zeros += n
		case !s.table.add(w, n):
			s.startScan()
			s.x.wide[(w*mulCell)>>s.x.shift] += n
			return b
		}
	}
	return b
}

// startScan ends the prefix: the table's best values become candidates
// with their counts, the others go to the sketch.
func (s *Stream) startScan() {
	t := s.table
	s.table = nil
	cand := newCandSet(topValues(t, max(s.cfg.minCands, 2*s.o.top)))
	// A sketch four times Count's: a stream cannot be repaired, and its
	// candidates, from the start of the input only, miss values frequent
	// later, whose counters then make the bound. Collisions should add
	// little to those; a larger sketch would miss the cache on every
	// word that is not a candidate.
	bits := s.cfg.sketchBits + 2
	x := &exactWorker{cand: cand, counts: make([]uint64, len(cand.keys)), sketch: make([]uint32, 1<<bits), wide: make([]uint64, 1<<bits), shift: 64 - bits}
	x.zeros = s.zeros
	for i, k := range t.keys {
		if k == 0 {
			continue
		}
		if c := cand.slot(k); c >= 0 {
			x.counts[c] += t.counts[i]
		} else {
			x.wide[(k*mulCell)>>x.shift] += t.counts[i]
		}
	}
	s.x = x
}

// Result returns the listing of the words written so far.
func (s *Stream) Result() *Result {
	var r ranking
	if s.table != nil {
		r = rank(append(s.table.rows(), Row{0, s.zeros}), 0, s.o)
	} else {
		ex := &exactCounts{cand: s.x.cand, counts: s.x.counts, zeros: s.x.zeros, sketch: make([]uint64, len(s.x.sketch))}
		for i, n := range s.x.sketch {
			ex.sketch[i] = uint64(n) + s.x.wide[i]
		}
		r = rank(ex.pool(), ex.bound(), s.o)
	}
	return &Result{Rows: r.rows, Words: s.words, Complete: r.complete, UnlistedMax: r.unlisted}
}
