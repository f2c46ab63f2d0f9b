//go:build go1.24

package main

// bigLen keeps big within the 128 KiB that Go 1.24 and later allow an
// explicit variable on the stack; these versions have no GC programs, so
// its pointer mask is a plain bitmap.
const bigLen = 16000
