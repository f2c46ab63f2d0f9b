// Command bigheap builds a large session cache, the kind of heap a leaking
// service ends with, then crashes so that the kernel writes a core. It is
// heapsift's benchmark input: with the default flags about 18 million live
// objects in about 2 GB.
//
// It prints ground truth as "truth KEY VALUE" lines: its own object counts
// and runtime.MemStats after a GC.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"
)

// Session is one cached user session.
type Session struct {
	ID      string
	User    *User
	Tags    []string
	Attrs   map[string]int
	Events  []*Event
	Created int64
	Hits    int64
}

// User is shared by several sessions.
type User struct {
	Name  string
	Email string
	Roles []string
}

// Event is one thing a session did.
type Event struct {
	Kind    string
	At      int64
	Payload []byte
}

// Cache shards sessions over a few maps.
type Cache struct {
	shards []map[string]*Session
}

var cache *Cache

func main() {
	sessions := flag.Int("sessions", 1500000, "sessions to create")
	events := flag.Int("events", 3, "events per session")
	wait := flag.Bool("wait", false, "keep running after printing the truth instead of crashing (for heapsift --pid)")
	flag.Parse()

	c := &Cache{shards: make([]map[string]*Session, 64)}
	for i := range c.shards {
		c.shards[i] = make(map[string]*Session)
	}
	users := make([]*User, 0, *sessions/4+1)
	kinds := []string{"login", "view", "click", "buy", "logout"}
	var nEvents, nPayloads int
	for i := 0; i < *sessions; i++ {
		if i%4 == 0 {
			users = append(users, &User{
				Name:  "user-" + strconv.Itoa(i/4),
				Email: "user" + strconv.Itoa(i/4) + "@example.com",
				Roles: []string{"reader"},
			})
		}
		s := &Session{
			ID:      "session-" + strconv.Itoa(i) + "-abcdefgh",
			User:    users[len(users)-1],
			Tags:    []string{"web", "eu-west-" + strconv.Itoa(i%3)},
			Attrs:   map[string]int{"a": i, "b": i * 2},
			Created: int64(i),
		}
		for j := 0; j < *events; j++ {
			e := &Event{Kind: kinds[(i+j)%len(kinds)], At: int64(i + j)}
			if j == 0 {
				e.Payload = make([]byte, 640)
				nPayloads++
			}
			s.Events = append(s.Events, e)
			nEvents++
		}
		c.shards[i%len(c.shards)][s.ID] = s
	}
	cache = c
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := fmt.Sprintf("truth sessions %d\ntruth users %d\ntruth events %d\ntruth payloads %d\n"+
		"truth heap_alloc %d\ntruth heap_objects %d\n",
		*sessions, len(users), nEvents, nPayloads, ms.HeapAlloc, ms.HeapObjects)
	os.Stdout.WriteString(out)
	if *wait {
		os.Stdout.WriteString("truth ready 1\n")
		for {
			time.Sleep(time.Hour)
		}
	}
	// A crash traceback makes the runtime abort, and the kernel write a core.
	debug.SetTraceback("crash")
	panic("bigheap: dumping core on purpose")
}
