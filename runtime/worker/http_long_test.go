//go:build long

package worker_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLongHTTPSourceKill9 has clients POST 100,000 records to a source
// "http" on a worker process, in NDJSON requests of 100, retrying every
// request that did not get a 200; the worker is killed with kill -9
// twice and started again meanwhile. Every record must be in Kafka
// (a 200 means Kafka has it); duplicates, which at-least-once delivery
// allows for requests that were in flight at a kill, are counted and
// reported.
func TestLongHTTPSourceKill9(t *testing.T) {
	const n, per, clients = 100000, 100, 4
	addr := freePort(t)
	f := newFixture(t, "httpkill")
	f.apply(fmt.Sprintf(`
topic "in" {
  partitions = 3
}
source "http" "in" {
  listen     = %q
  topic      = topic.in.name
  format     = "ndjson"
  queue_size = 2000
}
`, addr))
	w := f.startWorkerProcess()
	url := "http://" + addr + "/"
	var acked, retries atomic.Int64
	codes := sync.Map{} // status code → count of answers other than 200
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 60 * time.Second}
			for start := c * per; start < n; start += clients * per {
				var b bytes.Buffer
				for id := start; id < start+per; id++ {
					fmt.Fprintf(&b, "{\"id\":%d}\n", id)
				}
				for {
					resp, err := client.Post(url, "application/x-ndjson", bytes.NewReader(b.Bytes()))
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							acked.Add(per)
							break
						}
						v, _ := codes.LoadOrStore(resp.StatusCode, new(atomic.Int64))
						v.(*atomic.Int64).Add(1)
					}
					retries.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	for _, frac := range []int64{3, 3} {
		eventually(t, 180*time.Second, "records acknowledged", func() (bool, string) {
			a := acked.Load()
			return a >= n/frac, fmt.Sprint(a)
		})
		at := acked.Load()
		kill(t, w)
		t.Logf("kill -9 with %d records acknowledged", at)
		acked.Store(0) // the next third counts from here
		w = f.startWorkerProcess()
	}
	wg.Wait()
	var ids map[int]int
	eventually(t, 60*time.Second, "every id in Kafka", func() (bool, string) {
		ids = topicIDs(t, f.kcfg, "in")
		return len(ids) == n, fmt.Sprintf("%d of %d ids", len(ids), n)
	})
	dups := 0
	for id := range n {
		if ids[id] == 0 {
			t.Fatalf("id %d was lost", id)
		}
		dups += ids[id] - 1
	}
	other := map[any]int64{}
	codes.Range(func(k, v any) bool { other[k] = v.(*atomic.Int64).Load(); return true })
	t.Logf("two kill -9s: all %d ids in Kafka, %d duplicates (at-least-once), %d retried requests, non-200 answers by status %v", n, dups, retries.Load(), other)
}
