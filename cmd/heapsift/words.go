package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/histogram"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/spf13/pflag"
)

// wordRow is one row of the words table (JSON: see docs/json.md).
type wordRow struct {
	Value   string  `json:"value"`
	Count   uint64  `json:"count"`
	Share   float64 `json:"share"`
	Kind    string  `json:"kind"`
	Symbol  string  `json:"symbol,omitempty"`
	Mangled string  `json:"mangled,omitempty"`
	Offset  *uint64 `json:"offset,omitempty"`
	Module  string  `json:"module,omitempty"`
	Section string  `json:"section,omitempty"`
	Mapping string  `json:"mapping,omitempty"`
	Text    string  `json:"text,omitempty"`
	Name    string  `json:"name"`
}

// wordsReport is the result of `heapsift words`.
type wordsReport struct {
	Source      string    `json:"source"`
	TotalWords  uint64    `json:"total_words"`
	Complete    bool      `json:"complete"`
	UnlistedMax uint64    `json:"unlisted_max"`
	Words       []wordRow `json:"words"`
}

// wordRegions picks what to count: the memory the core holds, or with --all
// every word of the file at file offsets.
func wordRegions(p *dump.Process, all bool) ([]histogram.Region, string) {
	if all || p.Kind == "raw" {
		base := uint64(0)
		if p.Kind == "raw" && len(p.Mappings()) > 0 {
			base = uint64(p.Mappings()[0].Start)
		}
		return []histogram.Region{{Addr: base, Data: p.FileData()}}, "whole file"
	}
	var rs []histogram.Region
	for _, m := range p.Mappings() {
		if d := m.CoreData(); len(d) > 0 {
			rs = append(rs, histogram.Region{Addr: uint64(m.Start), Data: d})
		}
	}
	return rs, "core memory"
}

// wordOptions are the histogram options of words' flags.
func wordOptions(o *options) (histogram.Options, error) {
	if o.top > histogram.MaxTop {
		return histogram.Options{}, usagef("--top is at most %d for words", histogram.MaxTop)
	}
	top := o.top
	if top == 0 {
		top = histogram.MaxTop // all: as many as a count lists
	}
	return histogram.Options{Top: top, MinCount: o.minCount, SkipZero: o.skipZero}, nil
}

// countWords runs the histogram and names the rows.
func countWords(p *dump.Process, o *options, e *env) (*wordsReport, error) {
	hopts, err := wordOptions(o)
	if err != nil {
		return nil, err
	}
	regions, source := wordRegions(p, o.all)
	res, err := histogram.Count(regions, hopts)
	if err != nil {
		return nil, fmt.Errorf("counting words: %w", err)
	}
	return nameWords(p, res, source, e)
}

// nameWords names the rows of a count.
func nameWords(p *dump.Process, res *histogram.Result, source string, e *env) (*wordsReport, error) {
	sym, err := newSymbolizer(p, e)
	if err != nil {
		return nil, err
	}
	r := &wordsReport{Source: source, TotalWords: res.Words, Complete: res.Complete, UnlistedMax: res.UnlistedMax, Words: []wordRow{}}
	for _, row := range res.Rows {
		r.Words = append(r.Words, newWordRow(sym.Describe(row.Value), row.Count, res.Words))
	}
	return r, nil
}

// streamWords counts the words of a compressed core as it is decompressed,
// without the temporary copy of its memory that opening it takes (see
// dump.OpenStreamed). When one pass cannot give the complete listing (its
// candidates come from the start of the memory), a second pass resolves
// the values it could only bound, as Count's repair pass does. It reports
// ok false when the core is not one it can stream: words then opens it as
// every command does. --all, --raw, standard input, a live process and
// --top 0 (every value: rarely complete in one pass) are not streamed.
func streamWords(path string, o *options, e *env) (r *wordsReport, ok bool, err error) {
	if o.all || o.raw || o.top == 0 || path == "-" {
		return nil, false, nil
	}
	if _, live := procPID(path); live {
		return nil, false, nil
	}
	hopts, err := wordOptions(o)
	if err != nil {
		return nil, false, err
	}
	st, err := histogram.NewStream(hopts)
	if err != nil {
		return nil, false, err
	}
	p, res, err := streamPass(path, o, e, st)
	if err != nil {
		return nil, false, nil
	}
	if rs := st.Repair(); rs != nil {
		p.Close()
		if p, res, err = streamPass(path, o, e, rs); err != nil {
			return nil, false, nil
		}
	}
	defer p.Close()
	warnAll(e, p.Warnings())
	r, err = nameWords(p, res, "core memory", e)
	return r, err == nil, err
}

// streamPass reads a compressed core once, counting its memory in st
// beside the decompression.
func streamPass(path string, o *options, e *env, st *histogram.Stream) (*dump.Process, *histogram.Result, error) {
	st.Async()
	p, err := o.openStreamed(path, e, func(a dump.Address, b []byte) { st.Write(uint64(a), b) })
	res := st.Result()
	return p, res, err
}

