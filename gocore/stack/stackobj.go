package stack

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/dump"
)

// stackObjects reads f's FUNCDATA_StackObjects records and places them in
// the frame (scanframeworker): off < 0 counts from varp, off ≥ 0 from argp,
// and an object below SP is not allocated yet.
func (u *unwinder) stackObjects(fr *Frame, f *Func) ([]StackObject, error) {
	addr, ok := u.tab.FuncDataAddr(f, FuncDataStackObjects)
	if !ok {
		return nil, nil
	}
	n, err := u.mem.Uint64(dump.Address(addr))
	if err != nil {
		return nil, fmt.Errorf("reading the stack object count at %#x: %w", addr, err)
	}
	if n > maxStackObjects {
		return nil, fmt.Errorf("%d stack objects at %#x", n, addr)
	}
	lay := u.mod.StackObjectRecord
	if lay.RecordSize == 0 {
		lay = DefaultStackObjectLayout()
	}
	recs, err := u.mem.Slice(dump.Address(addr+8), n*lay.RecordSize)
	if err != nil {
		return nil, fmt.Errorf("reading %d stack object records at %#x: %w", n, addr+8, err)
	}
	le := binary.LittleEndian
	var objs []StackObject
	for i := uint64(0); i < n; i++ {
		r := recs[i*lay.RecordSize:]
		off := int64(int32(le.Uint32(r[lay.Off:])))
		size := int64(int32(le.Uint32(r[lay.Size:])))
		ptrBytes := int64(int32(le.Uint32(r[lay.PtrBytes:])))
		gcdata := u.mod.Rodata + uint64(le.Uint32(r[lay.GCDataOff:]))
		base := fr.VarP
		if off >= 0 {
			base = fr.ArgP
		}
		at := base + uint64(off)
		if at < fr.SP {
			continue // not allocated yet
		}
		if size < 0 || size > maxObjectBytes {
			return nil, fmt.Errorf("stack object %d at %#x has size %d", i, at, size)
		}
		obj := StackObject{Addr: at, Size: uint64(size)}
		if ptrBytes < 0 && lay.GCProg {
			obj.PtrBytes = uint64(-ptrBytes)
			obj.PtrMask, err = u.runGCProg(gcdata, obj.PtrBytes/8)
		} else {
			obj.PtrBytes = uint64(ptrBytes)
			obj.PtrMask, err = u.mem.Slice(dump.Address(gcdata), (obj.PtrBytes/8+7)/8)
		}
		if err != nil {
			return nil, fmt.Errorf("pointer mask of stack object %d at %#x: %w", i, at, err)
		}
		if obj.PtrBytes > obj.Size {
			return nil, fmt.Errorf("stack object %d at %#x has %d pointer bytes but size %d", i, at, obj.PtrBytes, obj.Size)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// runGCProg expands the GC program at addr (a uint32 length, then the
// program) into a mask of nword bits (runtime mbitmap.go runGCProg, used
// for stack objects in Go 1.22–1.23). The program is a sequence of
// instructions: 0 ends it; 0nnnnnnn emits the n bits that follow; and
// 1nnnnnnn c repeats the previous n bits c times (n = 0 means n follows as
// a varint; c is always a varint).
func (u *unwinder) runGCProg(addr uint64, nword uint64) ([]byte, error) {
	if nword > maxObjectBytes/8 {
		return nil, fmt.Errorf("%d words of GC program output", nword)
	}
	size, err := u.mem.Slice(dump.Address(addr), 4)
	if err != nil {
		return nil, err
	}
	prog, err := u.mem.Slice(dump.Address(addr+4), uint64(binary.LittleEndian.Uint32(size)))
	if err != nil {
		return nil, err
	}
	return expandGCProg(prog, nword)
}

// expandGCProg runs prog, producing at most nword bits.
func expandGCProg(prog []byte, nword uint64) ([]byte, error) {
	out := make([]byte, (nword+7)/8)
	var n uint64 // bits written
	set := func(bit bool) {
		if n < nword && bit {
			out[n/8] |= 1 << (n % 8)
		}
		n++
	}
	get := func(i uint64) bool { return i < nword && out[i/8]>>(i%8)&1 != 0 }
	p := prog
	for len(p) > 0 {
		inst := p[0]
		p = p[1:]
		cnt := uint64(inst & 0x7f)
		if inst&0x80 == 0 {
			if cnt == 0 {
				return out, nil
			}
			nb := (cnt + 7) / 8
			if uint64(len(p)) < nb {
				return nil, fmt.Errorf("GC program literal of %d bits runs past its end", cnt)
			}
			for i := uint64(0); i < cnt; i++ {
				set(p[i/8]>>(i%8)&1 != 0)
			}
			p = p[nb:]
			continue
		}
		var ok bool
		if cnt == 0 {
			if cnt, p, ok = uleb(p); !ok {
				return nil, fmt.Errorf("GC program repeat length runs past its end")
			}
		}
		var reps uint64
		if reps, p, ok = uleb(p); !ok {
			return nil, fmt.Errorf("GC program repeat count runs past its end")
		}
		if cnt == 0 || cnt > n {
			return nil, fmt.Errorf("GC program repeats %d bits after %d bits", cnt, n)
		}
		from := n - cnt
		for r := uint64(0); r < reps && n < nword; r++ {
			for i := uint64(0); i < cnt; i++ {
				set(get(from + i))
			}
		}
		if n >= nword {
			return out, nil // the rest of the program cannot change the mask
		}
	}
	return out, nil
}

// ReachableStackObjects returns, for the frames of one goroutine's stack,
// which stack objects the garbage collector would scan (mgcmark.go
// scanstack): those that a pointer into the stack reaches, starting from
// the frames' PtrSlots, the words in their Conservative ranges, and roots
// (further stack words the caller knows hold pointers: the defer and
// panic records' fields, g.sched.ctxt), and following the pointer words of
// every object reached. The result is indexed like the frames:
// live[i][j] is true if frames[i].StackObjects[j] is scanned.
func ReachableStackObjects(mem Memory, frames []Frame, stackLo, stackHi uint64, roots []uint64) [][]bool {
	type ref struct{ frame, obj int }
	var index []ref
	live := make([][]bool, len(frames))
	for i := range frames {
		live[i] = make([]bool, len(frames[i].StackObjects))
		for j := range frames[i].StackObjects {
			index = append(index, ref{i, j})
		}
	}
	if len(index) == 0 {
		return live
	}
	sort.Slice(index, func(a, b int) bool {
		return frames[index[a].frame].StackObjects[index[a].obj].Addr < frames[index[b].frame].StackObjects[index[b].obj].Addr
	})
	var queue []uint64 // stack words to look at
	push := func(slot uint64) {
		v, err := mem.Uint64(dump.Address(slot))
		if err == nil && v >= stackLo && v < stackHi {
			queue = append(queue, v)
		}
	}
	for i := range frames {
		for _, s := range frames[i].PtrSlots {
			push(s)
		}
		for _, r := range frames[i].Conservative {
			for a := r[0] &^ 7; a+8 <= r[1]; a += 8 {
				push(a)
			}
		}
	}
	for _, s := range roots {
		push(s)
	}
	for len(queue) > 0 {
		p := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		k := sort.Search(len(index), func(k int) bool {
			return frames[index[k].frame].StackObjects[index[k].obj].Addr > p
		}) - 1
		if k < 0 {
			continue
		}
		r := index[k]
		obj := &frames[r.frame].StackObjects[r.obj]
		if p >= obj.Addr+obj.Size || live[r.frame][r.obj] {
			continue
		}
		live[r.frame][r.obj] = true
		for w := uint64(0); w < obj.PtrBytes/8; w++ {
			if obj.PtrMask[w/8]>>(w%8)&1 != 0 {
				push(obj.Addr + w*8)
			}
		}
	}
	return live
}
