package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heapsift/heapsift/dump"
	"github.com/spf13/pflag"
)

// liveFlags are --pid and --no-pause: a running process as the image
// instead of a core file.
type liveFlags struct {
	pid     int
	noPause bool
}

func addLiveFlags(fs *pflag.FlagSet, o *options) {
	fs.IntVar(&o.live.pid, "pid", 0, "read the running process PID instead of a core (paused while its memory is copied)")
	fs.BoolVar(&o.live.noPause, "no-pause", false, "with --pid: read the process without stopping it (results may be inconsistent)")
}

// procPID recognises /proc/PID, the name --pid gives a live process among
// the positional arguments (and which may be given as the core itself).
func procPID(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/proc/")
	rest = strings.TrimSuffix(rest, "/")
	if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
		return 0, false
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil
}

// positional puts the process named by --pid among the positional
// arguments where the command expects its core: first, or as NEW for diff.
func (l *liveFlags) positional(c *command, o *options, pos []string) ([]string, error) {
	if l.pid == 0 {
		if l.noPause {
			return nil, usagef("--no-pause goes with --pid")
		}
		return pos, nil
	}
	if l.pid < 0 {
		return nil, usagef("--pid must be a process id, got %d", l.pid)
	}
	if o.raw {
		return nil, usagef("--raw reads a file; it does not go with --pid")
	}
	if c.maxArgs >= 0 && len(pos) >= c.maxArgs {
		return nil, usagef("--pid %d takes the place of a core: %s takes %s, got --pid and %s", l.pid, c.displayName(), c.args, strings.Join(pos, " "))
	}
	arg := "/proc/" + strconv.Itoa(l.pid)
	if c.name == "diff" {
		return append(pos, arg), nil
	}
	return append([]string{arg}, pos...), nil
}

// openSource opens a core file, a compressed core, standard input ("-")
// or, for /proc/PID, the live process.
func (o *options) openSource(path string, opts dump.Options, e *env) (*dump.Process, error) {
	if pid, ok := procPID(path); ok {
		return o.openLive(pid, opts, e)
	}
	opts.Stdin = os.Stdin
	stop := startProgress(e, "reading "+path)
	defer stop()
	return dump.Open(path, opts)
}

// openLive copies a running process's memory. Ctrl-C or SIGTERM during the
// copy stops it and resumes the process (which happens anyway if heapsift
// dies: see package dump).
func (o *options) openLive(pid int, opts dump.Options, e *env) (*dump.Process, error) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stop := startProgress(e, fmt.Sprintf("copying the memory of pid %d", pid))
	p, err := dump.OpenPID(ctx, pid, opts, dump.LiveOptions{NoPause: o.live.noPause})
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while reading pid %d; it was let go and runs on", pid)
		}
		return nil, err
	}
	if !o.json && !p.Source.NoPause {
		fmt.Fprintf(e.stderr, "%s: pid %d paused %s while %s of its memory was copied\n",
			programName, pid, seconds(p.Source.Paused), size(uint64(p.Source.Copied)))
	}
	return p, nil
}

// seconds prints a duration as people read a pause: "0.42 s", "1.8 s".
func seconds(d time.Duration) string {
	s := d.Seconds()
	if s < 1 {
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}

// sourceReport is where the image came from (JSON: see docs/json.md).
type sourceReport struct {
	Kind     string `json:"kind"`
	Format   string `json:"format,omitempty"`
	Copied   int64  `json:"copied,omitempty"`
	PID      int    `json:"pid,omitempty"`
	PausedMS *int64 `json:"paused_ms,omitempty"`
}

func newSourceReport(s dump.Source) sourceReport {
	r := sourceReport{Kind: s.Kind, Format: s.Format, Copied: s.Copied, PID: s.PID}
	if s.Kind == "pid" && !s.NoPause {
		ms := s.Paused.Milliseconds()
		r.PausedMS = &ms
	}
	return r
}

// text describes the source in one line, or "" for a core file read as it
// is.
func (r sourceReport) text() string {
	switch r.Kind {
	case "pid":
		if r.PausedMS == nil {
			return fmt.Sprintf("running process %d, read without pausing it, %s copied", r.PID, size(uint64(r.Copied)))
		}
		return fmt.Sprintf("running process %d, paused %s while %s was copied", r.PID,
			seconds(time.Duration(*r.PausedMS)*time.Millisecond), size(uint64(r.Copied)))
	case "compressed":
		return fmt.Sprintf("%s-compressed, %s decompressed into a temporary file", r.Format, size(uint64(r.Copied)))
	case "stdin":
		return fmt.Sprintf("a stream, %s copied into a temporary file", size(uint64(r.Copied)))
	}
	return ""
}

// liveExamples shows, for a command that reads a core, how to give it a
// running process, a compressed core or standard input instead.
func liveExamples(c *command, fs *pflag.FlagSet) string {
	if fs.Lookup("pid") == nil {
		return ""
	}
	name := c.displayName()
	if c.name == "diff" {
		return "\n# a running process (paused while its memory is copied) against a core\n" +
			name + " before.core --pid 4242"
	}
	rest := ""
	if c.name == "symbol" || c.name == "why" {
		rest = " 0x7f01104e0c70"
	}
	return "\n# a running process, paused while its memory is copied (--no-pause: not at all)\n" +
		name + " --pid 4242" + rest + "\n" +
		"# compressed cores (zstd, lz4, xz, gzip) as systemd-coredump stores them; - reads standard input\n" +
		name + " core.4242.zst" + rest + "\n" +
		"coredumpctl dump 4242 | " + name + " -" + rest
}
