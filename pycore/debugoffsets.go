package pycore

import (
	"fmt"
	"strings"
)

// CPython 3.13+ writes _Py_DebugOffsets at the start of _PyRuntime: the
// offsets of the members out-of-process tools read, as the running
// interpreter was built. The struct is the same for every patch release
// of a minor version (pycore_runtime.h), so where its members sit in
// _PyRuntime is part of the Layout (debugOffsets), from the DWARF or the
// generated table. With DWARF, pycore checks its Layout against the
// core's values, so that a local libpython that differs from the dumped
// one is caught before its layout is trusted; without, the core's values
// override the table's (they omit dict keys, sets and str state, which
// the table gives).

// debugOffsetsCookie starts _Py_DebugOffsets.
const debugOffsetsCookie = "xdebugpy"

// The members of _Py_DebugOffsets that say which build it describes.
const (
	debugCookie       = "cookie"
	debugVersion      = "version"       // PY_VERSION_HEX
	debugFreeThreaded = "free_threaded" // Py_GIL_DISABLED
)

// debugOffsetField is one member of _Py_DebugOffsets and the Layout member
// it gives.
type debugOffsetField struct {
	path  string
	field *int64
}

// debugOffsetFields pairs the members of _Py_DebugOffsets with l's.
func debugOffsetFields(l *Layout) []debugOffsetField {
	s := &l.State
	return []debugOffsetField{
		{"runtime_state.interpreters_head", &s.RuntimeInterpHead},
		{"interpreter_state.next", &s.InterpNext},
		{"interpreter_state.threads_head", &s.InterpThreads},
		{"interpreter_state.gc", &s.InterpGC},
		{"interpreter_state.imports_modules", &s.InterpModules},
		{"interpreter_state.sysdict", &s.InterpSysdict},
		{"interpreter_state.builtins", &s.InterpBuiltins},
		{"thread_state.next", &s.ThreadNext},
		{"thread_state.current_frame", &s.ThreadCurrentFrame},
		{"thread_state.thread_id", &s.ThreadID},
		{"thread_state.native_thread_id", &s.ThreadNativeID},
		{"interpreter_frame.previous", &l.Frame.IPrevious},
		{"interpreter_frame.executable", &l.Frame.IExec},
		{"interpreter_frame.instr_ptr", &l.Frame.IInstr},
		{"interpreter_frame.localsplus", &l.Frame.ILocalsPlus},
		{"interpreter_frame.owner", &l.Frame.IOwner},
		{"code_object.filename", &l.Code.Filename},
		{"code_object.name", &l.Code.Name},
		{"code_object.qualname", &l.Code.Qualname},
		{"code_object.linetable", &l.Code.Linetable},
		{"code_object.firstlineno", &l.Code.Firstlineno},
		{"code_object.localsplusnames", &l.Code.LocalsPlusNames},
		{"code_object.co_code_adaptive", &l.Code.CodeAdaptive},
		{"pyobject.ob_type", &l.ObType},
		{"type_object.tp_name", &l.Type.Name},
		{"tuple_object.ob_item", &l.Tuple.Item},
		{"list_object.ob_item", &l.List.Item},
		{"dict_object.ma_keys", &l.Dict.Keys},
		{"dict_object.ma_values", &l.Dict.Values},
	}
}

// fillDebugOffsets records where _PyRuntimeState keeps the members of
// _Py_DebugOffsets pycore reads, if the version has them (3.13+).
func (f *filler) fillDebugOffsets(l *Layout) {
	paths := []string{debugCookie, debugVersion, debugFreeThreaded}
	for _, d := range debugOffsetFields(l) {
		paths = append(paths, d.path)
	}
	for _, p := range paths {
		if m, ok := f.ix.field("_PyRuntimeState", "debug_offsets."+p); ok {
			if l.debugOffsets == nil {
				l.debugOffsets = map[string]int64{}
			}
			l.debugOffsets[p] = m.Offset
		}
	}
}

// readDebugOffsets reads the core's _Py_DebugOffsets in _PyRuntime at
// runtime, by member path. It returns nil if the layout's version has
// none, and an error if _PyRuntime does not start with them.
func (h *Heap) readDebugOffsets(runtime uint64) (map[string]int64, error) {
	cookie, ok := h.l.debugOffsets[debugCookie]
	if !ok || runtime == 0 {
		return nil, nil
	}
	b, err := h.mem.bytes(runtime+uint64(cookie), int64(len(debugOffsetsCookie)))
	if err != nil || string(b) != debugOffsetsCookie {
		return nil, fmt.Errorf("pycore: _PyRuntime at %#x does not start with _Py_DebugOffsets: the layout of %s does not fit this core", runtime, h.lib)
	}
	vals := map[string]int64{}
	for p, off := range h.l.debugOffsets {
		if p == debugCookie {
			continue
		}
		v, err := h.mem.i64(runtime + uint64(off))
		if err != nil {
			return nil, fmt.Errorf("pycore: reading _Py_DebugOffsets.%s: %w", p, err)
		}
		vals[p] = v
	}
	if vals[debugFreeThreaded] != 0 {
		return nil, fmt.Errorf("pycore: %s is a free-threaded build (Py_GIL_DISABLED), whose objects pycore cannot read", h.lib)
	}
	return vals, nil
}

// checkDebugOffsets compares the layout with the core's _Py_DebugOffsets,
// when the version has them.
func (h *Heap) checkDebugOffsets(runtime uint64) error {
	vals, err := h.readDebugOffsets(runtime)
	if err != nil {
		return err
	}
	var bad []string
	for _, d := range debugOffsetFields(h.l) {
		got, ok := vals[d.path]
		if ok && *d.field != absent && got != *d.field {
			bad = append(bad, fmt.Sprintf("%s is %d, the layout says %d", d.path, got, *d.field))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("pycore: the core's _Py_DebugOffsets disagree with %s (%s): the layout does not fit this core", h.lib, strings.Join(bad, "; "))
	}
	return nil
}

// adoptDebugOffsets sets the members of the layout that the core's
// _Py_DebugOffsets give to the core's values. It returns the paths of
// those that differed, and whether the core has _Py_DebugOffsets.
func (h *Heap) adoptDebugOffsets(runtime uint64) (changed []string, found bool, err error) {
	vals, err := h.readDebugOffsets(runtime)
	if err != nil || vals == nil {
		return nil, false, err
	}
	for _, d := range debugOffsetFields(h.l) {
		got, ok := vals[d.path]
		if !ok || *d.field == got {
			continue
		}
		if got < 0 || got > 1<<20 {
			return nil, true, fmt.Errorf("pycore: the core's _Py_DebugOffsets.%s is %d, not an offset", d.path, got)
		}
		if *d.field != absent {
			changed = append(changed, d.path)
		}
		*d.field = got
	}
	return changed, true, nil
}
