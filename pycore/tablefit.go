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
