package coretest

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// Compress compresses b in format (zstd, lz4, xz or gzip) with the
// library heapsift decompresses it with, at its fastest level.
func Compress(t testing.TB, format string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch format {
	case "zstd":
		w, err = zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	case "lz4":
		w = lz4.NewWriter(&buf)
	case "xz":
		w, err = xz.NewWriter(&buf)
	case "gzip":
		w, err = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	default:
		t.Fatalf("no compression format %q", format)
	}
	if err != nil {
		t.Fatalf("%s writer: %v", format, err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatalf("compressing with %s: %v", format, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("compressing with %s: %v", format, err)
	}
	return buf.Bytes()
}
