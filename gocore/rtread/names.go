package rtread

import "strings"

// DisplayName turns the names the compiler and linker give to runtime-made
// types into what a Go programmer writes. DWARF calls a swiss map's header
// "map<K,V>", its tables "table<K,V>", an old map's header "hash<K,V>" and
// its buckets "bucket<K,V>", a channel "hchan<T>", and marks map groups
// "noalg."; heapsift shows "map[K]V", "map.table[K]V", "map.bucket[K]V",
// "chan T" and "map.group[K]V". gocore keeps the raw names internally,
// where their prefixes select layouts.
func DisplayName(name string) string {
	name = strings.ReplaceAll(name, "noalg.", "")
	for _, r := range []struct{ prefix, kind string }{
		{"map<", ""}, {"hash<", ""}, {"table<", "table"}, {"bucket<", "bucket"}, {"hchan<", "chan"},
	} {
		for {
			i := strings.Index(name, r.prefix)
			if i < 0 || i > 0 && isIdentByte(name[i-1]) {
				break
			}
			args, end, ok := angleArgs(name, i+len(r.prefix))
			if !ok {
				break
			}
			var repl string
			switch {
			case r.kind == "chan" && len(args) == 1:
				repl = "chan " + args[0]
			case len(args) == 2 && r.kind == "":
				repl = "map[" + args[0] + "]" + args[1]
			case len(args) == 2:
				repl = "map." + r.kind + "[" + args[0] + "]" + args[1]
			default:
				return name
			}
			name = name[:i] + repl + name[end:]
		}
	}
	return name
}

// angleArgs splits the comma-separated arguments that start at s[from] and
// end at the matching '>', returning them and the index after the '>'.
func angleArgs(s string, from int) ([]string, int, bool) {
	depth, start := 0, from
	var args []string
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '<', '[', '(', '{':
			depth++
		case ']', ')', '}':
			depth--
		case '>':
			if depth == 0 {
				return append(args, s[start:i]), i + 1, true
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, s[start:i])
				start = i + 1
			}
		}
	}
	return nil, 0, false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
