// Command leaky is heapsift's Go test program and demo: a small HTTP service
// whose in-process profiler keeps every request's timing forever.
//
// Every request handled appends a *Timing (with its own name string) to the
// package-level defaultProfiler.results, which nothing ever trims; sessions
// pile up in a package-level map. After -requests requests (the first -real
// of them over a real loopback HTTP connection, the rest by calling the
// handler directly with httptest, which is much quicker) the program runs a
// GC, prints its ground truth as "truth KEY VALUE" lines and panics with
// GOTRACEBACK=crash, so the runtime aborts with SIGABRT and the kernel writes
// a core file.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Timing is one profiled downstream call.
type Timing struct {
	Name     string
	Start    time.Time
	Duration time.Duration
}

// Profiler records timings. Its results are never trimmed: that is the leak.
type Profiler struct {
	mu      sync.Mutex
	results []*Timing
}

var defaultProfiler = &Profiler{}

// Track records that the call called name, begun at start, has finished.
func (p *Profiler) Track(name string, start time.Time) {
	t := &Timing{Name: name, Start: start, Duration: time.Since(start)}
	p.mu.Lock()
	p.results = append(p.results, t)
	p.mu.Unlock()
}

// Session is per-client state kept in the sessions map.
type Session struct {
	ID      string
	User    string
	Created time.Time
	Hits    int
	Scratch []byte
}

var (
	sessionsMu sync.Mutex
	sessions   = map[string]*Session{}
)

func session(id string) *Session {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	s, ok := sessions[id]
	if !ok {
		s = &Session{ID: id, User: "user-" + id, Created: time.Now(), Scratch: make([]byte, 64)}
		sessions[id] = s
	}
	s.Hits++
	return s
}

// downstream pretends to ask another service about an item.
func downstream(item string) string {
	return `{"item":"` + item + `","ok":true}`
}

func handle(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s := session(r.URL.Query().Get("session"))
	item := strings.TrimPrefix(r.URL.Path, "/items/")
	body := downstream(item)
	defaultProfiler.Track("GET "+r.URL.Path, start)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Session-Hits", fmt.Sprint(s.Hits))
	io.WriteString(w, body)
}

func target(i, nsessions int) string {
	return fmt.Sprintf("/items/%d?session=s%05d", i, i%nsessions)
}

// serveReal sends requests 0..n-1 over a real loopback connection and
// returns how many it sent; the server keeps running.
func serveReal(h http.Handler, n, nsessions int) (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go http.Serve(ln, h)
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	for i := 0; i < n; i++ {
		resp, err := client.Get(base + target(i, nsessions))
		if err != nil {
			return i, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return i, fmt.Errorf("GET %s: %s", target(i, nsessions), resp.Status)
		}
	}
	return n, nil
}

func main() {
	debug.SetTraceback("crash") // crash with a core even without GOTRACEBACK=crash
	requests := flag.Int("requests", 200000, "requests to handle")
	realN := flag.Int("real", 200, "how many of the requests go over a real HTTP connection")
	nsessions := flag.Int("sessions", 5000, "distinct session ids")
	flag.Parse()
	if *requests < 0 || *nsessions < 1 {
		fmt.Fprintln(os.Stderr, "leaky: -requests must be >= 0 and -sessions >= 1")
		os.Exit(2)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/items/", handle)

	done, err := serveReal(mux, min(*realN, *requests), *nsessions)
	if err != nil {
		// No loopback networking: carry on in-process; the truth below
		// counts what really happened.
		fmt.Fprintf(os.Stderr, "leaky: real HTTP request %d failed: %v\n", done, err)
	}
	for i := done; i < *requests; i++ {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", target(i, *nsessions), nil))
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	defaultProfiler.mu.Lock()
	timings := len(defaultProfiler.results)
	var resultsArray uintptr
	if timings > 0 {
		resultsArray = uintptr(unsafe.Pointer(&defaultProfiler.results[0]))
	}
	defaultProfiler.mu.Unlock()
	sessionsMu.Lock()
	nsess := len(sessions)
	sessionsMu.Unlock()

	var b strings.Builder
	fmt.Fprintf(&b, "truth timings %d\n", timings)
	fmt.Fprintf(&b, "truth sessions %d\n", nsess)
	fmt.Fprintf(&b, "truth heap_alloc %d\n", ms.HeapAlloc)
	fmt.Fprintf(&b, "truth heap_objects %d\n", ms.HeapObjects)
	fmt.Fprintf(&b, "truth real_requests %d\n", done)
	fmt.Fprintf(&b, "truth sizeof_Timing %d\n", unsafe.Sizeof(Timing{}))
	fmt.Fprintf(&b, "truth sizeof_Session %d\n", unsafe.Sizeof(Session{}))
	fmt.Fprintf(&b, "truth default_profiler %#x\n", uintptr(unsafe.Pointer(defaultProfiler)))
	fmt.Fprintf(&b, "truth results_array %#x\n", resultsArray)
	fmt.Fprintf(&b, "truth go_version %s\n", runtime.Version())
	fmt.Fprintf(&b, "truth pid %d\n", os.Getpid())
	os.Stdout.WriteString(b.String())

	panic("leaky: crashing on purpose to leave a core file")
}
