// Command service is heapsift's test program for `heapsift diff`: an order
// service whose handler may keep every order forever.
//
// Each of -requests requests builds a *Request (with a 256-byte body) and an
// *Order for one of a fixed set of -customers *Customer values. The requests
// are garbage once handled; with -leak (the default) every order is also
// appended to the package-level audit log, which nothing ever trims, so the
// live main.Order objects grow with the requests while main.Customer stays
// constant. Run it twice, with N and 2N requests, and the two cores differ
// by exactly N live main.Order objects. After two GCs it prints its ground
// truth as "truth KEY VALUE" lines and panics with GOTRACEBACK=crash, so the
// runtime aborts with SIGABRT and the kernel writes a core file.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"
)

// Customer is steady state: a fixed number of them, whatever the load.
type Customer struct {
	ID     int
	Name   string
	Orders int
}

// Order is what a request creates, and what the audit log leaks.
type Order struct {
	ID       int64
	Customer *Customer
	Amount   float64
	Items    [4]int32
}

// Request is per-request garbage.
type Request struct {
	ID   int
	Path string
	Body []byte
}

var (
	customers []*Customer

	// audit keeps every order when leaking: that is the leak.
	audit struct {
		mu     sync.Mutex
		orders []*Order
	}
)

//go:noinline
func handle(i int, leak bool) float64 {
	req := &Request{ID: i, Path: fmt.Sprintf("/orders/%d", i), Body: make([]byte, 256)}
	c := customers[i%len(customers)]
	o := &Order{ID: int64(req.ID), Customer: c, Amount: float64(len(req.Body)+i%100) / 4}
	for k := range o.Items {
		o.Items[k] = int32(i + k)
	}
	c.Orders++
	if leak {
		audit.mu.Lock()
		audit.orders = append(audit.orders, o)
		audit.mu.Unlock()
	}
	return o.Amount
}

func main() {
	debug.SetTraceback("crash") // crash with a core even without GOTRACEBACK=crash
	requests := flag.Int("requests", 1000, "requests to handle")
	ncustomers := flag.Int("customers", 50, "distinct customers")
	leak := flag.Bool("leak", true, "keep every order in the audit log")
	flag.Parse()
	if *requests < 0 || *ncustomers < 1 {
		fmt.Fprintln(os.Stderr, "service: -requests must be >= 0 and -customers >= 1")
		os.Exit(2)
	}
	for i := range *ncustomers {
		customers = append(customers, &Customer{ID: i, Name: fmt.Sprintf("customer-%03d", i)})
	}
	var total float64
	for i := range *requests {
		total += handle(i, *leak)
	}

	runtime.GC()
	runtime.GC()
	audit.mu.Lock()
	retained := len(audit.orders)
	audit.mu.Unlock()

	var b strings.Builder
	fmt.Fprintf(&b, "truth requests %d\n", *requests)
	fmt.Fprintf(&b, "truth orders %d\n", retained)
	fmt.Fprintf(&b, "truth customers %d\n", len(customers))
	fmt.Fprintf(&b, "truth sizeof_Order %d\n", unsafe.Sizeof(Order{}))
	fmt.Fprintf(&b, "truth sizeof_Customer %d\n", unsafe.Sizeof(Customer{}))
	fmt.Fprintf(&b, "truth total %g\n", total)
	fmt.Fprintf(&b, "truth go_version %s\n", runtime.Version())
	fmt.Fprintf(&b, "truth pid %d\n", os.Getpid())
	os.Stdout.WriteString(b.String())

	panic("service: crashing on purpose to leave a core file")
}
