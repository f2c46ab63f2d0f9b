package pycore

import (
	"fmt"
	"strings"

	"github.com/heapsift/heapsift/dump"
)

// tableHeap returns an empty Heap for an interpreter without DWARF (why
// says what was looked for): its layout is the first of the table's
// layouts of its minor version that fits the core, completed on 3.13+ by
// the core's _Py_DebugOffsets. A warning says which layout was used.
func tableHeap(p *dump.Process, mod *dump.Module, minor int, syms symbols, why error) (*Heap, error) {
	version := coreVersion(p, syms)
	cands := tableCandidates(minor, version)
	if len(cands) == 0 {
		return nil, fmt.Errorf("pycore: %v; pycore's layout table has no layout of CPython 3.%d (it has %s): install the interpreter's debugging information (its -dbg or -dbgsym package)", why, minor, tableMinors())
	}
	var fails []string
	for _, c := range cands {
		l := c.layout // a copy: _Py_DebugOffsets may change members
		h := newHeap(p, mod, &l)
		how, err := h.fitTable(syms)
		if err != nil {
			fails = append(fails, fmt.Sprintf("%s: %v", c.describe(), err))
			continue
		}
		h.warns.Addf("pycore", "%v: the layout of CPython's structs is %s, %s", why, c.describe(), how)
		if syms.subtypeDealloc == 0 {
			h.warns.Addf("pycore", "%s does not name subtype_dealloc: types C extensions make at run time are read as classes", mod.Path)
		}
		return h, nil
	}
	return nil, fmt.Errorf("pycore: %v; and none of the %d layouts pycore's table has for CPython 3.%d fits this core (%s): install the interpreter's debugging information (its -dbg or -dbgsym package)",
		why, len(cands), minor, strings.Join(fails, "; "))
}

// fitTable checks a table layout against the core, after taking what the
// core's _Py_DebugOffsets give (3.13+). It says how the layout was
// checked.
func (h *Heap) fitTable(syms symbols) (string, error) {
	how := "checked against the core's static types"
	changed, found, err := h.adoptDebugOffsets(syms.runtime)
	if err != nil {
		return "", err
	}
	if found {
		how = "with the offsets of the core's _Py_DebugOffsets, " + how
		if len(changed) > 0 {
			how += fmt.Sprintf(" (_Py_DebugOffsets differ from the table in %s)", strings.Join(changed, ", "))
		}
	}
	if err := h.checkLayout(syms); err != nil {
		return "", err
	}
	if err := h.findInterpreters(syms); err != nil {
		return "", err
	}
	if err := h.checkInterpreter(syms); err != nil {
		return "", err
	}
	return how, nil
}

// coreVersion returns the dumped interpreter's version ("3.11.2") from
// Py_Version (3.11+), or "" if unknown.
func coreVersion(p *dump.Process, syms symbols) string {
	if syms.version == 0 {
		return ""
	}
	v, err := p.Uint32(dump.Address(syms.version))
	if err != nil || v>>24 != 3 {
		return ""
	}
	return fmt.Sprintf("3.%d.%d", v>>16&0xff, v>>8&0xff)
}

// checkInterpreter checks the layout's interpreter state against the
// main interpreter found: its modules, sys dict and builtins are dicts,
// and the first object of each of the collector's lists is an object of
// some type. Layouts of neighbouring versions that read the static types
// right can still differ here (3.8's and 3.9's do).
func (h *Heap) checkInterpreter(syms symbols) error {
	interp := h.interps[0]
	s := &h.l.State
	for _, m := range []struct {
		off  int64
		name string
	}{{s.InterpModules, "modules"}, {s.InterpSysdict, "sysdict"}, {s.InterpBuiltins, "builtins"}} {
		d, err := h.mem.u64(interp + uint64(m.off))
		if err != nil {
			return fmt.Errorf("pycore: reading the interpreter's %s: %w", m.name, err)
		}
		if t, err := h.mem.u64(d + uint64(h.l.ObType)); err != nil || t != h.dictTypeAddr {
			return fmt.Errorf("pycore: the interpreter's %s at %#x is not a dict: the layout of %s does not fit this core", m.name, d, h.lib)
		}
	}
	heads, err := h.gcListHeads(syms)
	if err != nil {
		return err
	}
	for _, head := range heads {
		next, err := h.mem.u64(head + uint64(h.l.GCNext))
		if err != nil {
			return fmt.Errorf("pycore: reading the collector list at %#x: %w", head, err)
		}
		if next&^3 == head {
			continue // empty
		}
		if _, err := h.typeOf(h.typeOfObject(next&^3 + uint64(h.l.GCHeadSize))); err != nil {
			return fmt.Errorf("pycore: the collector list at %#x does not start with an object: the layout of %s does not fit this core", head, h.lib)
		}
	}
	return nil
}

// typeOfObject returns the type pointer of the object at a, or 0.
func (h *Heap) typeOfObject(a uint64) uint64 {
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return 0
	}
	return t
}
