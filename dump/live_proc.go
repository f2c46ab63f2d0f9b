package dump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
)

// This file reads what /proc tells about a live process: its mappings
// (from maps, and which file mappings the process has modified from its
// page tables or from smaps), threads, identity and auxiliary vector.

// procMapping is one line of /proc/PID/maps with the fields used here.
type procMapping struct {
	Start, End Address
	Perm       Perm
	Shared     bool
	Offset     uint64
	Inode      uint64
	Path       string
	// Modified says the mapping holds anonymous (private, modified)
	// pages; a file mapping without holds just the file's bytes.
	Modified bool
}

// readMappings reads pid's mappings, and which file mappings it has
// modified: from the page tables when pm can ask them (PAGEMAP_SCAN
// looks at those mappings only), else from smaps, which walks the page
// tables of every mapping (45 ms for a 2 GiB heap, while the process is
// stopped).
func readMappings(pid int, pm *pageMap) ([]procMapping, error) {
	maps, err := readMaps(pid, "maps")
	if err != nil {
		return nil, err
	}
	for i := range maps {
		m := &maps[i]
		if !m.fileBacked() {
			continue
		}
		modified, ok := pm.modified(m)
		if !ok {
			return readMaps(pid, "smaps")
		}
		m.Modified = modified
	}
	return maps, nil
}

// readMaps parses /proc/PID/maps or /proc/PID/smaps (whose "Anonymous"
// says which mappings are modified).
func readMaps(pid int, name string) ([]procMapping, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		return nil, procError(pid, err)
	}
	defer f.Close()
	var out []procMapping
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, " ") && !strings.Contains(k, "-") {
			if k == "Anonymous" && len(out) > 0 {
				kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				out[len(out)-1].Modified = kb > 0
			}
			continue
		}
		m, err := parseMapsLine(line)
		if err != nil {
			return nil, fmt.Errorf("/proc/%d/%s: %w", pid, name, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading /proc/%d/%s: %w", pid, name, err)
	}
	return out, nil
}

