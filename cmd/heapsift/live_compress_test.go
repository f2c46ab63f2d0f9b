package main

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// newCompressor returns a writer compressing to w in format.
func newCompressor(format string, w io.Writer) (io.WriteCloser, error) {
	switch format {
	case "zstd":
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	case "lz4":
		return lz4.NewWriter(w), nil
	case "xz":
		return xz.NewWriter(w)
	case "gzip":
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	}
	return nil, fmt.Errorf("no format %q", format)
}
