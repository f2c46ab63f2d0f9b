//go:build unix

package histogram

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time, user and system, used by the process.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
