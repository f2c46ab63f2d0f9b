package dump

import "fmt"

// signalNames are the Linux signal numbers of amd64 and arm64 (the
// generic numbering) with their names.
var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT",
	19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU",
	25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR",
	31: "SIGSYS",
}

// Real-time signals: SIGRTMIN is 34 (the kernel's 32 and 33 are kept by
// the C library) up to SIGRTMAX, 64.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// SignalName returns the conventional name of a Linux signal number
// (SIGRTMIN+N for a real-time signal).
func SignalName(n int) string {
	switch {
	case n > 0 && n < len(signalNames) && signalNames[n] != "":
		return signalNames[n]
	case n == sigRTMin:
		return "SIGRTMIN"
	case n == sigRTMax:
		return "SIGRTMAX"
	case n > sigRTMin && n < sigRTMax:
		return fmt.Sprintf("SIGRTMIN+%d", n-sigRTMin)
	case n == 32 || n == 33:
		return fmt.Sprintf("SIGRT%d", n-32) // the C library's own: glibc's SIGCANCEL and SIGSETXID
	}
	return fmt.Sprintf("signal %d", n)
}

// Name returns the signal's name, e.g. "SIGSEGV".
func (s *SignalInfo) Name() string { return SignalName(s.Signo) }