// parseMapsLine decodes "start-end perms offset dev inode path".
func parseMapsLine(line string) (procMapping, error) {
	var m procMapping
	fields := strings.Fields(line)
	if len(fields) < 5 {
		return m, fmt.Errorf("malformed line %q", line)
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	off, err3 := strconv.ParseUint(fields[2], 16, 64)
	inode, err4 := strconv.ParseUint(fields[4], 10, 64)
	if !ok || errors.Join(err1, err2, err3, err4) != nil || len(fields[1]) < 4 {
		return m, fmt.Errorf("malformed line %q", line)
	}
	m.Start, m.End, m.Offset, m.Inode = Address(start), Address(end), off, inode
	perm := fields[1]
	if perm[0] == 'r' {
		m.Perm |= PermRead
	}
	if perm[1] == 'w' {
		m.Perm |= PermWrite
	}
	if perm[2] == 'x' {
		m.Perm |= PermExec
	}
	m.Shared = perm[3] == 's'
	// The path is the rest of the line after the inode (it may hold
	// spaces, and " (deleted)" when the file was removed).
	rest := line
	for i := 0; i < 5 && rest != ""; i++ {
		rest = strings.TrimLeft(rest, " ")
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	m.Path = strings.TrimLeft(rest, " ")
	return m, nil
}

// fileBacked reports whether the mapping's bytes can be read from the file
// on disk (so that only what the process modified needs copying).
func (m *procMapping) fileBacked() bool {
	return m.Inode != 0 && strings.HasPrefix(m.Path, "/") && !strings.HasSuffix(m.Path, " (deleted)") &&
		!strings.HasPrefix(m.Path, "/dev/") && !strings.HasPrefix(m.Path, "/memfd:")
}

// copySize is how many bytes of the mapping go into the image, as the
// kernel's default coredump_filter decides for a core: nothing of an
// unreadable mapping or device memory, the first page (the ELF headers) of
// an unmodified file mapping, and everything else.
func (m *procMapping) copySize() uint64 {
	size := uint64(m.End - m.Start)
	switch {
	case m.special():
		return size
	case m.Perm&PermRead == 0,
		strings.HasPrefix(m.Path, "/dev/") && !strings.HasPrefix(m.Path, "/dev/zero") && !strings.HasPrefix(m.Path, "/dev/shm/"):
		return 0
	case m.fileBacked() && !m.Modified:
		if m.Offset == 0 {
			return min(size, pageSize)
		}
		return 0
	}
	return size
}

// special reports whether the mapping is one the kernel provides and
// always puts in a core ([vvar], [vsyscall]); reading it may fail, and its
// bytes are then zeros, as in a core.
func (m *procMapping) special() bool {
	switch m.Path {
	case "[vvar]", "[vvar_vclock]", "[vsyscall]":
		return true
	}
	return false
}

// listTasks returns the process's thread IDs, the main thread first.
func listTasks(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, procError(pid, err)
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	sort.Slice(tids, func(i, j int) bool {
		if (tids[i] == pid) != (tids[j] == pid) {
			return tids[i] == pid
		}
		return tids[i] < tids[j]
	})
	return tids, nil
}

// procStatus returns the fields of /proc/PID/status as a map.
func procStatus(pid int) (map[string]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, procError(pid, err)
	}
	st := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	return st, nil
}

// firstInt returns the first number of a status field ("Uid: 0 0 0 0").
func firstInt(s string) int {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// readProcInfo gathers what a core's NT_PRPSINFO holds.
func readProcInfo(pid int) (*ProcessInfo, error) {
	st, err := procStatus(pid)
	if err != nil {
		return nil, err
	}
	info := &ProcessInfo{
		PID: pid, PPID: firstInt(st["PPid"]), UID: firstInt(st["Uid"]), GID: firstInt(st["Gid"]),
		Command: st["Name"],
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		info.Args = strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	}
	return info, nil
}

// procError turns a failure to read /proc/PID into a clear message.
func procError(pid int, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no process with pid %d", pid)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("pid %d: %w", pid, permissionHint(pid, err))
	}
	return fmt.Errorf("pid %d: %w", pid, err)
}

// permissionHint explains why this process may not read another's memory
// and what to do about it.
func permissionHint(pid int, err error) error {
	if st, serr := procStatus(pid); serr == nil {
		if tp := firstInt(st["TracerPid"]); tp != 0 && tp != os.Getpid() {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", tp))
			return fmt.Errorf("%w: the process is already traced by pid %d (%s), a debugger perhaps; detach it first",
				err, tp, strings.TrimSpace(string(comm)))
		}
		if uid := firstInt(st["Uid"]); uid != os.Geteuid() && os.Geteuid() != 0 {
			return fmt.Errorf("%w: the process belongs to uid %d and heapsift runs as uid %d; run heapsift as that user or as root",
				err, uid, os.Geteuid())
		}
	}
	if b, rerr := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); rerr == nil && os.Geteuid() != 0 {
		switch strings.TrimSpace(string(b)) {
		case "1":
			return fmt.Errorf("%w: kernel.yama.ptrace_scope is 1, so only a parent may trace; run heapsift as root (sudo) or set sysctl kernel.yama.ptrace_scope=0", err)
		case "2":
			return fmt.Errorf("%w: kernel.yama.ptrace_scope is 2, so only root may trace; run heapsift as root (sudo)", err)
		}
	}
	if b, rerr := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); rerr == nil && strings.TrimSpace(string(b)) == "3" {
		return fmt.Errorf("%w: kernel.yama.ptrace_scope is 3, so no process may be traced until reboot", err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: reading another process's memory needs the same user or CAP_SYS_PTRACE; run heapsift as root (sudo)", err)
	}
	return fmt.Errorf("%w: even as root (a container without CAP_SYS_PTRACE, or a security module such as SELinux?)", err)
}
