package main

import (
	"cmp"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/spf13/pflag"
)

// infoReport is the overview of a dump (JSON: see docs/json.md).
type infoReport struct {
	File       string            `json:"file"`
	FileSize   int64             `json:"file_size"`
	Source     sourceReport      `json:"source"`
	Kind       string            `json:"kind"`
	Arch       string            `json:"arch"`
	PID        int               `json:"pid,omitempty"`
	Command    string            `json:"command,omitempty"`
	Args       string            `json:"args,omitempty"`
	Signal     *signalReport     `json:"signal,omitempty"`
	Threads    int               `json:"threads"`
	Memory     memoryReport      `json:"memory"`
	Executable *moduleReport     `json:"executable,omitempty"`
	Modules    int               `json:"modules"`
	Go         *goInfoReport     `json:"go,omitempty"`
	Python     *pyInfoReport     `json:"python,omitempty"`
	Native     *nativeInfoReport `json:"native,omitempty"`
}

type signalReport struct {
	Name      string `json:"name"`
	Number    int    `json:"number"`
	Code      int    `json:"code"`
	Addr      string `json:"addr,omitempty"`
	SenderPID int    `json:"sender_pid,omitempty"`
}

type memoryReport struct {
	Mappings  int    `json:"mappings"`
	Mapped    uint64 `json:"mapped"`
	InCore    uint64 `json:"in_core"`
	FromFiles uint64 `json:"from_files"`
	gapsReport
	Truncated uint64 `json:"truncated"`
}

// gapsReport says why bytes cannot be read, in the words of dump.Gaps;
// info's totals and each row of mappings share it.
type gapsReport struct {
	Reserved uint64 `json:"reserved"`
	LeftOut  uint64 `json:"left_out"`
	NotELF   uint64 `json:"file_not_elf"`
	Missing  uint64 `json:"missing"`
}

func newGapsReport(g dump.Gaps) gapsReport {
	return gapsReport{Reserved: g.Reserved, LeftOut: g.LeftOut, NotELF: g.NotELF, Missing: g.Missing}
}

// text lists the gaps that are not empty, e.g. "2.0 GiB reserved (no
// access), 1.2 MiB left out by coredump_filter"; with missing, says so
// when nothing is missing.
func (g gapsReport) text(missing bool) string {
	var parts []string
	for _, k := range []struct {
		n    uint64
		what string
	}{
		{g.Reserved, "reserved (no access)"}, {g.LeftOut, "left out by coredump_filter"},
		{g.NotELF, "of files not ELF (not read)"}, {g.Missing, "missing"},
	} {
		if k.n > 0 {
			parts = append(parts, size(k.n)+" "+k.what)
		}
	}
	if missing && g.Missing == 0 {
		parts = append(parts, "nothing missing")
	}
	return strings.Join(parts, ", ")
}

type moduleReport struct {
	Path        string `json:"path"`
	LocalPath   string `json:"local_path"`
	Start       string `json:"start"`
	End         string `json:"end"`
	BuildID     string `json:"build_id,omitempty"`
	FileBuildID string `json:"file_build_id,omitempty"`
	Mismatch    bool   `json:"mismatch"`
}

func newModuleReport(m *dump.Module) *moduleReport {
	return &moduleReport{
		Path: m.Path, LocalPath: m.LocalPath,
		Start: hexAddr(uint64(m.Start)), End: hexAddr(uint64(m.End)),
		BuildID: m.BuildID, FileBuildID: m.FileBuildID, Mismatch: m.Mismatch,
	}
}

func newInfoReport(p *dump.Process) *infoReport {
	t := p.Totals()
	r := &infoReport{
		File: p.Path, FileSize: p.FileSize, Source: newSourceReport(p.Source), Kind: p.Kind, Arch: string(p.Arch),
		Threads: len(p.Threads), Modules: len(p.Modules()),
		Memory: memoryReport{
			Mappings: len(p.Mappings()), Mapped: t.Mapped, InCore: t.InCore,
			FromFiles: t.FromFiles, gapsReport: newGapsReport(t.Gaps), Truncated: t.Truncated,
		},
	}
	if p.Info != nil {
		r.PID, r.Command, r.Args = p.Info.PID, p.Info.Command, p.Info.Args
	}
	if s := p.Signal; s != nil {
		r.Signal = &signalReport{Name: s.Name(), Number: s.Signo, Code: s.Code, SenderPID: s.SenderPID}
		if s.Addr != 0 {
			r.Signal.Addr = hexAddr(uint64(s.Addr))
		}
	}
	if exe := p.Executable(); exe != nil {
		r.Executable = newModuleReport(exe)
	}
	return r
}

