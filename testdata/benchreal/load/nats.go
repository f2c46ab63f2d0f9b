package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// natsConn speaks the NATS client protocol (text lines, payloads after
// a length) on one connection.
type natsConn struct {
	c   net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	sid int
}

func dialNATS(addr, name string) (*natsConn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	nc := &natsConn{c: c, r: bufio.NewReaderSize(c, 1<<16), w: bufio.NewWriterSize(c, 1<<16)}
	line, err := nc.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		return nil, fmt.Errorf("%s: no INFO from the server (%q, %v)", addr, line, err)
	}
	fmt.Fprintf(nc.w, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"protocol\":1,\"name\":%q}\r\n", name)
	return nc, nc.flush()
}

// flush sends what is buffered and waits for the server's PONG, so that
// the server has processed everything before it.
func (nc *natsConn) flush() error {
	nc.w.WriteString("PING\r\n")
	if err := nc.w.Flush(); err != nil {
		return err
	}
	for {
		line, _, err := nc.next()
		if err != nil {
			return err
		}
		if line == "PONG" {
			return nil
		}
	}
}

// next reads the next protocol line and, for MSG and HMSG, its payload;
// it answers the server's PINGs itself.
func (nc *natsConn) next() (string, []byte, error) {
	for {
		line, err := nc.r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "PING":
			nc.w.WriteString("PONG\r\n")
			nc.w.Flush()
			continue
		case line == "+OK":
			continue
		case strings.HasPrefix(line, "-ERR"):
			return "", nil, fmt.Errorf("server: %s", line)
		case strings.HasPrefix(line, "MSG ") || strings.HasPrefix(line, "HMSG "):
			f := strings.Fields(line)
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				return "", nil, fmt.Errorf("bad %q", line)
			}
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(nc.r, buf); err != nil {
				return "", nil, err
			}
			return line, buf[:n], nil
		}
		return line, nil, nil
	}
}

func (nc *natsConn) sub(subject string) int {
	nc.sid++
	fmt.Fprintf(nc.w, "SUB %s %d\r\n", subject, nc.sid)
	return nc.sid
}

func (nc *natsConn) pub(subject, reply string, payload []byte) {
	if reply != "" {
		fmt.Fprintf(nc.w, "PUB %s %s %d\r\n", subject, reply, len(payload))
	} else {
		fmt.Fprintf(nc.w, "PUB %s %d\r\n", subject, len(payload))
	}
	nc.w.Write(payload)
	nc.w.WriteString("\r\n")
}

// request publishes payload to subject and returns the first reply.
func (nc *natsConn) request(subject, payload string) (string, error) {
	inbox := fmt.Sprintf("_INBOX.load.%d", nc.sid+1)
	sid := nc.sub(inbox)
	nc.pub(subject, inbox, []byte(payload))
	if err := nc.w.Flush(); err != nil {
		return "", err
	}
	for {
		line, data, err := nc.next()
		if err != nil {
			return "", err
		}
		if f := strings.Fields(line); len(f) > 2 && f[1] == inbox && f[2] == strconv.Itoa(sid) {
			fmt.Fprintf(nc.w, "UNSUB %d\r\n", sid)
			if strings.Contains(string(data), `"error"`) {
				return "", fmt.Errorf("%s: %s", subject, data)
			}
			return string(data), nil
		}
	}
}

// driveNATS makes a JetStream memory stream of n messages of 64 to 1 KiB
// on 50 subjects, three durable pull consumers (one with 1,000 messages
// delivered and not acknowledged), and plain-subject traffic to
// subscribers that never read: the server buffers it for them.
func driveNATS(addr string, n int) (func(), error) {
	nc, err := dialNATS(addr, "load-js")
	if err != nil {
		return nil, err
	}
	if _, err := nc.request("$JS.API.STREAM.CREATE.BENCH",
		`{"name":"BENCH","subjects":["bench.>"],"storage":"memory","retention":"limits","num_replicas":1}`); err != nil {
		return nil, err
	}
	var slow []*natsConn
	for i := 0; i < 4; i++ {
		s, err := dialNATS(addr, fmt.Sprintf("slow-%d", i))
		if err != nil {
			return nil, err
		}
		s.sub("plain.>")
		if err := s.flush(); err != nil {
			return nil, err
		}
		slow = append(slow, s)
	}
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	for i := 0; i < n; i++ {
		size := 64 + (i*37)%960
		nc.pub(fmt.Sprintf("bench.s%d", i%50), "", payload[:size])
		if i%10 == 0 {
			nc.pub(fmt.Sprintf("plain.p%d", i%7), "", payload[:256])
		}
		if i%5000 == 4999 {
			if err := nc.flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := nc.flush(); err != nil {
		return nil, err
	}
	for i := 0; i < 3; i++ {
		cfg := fmt.Sprintf(`{"stream_name":"BENCH","config":{"durable_name":"C%d","ack_policy":"explicit","deliver_policy":"all","filter_subject":"bench.s%d"}}`, i, i)
		if _, err := nc.request(fmt.Sprintf("$JS.API.CONSUMER.DURABLE.CREATE.BENCH.C%d", i), cfg); err != nil {
			return nil, err
		}
	}
	pull := nc.sub("_INBOX.pull")
	nc.pub("$JS.API.CONSUMER.MSG.NEXT.BENCH.C0", "_INBOX.pull", []byte(`{"batch":1000,"expires":2000000000}`))
	got := 0
	for want := min(1000, n/50); got < want; {
		line, _, err := nc.next()
		if err != nil {
			return nil, err
		}
		if f := strings.Fields(line); len(f) > 2 && f[2] == strconv.Itoa(pull) && strings.Contains(line, "$JS.ACK") {
			got++
		}
	}
	fmt.Printf("nats: %d messages in stream BENCH, %d delivered unacknowledged, %d plain messages to 4 slow subscribers\n", n, got, n/10)
	return func() {
		for _, s := range slow {
			s.c.Close()
		}
		nc.c.Close()
	}, nil
}
