package dump

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/klauspost/compress/zstd"
)

// This file reads a compressed core once, front to back, for a pass that
// needs each byte of memory once and in no particular order (counting
// words). Open copies a compressed core into a temporary file so that it
// can be mmapped; writing the bulk of it, the heap, into the page cache
// costs as much as decompressing it. Here the heap is handed to the
// caller as it is decoded and not kept.
//
// An ELF core starts with its headers and notes; its PT_LOAD segments
// follow in file order. The head is read whole and decoded as a core of
// its own (every segment then missing) to learn which segments map files.
// Each segment's bytes then go to the caller; those of file-backed and of
// read-only mappings (the executable's and libraries' data: small, and
// what naming a word reads) are also written into the temporary file. The
// temporary file is then opened like any decompressed core, and the
// mappings whose bytes were not kept have none (Mapping.Streamed).

// ErrNotStreamed says that OpenStreamed did not open the core: it is not a
// compressed core file, its layout is not one a single pass can follow, or
// its stream broke. Open reads it (and says what was wrong with it).
var ErrNotStreamed = errors.New("not streamed")

// streamHeadMax bounds the headers and notes read before the first segment.
const streamHeadMax = 256 << 20

// streamBlock is the buffer of decoders that do not write their output
// themselves.
const streamBlock = 4 << 20

// OpenStreamed opens the compressed core at path reading it once: visit is
// handed the bytes of every memory segment as they are decoded, at the
// address of b[0], segments in file order, each announced by a call with
// an empty b and then passed in pieces of contiguous addresses (b is
// reused once visit returns). The bytes passed are those of the mappings
// Open would give. The returned Process holds the headers, notes and the
// segments of file-backed or read-only mappings; the bytes of the others
// went to visit only, and reading them fails. Any error wraps
// ErrNotStreamed: the caller then drops what visit was given and opens the
// core with Open.
func OpenStreamed(path string, opts Options, visit func(a Address, b []byte)) (*Process, error) {
	if opts.Raw || path == "-" {
		return nil, fmt.Errorf("%w: not a core file", ErrNotStreamed)
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrNotStreamed)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotStreamed, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(8)
	c := detectCompression(head)
	if c == nil {
		return nil, fmt.Errorf("%w: not compressed", ErrNotStreamed)
	}
	open := c.open
	if c.name == "zstd" {
		// Decoded in this goroutine: the decoder's own pipeline of
		// goroutines was slower beside the caller's counting, which
		// shares the machine's cores with it.
		open = func(r io.Reader) (io.Reader, func(), error) { return openZstd(r, zstd.WithDecoderConcurrency(1)) }
	}
	d, closeDec, err := open(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotStreamed, err)
	}
	defer closeDec()
	s, err := newSparseFile(opts.TempDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotStreamed, err)
	}
	cs := &coreStream{path: path, out: s, visit: visit}
	if err := cs.copyFrom(d); err != nil {
		s.discard()
		return nil, fmt.Errorf("%w: %v", ErrNotStreamed, err)
	}
	data, err := s.finish(cs.pos)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotStreamed, err)
	}
	p, err := fromImage(path, data, Source{Kind: "compressed", Format: c.name, Copied: cs.pos}, nil, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotStreamed, err)
	}
	for _, m := range p.mappings {
		if cs.dropped[m.Start] {
			m.core, m.streamed = nil, true
		}
	}
	return p, nil
}

// copyFrom has the decoder write the whole core to cs, from its own
// buffers when it can.
func (cs *coreStream) copyFrom(d io.Reader) error {
	var err error
	if wt, ok := d.(io.WriterTo); ok {
		_, err = wt.WriteTo(cs)
	} else {
		_, err = io.CopyBuffer(cs, d, make([]byte, streamBlock))
	}
	if err == nil && !cs.headed {
		err = fmt.Errorf("the core ends inside its headers")
	}
	return err
}

// coreStream is one pass over a decompressed core: an io.Writer that the
// decoder writes its output to, block by block, without a copy in
// between.
type coreStream struct {
	path    string
	out     *sparseFile
	visit   func(Address, []byte)
	pos     int64            // bytes of the core passed so far
	head    []byte           // the head while it is read; nil after
	need    uint64           // length of the head known so far
	headed  bool             // the head is read
	segs    []streamSegment  // in file order, once the head is read
	next    int              // the first segment not yet passed whole
	dropped map[Address]bool // starts of the segments not kept
}

// streamSegment is a PT_LOAD segment whose bytes the stream passes.
type streamSegment struct {
	progHeader
	keep bool
}

// Write takes the next bytes of the core.
func (cs *coreStream) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		var err error
		if !cs.headed {
			b, err = cs.readHead(b)
		} else {
			b, err = cs.pass(b)
		}
		if err != nil {
			return n - len(b), err
		}
	}
	return n, nil
}

