package pycore

import (
	"fmt"
	"strings"
)

// CPython 3.13+ writes _Py_DebugOffsets at the start of _PyRuntime: the
// offsets of the members out-of-process tools read, as the running
// interpreter was built. pycore checks its Layout against them, so that a
// local libpython that differs from the dumped one is caught before its
// layout is trusted. (A Layout filled from them alone, for stripped
// builds, would also need what they omit: dict keys, sets, str state.)

// debugOffsetsCookie starts _Py_DebugOffsets.
const debugOffsetsCookie = "xdebugpy"

// checkDebugOffsets compares the layout with the core's _Py_DebugOffsets,
// when libpython has them.
func (h *Heap) checkDebugOffsets(ix *dwarfIndex, runtime uint64) error {
	const st = "_PyRuntimeState"
	cookie, ok := ix.field(st, "debug_offsets.cookie")
	if !ok || runtime == 0 {
		return nil
	}
	b, err := h.mem.bytes(runtime+uint64(cookie.off), int64(len(debugOffsetsCookie)))
	if err != nil || string(b) != debugOffsetsCookie {
		return fmt.Errorf("pycore: _PyRuntime at %#x does not start with _Py_DebugOffsets: the layout of %s does not fit this core", runtime, h.lib)
	}
	var bad []string
	for _, c := range h.debugOffsetChecks() {
		m, ok := ix.field(st, "debug_offsets."+c.path)
		if !ok || c.want == absent {
			continue
		}
		got, err := h.mem.i64(runtime + uint64(m.off))
		if err != nil {
			return fmt.Errorf("pycore: reading _Py_DebugOffsets.%s: %w", c.path, err)
		}
		if got != c.want {
			bad = append(bad, fmt.Sprintf("%s is %d, the DWARF says %d", c.path, got, c.want))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("pycore: the core's _Py_DebugOffsets disagree with %s (%s): the layout does not fit this core", h.lib, strings.Join(bad, "; "))
	}
	return nil
}

// debugOffsetCheck is one member of _Py_DebugOffsets and the offset the
// layout has for it.
type debugOffsetCheck struct {
	path string
	want int64
}

func (h *Heap) debugOffsetChecks() []debugOffsetCheck {
	l := h.l
	s := &l.State
	return []debugOffsetCheck{
		{"runtime_state.interpreters_head", s.RuntimeInterpHead},
		{"interpreter_state.next", s.InterpNext},
		{"interpreter_state.threads_head", s.InterpThreads},
		{"interpreter_state.gc", s.InterpGC},
		{"interpreter_state.imports_modules", s.InterpModules},
		{"interpreter_state.sysdict", s.InterpSysdict},
		{"interpreter_state.builtins", s.InterpBuiltins},
		{"thread_state.next", s.ThreadNext},
		{"thread_state.current_frame", s.ThreadCurrentFrame},
		{"thread_state.thread_id", s.ThreadID},
		{"thread_state.native_thread_id", s.ThreadNativeID},
		{"interpreter_frame.previous", l.Frame.IPrevious},
		{"interpreter_frame.executable", l.Frame.IExec},
		{"interpreter_frame.instr_ptr", l.Frame.IInstr},
		{"interpreter_frame.localsplus", l.Frame.ILocalsPlus},
		{"interpreter_frame.owner", l.Frame.IOwner},
		{"code_object.filename", l.Code.Filename},
		{"code_object.name", l.Code.Name},
		{"code_object.qualname", l.Code.Qualname},
		{"code_object.linetable", l.Code.Linetable},
		{"code_object.firstlineno", l.Code.Firstlineno},
		{"code_object.localsplusnames", l.Code.LocalsPlusNames},
		{"code_object.co_code_adaptive", l.Code.CodeAdaptive},
		{"pyobject.ob_type", l.ObType},
		{"type_object.tp_name", l.Type.Name},
		{"tuple_object.ob_item", l.Tuple.Item},
		{"list_object.ob_item", l.List.Item},
		{"dict_object.ma_keys", l.Dict.Keys},
		{"dict_object.ma_values", l.Dict.Values},
	}
}
