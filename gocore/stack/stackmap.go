package stack

// Stack maps (runtime symtab.go stackmap) are funcdata blobs
//
//	stackmap {n int32; nbit int32; bytedata [n][⌈nbit/8⌉]byte}
//
// with one bitmap per stack map index; PCDATA_StackMapIndex says which
// bitmap applies at a PC. The locals bitmap covers the nbit words below
// varp, the arguments bitmap the nbit words from argp. Stack objects
// (FUNCDATA_StackObjects) are a uintptr count followed by that many
// stackObjectRecords.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// Limits on sizes read from the dump, so a corrupt record cannot make us
// allocate without bound.
const (
	maxStackMapBits = 1 << 24 // 128 MiB of frame
	maxStackObjects = 1 << 16
	maxObjectBytes  = 1 << 30
)

// pointerMaps fills fr's PtrSlots, StackObjects and Conservative the way
// scanframeworker scans the frame.
func (u *unwinder) pointerMaps(fr *Frame, f *Func, async bool) {
	injected := fr.Kind == KindAsyncPreempt || fr.Kind == KindDebugCall
	if u.conservative || injected || async {
		u.conservativeFrame(fr, f)
		// The frame an injected call interrupted is scanned conservatively too.
		u.conservative = injected
		return
	}
	if err := u.preciseFrame(fr, f); err != nil {
		fr.PtrSlots, fr.StackObjects = nil, nil
		u.conservativeFrame(fr, f)
		fr.Warning = fmt.Sprintf("stack maps unusable (%v); frame treated as conservative", err)
	}
}

// conservativeFrame reports the frame's locals and outgoing arguments
// [sp, varp) and its incoming arguments as conservative ranges.
func (u *unwinder) conservativeFrame(fr *Frame, f *Func) {
	if fr.VarP > fr.SP {
		size := fr.VarP - fr.SP
		if u.arch.usesLR && (fr.Kind.injected()) {
			// The small frame the signal handler pushed holding LR
			// (Go 1.25+ scans it; scanning it in older versions is harmless).
			size += alignUp(u.arch.minFrameSize, u.arch.stackAlign)
		}
		fr.Conservative = append(fr.Conservative, [2]uint64{fr.SP, fr.SP + size})
	}
	if n := u.argBytes(fr, f); n > 0 {
		fr.Conservative = append(fr.Conservative, [2]uint64{fr.ArgP, fr.ArgP + n})
	}
}

// argBytes is the size of f's argument area (runtime stkframe.argBytes).
func (u *unwinder) argBytes(fr *Frame, f *Func) uint64 {
	if f.Args != argsSizeUnknown {
		if f.Args < 0 {
			return 0
		}
		return uint64(f.Args)
	}
	if m, ok, _ := u.reflectArgMap(fr, f); ok {
		return uint64(m.nbit) * 8
	}
	return 0
}

// bitmap is one stack map bitmap: nbit bits, one per word.
type bitmap struct {
	nbit int32
	bits []byte
}

// preciseFrame applies the frame's stack maps at its ContinPC
// (getStackMap).
func (u *unwinder) preciseFrame(fr *Frame, f *Func) error {
	target := fr.ContinPC
	if target == 0 {
		return nil // the frame is dead: nothing in it is live
	}
	idx := int32(-1)
	if target != f.Entry {
		// Back up into the CALL; at the entry, use the entry map.
		idx = u.tab.PCData(f, PCDataStackMapIndex, target-1)
	}
	if idx == -1 {
		idx = 0 // probably the prologue; the runtime assumes the same
	}

	// Locals, if the frame has been allocated.
	minSize := u.arch.minFrameSize
	if u.arch.usesLR {
		minSize = u.arch.stackAlign
	}
	if fr.VarP > fr.SP && fr.VarP-fr.SP > minSize {
		m, err := u.stackMap(f, FuncDataLocalsPointerMaps, idx)
		if err != nil {
			return fmt.Errorf("locals map: %w", err)
		}
		fr.PtrSlots = appendSlots(fr.PtrSlots, fr.VarP-uint64(m.nbit)*8, m)
	}

	// Arguments.
	args, reflectFrame, err := u.argMap(fr, f, idx)
	if err != nil {
		return fmt.Errorf("arguments map: %w", err)
	}
	fr.PtrSlots = appendSlots(fr.PtrSlots, fr.ArgP, args)

	// Stack objects.
	if reflectFrame {
		if n := u.mod.RegArgsSize; n > 0 {
			// The frame holds an internal/abi.RegArgs as its highest
			// local; its pointer mask is not at hand, so scan it whole.
			lo := fr.VarP - alignUp(n, 8)
			fr.Conservative = append(fr.Conservative, [2]uint64{lo, lo + n})
		}
		return nil
	}
	objs, err := u.stackObjects(fr, f)
	if err != nil {
		return fmt.Errorf("stack objects: %w", err)
	}
	fr.StackObjects = objs
	return nil
}

