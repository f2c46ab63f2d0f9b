package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/histogram"
	"github.com/spf13/pflag"
)

// options holds every flag a command may take; each command registers the
// groups it uses.
type options struct {
	// dump
	exe     string
	sysroot string
	libDirs []string
	raw     bool
	baseStr string
	base    dump.Address
	live    liveFlags // --pid, --no-pause (live.go)
	// scratch is where the retention analysis keeps its large arrays
	// (--scratch), "" for memory.
	scratch string
	// output
	json bool
	// words
	top      int
	minCount uint64
	skipZero bool
	all      bool
}

func addDumpFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.exe, "exe", "", "the executable the core came from, if not at the path the core records")
	fs.StringVar(&o.sysroot, "sysroot", "", "directory prefixed to the paths of mapped files (executable, libraries)")
	fs.StringSliceVar(&o.libDirs, "lib-dir", nil, "directory to search for mapped files by name (repeatable)")
	fs.BoolVar(&o.raw, "raw", false, "read the file as a flat memory image, not an ELF core")
	fs.StringVar(&o.baseStr, "base", "0", "with --raw: the address of the file's first byte")
}

// addCoreFlags adds the flags every command that reads a core takes.
func addCoreFlags(fs *pflag.FlagSet, o *options) {
	addDumpFlags(fs, o)
	addLiveFlags(fs, o)
	addJSONFlag(fs, o)
}

// addScratchFlag adds --scratch, for the commands that run the retention
// analysis.
func addScratchFlag(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.scratch, "scratch", "", "keep the retention analysis's large arrays (object graph, dominators, paths) in files in this\n"+
		"directory, mapped, instead of in memory: slower, but a heap whose graph exceeds memory is analysed\n"+
		"instead of killed (Linux; each file is deleted as soon as it is made)")
}

func addJSONFlag(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.json, "json", false, "print one JSON document on stdout ("+docsJSONHint+")")
}

func addWordFlags(fs *pflag.FlagSet, o *options, defaultTop int) {
	fs.IntVar(&o.top, "top", defaultTop, fmt.Sprintf("show the N most frequent words (0: all, at most %d)", histogram.MaxTop))
	fs.Uint64Var(&o.minCount, "min-count", 0, "leave out words seen fewer than N times")
	fs.BoolVar(&o.skipZero, "skip-zero", false, "leave the word 0 out of the list")
	fs.BoolVar(&o.all, "all", false, "count every aligned word of the file, headers and notes too (like hexdump)")
}

// check validates flag values that pflag cannot.
func (o *options) check() error {
	if o.baseStr != "" {
		v, err := parseAddress(o.baseStr)
		if err != nil {
			return usagef("--base: %v", err)
		}
		o.base = dump.Address(v)
		if v != 0 && !o.raw {
			return usagef("--base goes with --raw")
		}
	}
	if o.top < 0 {
		return usagef("--top must be positive, got %d", o.top)
	}
	return nil
}

// parseAddress reads an address: hex with 0x, or bare hex digits when they
// include a-f, decimal otherwise.
func parseAddress(s string) (uint64, error) {
	t := strings.TrimSpace(strings.ReplaceAll(s, "_", ""))
	lower := strings.ToLower(t)
	hex := ""
	switch {
	case strings.HasPrefix(lower, "0x"):
		hex = lower[2:]
	case strings.ContainsAny(lower, "abcdef") && !strings.HasPrefix(lower, "-"):
		hex = lower
	}
	if hex != "" || strings.HasPrefix(lower, "0x") {
		v, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an address (want hex digits after 0x, at most 16, e.g. 0x7f01104e0c70)", s)
		}
		return v, nil
	}
	bad := fmt.Errorf("%q is not an address (use hex, e.g. 0x7f01104e0c70)", s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%q is not an address: addresses are not negative (use hex, e.g. 0x7f01104e0c70)", s)
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, bad
	}
	return v, nil
}

// openDump opens the dump named on the command line and prints its warnings.
// Every file it reads is noted as an input that no output may replace.
func (o *options) openDump(path string, e *env) (*dump.Process, error) {
	e.noteInputs(path, o.exe)
	p, err := o.openSource(path, dump.Options{
		Raw: o.raw, Base: o.base, Exe: o.exe, Sysroot: o.sysroot, LibDirs: o.libDirs,
	}, e)
	if err != nil {
		return nil, err
	}
	for _, m := range p.Modules() {
		e.noteInputs(m.LocalPath)
	}
	warnAll(e, p.Warnings())
	return p, nil
}

// openStreamed opens a compressed core reading it once, handing its memory
// to visit (see dump.OpenStreamed). Its warnings are the caller's to show,
// once it keeps the result: on an error, or a result it drops, the core is
// opened again with openDump, which warns.
func (o *options) openStreamed(path string, e *env, visit func(dump.Address, []byte)) (*dump.Process, error) {
	stop := startProgress(e, "reading "+path)
	defer stop()
	p, err := dump.OpenStreamed(path, dump.Options{Exe: o.exe, Sysroot: o.sysroot, LibDirs: o.libDirs}, visit)
	if err != nil {
		return nil, err
	}
	e.noteInputs(path, o.exe)
	for _, m := range p.Modules() {
		e.noteInputs(m.LocalPath)
	}
	return p, nil
}

// withDump opens the dump at path, runs fn on it and closes it.
func (o *options) withDump(path string, e *env, fn func(p *dump.Process) error) error {
	p, err := o.openDump(path, e)
	if err != nil {
		return err
	}
	defer p.Close()
	return fn(p)
}

// textReport is a result that renders itself for people; as JSON it is
// marshalled as it is.
type textReport interface {
	writeText(w io.Writer)
}

// emit prints r as JSON with --json, as text otherwise.
func (o *options) emit(e *env, r textReport) error {
	if o.json {
		return emitJSON(e, r)
	}
	flushWarnings(e)
	r.writeText(e.stdout)
	return nil
}
