package stack

// DWARF location descriptions as the Go compiler emits them
// (cmd/compile/internal/ssa/debug.go, cmd/internal/dwarf): a variable's
// DW_AT_location is either one expression or a location list, a sequence of
// PC ranges each with its own expression. The expressions use only
// DW_OP_call_frame_cfa and DW_OP_fbreg (the frame base is the CFA) for
// stack slots, DW_OP_reg*/regx for registers, DW_OP_piece to put a
// variable together from parts, and DW_OP_consts/plus for -N builds.
// Location lists are in .debug_loc (DWARF 4, Go 1.22–1.24: pairs of
// addresses, with a base-address-selection entry first) or .debug_loclists
// (DWARF 5, Go 1.25+: DW_LLE_base_addressx into .debug_addr, then
// DW_LLE_offset_pair entries).

import (
	"encoding/binary"
	"fmt"
)

// DWARF expression opcodes this package decodes.
const (
	opAddr         = 0x03
	opConsts       = 0x11
	opMinus        = 0x1c
	opPlus         = 0x22
	opPlusUconst   = 0x23
	opReg0         = 0x50
	opReg31        = 0x6f
	opRegx         = 0x90
	opFbreg        = 0x91
	opPiece        = 0x93
	opCallFrameCFA = 0x9c
	opStackValue   = 0x9f
)

// piece is one part of a variable's location.
type piece struct {
	onStack  bool   // in memory at CFA+cfaOff; otherwise in a register, or absent
	cfaOff   int64  //
	size     uint64 // bytes in this piece; 0 for a variable that is not in pieces
	pieceOff uint64 // where the piece starts within the variable
}

// locRange is the location of a variable for PCs in [lo, hi).
type locRange struct {
	lo, hi uint64
	pieces []piece
}

// decodeLocExpr turns a location expression into its pieces. It returns
// false for expressions it does not understand, which are then ignored.
func decodeLocExpr(expr []byte) ([]piece, bool) {
	type value struct {
		cfa bool // CFA-relative address
		reg bool // a register location
		off int64
	}
	var stack []value
	var pieces []piece
	var at uint64
	p := expr
	for len(p) > 0 {
		op := p[0]
		p = p[1:]
		var ok bool
		switch {
		case op == opCallFrameCFA:
			stack = append(stack, value{cfa: true})
		case op == opFbreg:
			var n int64
			if n, p, ok = sleb(p); !ok {
				return nil, false
			}
			stack = append(stack, value{cfa: true, off: n})
		case op == opConsts:
			var n int64
			if n, p, ok = sleb(p); !ok {
				return nil, false
			}
			stack = append(stack, value{off: n})
		case op == opPlusUconst:
			var n uint64
			if n, p, ok = uleb(p); !ok || len(stack) == 0 {
				return nil, false
			}
			stack[len(stack)-1].off += int64(n)
		case op == opPlus || op == opMinus:
			if len(stack) < 2 {
				return nil, false
			}
			a, b := stack[len(stack)-2], stack[len(stack)-1]
			stack = stack[:len(stack)-2]
			if b.cfa || b.reg || a.reg {
				return nil, false
			}
			if op == opPlus {
				a.off += b.off
			} else {
				a.off -= b.off
			}
			stack = append(stack, a)
		case op >= opReg0 && op <= opReg31:
			stack = append(stack, value{reg: true})
		case op == opRegx:
			if _, p, ok = uleb(p); !ok {
				return nil, false
			}
			stack = append(stack, value{reg: true})
		case op == opPiece:
			var n uint64
			if n, p, ok = uleb(p); !ok {
				return nil, false
			}
			pc := piece{size: n, pieceOff: at}
			if len(stack) > 0 && stack[len(stack)-1].cfa {
				pc.onStack, pc.cfaOff = true, stack[len(stack)-1].off
			}
			pieces = append(pieces, pc)
			stack = stack[:0]
			at += n
		default: // DW_OP_addr, DW_OP_stack_value and the rest: not a stack slot
			return nil, false
		}
	}
	if len(stack) > 0 {
		if len(pieces) > 0 {
			return nil, false // a trailing part with no size
		}
		top := stack[len(stack)-1]
		return []piece{{onStack: top.cfa, cfaOff: top.off}}, true
	}
	return pieces, true
}

// locLists reads location lists from .debug_loc or .debug_loclists.
type locLists struct {
	loc      []byte // .debug_loc (DWARF 4)
	loclists []byte // .debug_loclists (DWARF 5)
	addr     []byte // .debug_addr (DWARF 5)
}

// cuInfo is what a compilation unit contributes to reading its lists.
type cuInfo struct {
	lowPC    uint64 // default base address
	addrBase uint64 // DW_AT_addr_base
	dwarf5   bool   // lists are in .debug_loclists
}

// read decodes the location list at off.
func (l *locLists) read(cu *cuInfo, off int64) ([]locRange, error) {
	if cu.dwarf5 {
		return l.read5(cu, off)
	}
	return l.read4(cu, off)
}

