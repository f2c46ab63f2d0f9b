package dump

import (
	"encoding/binary"
	"fmt"
)

// MissingError reports a read of memory the dump cannot supply.
type MissingError struct {
	Addr   Address
	Reason string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("memory at %#x is not available: %s", uint64(e.Addr), e.Reason)
}

// ReadAt fills b with the bytes at address a. It returns the number of
// bytes read and a *MissingError for the first byte it could not read.
func (p *Process) ReadAt(b []byte, a Address) (int, error) {
	n := 0
	for n < len(b) {
		cur := a + Address(n)
		m := p.FindMapping(cur)
		if m == nil {
			return n, &MissingError{cur, "no mapping there"}
		}
		src := m.available(cur)
		if len(src) == 0 {
			return n, &MissingError{cur, m.whyMissing(cur)}
		}
		if lim := uint64(m.End - cur); uint64(len(src)) > lim {
			src = src[:lim]
		}
		n += copy(b[n:], src)
	}
	return n, nil
}

// Slice returns the n bytes at a. When they come from one place it is a view
// of the mapped file, which must not be modified; otherwise a copy.
func (p *Process) Slice(a Address, n uint64) ([]byte, error) {
	if m := p.FindMapping(a); m != nil && uint64(m.End-a) >= n {
		if b, ok := m.slice(a, n); ok {
			return b, nil
		}
	}
	if n > 1<<30 {
		return nil, fmt.Errorf("reading %d bytes at %#x: too large to copy", n, uint64(a))
	}
	b := make([]byte, n)
	if _, err := p.ReadAt(b, a); err != nil {
		return nil, err
	}
	return b, nil
}

// Uint64 reads a little-endian 64-bit word at a.
func (p *Process) Uint64(a Address) (uint64, error) {
	b, err := p.Slice(a, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// Uint32 reads a little-endian 32-bit word at a.
func (p *Process) Uint32(a Address) (uint32, error) {
	b, err := p.Slice(a, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// Uint16 reads a little-endian 16-bit word at a.
func (p *Process) Uint16(a Address) (uint16, error) {
	b, err := p.Slice(a, 2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

// Uint8 reads the byte at a.
func (p *Process) Uint8(a Address) (uint8, error) {
	b, err := p.Slice(a, 1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// Ptr reads a pointer at a (8 bytes on every supported architecture).
func (p *Process) Ptr(a Address) (Address, error) {
	v, err := p.Uint64(a)
	return Address(v), err
}

// CString reads a NUL-terminated string of at most max bytes at a.
func (p *Process) CString(a Address, max int) (string, error) {
	var out []byte
	for len(out) < max {
		m := p.FindMapping(a)
		if m == nil {
			return string(out), &MissingError{a, "no mapping there"}
		}
		src := m.available(a)
		if len(src) == 0 {
			return string(out), &MissingError{a, m.whyMissing(a)}
		}
		for _, c := range src {
			if c == 0 || len(out) == max {
				return string(out), nil
			}
			out = append(out, c)
		}
		a += Address(len(src))
	}
	return string(out), nil
}

func leUint64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
