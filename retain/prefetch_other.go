//go:build !amd64 && !arm64

package retain

// prefetch64 does nothing on architectures without an assembly stub.
func prefetch64(p *uint64) {}

// prefetch32 does nothing on architectures without an assembly stub.
func prefetch32(p *uint32) {}