func (l *locLists) read4(cu *cuInfo, off int64) ([]locRange, error) {
	if off < 0 || off >= int64(len(l.loc)) {
		return nil, fmt.Errorf("location list offset %#x outside .debug_loc", off)
	}
	p := l.loc[off:]
	base := cu.lowPC
	var out []locRange
	le := binary.LittleEndian
	for {
		if len(p) < 16 {
			return nil, fmt.Errorf("location list at %#x runs past .debug_loc", off)
		}
		begin, end := le.Uint64(p), le.Uint64(p[8:])
		p = p[16:]
		switch {
		case begin == 0 && end == 0:
			return out, nil
		case begin == ^uint64(0):
			base = end
			continue
		}
		if len(p) < 2 || int(le.Uint16(p)) > len(p)-2 {
			return nil, fmt.Errorf("location list at %#x: expression runs past .debug_loc", off)
		}
		n := int(le.Uint16(p))
		out = appendRange(out, base+begin, base+end, p[2:2+n])
		p = p[2+n:]
	}
}

// DWARF 5 location list entry kinds (DW_LLE_*).
const (
	lleEndOfList       = 0
	lleBaseAddressx    = 1
	lleStartxEndx      = 2
	lleStartxLength    = 3
	lleOffsetPair      = 4
	lleDefaultLocation = 5
	lleBaseAddress     = 6
	lleStartEnd        = 7
	lleStartLength     = 8
)

func (l *locLists) read5(cu *cuInfo, off int64) ([]locRange, error) {
	if off < 0 || off >= int64(len(l.loclists)) {
		return nil, fmt.Errorf("location list offset %#x outside .debug_loclists", off)
	}
	p := l.loclists[off:]
	base := cu.lowPC
	var out []locRange
	bad := func(what string) error {
		return fmt.Errorf("location list at %#x: bad %s", off, what)
	}
	for {
		if len(p) == 0 {
			return nil, bad("end")
		}
		kind := p[0]
		p = p[1:]
		var lo, hi, a, b uint64
		var ok bool
		switch kind {
		case lleEndOfList:
			return out, nil
		case lleBaseAddressx:
			if a, p, ok = uleb(p); !ok {
				return nil, bad("base_addressx")
			}
			if base, ok = l.debugAddr(cu, a); !ok {
				return nil, bad("address index")
			}
			continue
		case lleBaseAddress:
			if len(p) < 8 {
				return nil, bad("base_address")
			}
			base, p = binary.LittleEndian.Uint64(p), p[8:]
			continue
		case lleOffsetPair:
			a, p, ok = uleb(p)
			if ok {
				b, p, ok = uleb(p)
			}
			lo, hi = base+a, base+b
		case lleStartxEndx, lleStartxLength:
			a, p, ok = uleb(p)
			if ok {
				b, p, ok = uleb(p)
			}
			if ok {
				lo, ok = l.debugAddr(cu, a)
			}
			hi = b
			if kind == lleStartxEndx && ok {
				hi, ok = l.debugAddr(cu, b)
			} else {
				hi = lo + b
			}
		case lleStartEnd, lleStartLength:
			if len(p) < 8 {
				return nil, bad("start address")
			}
			lo, p = binary.LittleEndian.Uint64(p), p[8:]
			if kind == lleStartEnd {
				if ok = len(p) >= 8; ok {
					hi, p = binary.LittleEndian.Uint64(p), p[8:]
				}
			} else {
				b, p, ok = uleb(p)
				hi = lo + b
			}
		case lleDefaultLocation:
			lo, hi, ok = 0, ^uint64(0), true
		default:
			return nil, bad(fmt.Sprintf("entry kind %d", kind))
		}
		if !ok {
			return nil, bad("range")
		}
		var n uint64
		if n, p, ok = uleb(p); !ok || n > uint64(len(p)) {
			return nil, bad("expression length")
		}
		out = appendRange(out, lo, hi, p[:n])
		p = p[n:]
	}
}

// debugAddr returns entry idx of the CU's .debug_addr table.
func (l *locLists) debugAddr(cu *cuInfo, idx uint64) (uint64, bool) {
	// Checked by subtraction: a damaged DW_AT_addr_base near 2^64 must not
	// wrap around to a small offset.
	size := uint64(len(l.addr))
	if idx > 1<<32 || cu.addrBase > size || 8*idx > size-cu.addrBase || size-cu.addrBase-8*idx < 8 {
		return 0, false
	}
	at := cu.addrBase + 8*idx
	return binary.LittleEndian.Uint64(l.addr[at:]), true
}

// appendRange decodes expr and appends the range if the expression is one
// this package understands.
func appendRange(out []locRange, lo, hi uint64, expr []byte) []locRange {
	if pieces, ok := decodeLocExpr(expr); ok && lo < hi {
		out = append(out, locRange{lo: lo, hi: hi, pieces: pieces})
	}
	return out
}

func uleb(p []byte) (uint64, []byte, bool) {
	var v uint64
	for i, shift := 0, uint(0); i < len(p) && shift < 64; i, shift = i+1, shift+7 {
		v |= uint64(p[i]&0x7f) << shift
		if p[i]&0x80 == 0 {
			return v, p[i+1:], true
		}
	}
	return 0, nil, false
}

func sleb(p []byte) (int64, []byte, bool) {
	var v int64
	for i, shift := 0, uint(0); i < len(p) && shift < 64; i, shift = i+1, shift+7 {
		v |= int64(p[i]&0x7f) << shift
		if p[i]&0x80 == 0 {
			if shift+7 < 64 && p[i]&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v, p[i+1:], true
		}
	}
	return 0, nil, false
}
