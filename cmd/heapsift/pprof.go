package main

import (
	"fmt"
	"io"

	"github.com/google/pprof/profile"
	"github.com/heapsift/heapsift/retain"
)

// `heapsift retain --format pprof`: the retention groups as a pprof heap
// profile. Each group is one sample whose values are its objects and bytes
// (inuse_objects, inuse_space) and whose stack is its reference path, the
// type as the leaf and the root at the bottom, so that `go tool pprof
// -http` draws a flame graph of what holds the heap and `-top` lists the
// types. Frames name each pointer with the type it is in
// (".results (main.Profiler)", "[] ([]*main.Timing)"), so that the graph
// view does not merge unrelated fields of the same name.

// profileBuilder interns the profile's functions and locations by name.
type profileBuilder struct {
	p         *profile.Profile
	locations map[string]*profile.Location
}

func (b *profileBuilder) location(name string) *profile.Location {
	if l, ok := b.locations[name]; ok {
		return l
	}
	id := uint64(len(b.locations) + 1)
	f := &profile.Function{ID: id, Name: name}
	l := &profile.Location{ID: id, Line: []profile.Line{{Function: f}}}
	b.p.Function = append(b.p.Function, f)
	b.p.Location = append(b.p.Location, l)
	b.locations[name] = l
	return l
}

// groupFrames returns the frames of a group's path, root first.
func groupFrames(a *retain.Analysis, gr retain.Group) []string {
	root := a.GroupRoot(gr)
	frames := []string{root.Label() + root.Path.String()}
	sources := a.GroupLabelSources(gr)
	for i, p := range a.GroupLabels(gr) {
		l := p.String()
		if sources[i] != "" {
			l += " (" + sources[i] + ")"
		}
		frames = append(frames, l)
	}
	return append(frames, a.TypeName(gr.Type))
}

// newRetainProfile builds the profile of the groups f matches (all of
// them: --top does not apply, the flame graph shows what is small too).
func newRetainProfile(a *retain.Analysis, f retainFilter) (*profile.Profile, error) {
	b := &profileBuilder{
		p: &profile.Profile{
			SampleType: []*profile.ValueType{
				{Type: "inuse_objects", Unit: "count"},
				{Type: "inuse_space", Unit: "bytes"},
			},
			DefaultSampleType: "inuse_space",
			PeriodType:        &profile.ValueType{Type: "space", Unit: "bytes"},
			Period:            1,
			Comments:          []string{"heapsift retain: samples are groups of objects held the same way; stacks are reference paths from a root"},
		},
		locations: map[string]*profile.Location{},
	}
	for _, gr := range a.Groups() {
		if !f.match(a, gr) {
			continue
		}
		frames := groupFrames(a, gr)
		s := &profile.Sample{
			Value:    []int64{int64(gr.Count), int64(gr.Bytes)},
			Label:    map[string][]string{"root_kind": {a.GroupRoot(gr).Kind.String()}, "example": {hexAddr(a.Heap().Addr(int(gr.Example)))}},
			NumLabel: map[string][]int64{"retained": {int64(gr.Retained)}},
			NumUnit:  map[string][]string{"retained": {"bytes"}},
		}
		for i := len(frames) - 1; i >= 0; i-- {
			s.Location = append(s.Location, b.location(frames[i]))
		}
		b.p.Sample = append(b.p.Sample, s)
	}
	if err := b.p.CheckValid(); err != nil {
		return nil, fmt.Errorf("building the profile: %w", err)
	}
	return b.p, nil
}

func writeRetainProfile(w io.Writer, a *retain.Analysis, f retainFilter) error {
	p, err := newRetainProfile(a, f)
	if err != nil {
		return err
	}
	return p.Write(w)
}
