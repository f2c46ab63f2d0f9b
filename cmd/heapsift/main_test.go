package main

import (
	"os"
	"testing"
)

// childEnv, set in the environment, makes the test binary run as heapsift
// itself, so that tests can run heapsift in a process of its own (to
// measure its peak memory, or to survive a crash) without building it:
// "1" runs the commands, "main" runs main itself, signal handling
// included, for the live-process tests that interrupt it.
const childEnv = "HEAPSIFT_TEST_AS_MAIN"

// peakEnv names a file where the child writes its /proc/self/status at the
// end, for its peak memory (VmHWM): the rusage of a child started by a
// large test process reports the parent's size.
const peakEnv = "HEAPSIFT_TEST_STATUS_FILE"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "main":
		main()
		return
	case "1":
		code := run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr})
		if path := os.Getenv(peakEnv); path != "" {
			if status, err := os.ReadFile("/proc/self/status"); err == nil {
				os.WriteFile(path, status, 0o600)
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}
