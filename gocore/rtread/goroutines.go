package rtread

// Goroutines as the runtime keeps them: runtime.allgs lists every g. Each
// g is read as raw bytes through a gLayout and decoded into a G: its
// status (named after the runtime's _G constants), wait reason (from
// runtime.waitReasonStrings), stack bounds and the saved contexts an
// unwinder starts from. A g's defer records are a chain of runtime._defer.

import (
	"fmt"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/warn"
)

// G is one goroutine that is not dead.
type G struct {
	Addr       dump.Address // of the g struct
	ID         int64
	Status     string // "running", "waiting", ..., or "status N"
	WaitReason string // for waiting goroutines
	StackLo    dump.Address
	StackHi    dump.Address
	// The context saved when it was descheduled, and its system call's.
	SchedSP, SchedPC, SchedLR uint64
	SyscallSP, SyscallPC      uint64
	// SchedCtxt is the address of g.sched.ctxt when it is set, else 0.
	SchedCtxt dump.Address
	// M is the address of the runtime.m running it, or 0.
	M uint64
	// Defer is the first of its defer records, or 0.
	Defer dump.Address
	// Panic is the address of g._panic when it is set, else 0.
	Panic dump.Address
	// GoPC is the PC of the go statement that created it, StartPC its
	// function's entry, ParentID the goroutine that ran the go statement
	// (0 when unknown), all 0 when the version has no such field.
	GoPC, StartPC uint64
	ParentID      int64
	// WaitSince is the runtime's nanotime when the goroutine started
	// blocking, as the runtime records it (g.waitsince), or 0.
	WaitSince int64
}

// gLayout holds the g fields goroutine enumeration needs.
type gLayout struct {
	status, goid, waitreason                FieldLoc
	stackLo, stackHi                        FieldLoc
	schedSP, schedPC, schedLR, schedCtxt    FieldLoc
	syscallSP, syscallPC, m, deferp, panicp FieldLoc
	gopc, startpc, parentGoid, waitsince    FieldLoc
	size                                    int64
}

func (r *Reader) readGLayout() (gLayout, error) {
	var l gLayout
	b := &layoutBuilder{r: r}
	const g = "runtime.g"
	l.status = b.need(g, "atomicstatus")
	l.goid = b.need(g, "goid")
	l.waitreason = b.need(g, "waitreason")
	l.stackLo = b.need(g, "stack", "lo")
	l.stackHi = b.need(g, "stack", "hi")
	l.schedSP = b.need(g, "sched", "sp")
	l.schedPC = b.need(g, "sched", "pc")
	l.schedLR = b.need(g, "sched", "lr")
	l.schedCtxt = b.need(g, "sched", "ctxt")
	l.syscallSP = b.need(g, "syscallsp")
	l.syscallPC = b.need(g, "syscallpc")
	l.m = b.need(g, "m")
	l.deferp = b.need(g, "_defer")
	l.panicp = b.need(g, "_panic")
	// Optional: without them a goroutine has no "created by" or wait time.
	l.gopc, _ = r.Locate(g, true, "gopc")
	l.startpc, _ = r.Locate(g, true, "startpc")
	l.parentGoid, _ = r.Locate(g, true, "parentGoid")
	l.waitsince, _ = r.Locate(g, true, "waitsince")
	if t, err := r.dw.TypeNamed(g); err == nil {
		l.size = t.Size()
	}
	return l, b.firstErr
}

// gStatus names g status values and knows which mean dead or waiting.
type gStatus struct {
	names           map[uint64]string
	dead, deadExtra int64 // deadExtra is -1 before Go 1.26
	waiting         int64
	waitReasons     []string
}

// readGStatus reads the runtime's _G constants and wait reason strings.
func (r *Reader) readGStatus() (gStatus, []warn.Warning) {
	b := &layoutBuilder{r: r}
	st := gStatus{names: make(map[uint64]string), deadExtra: -1}
	for name, v := range r.dw.consts {
		s, ok := strings.CutPrefix(name, "runtime._G")
		if !ok || s == "" || s[0] < 'a' || s[0] > 'z' || strings.HasPrefix(s, "scan") || v < 0 || v >= 0x1000 {
			continue
		}
		st.names[uint64(v)] = s
	}
	st.dead = b.constant("runtime._Gdead", 6)
	if v, ok := r.dw.Constant("runtime._Gdeadextra"); ok {
		st.deadExtra = v
	}
	st.waiting = b.constant("runtime._Gwaiting", 4)
	v := r.Global("runtime.waitReasonStrings")
	for i := int64(0); i < 256; i++ {
		e := v.Index(i)
		if e.err != nil {
			break
		}
		s, _ := e.ReadString(128)
		st.waitReasons = append(st.waitReasons, s)
	}
	return st, b.warns
}

