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
// frequent only later, which then raise the bound. Repair then gives a
// Stream for a second pass over the input, which resolves the heaviest
// sketch counters as Count's repair pass does. An input of fewer distinct
// values than the table holds is counted exactly and completely.
type Stream struct {
	o   options
	cfg config

	table *counter // the prefix's exact counts; nil after the prefix
	zeros uint64   // zeros counted in the prefix
	x     *exactWorker
	words uint64

	// A repair pass's state (see Repair): the first pass's counts and
	// ranking, the counters to resolve and the worker resolving them.
	first  *exactCounts
	ranked ranking
	heavy  *heavy
	rw     *repairWorker

	next  uint64  // address just after the last byte written
	carry [8]byte // bytes of a word cut between two writes
	held  int     // how many of carry are in use

	async *asyncCount // set by Async
}

// asyncCount is a Stream's counting goroutine and the batches on their
// way to it: Write copies its pieces one after the other into a buffer,
// which goes to the counting goroutine when full, so that the goroutines
// wake each other once a buffer, not once a piece.
type asyncCount struct {
	cur     batch
	batches chan batch
	free    chan []byte
	done    chan struct{}
}

// batch is a buffer of pieces written in order.
type batch struct {
	buf    []byte
	pieces []piece
}

// piece is the bytes buf[start:end] of a batch, at addr; an empty piece
// starts a region.
type piece struct {
	addr       uint64
	start, end int
}

const (
	asyncBuffers    = 6
	asyncBufferSize = 1 << 20
)

// Async makes the Stream count in a goroutine of its own: Write then
// copies its bytes and returns, so that the caller (a decompressor) goes
// on with the next ones while they are counted. Result waits for the
// counting to finish. Call it before the first Write.
func (s *Stream) Async() {
	a := &asyncCount{batches: make(chan batch, asyncBuffers), free: make(chan []byte, asyncBuffers), done: make(chan struct{})}
	for range asyncBuffers - 1 {
		a.free <- make([]byte, 0, asyncBufferSize)
	}
	a.cur.buf = make([]byte, 0, asyncBufferSize)
	s.async = a
	go func() {
		defer close(a.done)
		for b := range a.batches {
			for _, p := range b.pieces {
				s.write(p.addr, b.buf[p.start:p.end])
			}
			a.free <- b.buf[:0]
		}
	}()
}

// add copies b, at addr, into the current batch, sending batches as they
// fill.
func (a *asyncCount) add(addr uint64, b []byte) {
	if len(b) == 0 {
		n := len(a.cur.buf)
		a.cur.pieces = append(a.cur.pieces, piece{addr, n, n})
		return
	}
	for len(b) > 0 {
		if len(a.cur.buf) == cap(a.cur.buf) {
			a.send()
		}
		start := len(a.cur.buf)
		n := min(len(b), cap(a.cur.buf)-start)
		a.cur.buf = append(a.cur.buf, b[:n]...)
		ps := a.cur.pieces
		if k := len(ps) - 1; k >= 0 && ps[k].end == start && ps[k].addr+uint64(ps[k].end-ps[k].start) == addr {
			ps[k].end += n // the same region goes on
		} else {
			a.cur.pieces = append(ps, piece{addr, start, start + n})
		}
		addr += uint64(n)
		b = b[n:]
	}
}

// send hands the current batch to the counting goroutine and starts the
// next in a free buffer.
func (a *asyncCount) send() {
	a.batches <- a.cur
	a.cur = batch{buf: <-a.free}
}

// wait counts what is left and waits for the counting goroutine.
func (a *asyncCount) wait() {
	a.batches <- a.cur
	close(a.batches)
	<-a.done
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
	if s.async != nil {
		s.async.add(addr, b)
		return
	}
	s.write(addr, b)
}

// write is Write in the counting goroutine.
func (s *Stream) write(addr uint64, b []byte) {
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
	if s.rw != nil {
		s.rw.scan(b)
		return
	}
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
	// A sketch four times Count's: its candidates, from the start of the
	// input only, miss values frequent later, whose counters then make
	// the bound, and repairing it takes reading the input again.
	// Collisions should add little to those counters; a larger sketch
	// would miss the cache on every word that is not a candidate.
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
	if s.async != nil {
		s.async.wait()
		s.async = nil
	}
	var r ranking
	switch {
	case s.rw != nil:
		rc := &repairCounts{workers: []*repairWorker{s.rw}, overflow: s.rw.overflow}
		pool := append(s.first.pool(), rc.rows(s.first.cand, *s.heavy)...)
		r = rank(pool, rc.bound(s.first.sketch, *s.heavy), s.o)
	case s.table != nil:
		r = rank(append(s.table.rows(), Row{0, s.zeros}), 0, s.o)
	default:
		ex := s.counts()
		r = rank(ex.pool(), ex.bound(), s.o)
		s.first, s.ranked = ex, r
	}
	return &Result{Rows: r.rows, Words: s.words, Complete: r.complete, UnlistedMax: r.unlisted}
}

// counts merges the scan's counts.
func (s *Stream) counts() *exactCounts {
	ex := &exactCounts{cand: s.x.cand, counts: s.x.counts, zeros: s.x.zeros, sketch: make([]uint64, len(s.x.sketch))}
	for i, n := range s.x.sketch {
		ex.sketch[i] = uint64(n) + s.x.wide[i]
	}
	return ex
}

// Repair returns a Stream for a second pass over the same input, written
// to it the same way, that counts exactly the values of the sketch
// counters keeping Result from being complete, as Count's repair pass
// does; its Result is this one's, repaired. It returns nil when no such
// pass can help: the result is complete, or the counters to resolve hold
// too many values, or their bound is not worth lowering. Call it after
// Result.
func (s *Stream) Repair() *Stream {
	if s.first == nil || s.ranked.complete {
		return nil
	}
	cfg := s.cfg
	cfg.sketchBits = uint(bits.Len(uint(len(s.first.sketch)))) - 1 // the stream's sketch
	h := chooseHeavy(s.first.sketch, s.ranked, s.o, cfg)
	if !h.worthwhile(s.ranked, s.first.bound(), s.o) {
		return nil
	}
	rw := &repairWorker{h: &h, table: newCounter(cfg.repairBudget), overflow: make([]uint64, len(h.bits))}
	return &Stream{o: s.o, cfg: s.cfg, first: s.first, heavy: &h, rw: rw}
}
