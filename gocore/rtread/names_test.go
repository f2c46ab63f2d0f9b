package rtread

import "testing"

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{
		"noalg.map.group[string]int":                     "map.group[string]int",
		"[136]noalg.map.group[string]*main.Session":      "[136]map.group[string]*main.Session",
		"map<string,int>":                                "map[string]int",
		"table<string,*main.Session>":                    "map.table[string]*main.Session",
		"[32]*table<string,*main.Session>":               "[32]*map.table[string]*main.Session",
		"hash<main.K,map<string,int>>":                   "map[main.K]map[string]int",
		"bucket<int,*main.Node>":                         "map.bucket[int]*main.Node",
		"hchan<main.Msg>":                                "chan main.Msg",
		"main.Node[int]":                                 "main.Node[int]",
		"map<main.Pair[int,string],struct { a, b int }>": "map[main.Pair[int,string]]struct { a, b int }",
		"main.hashtable<x>":                              "main.hashtable<x>",
	} {
		if got := DisplayName(in); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDisplayName: type names come from the core's DWARF and type
// descriptors; any bytes give a name back, in time, no longer than the
// input plus what the rewrites add ("map<" to "map[", "hchan<" to "chan ").
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"map<string,int>", "hash<main.K,map<string,int>>", "hchan<main.Msg>", "noalg.map.group[string]int",
		"map<map<map<", "table<>,>", "bucket<a,b", "hchan<a,b>", "map<(,)>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := DisplayName(s); len(got) > 2*len(s)+16 {
			t.Errorf("DisplayName(%q) = %q, longer than its input allows", s, got)
		}
	})
}
