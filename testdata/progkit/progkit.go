// Package progkit is what the Go test programs under testdata share: how
// they print their ground truth and end, so that nothing the runtime does
// between their last count and the core changes the heap the tests
// compare with. coretest.BuildGo copies it into every program's build as
// the package testprog/progkit.
package progkit

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Quiesce leaves one P, so that nothing but the calling goroutine can
// allocate until the core is written. With an idle P, ReadMemStats'
// start-the-world wakes an M for it, and when no idle M is at hand (under
// load one may not have parked yet) the runtime makes a new one: five heap
// objects (the m, two g's, two profiling stacks) the printed MemStats
// miss. Call it before the last GC, which collects what dropping the other
// Ps leaves behind.
func Quiesce() {
	runtime.GOMAXPROCS(1)
}

// RawWrite writes b to standard output without entering a system call the
// scheduler sees: a write(2) that blocks long enough has sysmon hand the P
// to another M, which the runtime may have to make, allocating.
func RawWrite(b []byte) {
	for len(b) > 0 {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, 1, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return
		}
		b = b[n:]
	}
}

// Abort sends the program SIGABRT (a core with GOTRACEBACK=crash) and
// waits for it in pause(2) through a raw system call. The scheduler sees a
// running goroutine, so it reports no deadlock and starts no other M; and
// a goroutine in a system call is never preempted asynchronously, which
// under load a spin loop was (by the runtime, after 10 ms): that spills
// every register, stale pointers to dropped objects among them, into a
// frame the runtime and heapsift scan conservatively, keeping those
// objects alive.
func Abort() {
	syscall.Kill(syscall.Getpid(), syscall.SIGABRT)
	for {
		syscall.RawSyscall(syscall.SYS_PAUSE, 0, 0, 0)
	}
}
