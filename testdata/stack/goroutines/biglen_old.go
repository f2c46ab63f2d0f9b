//go:build !go1.24

package main

// bigLen makes big's pointer data larger than 16384 words, so that Go
// 1.22–1.23 describe the stack object with a GC program instead of a
// pointer mask. (Those versions keep explicit variables of up to 10 MiB on
// the stack.)
const bigLen = 20000