func newWordRow(n symbolize.Name, cnt, total uint64) wordRow {
	w := wordRow{
		Value: hexWord(n.Value), Count: cnt, Kind: string(n.Kind), Name: n.String(),
		Symbol: n.Symbol, Mangled: n.Mangled, Module: n.Module, Section: n.Section,
		Mapping: n.Mapping, Text: n.Text,
	}
	if total > 0 {
		w.Share = float64(cnt) / float64(total)
	}
	if n.Kind == symbolize.KindSymbol {
		off := n.Offset
		w.Offset = &off
	}
	return w
}

func (r *wordsReport) writeText(w io.Writer) {
	t := newTable(">COUNT", ">SHARE", "VALUE", "WHAT", "WHERE")
	for _, row := range r.Words {
		where := ""
		switch {
		case row.Module != "" && row.Section != "":
			where = filepath.Base(row.Module) + " " + row.Section
		case row.Module != "":
			where = filepath.Base(row.Module)
		}
		t.add(count(row.Count), fmt.Sprintf("%.2f%%", 100*row.Share), row.Value, row.Name, where)
	}
	t.write(w)
	fmt.Fprintf(w, "\n%s words counted in the %s", count(r.TotalWords), termSafe(r.Source))
	if !r.Complete {
		fmt.Fprintf(w, "; values not listed occur at most %s times each", count(r.UnlistedMax))
	}
	fmt.Fprintln(w)
}

func wordsCommand() *command {
	return &command{
		name: "words", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Count the most frequent 8-byte words and name each one.\n" +
			"A word is named as a symbol in the executable or a library (C++ vtables demangled), a pointer\n" +
			"into a mapping, a small or negative number, or ASCII text.\n" +
			"On a CPython core this is a type histogram: every object's second word is its type.",
		example: "heapsift words core.25867\nheapsift words --top 50 --skip-zero core\nheapsift words --json core | jq '.words[0]'\nheapsift words --raw --base 0x7f0000000000 memory.bin",
		flags: func(fs *pflag.FlagSet, o *options) {
			addWordFlags(fs, o, 20)
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			if r, ok, err := streamWords(args[0], o, e); err != nil || ok {
				if err != nil {
					return err
				}
				return o.emit(e, r)
			}
			return o.withDump(args[0], e, func(p *dump.Process) error {
				r, err := countWords(p, o, e)
				if err != nil {
					return err
				}
				return o.emit(e, r)
			})
		},
	}
}

// symbolRow answers `heapsift symbol` for one address.
type symbolRow struct {
	Addr string `json:"addr"`
	wordRow
	GDB  string   `json:"gdb"`
	Heap *heapRef `json:"heap,omitempty"`
}

// heapRef names an address inside a Go heap object.
type heapRef struct {
	Object string `json:"object"`
	Type   string `json:"type"`
	Offset uint64 `json:"offset"`
	Field  string `json:"field"`
	Live   bool   `json:"live"`
}

func symbolCommand() *command {
	return &command{
		name: "symbol", args: "CORE ADDR...", minArgs: 2, maxArgs: -1,
		summary: "Say what each address is, like gdb's 'info symbol', without gdb.",
		example: "heapsift symbol core.25867 0x7f01104e0c70\n  0x7f01104e0c70: PyTuple_Type in section .data of /usr/lib/libpython3.6m.so.1.0",
		flags: func(fs *pflag.FlagSet, o *options) {
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			addrs := make([]uint64, 0, len(args)-1)
			for _, a := range args[1:] {
				v, err := parseAddress(a)
				if err != nil {
					return usagef("%v", err)
				}
				addrs = append(addrs, v)
			}
			return o.withDump(args[0], e, func(p *dump.Process) error {
				sym, err := newSymbolizer(p, e)
				if err != nil {
					return err
				}
				m := maybeHeap(p, e)
				var rows []symbolRow
				for _, a := range addrs {
					n := sym.Describe(a)
					row := symbolRow{Addr: hexAddr(a), wordRow: newWordRow(n, 0, 0), GDB: n.GDB()}
					if m != nil {
						if obj, off, ok := m.h.ObjectAt(a); ok {
							row.Kind, row.GDB = "heap", strings.TrimPrefix(m.describe(a), row.Addr+": ")
							row.Name = row.GDB
							row.Heap = &heapRef{Object: hexAddr(m.h.Addr(obj)), Type: heap.ObjectTypeName(m.h, obj),
								Offset: off, Field: m.h.PathAt(obj, off).String(), Live: m.h.Live(obj)}
						}
					}
					rows = append(rows, row)
				}
				if o.json {
					return emitJSON(e, map[string]any{"symbols": rows})
				}
				for _, r := range rows {
					fmt.Fprintf(e.stdout, "%s: %s\n", r.Addr, termSafe(r.GDB))
				}
				return nil
			})
		},
	}
}