// ReadGoroutines reads the goroutines of runtime.allgs that are not dead.
// A g that cannot be read is left out with a warning.
func (r *Reader) ReadGoroutines() ([]G, []warn.Warning, error) {
	l, err := r.readGLayout()
	if err != nil {
		return nil, nil, fmt.Errorf("reading runtime.g layout: %w", err)
	}
	allgs := r.Global("runtime.allgs")
	n, err := allgs.SliceLen()
	if err != nil {
		return nil, nil, err
	}
	st, warns := r.readGStatus()
	var gs []G
	unreadable := 0
	var rep repeats
	for i := int64(0); i < n; i++ {
		ga, err := allgs.SliceIndex(i).Ptr()
		if err == nil && ga == 0 {
			continue
		}
		var b []byte
		if err == nil {
			b, err = r.proc.Slice(ga, uint64(l.size))
		}
		if err != nil {
			if unreadable++; unreadable <= maxGWarnings {
				warns = append(warns, warn.New(source, "reading runtime.allgs[%d] (g at %#x): %v", i, uint64(ga), err))
			}
			continue
		}
		status := int64(l.status.Read(b) &^ 0x1000) // without _Gscan
		if status == st.dead || status == st.deadExtra || rep.again(ga) {
			continue
		}
		gs = append(gs, decodeG(ga, b, &l, &st, status))
	}
	warns = append(warns, rep.warnings("runtime.allgs", "goroutines")...)
	if unreadable > maxGWarnings {
		warns = append(warns, warn.New(source, "%d more goroutines of runtime.allgs could not be read", unreadable-maxGWarnings))
	}
	if n > 0 && unreadable == int(n) {
		return nil, warns, fmt.Errorf("runtime.allgs lists %d goroutines and none of them can be read: the goroutine list is damaged or lies in memory the core does not hold", n)
	}
	return gs, warns, nil
}

// maxGWarnings is how many unreadable goroutines are warned about one by
// one; the rest are counted.
const maxGWarnings = 3

// decodeG decodes the g at ga, whose bytes are b.
func decodeG(ga dump.Address, b []byte, l *gLayout, st *gStatus, status int64) G {
	g := G{
		Addr:      ga,
		ID:        int64(l.goid.Read(b)),
		Status:    st.names[uint64(status)],
		StackLo:   dump.Address(l.stackLo.Read(b)),
		StackHi:   dump.Address(l.stackHi.Read(b)),
		SchedSP:   l.schedSP.Read(b),
		SchedPC:   l.schedPC.Read(b),
		SchedLR:   l.schedLR.Read(b),
		SyscallSP: l.syscallSP.Read(b),
		SyscallPC: l.syscallPC.Read(b),
		M:         l.m.Read(b),
		Defer:     dump.Address(l.deferp.Read(b)),
	}
	if l.gopc.Present() {
		g.GoPC = l.gopc.Read(b)
	}
	if l.startpc.Present() {
		g.StartPC = l.startpc.Read(b)
	}
	if l.parentGoid.Present() {
		g.ParentID = int64(l.parentGoid.Read(b))
	}
	if l.waitsince.Present() {
		g.WaitSince = int64(l.waitsince.Read(b))
	}
	if g.Status == "" {
		g.Status = fmt.Sprintf("status %d", status)
	}
	if status == st.waiting {
		if wr := l.waitreason.Read(b); wr < uint64(len(st.waitReasons)) {
			g.WaitReason = st.waitReasons[wr]
		}
	}
	if l.schedCtxt.Present() && l.schedCtxt.Read(b) != 0 {
		g.SchedCtxt = ga + dump.Address(l.schedCtxt.Off)
	}
	if l.panicp.Present() && l.panicp.Read(b) != 0 {
		g.Panic = ga + dump.Address(l.panicp.Off)
	}
	return g
}

// Defer is one defer record of a goroutine.
type Defer struct {
	Addr dump.Address
	// Fn and Link are the addresses of its fn and link words, 0 if the
	// version has no such field.
	Fn, Link dump.Address
	Heap     bool // allocated on the heap
}

// DeferLayout holds the runtime._defer fields stack scanning needs.
type DeferLayout struct {
	fn, link, heap FieldLoc
	size           int64
}

// ReadDeferLayout locates the fields of runtime._defer.
func (r *Reader) ReadDeferLayout() (DeferLayout, []warn.Warning) {
	b := &layoutBuilder{r: r}
	const d = "runtime._defer"
	l := DeferLayout{
		fn:   b.opt("deferred functions are not roots", d, "fn"),
		link: b.opt("defer chains are not followed", d, "link"),
		heap: b.opt("heap-allocated defer records are not roots", d, "heap"),
	}
	if t, err := r.dw.TypeNamed(d); err == nil {
		l.size = t.Size()
	}
	return l, b.warns
}

// maxDefers bounds the defer records read for one goroutine.
const maxDefers = 1 << 16

// Defers returns the chain of defer records that starts at first.
func (r *Reader) Defers(l *DeferLayout, first dump.Address) []Defer {
	var out []Defer
	for d, n := first, 0; d != 0 && n < maxDefers && l.size > 0; n++ {
		db, err := r.proc.Slice(d, uint64(l.size))
		if err != nil {
			break
		}
		rec := Defer{Addr: d, Heap: l.heap.Present() && l.heap.Read(db) != 0}
		if l.fn.Present() {
			rec.Fn = d + dump.Address(l.fn.Off)
		}
		if l.link.Present() {
			rec.Link = d + dump.Address(l.link.Off)
		}
		out = append(out, rec)
		d = dump.Address(l.link.Read(db))
	}
	return out
}

// MProcID returns the thread ID (m.procid) of the runtime.m at m.
func (r *Reader) MProcID(m uint64) (uint64, error) {
	return r.ValueAt(dump.Address(m), nil, "m").Cast("runtime.m").Field("procid").Uint()
}

// SignalStack returns the bounds of the signal stack (m.gsignal.stack) of
// the runtime.m at m.
func (r *Reader) SignalStack(m uint64) (lo, hi uint64, err error) {
	st := r.ValueAt(dump.Address(m), nil, "m").Cast("runtime.m").Field("gsignal").Deref().Field("stack")
	if lo, err = st.Field("lo").Uint(); err != nil {
		return 0, 0, err
	}
	if hi, err = st.Field("hi").Uint(); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}
