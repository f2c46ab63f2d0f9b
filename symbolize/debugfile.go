package symbolize

import (
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Distributions strip .symtab from their libraries and ship it in separate
// debug files, installed under /usr/lib/debug/.build-id/ by the file's GNU
// build ID (the first byte names a directory, the rest the file). A debug
// file keeps the stripped file's section headers and addresses, so its
// symbols apply to the stripped file unchanged.

// debugFileSymbols reads the .symtab of the debug file for buildID, if one
// of dirs holds it. found reports whether a matching debug file was read.
func debugFileSymbols(buildID string, dirs []string) (cands []candidate, found bool, err error) {
	if len(buildID) < 4 || !isHex(buildID) {
		return nil, false, nil
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, ".build-id", buildID[:2], buildID[2:]+".debug")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		f, err := elf.Open(path)
		if err != nil {
			return nil, false, fmt.Errorf("debug file %s: %w", path, err)
		}
		cands, err := debugSymbols(f, buildID)
		f.Close()
		if err != nil {
			return nil, false, fmt.Errorf("debug file %s: %w", path, err)
		}
		return cands, true, nil
	}
	return nil, false, nil
}

// debugSymbols reads the symbols of an opened debug file after checking
// that it belongs to the file with buildID.
func debugSymbols(f *elf.File, buildID string) ([]candidate, error) {
	if id := gnuBuildID(f); id != buildID {
		return nil, fmt.Errorf("its build ID is %q, not %s", id, buildID)
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("reading .symtab: %w", err)
	}
	return candidatesFrom(syms, newSectionTable(f), 0), nil
}

// gnuBuildID returns the GNU build ID from f's .note.gnu.build-id section
// in hex, or "".
func gnuBuildID(f *elf.File) string {
	sec := f.Section(".note.gnu.build-id")
	if sec == nil || sec.Type != elf.SHT_NOTE {
		return ""
	}
	b, err := sec.Data()
	if err != nil || len(b) < 12 {
		return ""
	}
	le := binary.LittleEndian
	namesz, descsz, typ := uint64(le.Uint32(b)), uint64(le.Uint32(b[4:])), le.Uint32(b[8:])
	descOff := 12 + (namesz+3)&^3
	const ntGNUBuildID = 3
	if typ != ntGNUBuildID || descOff > uint64(len(b)) || descsz > uint64(len(b))-descOff {
		return ""
	}
	return hex.EncodeToString(b[descOff : descOff+descsz])
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
