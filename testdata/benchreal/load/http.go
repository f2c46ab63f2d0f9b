package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// driveHTTP sends n GETs for files f0..f<paths-1> over c keep-alive
// connections, some asking for gzip; then, if upstream is set, it serves
// /slow/ there (the proxy's other upstream) and leaves inflight GETs of
// /slow/<i> half answered, so that the proxy holds them in flight; it keeps
// every connection open.
func driveHTTP(url string, paths, n, c int, upstream string, inflight int) (func(), error) {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, bytes atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/f%d", strings.TrimSuffix(url, "/"), (i*7919)%int64(paths)), nil)
				if i%3 == 0 {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				req.Header.Set("X-Request-Seq", fmt.Sprint(i))
				resp, err := client.Do(req)
				if err == nil {
					var k int64
					k, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					bytes.Add(k)
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("GET %s: %s", req.URL, resp.Status)
					}
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	fmt.Printf("http: %d requests, %d bytes received\n", n, bytes.Load())
	if upstream == "" || inflight == 0 {
		return func() { tr.CloseIdleConnections() }, nil
	}
	release, bodies, err := holdInFlight(url, upstream, inflight)
	if err != nil {
		return nil, err
	}
	fmt.Printf("http: %d proxied requests in flight\n", inflight)
	return func() {
		close(release)
		for _, b := range bodies {
			b.Close()
		}
		tr.CloseIdleConnections()
	}, nil
}

// holdInFlight serves /slow/ at upstream and sends n GETs of url/slow/<i>,
// returning once each has received its first chunk; closing release ends
// the responses.
func holdInFlight(url, upstream string, n int) (chan struct{}, []io.ReadCloser, error) {
	release, err := slowUpstream(upstream)
	if err != nil {
		return nil, nil, err
	}
	slow := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, DisableCompression: true}}
	bodies := make([]io.ReadCloser, n)
	errs := make(chan error, n)
	for i := range bodies {
		go func() {
			resp, err := slow.Get(fmt.Sprintf("%s/slow/%d", strings.TrimSuffix(url, "/"), i))
			if err == nil {
				bodies[i] = resp.Body
				_, err = io.ReadFull(resp.Body, make([]byte, slowChunk))
			}
			errs <- err
		}()
	}
	for range bodies {
		if err := <-errs; err != nil {
			return nil, nil, fmt.Errorf("in-flight request: %v", err)
		}
	}
	return release, bodies, nil
}

// slowChunk is what the slow upstream sends before it waits.
const slowChunk = 64 << 10

// slowUpstream serves /slow/ at addr: a chunk of the body, then nothing
// until release is closed.
func slowUpstream(addr string) (chan struct{}, error) {
	release := make(chan struct{})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	chunk := []byte(strings.Repeat("slow", slowChunk/4))
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(chunk)
		w.(http.Flusher).Flush()
		<-release
	}))
	return release, nil
}
