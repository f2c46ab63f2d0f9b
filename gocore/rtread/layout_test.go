package rtread

import (
	"strings"
	"testing"
)

func TestFieldLocRead(t *testing.T) {
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, c := range []struct {
		f    FieldLoc
		want uint64
	}{
		{FieldLoc{0, 1}, 1},
		{FieldLoc{1, 2}, 0x0302},
		{FieldLoc{1, 4}, 0x05040302},
		{FieldLoc{1, 8}, 0x0908070605040302},
		{FieldLoc{2, 8}, 0}, // past the end
		{FieldLoc{-1, 8}, 0},
		{FieldLoc{0, 3}, 0}, // not an integer size
	} {
		if got := c.f.Read(b); got != c.want {
			t.Errorf("%+v.Read = %#x, want %#x", c.f, got, c.want)
		}
	}
}

// TestHeapParamsDefaults checks that a missing runtime constant falls back
// to its default with a warning, and a present one is used silently.
func TestHeapParamsDefaults(t *testing.T) {
	ix := &Index{
		types:  map[string]typeEntry{},
		consts: map[string]int64{"runtime.pageSize": 4096, "runtime.heapArenaBytes": 1 << 22},
	}
	hp, warns := NewReader(nil, ix, 0).ReadHeapParams()
	if hp.PageSize != 4096 || hp.ArenaBytes != 1<<22 {
		t.Errorf("PageSize %d, ArenaBytes %d; want the constants 4096, %d", hp.PageSize, hp.ArenaBytes, 1<<22)
	}
	if hp.InUse != 1 || hp.MallocHeader != 8 || hp.MinHeaderSize != 512 || hp.InlineMarkBytes != 0 {
		t.Errorf("defaults %+v", hp)
	}
	if len(warns) != 3 {
		t.Fatalf("%d warnings, want 3 (one per missing constant): %v", len(warns), warns)
	}
	for _, w := range warns {
		if w.Source != "gocore" || !strings.Contains(w.Message, "assuming") {
			t.Errorf("warning %q", w)
		}
	}
}
