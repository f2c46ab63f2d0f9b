// Command load drives the real servers of `make bench-real`
// (scripts/bench-real.sh) over loopback with the standard library only,
// so that it builds without fetching anything:
//
//	load http -url URL -paths N -n N -c N [-upstream ADDR -inflight N]
//	                                         GETs of URL/f<i> (caddy's proxy in front of its file server),
//	                                         then N GETs of URL/slow/<i> left in flight, served by ADDR
//	load nats -addr HOST:PORT -n N           a JetStream memory stream of N messages, durable consumers, and plain subjects
//	load etcd -url URL -n N -c N             N puts through etcd's JSON gateway (/v3/kv/put), some overwritten, with leases
//	load lsp -addr HOST:PORT -root DIR       an LSP session with gopls on the Go module in DIR
//
// After its load it prints "ready" and keeps its connections open until
// its standard input closes, so that the server's core holds them too.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: load http|nats|etcd|lsp [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	url := fs.String("url", "", "server URL (http, etcd)")
	addr := fs.String("addr", "", "server address (nats, lsp)")
	n := fs.Int("n", 100000, "requests or messages")
	c := fs.Int("c", 16, "concurrent connections")
	paths := fs.Int("paths", 1000, "files the file server serves (http)")
	root := fs.String("root", ".", "Go module to open (lsp)")
	upstream := fs.String("upstream", "", "address to serve /slow/ at, the proxy's slow upstream (http)")
	inflight := fs.Int("inflight", 0, "requests of /slow/ left in flight (http)")
	fs.Parse(os.Args[2:])
	var hold func()
	var err error
	switch os.Args[1] {
	case "http":
		hold, err = driveHTTP(*url, *paths, *n, *c, *upstream, *inflight)
	case "nats":
		hold, err = driveNATS(*addr, *n)
	case "etcd":
		hold, err = driveEtcd(*url, *n, *c)
	case "lsp":
		hold, err = driveLSP(*addr, *root)
	default:
		err = fmt.Errorf("unknown load %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	if hold != nil {
		hold()
	}
}
