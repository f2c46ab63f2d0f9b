// Command heapsift analyses the memory of a dead process: a Linux core file
// or a raw memory dump.
//
// On any core it counts the most frequent 8-byte words and names each one
// (a symbol, a C++ vtable, a pointer into a mapping, ASCII text). On a Go
// core it rebuilds the heap: every live object with its type, goroutines,
// and what keeps the largest groups of objects alive.
//
// This package only parses flags and renders results; the analysis lives in
// the packages dump, symbolize, histogram, gocore and retain.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/heapsift/heapsift/warn"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // the analysis failed
	exitUsage    = 2 // bad command line
	exitGrowth   = 3 // diff --fail-on-growth threshold exceeded
	programName  = "heapsift"
	docsJSONHint = "see docs/json.md for the JSON fields"
)

// usageError is a mistake on the command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCodeError ends the program with a specific code after printing
// nothing more (the output was already written).
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

// env is what a command writes to.
type env struct {
	stdout, stderr io.Writer
	rawStdout      io.Writer               // stdout unfiltered, for binary output
	inputs         []string                // files the command reads (safety.go)
	warnings       warn.List               // said so far (warnings.go)
	late           []func() []warn.Warning // sources of warnings found lazily
	memTrace       *memTrace               // stage memory for developers (memtrace.go), or nil
}

func main() {
	// HEAPSIFT_CPUPROFILE=FILE writes a CPU profile, for heapsift's own
	// developers.
	if path := os.Getenv("HEAPSIFT_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr})
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, memTrace: newMemTrace(os.Stderr)}))
}

// run executes one command line and returns the exit code. A panic inside
// the analysis is turned into a one-line internal error: a Go trace must
// never reach a user.
func run(args []string, e *env) (code int) {
	debug.SetPanicOnFault(true)
	if e.rawStdout == nil {
		e.rawStdout = e.stdout
		e.stdout = termWriter{e.stdout}
	}
	defer func() {
		if r := recover(); r != nil {
			if err := faultError(r, e); err != nil {
				fmt.Fprintf(e.stderr, "%s: %s\n", programName, oneLine(err.Error()))
				code = exitError
				return
			}
			fmt.Fprintf(e.stderr, "%s: internal error: %v (please report this with the core's description)\n", programName, r)
			if os.Getenv("HEAPSIFT_DEBUG") != "" {
				fmt.Fprintf(e.stderr, "%s\n", debug.Stack())
			}
			code = exitError
		}
	}()
	cmd, rest, err := pickCommand(args)
	if err == nil {
		err = cmd.run(rest, e)
	}
	flushWarnings(e)
	printSummaries(e)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	}
	var ue *usageError
	var ce *exitCodeError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "%s: %s\n", programName, oneLine(ue.msg))
		fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", cmd.displayName())
		return exitUsage
	case errors.As(err, &ce):
		if ce.msg != "" {
			fmt.Fprintf(e.stderr, "%s: %s\n", programName, oneLine(ce.msg))
		}
		return ce.code
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", programName, oneLine(err.Error()))
	return exitError
}

// oneLine keeps an error message to a single line, with any control
// character from a core's text escaped.
func oneLine(s string) string {
	return termSafe(strings.Join(strings.Fields(s), " "))
}
