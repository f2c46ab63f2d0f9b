package pycore

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Strings and small numbers, read for names and for showing values.
// A compact str keeps its characters right after its header: after a
// PyASCIIObject for ASCII text, after a PyCompactUnicodeObject otherwise,
// 1, 2 or 4 bytes a character by the state's kind.

// strState is a str's decoded state bits.
type strState struct {
	kind           int
	compact, ascii bool
	length         int64
	dataAddr       uint64
}

// readStrState decodes the header of the str at a; false if a is no str
// pycore can read (not a str, or a legacy non-compact one).
func (h *Heap) readStrState(a uint64) (strState, bool) {
	var st strState
	if a == 0 || h.strType == 0 {
		return st, false
	}
	s := &h.l.Str
	b, err := h.mem.bytes(a, s.State+4)
	if err != nil {
		return st, false
	}
	if t := le64(b[h.l.ObType:]); t != h.strType {
		if ti := h.types.find(t); ti == nil || ti.kind != kindStr {
			return st, false
		}
	}
	state := binary.LittleEndian.Uint32(b[s.State:])
	st.kind = int(state>>uint(s.KindBit)) & 7
	st.compact = state>>uint(s.CompactBit)&1 != 0
	st.ascii = state>>uint(s.ASCIIBit)&1 != 0
	st.length = int64(le64(b[s.Length:]))
	if !st.compact || st.length < 0 || (st.kind != 1 && st.kind != 2 && st.kind != 4) {
		return st, false
	}
	if st.ascii {
		st.dataAddr = a + uint64(s.ASCIISize)
	} else {
		st.dataAddr = a + uint64(s.CompactSize)
	}
	return st, true
}

// readStr reads the text of the str at a, at most max characters.
func (h *Heap) readStr(a uint64, max int64) (string, bool) {
	st, ok := h.readStrState(a)
	if !ok {
		return "", false
	}
	n := min(st.length, max)
	b, err := h.mem.bytes(st.dataAddr, n*int64(st.kind))
	if err != nil {
		return "", false
	}
	if st.kind == 1 && st.ascii {
		return string(b), true
	}
	var sb strings.Builder
	for i := int64(0); i < n; i++ {
		var r rune
		switch st.kind {
		case 1:
			r = rune(b[i])
		case 2:
			r = rune(binary.LittleEndian.Uint16(b[2*i:]))
		case 4:
			r = rune(binary.LittleEndian.Uint32(b[4*i:]))
		}
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		sb.WriteRune(r)
	}
	return sb.String(), true
}

// strSize is sys.getsizeof of the str at a, without a GC header (str has
// none).
func (h *Heap) strSize(a uint64, basicsize int64) int64 {
	st, ok := h.readStrState(a)
	if !ok {
		return basicsize
	}
	s := &h.l.Str
	var size int64
	if st.ascii {
		size = s.ASCIISize + st.length + 1
	} else {
		size = s.CompactSize + (st.length+1)*int64(st.kind)
		utf8p, err1 := h.mem.u64(a + uint64(s.UTF8))
		utf8n, err2 := h.mem.i64(a + uint64(s.UTF8Length))
		if err1 == nil && err2 == nil && utf8p != 0 && utf8p != st.dataAddr {
			size += utf8n + 1
		}
	}
	if s.WStr != absent {
		wstr, err := h.mem.u64(a + uint64(s.WStr))
		if err == nil && wstr != 0 && wstr != st.dataAddr {
			var wlen int64
			if st.ascii {
				wlen = st.length
			} else if s.WStrLn != absent {
				wlen, _ = h.mem.i64(a + uint64(s.WStrLn))
			}
			size += (wlen + 1) * 4
		}
	}
	return size
}

// intValue reads a small int (up to 63 bits); false if a is no int pycore
// can read or it is larger.
func (h *Heap) intValue(a uint64) (int64, bool) {
	ndigits, negative, err := h.intDigits(a)
	if err != nil || ndigits > 2 {
		return 0, false
	}
	digits, err := h.mem.bytes(a+uint64(h.l.Long.Digit), ndigits*4)
	if err != nil {
		return 0, false
	}
	var v int64
	for i := ndigits - 1; i >= 0; i-- {
		v = v<<30 | int64(binary.LittleEndian.Uint32(digits[4*i:]))
	}
	if negative {
		v = -v
	}
	return v, true
}

// intDigits returns an int's number of 30-bit digits and its sign.
func (h *Heap) intDigits(a uint64) (n int64, negative bool, err error) {
	if h.l.Long.Tag != absent {
		// 3.12+: lv_tag holds the digit count above 3 bits of sign.
		tag, err := h.mem.u64(a + uint64(h.l.Long.Tag))
		if err != nil {
			return 0, false, err
		}
		return int64(tag >> 3), tag&3 == 2, nil
	}
	size, err := h.mem.i64(a + uint64(h.l.ObSize))
	if err != nil {
		return 0, false, err
	}
	switch {
	case size == math.MinInt64: // its negation is itself
		return 0, false, fmt.Errorf("int at %#x: ob_size %d is no digit count", a, size)
	case size < 0:
		return -size, true, nil
	}
	return size, false, nil
}

// intSize is sys.getsizeof of the int at a.
func (h *Heap) intSize(a uint64) int64 {
	n, _, err := h.intDigits(a)
	if err != nil || n > 1<<24 {
		return h.l.Long.Digit
	}
	if h.l.Minor >= 12 {
		n = max(n, 1)
	}
	return h.l.Long.Digit + 4*n
}

// pyRepr quotes a str as Python's repr does, for the common cases.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var sb strings.Builder
	sb.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			sb.WriteString(`\x` + strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte(q)
	return sb.String()
}
