package dump

import (
	"fmt"
	"os"
	"syscall"
)

// fileCache maps each local file once, however many modules name it: a
// core may list one file under many spellings of its path (hard links,
// symlinks, "/a/./b"), and mapping it once per spelling would exhaust the
// kernel's mappings. Files are told apart by device and inode. It lives for
// one Open.
type fileCache struct {
	byID map[fileID]cachedFile
	used map[*byte]bool // files attached to a module, by their first byte
}

// fileID identifies a file on this machine.
type fileID struct{ dev, ino uint64 }

// cachedFile is the result of mapping one file: its bytes, or why not.
type cachedFile struct {
	data []byte
	err  error
}

// open returns the bytes of the regular file at path, mapping it the first
// time its (device, inode) is seen. A file that is not regular is an error
// and is never opened, so that a FIFO cannot block.
func (c *fileCache) open(p *Process, path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s", path, DescribeFileMode(st.Mode()))
	}
	id, ok := idOf(st)
	if ok {
		if cf, seen := c.byID[id]; seen {
			return cf.data, cf.err
		}
	}
	data, _, err := mmapFile(path)
	if data != nil {
		p.mmaps = append(p.mmaps, data)
	}
	if ok {
		if c.byID == nil {
			c.byID = map[fileID]cachedFile{}
		}
		c.byID[id] = cachedFile{data, err}
	}
	return data, err
}

// idOf returns the device and inode of a file, where the system says them.
func idOf(st os.FileInfo) (fileID, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(sys.Dev), uint64(sys.Ino)}, true
}

// DescribeFileMode says what kind of file mode is, for a file that is
// not a regular one: "is a FIFO", "is a directory". Messages about any
// file heapsift refuses use it.
func DescribeFileMode(mode os.FileMode) string {
	switch {
	case mode.IsDir():
		return "is a directory"
	case mode&os.ModeNamedPipe != 0:
		return "is a FIFO"
	case mode&os.ModeSocket != 0:
		return "is a socket"
	case mode&os.ModeCharDevice != 0:
		return "is a character device"
	case mode&os.ModeDevice != 0:
		return "is a block device"
	}
	return "is not a regular file"
}

// firstUse reports whether data, a file the cache returned, is attached to
// a module for the first time.
func (c *fileCache) firstUse(data []byte) bool {
	if len(data) == 0 {
		return true
	}
	if c.used == nil {
		c.used = map[*byte]bool{}
	}
	if c.used[&data[0]] {
		return false
	}
	c.used[&data[0]] = true
	return true
}
