package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// post sends body as JSON to url and decodes the JSON answer into out.
func post(client *http.Client, url string, body, out any) error {
	b, _ := json.Marshal(body)
	resp, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// driveEtcd puts n keys of 100 to 400 bytes through etcd's JSON gateway
// from c workers, one in ten under a lease, and overwrites a tenth of
// them, so that the keys have several revisions.
func driveEtcd(url string, n, c int) (func(), error) {
	url = strings.TrimSuffix(url, "/")
	tr := &http.Transport{MaxIdleConnsPerHost: c}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var lease struct{ ID string }
	if err := post(client, url+"/v3/lease/grant", map[string]any{"TTL": 36000}, &lease); err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString
	value := strings.Repeat("0123456789abcdef", 25)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	total := n + n/10
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				k := i
				if i >= n {
					k = (i - n) * 10
				}
				req := map[string]any{
					"key":   b64([]byte(fmt.Sprintf("/bench/key/%08d", k))),
					"value": b64([]byte(value[:100+(i*13)%300])),
				}
				if k%10 == 0 {
					req["lease"] = lease.ID
				}
				if err := post(client, url+"/v3/kv/put", req, nil); err != nil {
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
	fmt.Printf("etcd: %d puts of %d keys, lease %s\n", total, n, lease.ID)
	return func() { tr.CloseIdleConnections() }, nil
}
