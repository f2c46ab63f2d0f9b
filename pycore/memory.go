package pycore

import (
	"encoding/binary"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// memory reads the dumped process with bounds: every count read from the
// core is checked against what is mapped before anything is allocated for
// it.
type memory struct {
	p *dump.Process
}

func (m memory) u64(a uint64) (uint64, error) { return m.p.Uint64(dump.Address(a)) }

func (m memory) i64(a uint64) (int64, error) {
	v, err := m.p.Uint64(dump.Address(a))
	return int64(v), err
}

func (m memory) u32(a uint64) (uint32, error) { return m.p.Uint32(dump.Address(a)) }

func (m memory) u8(a uint64) (uint8, error) { return m.p.Uint8(dump.Address(a)) }

// words reads n pointer-sized words at a. n must already be bounded by
// the caller (see mapped).
func (m memory) words(a uint64, n int64) ([]uint64, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative count %d at %#x", n, a)
	}
	if n == 0 {
		return nil, nil
	}
	if uint64(n) > m.mapped(a)/8 {
		return nil, fmt.Errorf("%d words at %#x run past mapped memory", n, a)
	}
	b, err := m.p.Slice(dump.Address(a), uint64(n)*8)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out, nil
}

// bytes reads n bytes at a, bounded by mapped memory.
func (m memory) bytes(a uint64, n int64) ([]byte, error) {
	if n < 0 || uint64(n) > m.mapped(a) {
		return nil, fmt.Errorf("%d bytes at %#x run past mapped memory", n, a)
	}
	return m.p.Slice(dump.Address(a), uint64(n))
}

// mapped returns how many bytes are mapped from a on, in its mapping.
func (m memory) mapped(a uint64) uint64 {
	mp := m.p.FindMapping(dump.Address(a))
	if mp == nil {
		return 0
	}
	return uint64(mp.End) - a
}

// cstring reads a NUL-terminated string of at most max bytes.
func (m memory) cstring(a uint64, max int) (string, error) {
	return m.p.CString(dump.Address(a), max)
}

// heapAddr reports whether a can be a heap object's address: aligned and
// in mapped memory that no file backs (objects in libpython's own data,
// such as static types and None, are not heap objects).
func (m memory) heapAddr(a uint64) bool {
	if a == 0 || a&7 != 0 {
		return false
	}
	mp := m.p.FindMapping(dump.Address(a))
	return mp != nil && mp.File == "" && uint64(mp.End)-a >= 16
}
