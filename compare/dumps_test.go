package compare

import (
	"strings"
	"testing"

	"github.com/heapsift/heapsift/warn"
)

func TestSameExecutable(t *testing.T) {
	tests := []struct {
		old, new *Executable
		want     string // "" for no warning
	}{
		{nil, &Executable{Path: "/srv/a"}, ""},
		{&Executable{Path: "/srv/a"}, nil, ""},
		{&Executable{Path: "/srv/a", BuildID: "b1"}, &Executable{Path: "/srv/a", BuildID: "b1"}, ""},
		{&Executable{Path: "/srv/a", BuildID: "b1"}, &Executable{Path: "/srv/b", BuildID: "b1"}, ""},
		{&Executable{Path: "/srv/a", BuildID: "b1"}, &Executable{Path: "/srv/a", BuildID: "b2"},
			"OLD and NEW come from different executables (build IDs b1 and b2); comparing by name anyway"},
		{&Executable{Path: "/srv/a"}, &Executable{Path: "/srv/a", BuildID: "b2"}, ""},
		{&Executable{Path: "/srv/a"}, &Executable{Path: "/srv/b", BuildID: "b2"},
			"OLD and NEW come from different executables (/srv/a and /srv/b); comparing by name anyway"},
	}
	for _, tt := range tests {
		ws := SameExecutable(tt.old, tt.new)
		if got := messages(ws); got != tt.want {
			t.Errorf("SameExecutable(%+v, %+v) = %q, want %q", tt.old, tt.new, got, tt.want)
		}
	}
}

func TestChooseKind(t *testing.T) {
	tests := []struct {
		oldHeap, newHeap, words bool
		kind                    Kind
		warning                 string
	}{
		{true, true, false, ByType, ""},
		{true, true, true, ByWord, ""},
		{false, false, false, ByWord, ""},
		{true, false, false, ByWord, "only OLD is a Go program heapsift can read; comparing words"},
		{false, true, false, ByWord, "only NEW is a Go program heapsift can read; comparing words"},
		{false, true, true, ByWord, ""},
	}
	for _, tt := range tests {
		kind, ws := ChooseKind(tt.oldHeap, tt.newHeap, tt.words, "Go")
		if kind != tt.kind || messages(ws) != tt.warning {
			t.Errorf("ChooseKind(%v, %v, %v) = %s, %q; want %s, %q", tt.oldHeap, tt.newHeap, tt.words, kind, messages(ws), tt.kind, tt.warning)
		}
	}
}

// messages joins the warnings' messages, checking that compare raised them.
func messages(ws []warn.Warning) string {
	var out []string
	for _, w := range ws {
		if w.Source != "compare" {
			return "source " + w.Source
		}
		out = append(out, w.Message)
	}
	return strings.Join(out, "; ")
}

func TestReliable(t *testing.T) {
	exe := Module{Name: "svc", Resolved: true}
	lost := Module{Name: "svc", Why: "/srv/svc is not on this machine"}
	libc := Module{Name: "libc.so.6", Resolved: true}
	tests := []struct {
		old, new []Module
		want     string // "" when reliable
	}{
		{[]Module{exe, libc}, []Module{exe, libc}, ""},
		{[]Module{lost, libc}, []Module{lost, libc}, ""}, // keyed alike on both sides
		{[]Module{exe}, []Module{libc}, ""},              // nothing in common
		{[]Module{lost, libc}, []Module{exe, libc}, "svc's names in OLD could not be resolved (/srv/svc is not on this machine)"},
		{[]Module{exe}, []Module{lost}, "svc's names in NEW could not be resolved"},
	}
	for _, tt := range tests {
		ok, reason := Reliable(tt.old, tt.new)
		if ok != (tt.want == "") || !strings.Contains(reason, tt.want) {
			t.Errorf("Reliable(%+v, %+v) = %v, %q; want %q", tt.old, tt.new, ok, reason, tt.want)
		}
	}
}
