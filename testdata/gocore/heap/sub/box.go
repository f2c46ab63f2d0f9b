// Package sub holds a generic type instantiated from package main, so that
// its name spells import paths ("testprog/sub.Box[*main.Small]").
package sub

// Box is a generic linked box.
type Box[T any] struct {
	V    T
	Next *Box[T]
}

// Chain returns a chain of n boxes holding the values v(0)..v(n-1).
func Chain[T any](n int, v func(int) T) *Box[T] {
	var head *Box[T]
	for i := 0; i < n; i++ {
		head = &Box[T]{V: v(i), Next: head}
	}
	return head
}
