// Command inflight keeps HTTP requests in flight through net/http's
// Transport: a local server sends part of each response body and waits, and
// the client has read that part. Each connection's readLoop goroutine then
// holds its request (a net/http.transportRequest) only in a stack slot
// that the compiler's DWARF does not describe at the PC the goroutine waits
// at, though it describes the variable there (rc) at other PCs. Each
// response is copied by a goroutine of its own into a Sink held only by the
// io.Writer argument of copyBody, as caddy's reverse proxy copies a body
// into its response writer. It prints the number of requests as "truth
// inflight N" with the runtime's MemStats and kills itself with SIGABRT.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"syscall"
)

const nRequests = 8

// Sink counts what is written to it.
type Sink struct {
	N     int64
	Calls int64
	Last  []byte
}

func (s *Sink) Write(p []byte) (int, error) {
	s.N += int64(len(p))
	s.Calls++
	return len(p), nil
}

// copyBody copies src into dst until src ends.
//
//go:noinline
func copyBody(dst io.Writer, src io.Reader, started chan<- int) {
	buf := make([]byte, 512)
	started <- 1
	for {
		n, err := src.Read(buf)
		if n > 0 {
			dst.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	block := make(chan struct{})
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1024))
		w.(http.Flusher).Flush()
		<-block
	}))
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: nRequests}}
	bodies := make([]io.ReadCloser, nRequests)
	for i := range bodies {
		resp, err := client.Get(fmt.Sprintf("http://%s/r%d", ln.Addr(), i))
		if err != nil {
			panic(err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 1024)); err != nil {
			panic(err)
		}
		bodies[i] = resp.Body
		started := make(chan int)
		go copyBody(&Sink{}, resp.Body, started)
		<-started
	}
	var ms runtime.MemStats
	runtime.GC()
	for i := 0; i < 1000; i++ {
		runtime.Gosched()
	}
	runtime.ReadMemStats(&ms)
	fmt.Printf("truth inflight %d\ntruth count.main.Sink %d\ntruth HeapAlloc %d\ntruth HeapObjects %d\n", nRequests, nRequests, ms.HeapAlloc, ms.HeapObjects)
	syscall.Kill(syscall.Getpid(), syscall.SIGABRT)
	for {
		runtime.KeepAlive(bodies)
	}
}
