package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// driveHTTP sends n GETs for files f0..f<paths-1> over c keep-alive
// connections, some asking for gzip, and keeps the connections open.
func driveHTTP(url string, paths, n, c int) (func(), error) {
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
	return func() { tr.CloseIdleConnections() }, nil
}
