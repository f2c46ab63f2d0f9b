package gocore

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// rtGoroutine is one goroutine of the runtime's own traceback
// (GOTRACEBACK=crash) as the test program printed it on stderr.
type rtGoroutine struct {
	id        int64
	state     string   // the bracketed state without ", N minutes" and the like
	frames    []string // "func file:line", innermost first
	elided    int      // index in frames where "...N frames elided..." stood, or -1
	createdBy string   // "func in goroutine N file:line", or ""
}

// parseTraceback reads the goroutines of a Go traceback.
func parseTraceback(t *testing.T, text string) map[int64]*rtGoroutine {
	t.Helper()
	out := map[int64]*rtGoroutine{}
	lines := strings.Split(text, "\n")
	var cur *rtGoroutine
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "goroutine ") && strings.HasSuffix(l, "]:"):
			f := strings.Fields(l)
			id, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("traceback line %q: %v", l, err)
			}
			state := l[strings.Index(l, "[")+1 : len(l)-2]
			if j := strings.Index(state, ", "); j >= 0 {
				state = state[:j]
			}
			cur = &rtGoroutine{id: id, state: state, elided: -1}
			out[id] = cur
		case cur == nil || l == "":
			cur = nil
		case strings.HasPrefix(l, "...") && strings.HasSuffix(l, "frames elided..."):
			cur.elided = len(cur.frames)
		case strings.HasPrefix(l, "created by ") && i+1 < len(lines):
			cur.createdBy = strings.TrimPrefix(l, "created by ") + " " + position(lines[i+1])
			i++
		case !strings.HasPrefix(l, "\t") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t"):
			name := l[:strings.LastIndexByte(l, '(')]
			cur.frames = append(cur.frames, name+" "+position(lines[i+1]))
			i++
		}
	}
	return out
}

// position returns the file:line of a traceback's position line.
func position(l string) string {
	f := strings.Fields(l)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// heapsiftTraceback renders goroutine g's frames as parseTraceback does.
func heapsiftTraceback(g *Goroutine) (frames []string, createdBy string) {
	for _, f := range g.Frames {
		frames = append(frames, fmt.Sprintf("%s %s:%d", TracebackName(f.Func), f.File, f.Line))
	}
	if c := g.CreatedBy; c != nil {
		createdBy = TracebackName(c.Func)
		if g.ParentID != 0 {
			createdBy += fmt.Sprintf(" in goroutine %d", g.ParentID)
		}
		createdBy += fmt.Sprintf(" %s:%d", c.File, c.Line)
	}
	return frames, createdBy
}

// sameFrames compares heapsift's frames with the runtime's, which leave out
// the middle of a stack deeper than 100 frames.
func sameFrames(got []string, want *rtGoroutine) bool {
	if want.elided < 0 {
		return strings.Join(got, "\n") == strings.Join(want.frames, "\n")
	}
	inner, outer := want.frames[:want.elided], want.frames[want.elided:]
	if len(got) < len(inner)+len(outer) {
		return false
	}
	return strings.Join(got[:len(inner)], "\n") == strings.Join(inner, "\n") &&
		strings.Join(got[len(got)-len(outer):], "\n") == strings.Join(outer, "\n")
}

// TestTracebackMatchesRuntime compares every goroutine heapsift finds with
// the runtime's own GOTRACEBACK=crash traceback of the same process: the
// logical frames (inlined calls included), the state, and "created by"
// with its goroutine; and checks which goroutines it calls the runtime's
// own against runtime.NumGoroutine.
func TestTracebackMatchesRuntime(t *testing.T) {
	for _, b := range builds {
		if b.name != "local" && b.name != "go1.22" && b.name != "local-pie" {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			prog, c := openCore(t, "traceback", b.build)
			want := parseTraceback(t, c.Stderr)
			if len(want) < 300 {
				t.Fatalf("the runtime's traceback lists %d goroutines, want at least 300", len(want))
			}
			before, errB := strconv.ParseInt(c.Truth["gc_before"], 10, 64)
			after, errA := strconv.ParseInt(c.Truth["gc_after"], 10, 64)
			if errB != nil || errA != nil {
				t.Fatalf("truth gc_before %q, gc_after %q", c.Truth["gc_before"], c.Truth["gc_after"])
			}
			compared, matched, user, waits := 0, 0, 0, 0
			for i := range prog.Goroutines() {
				g := &prog.Goroutines()[i]
				if !g.System {
					user++
				}
				w := want[g.ID]
				if w == nil || len(w.frames) == 0 {
					continue // not printed, or running on another thread
				}
				compared++
				frames, createdBy := heapsiftTraceback(g)
				state := g.Status
				if g.Status == "waiting" && g.WaitReason != "" {
					state = g.WaitReason
				}
				switch {
				case !sameFrames(frames, w):
					t.Logf("goroutine %d frames differ:\nheapsift:\n\t%s\nruntime:\n\t%s", g.ID, strings.Join(frames, "\n\t"), strings.Join(w.frames, "\n\t"))
				case createdBy != w.createdBy:
					t.Logf("goroutine %d: created by %q, runtime says %q", g.ID, createdBy, w.createdBy)
				case state != w.state:
					t.Logf("goroutine %d: state %q, runtime says %q", g.ID, state, w.state)
				default:
					matched++
				}
				if g.WaitSince > 0 && g.Waited >= 60e9 {
					t.Errorf("goroutine %d waited %v, but the runtime printed no minutes", g.ID, g.Waited)
				}
				if strings.HasPrefix(g.StartFunc, "main.") && g.Status == "waiting" {
					// Waiting since before the collection, which saw it.
					if waits++; g.WaitSince < before || g.WaitSince > after {
						t.Errorf("goroutine %d (%s) waits since %d, want the collection's start, in [%d, %d]", g.ID, g.StartFunc, g.WaitSince, before, after)
					}
				}
			}
			t.Logf("%d goroutines in the runtime's traceback, %d compared, %d match; %d wait times checked", len(want), compared, matched, waits)
			if waits < 300 {
				t.Errorf("%d waiting goroutines of main, want at least 300", waits)
			}
			if compared < len(want)*99/100 || matched < compared*99/100 {
				t.Errorf("%d of %d goroutines match the runtime's traceback (%d listed by it), want ≥ 99%%", matched, compared, len(want))
			}
			if n, err := strconv.Atoi(c.Truth["numgoroutine"]); err != nil || n != user {
				t.Errorf("%d goroutines are not the runtime's own, runtime.NumGoroutine says %s", user, c.Truth["numgoroutine"])
			}
		})
	}
}
