package main

import (
	"path/filepath"
	"strings"

	"github.com/heapsift/heapsift/compare"
	"github.com/heapsift/heapsift/dump"
)

// diffModules lists p's file-backed modules with whether their names could
// be resolved, for compare.Reliable.
func diffModules(p *dump.Process) []compare.Module {
	var out []compare.Module
	for _, m := range p.Modules() {
		if !filepath.IsAbs(m.Path) {
			continue // [vdso] and the like: no file on either side
		}
		cm := compare.Module{Name: filepath.Base(m.Path), Resolved: m.LocalPath != "" && !m.Mismatch}
		switch {
		case m.Mismatch:
			cm.Why = "the file at hand has another build ID; pass the right one with --old-exe, --new-exe or --lib-dir"
		case m.LocalPath == "":
			cm.Why = m.Path + " is not on this machine; pass it with --old-exe, --new-exe, --sysroot or --lib-dir"
		}
		out = append(out, cm)
	}
	return out
}

// setReliable says whether the diff r of kind can be trusted: a type
// diff names rows from both executables; a word diff needs both dumps'
// names resolved alike.
func (r *diffReport) setReliable(kind compare.Kind, oldP, newP *dump.Process) {
	r.Reliable = true
	if kind == compare.ByType {
		return
	}
	r.Reliable, r.ReliableReason = compare.Reliable(diffModules(oldP), diffModules(newP))
}

// growthVerdict turns the growth checks into the exit: 3 when a limit is
// exceeded, 1 when limits were given but the diff is not reliable (its
// growth by name is meaningless, so neither a failure nor a pass holds).
func (r *diffReport) growthVerdict(limits int, failed []string) error {
	switch {
	case limits > 0 && !r.Reliable:
		return &exitCodeError{code: exitError, msg: "--fail-on-growth cannot be checked: the diff is not reliable: " + r.ReliableReason}
	case len(failed) > 0:
		return &exitCodeError{code: exitGrowth, msg: "growth over the limit: " + strings.Join(failed, "; ")}
	}
	return nil
}