// pass hands the bytes of b that belong to segments to visit, writes those
// to keep to the temporary file, and returns the rest of b once it has
// passed the current segment or the gap before it.
func (cs *coreStream) pass(b []byte) ([]byte, error) {
	pos := uint64(cs.pos)
	for cs.next < len(cs.segs) && pos >= addSat(cs.segs[cs.next].Off, cs.segs[cs.next].Filesz) {
		cs.next++
	}
	keep, n := true, uint64(len(b)) // after the last segment, or in a gap
	if cs.next < len(cs.segs) {
		sg := cs.segs[cs.next]
		if pos < sg.Off {
			n = min(n, sg.Off-pos)
		} else {
			n = min(n, sg.Off+sg.Filesz-pos)
			keep = sg.keep
			if pos == sg.Off {
				cs.visit(Address(sg.Vaddr), nil) // a new segment
			}
			visible := sg.Off + min(sg.Filesz, sg.Memsz) // what Open's mapping holds
			if pos < visible {
				cs.visit(Address(sg.Vaddr+pos-sg.Off), b[:min(n, visible-pos)])
			}
		}
	}
	if keep {
		if _, err := cs.out.WriteAt(b[:n], cs.pos); err != nil {
			return b, err
		}
	}
	cs.pos += int64(n)
	return b[n:], nil
}

// readHead collects the ELF header, the program headers and the notes, up
// to the first segment's bytes; once it has them it writes them to the
// temporary file and learns the segments. It returns what b holds beyond
// the head.
func (cs *coreStream) readHead(b []byte) ([]byte, error) {
	if cs.need == 0 {
		cs.need = 64
	}
	for {
		k := min(uint64(len(b)), cs.need-uint64(len(cs.head)))
		cs.head = append(cs.head, b[:k]...)
		b = b[k:]
		if uint64(len(cs.head)) < cs.need {
			return b, nil
		}
		need, err := cs.headLength()
		if err != nil {
			return b, err
		}
		if need == cs.need {
			break
		}
		cs.need = need
	}
	if err := cs.keepSegments(); err != nil {
		return b, err
	}
	if _, err := cs.out.WriteAt(cs.head, 0); err != nil {
		return b, err
	}
	cs.pos = int64(len(cs.head))
	cs.head, cs.headed = nil, true
	return b, nil
}

// headLength returns how long the head is, as far as the bytes read so far
// tell: the program headers' end, then the first segment's start.
func (cs *coreStream) headLength() (uint64, error) {
	h, err := parseELFHeader(cs.head)
	if err != nil || h.Type != etCore || h.PhNum == 0 {
		return 0, fmt.Errorf("not an ELF core, or an unusual one")
	}
	phEnd := h.PhOff + uint64(h.PhNum)*uint64(h.PhEntSize)
	if phEnd > streamHeadMax {
		return 0, fmt.Errorf("program headers too far in")
	}
	if uint64(len(cs.head)) < phEnd {
		return phEnd, nil
	}
	progs, err := parseProgHeaders(cs.head, h)
	if err != nil {
		return 0, err
	}
	cs.segs = cs.segs[:0]
	first := uint64(streamHeadMax)
	for _, ph := range progs {
		if ph.Type == ptLoad && ph.Filesz > 0 && ph.Memsz > 0 && ph.Vaddr+ph.Memsz > ph.Vaddr {
			cs.segs = append(cs.segs, streamSegment{progHeader: ph})
			first = min(first, ph.Off)
		}
	}
	for _, ph := range progs {
		if ph.Type == ptNote && addSat(ph.Off, ph.Filesz) > first {
			return 0, fmt.Errorf("notes after the first segment")
		}
	}
	if len(cs.segs) == 0 || first < phEnd {
		return 0, fmt.Errorf("no segments, or one overlapping the headers")
	}
	return first, nil
}

// keepSegments decides which segments to keep, from the head decoded as a
// core of its own, and refuses layouts a single pass cannot follow:
// segments sharing bytes or addresses, which Open resolves by dropping
// some.
func (cs *coreStream) keepSegments() error {
	hp, err := newProcess(cs.path, cs.head, Options{NoFiles: true})
	if err != nil {
		return err
	}
	segs := cs.segs
	sort.Slice(segs, func(i, j int) bool { return segs[i].Off < segs[j].Off })
	cs.dropped = map[Address]bool{}
	seen := map[*Mapping]bool{} // each mapping is one segment's
	for i, sg := range segs {
		if i > 0 && addSat(segs[i-1].Off, segs[i-1].Filesz) > sg.Off {
			return fmt.Errorf("segments sharing bytes")
		}
		m := hp.FindMapping(Address(sg.Vaddr))
		if m == nil || m.Start != Address(sg.Vaddr) || m.End != Address(sg.Vaddr+sg.Memsz) || seen[m] {
			return fmt.Errorf("overlapping segments")
		}
		seen[m] = true
		segs[i].keep = m.File != "" || m.Perm&PermWrite == 0
		if !segs[i].keep {
			cs.dropped[m.Start] = true
		}
	}
	return nil
}
