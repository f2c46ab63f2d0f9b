package dump

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSignalName checks every signal's name against the C library's
// numbering as golang.org/x/sys records it, and the real-time signals.
func TestSignalName(t *testing.T) {
	for n := 1; n <= 31; n++ {
		want := unix.SignalName(syscall.Signal(n))
		if n == 29 {
			want = "SIGIO" // x/sys names 29 SIGPOLL, its other name
		}
		if got := SignalName(n); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{34: "SIGRTMIN", 40: "SIGRTMIN+6", 64: "SIGRTMAX", 65: "signal 65", 0: "signal 0"} {
		if got := SignalName(n); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", n, got, want)
		}
	}
}
