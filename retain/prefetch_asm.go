//go:build amd64 || arm64

package retain

// prefetch64 asks the processor to start loading the cache line holding
// *p, without waiting for it and without faulting. Go has no prefetch
// intrinsic; the assembly stub costs a call (about a nanosecond), against
// a cache miss of 100-200 ns on the hot paths that use it.
//
//go:noescape
func prefetch64(p *uint64)

// prefetch32 is prefetch64 for a uint32.
//
//go:noescape
func prefetch32(p *uint32)
