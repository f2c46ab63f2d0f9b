package elfcore

import "encoding/binary"

// PRStatusAMD64 returns an amd64 NT_PRSTATUS descriptor for thread tid,
// with the given signal and the registers rip, rsp and fs_base set.
func PRStatusAMD64(tid, sig int, rip, rsp, fsBase uint64) []byte {
	b := make([]byte, 336)
	le := binary.LittleEndian
	le.PutUint16(b[12:], uint16(sig))
	le.PutUint32(b[32:], uint32(tid))
	regs := b[PRStatusRegOff:]
	le.PutUint64(regs[16*8:], rip)
	le.PutUint64(regs[19*8:], rsp)
	le.PutUint64(regs[21*8:], fsBase)
	return b
}

// PRPSInfo returns an NT_PRPSINFO descriptor: process id, command name (at
// most 16 bytes are kept) and argument string (at most 80).
func PRPSInfo(pid int, cmd, args string) []byte {
	b := make([]byte, 136)
	binary.LittleEndian.PutUint32(b[24:], uint32(pid))
	copy(b[40:56], cmd)
	copy(b[56:], args)
	return b
}

// FileEntry is one file mapping of an NT_FILE note. Offset is in bytes and
// should be a multiple of the 4096-byte page size the note is written with.
type FileEntry struct {
	Start, End, Offset uint64
	Path               string
}

// FileNote returns an NT_FILE descriptor listing entries.
func FileNote(entries []FileEntry) []byte {
	le := binary.LittleEndian
	b := make([]byte, 16+24*len(entries))
	le.PutUint64(b, uint64(len(entries)))
	le.PutUint64(b[8:], pageSize)
	for i, e := range entries {
		le.PutUint64(b[16+24*i:], e.Start)
		le.PutUint64(b[24+24*i:], e.End)
		le.PutUint64(b[32+24*i:], e.Offset/pageSize)
	}
	for _, e := range entries {
		b = append(b, e.Path...)
		b = append(b, 0)
	}
	return b
}

// Auxv returns an NT_AUXV descriptor holding the key, value pairs kv and
// the terminating AT_NULL pair.
func Auxv(kv ...uint64) []byte {
	b := make([]byte, 8*len(kv)+16)
	for i, v := range kv {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// SigInfo returns an NT_SIGINFO descriptor for signal signo at fault
// address addr.
func SigInfo(signo int, addr uint64) []byte {
	b := make([]byte, 128)
	binary.LittleEndian.PutUint32(b, uint32(signo))
	binary.LittleEndian.PutUint64(b[16:], addr)
	return b
}

// Words returns vals as consecutive little-endian 8-byte words.
func Words(vals ...uint64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}
