package dump

import "fmt"

// Address is a virtual address in the dumped process.
type Address uint64

// Add returns a+n.
func (a Address) Add(n int64) Address { return Address(int64(a) + n) }

// Sub returns the distance a-b in bytes.
func (a Address) Sub(b Address) int64 { return int64(a - b) }

// Align rounds a up to a multiple of n, which must be a power of two.
func (a Address) Align(n uint64) Address { return Address((uint64(a) + n - 1) &^ (n - 1)) }

func (a Address) String() string { return fmt.Sprintf("%#x", uint64(a)) }

// Perm is the protection of a mapping.
type Perm uint8

// Permission bits, as in ELF program headers.
const (
	PermExec  Perm = 1
	PermWrite Perm = 2
	PermRead  Perm = 4
)

// String prints the permissions the way /proc/PID/maps does ("r-x").
func (p Perm) String() string {
	b := []byte("---")
	if p&PermRead != 0 {
		b[0] = 'r'
	}
	if p&PermWrite != 0 {
		b[1] = 'w'
	}
	if p&PermExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}