// appendSlots appends the address of every word whose bit is set in m,
// counting words from base.
func appendSlots(slots []uint64, base uint64, m bitmap) []uint64 {
	for i := int32(0); i < m.nbit; i++ {
		if m.bits[i/8]>>(i%8)&1 != 0 {
			slots = append(slots, base+uint64(i)*8)
		}
	}
	return slots
}

// stackMap reads bitmap idx of f's funcdata table which. A function
// without the table, or with an empty one, has no pointers there.
func (u *unwinder) stackMap(f *Func, which uint8, idx int32) (bitmap, error) {
	addr, ok := u.tab.FuncDataAddr(f, which)
	if !ok {
		return bitmap{}, errors.New("missing stack map")
	}
	hdr, err := u.mem.Slice(dump.Address(addr), 8)
	if err != nil {
		return bitmap{}, fmt.Errorf("reading stack map header at %#x: %w", addr, err)
	}
	n := int32(binary.LittleEndian.Uint32(hdr))
	nbit := int32(binary.LittleEndian.Uint32(hdr[4:]))
	if n <= 0 || nbit < 0 || nbit > maxStackMapBits {
		return bitmap{}, fmt.Errorf("stack map at %#x has %d bitmaps of %d bits", addr, n, nbit)
	}
	if nbit == 0 {
		return bitmap{}, nil
	}
	if idx < 0 || idx >= n {
		return bitmap{}, fmt.Errorf("stack map index %d, but the map at %#x has %d bitmaps", idx, addr, n)
	}
	stride := uint64(nbit+7) / 8
	at := addr + 8 + uint64(idx)*stride
	bits, err := u.mem.Slice(dump.Address(at), stride)
	if err != nil {
		return bitmap{}, fmt.Errorf("reading stack map bitmap at %#x: %w", at, err)
	}
	return bitmap{nbit: nbit, bits: bits}, nil
}

// argMap returns the live-pointer bitmap of the frame's arguments
// (stkframe argMapInternal and getStackMap), and whether the frame is a
// reflect call stub.
func (u *unwinder) argMap(fr *Frame, f *Func, idx int32) (bitmap, bool, error) {
	if f.Args == argsSizeUnknown {
		m, ok, err := u.reflectArgMap(fr, f)
		return m, ok, err
	}
	if f.Args < 8 {
		return bitmap{}, false, nil
	}
	m, err := u.stackMap(f, FuncDataArgsPointerMaps, idx)
	return m, false, err
}

// reflectArgMap handles reflect.makeFuncStub and reflect.methodValueCall,
// whose argument maps live in the *reflect.methodValue they keep at
// 0(SP) (runtime reflectMethodValue: fn, stack *bitvector, argLen). ok is
// false for other functions and for a stub that has not started.
func (u *unwinder) reflectArgMap(fr *Frame, f *Func) (m bitmap, ok bool, err error) {
	if f.Name != "reflect.makeFuncStub" && f.Name != "reflect.methodValueCall" {
		return bitmap{}, false, nil
	}
	arg0 := fr.SP + u.arch.minFrameSize
	minSP := fr.FP
	if !u.arch.usesLR {
		minSP -= 8
	}
	if arg0 >= minSP {
		return bitmap{}, false, nil // not started: no arguments yet
	}
	mv, err := u.word(arg0)
	if err != nil {
		return bitmap{}, false, err
	}
	flags, err := u.word(arg0 + 32)
	if err != nil {
		return bitmap{}, false, err
	}
	retValid := flags&0xff != 0
	hdr, err := u.mem.Slice(dump.Address(mv), 24)
	if err != nil {
		return bitmap{}, false, fmt.Errorf("reading reflect method value at %#x: %w", mv, err)
	}
	le := binary.LittleEndian
	if fn := le.Uint64(hdr); fn != f.Entry {
		return bitmap{}, false, fmt.Errorf("reflect method value at %#x is for PC %#x, not %#x", mv, fn, f.Entry)
	}
	bv, argLen := le.Uint64(hdr[8:]), le.Uint64(hdr[16:])
	bvb, err := u.mem.Slice(dump.Address(bv), 16)
	if err != nil {
		return bitmap{}, false, fmt.Errorf("reading reflect argument bitvector at %#x: %w", bv, err)
	}
	nbit := int32(le.Uint32(bvb))
	if nbit < 0 || nbit > maxStackMapBits {
		return bitmap{}, false, fmt.Errorf("reflect argument bitvector at %#x has %d bits", bv, nbit)
	}
	if !retValid {
		if n := int32(argLen / 8); n < nbit {
			nbit = n
		}
	}
	bits, err := u.mem.Slice(dump.Address(le.Uint64(bvb[8:])), uint64(nbit+7)/8)
	if err != nil {
		return bitmap{}, false, fmt.Errorf("reading reflect argument bits: %w", err)
	}
	return bitmap{nbit: nbit, bits: bits}, true, nil
}
