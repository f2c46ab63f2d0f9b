package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// lspConn is a JSON-RPC 2.0 connection with LSP's Content-Length framing.
type lspConn struct {
	c       net.Conn
	mu      sync.Mutex // guards writes, id and waiting
	id      int
	waiting map[int]chan json.RawMessage
	last    atomic.Int64 // when the last message arrived, in Unix nanoseconds
}

func (l *lspConn) write(msg map[string]any) error {
	msg["jsonrpc"] = "2.0"
	b, _ := json.Marshal(msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := fmt.Fprintf(l.c, "Content-Length: %d\r\n\r\n%s", len(b), b)
	return err
}

// call sends a request and returns a channel for its result.
func (l *lspConn) call(method string, params any) chan json.RawMessage {
	l.mu.Lock()
	l.id++
	id := l.id
	ch := make(chan json.RawMessage, 1)
	l.waiting[id] = ch
	l.mu.Unlock()
	l.write(map[string]any{"id": id, "method": method, "params": params})
	return ch
}

func (l *lspConn) notify(method string, params any) error {
	return l.write(map[string]any{"method": method, "params": params})
}

// read delivers responses and answers the server's own requests
// (configuration, progress, registrations) with empty results.
func (l *lspConn) read() {
	r := bufio.NewReaderSize(l.c, 1<<16)
	for {
		n := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		l.last.Store(time.Now().UnixNano())
		var m struct {
			ID     *json.RawMessage `json:"id"`
			Method string           `json:"method"`
			Params json.RawMessage  `json:"params"`
			Result json.RawMessage  `json:"result"`
		}
		if json.Unmarshal(body, &m) != nil || m.ID == nil {
			continue
		}
		if m.Method != "" {
			var result any
			if m.Method == "workspace/configuration" {
				var p struct{ Items []any }
				json.Unmarshal(m.Params, &p)
				result = make([]any, len(p.Items))
			}
			l.write(map[string]any{"id": m.ID, "result": result})
			continue
		}
		id, _ := strconv.Atoi(string(*m.ID))
		l.mu.Lock()
		ch := l.waiting[id]
		delete(l.waiting, id)
		l.mu.Unlock()
		if ch != nil {
			ch <- m.Result
		}
	}
}

// wait returns the result a call's channel delivers.
func wait(ch chan json.RawMessage) (json.RawMessage, error) {
	select {
	case r := <-ch:
		return r, nil
	case <-time.After(10 * time.Minute):
		return nil, fmt.Errorf("gopls did not answer")
	}
}

// goFiles lists the Go files of the module in root, testdata, build and
// hidden directories left out.
func goFiles(root string) []string {
	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && (d.Name() == "testdata" || d.Name() == "build" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if err == nil && strings.HasSuffix(p, ".go") {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// askFile asks for file f's symbols, then the hover, references and
// completions at its first three; it returns how many answers came.
func (l *lspConn) askFile(f string) (int, error) {
	doc := map[string]any{"uri": "file://" + f}
	res, err := wait(l.call("textDocument/documentSymbol", map[string]any{"textDocument": doc}))
	if err != nil {
		return 0, err
	}
	var syms []struct {
		SelectionRange struct{ Start struct{ Line, Character int } }
	}
	json.Unmarshal(res, &syms)
	var pending []chan json.RawMessage
	for i, s := range syms {
		if i == 3 {
			break
		}
		at := map[string]any{"line": s.SelectionRange.Start.Line, "character": s.SelectionRange.Start.Character}
		pos := map[string]any{"textDocument": doc, "position": at}
		ref := map[string]any{"textDocument": doc, "position": at, "context": map[string]any{"includeDeclaration": true}}
		pending = append(pending, l.call("textDocument/hover", pos), l.call("textDocument/references", ref), l.call("textDocument/completion", pos))
	}
	for _, ch := range pending {
		if _, err := wait(ch); err != nil {
			return 0, err
		}
	}
	return 1 + len(pending), nil
}

// driveLSP opens every Go file of the module in root (testdata and build
// left out) in gopls, asks for each file's symbols, the references and
// hover of its first symbols and completions, and keeps the session open.
func driveLSP(addr, root string) (func(), error) {
	root, _ = filepath.Abs(root)
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	l := &lspConn{c: c, waiting: map[int]chan json.RawMessage{}}
	go l.read()
	uri := "file://" + root
	if _, err := wait(l.call("initialize", map[string]any{
		"processId": os.Getpid(), "rootUri": uri,
		"workspaceFolders": []any{map[string]any{"uri": uri, "name": filepath.Base(root)}},
		"capabilities":     map[string]any{"workspace": map[string]any{"configuration": true, "workspaceFolders": true}},
	})); err != nil {
		return nil, err
	}
	l.notify("initialized", map[string]any{})
	files := goFiles(root)
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		l.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
			"uri": "file://" + f, "languageId": "go", "version": 1, "text": string(text)}})
	}
	requests := 0
	for _, f := range files {
		n, err := l.askFile(f)
		if err != nil {
			return nil, err
		}
		requests += n
	}
	for _, q := range []string{"Open", "Heap", "Object", "Type", "Read"} {
		if _, err := wait(l.call("workspace/symbol", map[string]any{"query": q})); err != nil {
			return nil, err
		}
		requests++
	}
	// gopls goes on diagnosing and analysing after its answers: wait
	// until it has been quiet for 5 s, so that its heap stands still.
	start := time.Now()
	for time.Since(time.Unix(0, l.last.Load())) < 5*time.Second && time.Since(start) < 5*time.Minute {
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("lsp: %d files open, %d requests answered, quiet after %.0f s\n", len(files), requests, time.Since(start).Seconds())
	return func() { c.Close() }, nil
}
