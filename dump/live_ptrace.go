package dump

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file stops and resumes a live process with ptrace. PTRACE_SEIZE and
// PTRACE_INTERRUPT put every thread in a ptrace stop without sending it a
// signal; PTRACE_DETACH lets each go on. A tracee in a ptrace stop is
// resumed by the kernel when its tracer dies, so the process carries on
// even when heapsift is killed (SIGKILL included) in the middle of a read:
// nothing depends on a deferred call running. (A SIGSTOP would not be
// undone by anyone.) The kernel requires every ptrace request for a tracee
// to come from the thread that seized it, so all of them are made by one
// goroutine locked to its OS thread.

// stoppedThread is one thread heapsift has seized.
type stoppedThread struct {
	tid int
	// sig is a signal the thread was about to receive when it stopped; it
	// is handed back on detach so that it is not lost.
	sig  int
	regs []byte // the NT_PRSTATUS register set
	tls  []byte // arm64: NT_ARM_TLS
}

// stopper holds the seized threads of one process.
type stopper struct {
	pid     int
	threads []*stoppedThread
}

// ptraceEventStop is PTRACE_EVENT_STOP, reported in a wait status's bits
// 16 and up for the stop PTRACE_INTERRUPT causes.
const ptraceEventStop = 128

// stopAll seizes and interrupts every thread, repeating until no thread
// appears that is not stopped (a running thread may start new ones).
func (s *stopper) stopAll() error {
	seized := map[int]bool{}
	for round := 0; ; round++ {
		tids, err := listTasks(s.pid)
		if err != nil {
			return err
		}
		var fresh []int
		for _, tid := range tids {
			if seized[tid] {
				continue
			}
			seized[tid] = true
			if err := unix.PtraceSeize(tid); err != nil {
				if errors.Is(err, syscall.ESRCH) {
					continue // the thread exited
				}
				if errors.Is(err, syscall.EPERM) {
					return fmt.Errorf("cannot attach to pid %d: %w", s.pid, permissionHint(s.pid, err))
				}
				return fmt.Errorf("attaching to thread %d of pid %d: %w", tid, s.pid, err)
			}
			t := &stoppedThread{tid: tid}
			s.threads = append(s.threads, t)
			if err := unix.PtraceInterrupt(tid); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("stopping thread %d of pid %d: %w", tid, s.pid, err)
			}
			fresh = append(fresh, tid)
		}
		if len(fresh) == 0 {
			break
		}
		if err := s.waitStopped(fresh); err != nil {
			return err
		}
	}
	if len(s.threads) == 0 {
		return fmt.Errorf("no process with pid %d", s.pid)
	}
	return nil
}

// waitStopped waits until each of tids has stopped, noting a signal it
// was stopped on and dropping threads that exited meanwhile.
func (s *stopper) waitStopped(tids []int) error {
	for _, tid := range tids {
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(tid, &ws, unix.WALL, nil)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil {
				if errors.Is(err, syscall.ECHILD) {
					s.drop(tid)
					break
				}
				return fmt.Errorf("waiting for thread %d of pid %d to stop: %w", tid, s.pid, err)
			}
			switch {
			case ws.Exited() || ws.Signaled():
				s.drop(tid)
			case ws.Stopped() && uint32(ws)>>16 != ptraceEventStop:
				// A signal-delivery stop rather than the interrupt's
				// (or a group stop's) event stop: the thread is stopped,
				// with a signal to give back on detach.
				s.find(tid).sig = int(ws.StopSignal())
			}
			break
		}
	}
	return nil
}

func (s *stopper) find(tid int) *stoppedThread {
	for _, t := range s.threads {
		if t.tid == tid {
			return t
		}
	}
	return &stoppedThread{tid: tid}
}

func (s *stopper) drop(tid int) {
	out := s.threads[:0]
	for _, t := range s.threads {
		if t.tid != tid {
			out = append(out, t)
		}
	}
	s.threads = out
}

// readRegs reads every stopped thread's registers. A thread whose
// registers cannot be read keeps none (and is left out of the image).
func (s *stopper) readRegs(arch Arch) {
	for _, t := range s.threads {
		t.regs = getRegSet(t.tid, ntPRStatus, 512)
		if arch == ArchARM64 {
			t.tls = getRegSet(t.tid, ntARMTLS, 16)
		}
	}
}

// getRegSet is PTRACE_GETREGSET: the register set of type typ, or nil.
func getRegSet(tid int, typ uintptr, size int) []byte {
	buf := make([]byte, size)
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(size)
	_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETREGSET, uintptr(tid), typ,
		uintptr(unsafe.Pointer(&iov)), 0, 0)
	runtime.KeepAlive(buf)
	if errno != 0 {
		return nil
	}
	return buf[:iov.Len]
}

// detachAll lets every seized thread go on, handing back any signal it
// stopped on. It returns the first error but detaches every thread.
func (s *stopper) detachAll() error {
	var first error
	for _, t := range s.threads {
		_, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(t.tid), 0, uintptr(t.sig), 0, 0)
		if errno != 0 && errno != unix.ESRCH && first == nil {
			first = fmt.Errorf("detaching from thread %d of pid %d: %w", t.tid, s.pid, errno)
		}
	}
	s.threads = nil
	return first
}
