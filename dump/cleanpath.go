package dump

// appendClean appends to dst the shortest path naming the same file as
// path by purely lexical processing, as filepath.Clean does on Unix, but
// from bytes and into a buffer the caller reuses: an NT_FILE note may
// spell one file a million ways ("/a//b", "/a/./b", "/a/x/../b"), and
// cleaning each spelling into a new string would make a million strings
// of garbage.
func appendClean(dst, path []byte) []byte {
	start := len(dst)
	rooted := len(path) > 0 && path[0] == '/'
	if rooted {
		dst = append(dst, '/')
	}
	floor := len(dst) // ".." never backs up past here
	for i := 0; i < len(path); {
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		elem := path[i:j]
		i = j + 1
		switch {
		case len(elem) == 0, len(elem) == 1 && elem[0] == '.':
		case len(elem) == 2 && elem[0] == '.' && elem[1] == '.':
			switch {
			case len(dst) > floor:
				k := len(dst) - 1
				for k > floor && dst[k] != '/' {
					k--
				}
				dst = dst[:k]
			case !rooted:
				// A relative path keeps its leading "..": they
				// cannot be cancelled.
				if len(dst) > start {
					dst = append(dst, '/')
				}
				dst = append(dst, '.', '.')
				floor = len(dst)
			}
		default:
			if len(dst) > start && dst[len(dst)-1] != '/' {
				dst = append(dst, '/')
			}
			dst = append(dst, elem...)
		}
	}
	if len(dst) == start {
		dst = append(dst, '.')
	}
	return dst
}
