package main

// The runtime's itab table starts as a static table of 512 entries and is
// replaced by a larger heap object once the program's itabs fill three
// quarters of it. A 20 × 21 grid of generic types converted to generic
// interfaces makes 420 itabs besides those of the rest of the program.

// Impl[A] implements Iface[B] for every A and B.
type Impl[A any] struct{ a A }

// M implements Iface.
func (Impl[A]) M() {}

// Iface[B] is a distinct interface type for each B.
type Iface[B any] interface{ M() }

// itabSink keeps the interface values.
var itabSink []any

func conv[A, B any]() { var v Iface[B] = Impl[A]{}; itabSink = append(itabSink, v) }

func row[A any]() {
	conv[A, [0]byte]()
	conv[A, [1]byte]()
	conv[A, [2]byte]()
	conv[A, [3]byte]()
	conv[A, [4]byte]()
	conv[A, [5]byte]()
	conv[A, [6]byte]()
	conv[A, [7]byte]()
	conv[A, [8]byte]()
	conv[A, [9]byte]()
	conv[A, [10]byte]()
	conv[A, [11]byte]()
	conv[A, [12]byte]()
	conv[A, [13]byte]()
	conv[A, [14]byte]()
	conv[A, [15]byte]()
	conv[A, [16]byte]()
	conv[A, [17]byte]()
	conv[A, [18]byte]()
	conv[A, [19]byte]()
	conv[A, [20]byte]()
}

func makeItabs() {
	row[[0]int16]()
	row[[1]int16]()
	row[[2]int16]()
	row[[3]int16]()
	row[[4]int16]()
	row[[5]int16]()
	row[[6]int16]()
	row[[7]int16]()
	row[[8]int16]()
	row[[9]int16]()
	row[[10]int16]()
	row[[11]int16]()
	row[[12]int16]()
	row[[13]int16]()
	row[[14]int16]()
	row[[15]int16]()
	row[[16]int16]()
	row[[17]int16]()
	row[[18]int16]()
	row[[19]int16]()
}
