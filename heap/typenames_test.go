package heap

import "testing"

func TestTypeNamesInternOnce(t *testing.T) {
	var tn TypeNames
	a, b := tn.ID("tuple"), tn.ID("dict")
	if a == b || tn.ID("tuple") != a || tn.Len() != 2 {
		t.Fatalf("ids %d %d, again %d, len %d", a, b, tn.ID("tuple"), tn.Len())
	}
	if tn.Name(a) != "tuple" || tn.Name(b) != "dict" {
		t.Errorf("names %q %q", tn.Name(a), tn.Name(b))
	}
	if got := tn.Name(7); got != "<bad type 7>" {
		t.Errorf("unknown id named %q", got)
	}
}