func (r *infoReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "file        %s (%s, %s %s)\n", termSafe(r.File), size(uint64(r.FileSize)), r.Kind, r.Arch)
	if s := r.Source.text(); s != "" {
		fmt.Fprintf(w, "source      %s\n", s)
	}
	if r.Command != "" || r.PID != 0 {
		fmt.Fprintf(w, "process     pid %d, %s\n", r.PID, quoteArgs(r.Command, r.Args))
	}
	if s := r.Signal; s != nil {
		line := fmt.Sprintf("%s (%d)", s.Name, s.Number)
		if s.Addr != "" {
			line += " at " + s.Addr
		}
		if s.SenderPID != 0 && s.SenderPID != r.PID {
			line += fmt.Sprintf(", sent by pid %d", s.SenderPID)
		}
		fmt.Fprintf(w, "signal      %s\n", line)
	}
	fmt.Fprintf(w, "threads     %d\n", r.Threads)
	m := r.Memory
	fmt.Fprintf(w, "memory      %s mapped in %d mappings: %s in the core, %s read from files, %s",
		size(m.Mapped), m.Mappings, size(m.InCore), size(m.FromFiles), m.gapsReport.text(true))
	if m.Truncated > 0 {
		fmt.Fprintf(w, " (%s lost to truncation)", size(m.Truncated))
	}
	fmt.Fprintln(w)
	if e := r.Executable; e != nil {
		state := "found at " + termSafe(e.LocalPath)
		switch {
		case e.Mismatch:
			state = "build ID mismatch, not used"
		case e.LocalPath == "":
			state = "not found (use --exe)"
		}
		fmt.Fprintf(w, "executable  %s (%s)\n", termSafe(e.Path), state)
	}
	if r.Go != nil {
		r.Go.writeText(w)
	}
	if r.Python != nil {
		r.Python.writeText(w)
	}
	if r.Native != nil {
		r.Native.writeText(w)
	}
}

// setModel adds the language's section.
func (r *infoReport) setModel(m *heapModel) {
	switch {
	case m.goP != nil:
		r.Go = newGoInfoReport(m.goP.prog)
	case m.py != nil:
		r.Python = newPyInfoReport(m.py)
	case m.nat != nil:
		r.Native = newNativeInfoReport(m.nat)
	}
}

// quoteArgs shows the command line, or the command name when the core
// recorded no arguments.
func quoteArgs(cmd, args string) string {
	if args != "" {
		return termSafe(args)
	}
	return termSafe(cmd)
}

func infoCommand() *command {
	return &command{
		name: "info", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Describe a core: process, fatal signal, threads, memory, executable (and the Go runtime's or the\n" +
			"Python interpreter's view on a Go or Python core).",
		example: "heapsift info core.25867\nheapsift info --json core | jq .signal",
		flags: func(fs *pflag.FlagSet, o *options) {
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withDump(args[0], e, func(p *dump.Process) error {
				r := newInfoReport(p)
				m := maybeHeap(p, e)
				if m != nil {
					r.setModel(m)
				}
				if err := o.emit(e, r); err != nil {
					return err
				}
				return m.damage(args[0])
			})
		},
	}
}

// mappingReport is one row of `heapsift mappings`.
type mappingReport struct {
	Start      string `json:"start"`
	End        string `json:"end"`
	Size       uint64 `json:"size"`
	Perm       string `json:"perm"`
	Name       string `json:"name"`
	File       string `json:"file,omitempty"`
	FileOffset uint64 `json:"file_offset"`
	InCore     uint64 `json:"in_core"`
	FromFile   uint64 `json:"from_file"`
	gapsReport
}

func mappingsCommand() *command {
	return &command{
		name: "mappings", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "List the core's memory mappings: range, permissions, name, and where their bytes come from.",
		example: "heapsift mappings core\nheapsift mappings --json core | jq '.mappings[] | select(.missing > 0)'",
		flags: func(fs *pflag.FlagSet, o *options) {
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withDump(args[0], e, func(p *dump.Process) error {
				var rows []mappingReport
				for _, m := range p.Mappings() {
					rows = append(rows, mappingReport{
						Start: hexAddr(uint64(m.Start)), End: hexAddr(uint64(m.End)), Size: m.Size(),
						Perm: m.Perm.String(), Name: m.Name, File: m.File, FileOffset: m.FileOffset,
						InCore: uint64(len(m.CoreData())), FromFile: m.FromFile(), gapsReport: newGapsReport(m.Gaps()),
					})
				}
				if o.json {
					return emitJSON(e, map[string]any{"mappings": rows})
				}
				t := newTable("START", "END", ">SIZE", "PERM", ">IN CORE", ">FROM FILE", "NOT READ", "NAME")
				for _, r := range rows {
					name := r.Name
					if name == "" {
						name = "[anon]"
					} else if r.File != "" {
						name = fmt.Sprintf("%s +%#x", filepath.Base(r.File), r.FileOffset)
					}
					t.add(r.Start, r.End, size(r.Size), r.Perm, dash(r.InCore), dash(r.FromFile), cmp.Or(r.gapsReport.text(false), "-"), name)
				}
				t.write(e.stdout)
				return nil
			})
		},
	}
}

// dash prints a size, or "-" for zero, so that tables stay readable.
func dash(n uint64) string {
	if n == 0 {
		return "-"
	}
	return size(n)
}
