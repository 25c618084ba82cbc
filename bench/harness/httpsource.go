package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pipectl/pipectl/bench/baseline"
)

// runHTTPSource is the http_source scenario: records/s POSTed as NDJSON
// into Kafka, pipectl's source "http" against baseline.HTTPSource. The
// harness's clients (baseline.HTTPClients of them) POST requests of
// baseline.HTTPRequestRecords records (baseline.NewRecord's JSON) and send
// the next once the answer came, which both sides give only after Kafka
// acknowledged the request's records; each side is timed from its
// process's start until the output topic holds every record.
func runHTTPSource(ctx context.Context, e *env) (*Result, error) {
	var addr string // the listen address of the run under way
	topics := topicOutput(func(e *env) int64 { return e.cfg.Records })
	return runThroughput(ctx, e, throughput{
		records: e.cfg.Records,
		output: func(ctx context.Context, e *env, name string) (*output, error) {
			out, err := topics(ctx, e, name)
			if err != nil {
				return nil, err
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				out.cleanup()
				return nil, err
			}
			addr = l.Addr().String()
			l.Close()
			return out, nil
		},
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf("source \"http\" \"bench\" {\n  listen = %q\n  format = \"ndjson\"\n  topic  = %q\n}\n", addr, target)
		},
		baseline: func(e *env, target, _ string) []string {
			return []string{"-name", "http_source", "-brokers", e.broker.addr, "-listen", addr, "-output", target, "-records", strconv.FormatInt(e.cfg.Records, 10)}
		},
		feed: func(ctx context.Context, e *env) error { return postRecords(ctx, "http://"+addr+"/", e.cfg.Records) },
	})
}

// postRecords POSTs records 0 … n-1 from baseline.HTTPClients clients,
// retrying a request until it gets a 200 (the listener may not be up yet).
func postRecords(ctx context.Context, url string, n int64) error {
	per := int64(baseline.HTTPRequestRecords)
	next := make(chan int64)
	go func() {
		defer close(next)
		for start := int64(0); start < n; start += per {
			select {
			case next <- start:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, baseline.HTTPClients)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: baseline.HTTPClients}}
	for range baseline.HTTPClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body bytes.Buffer
			for start := range next {
				body.Reset()
				for seq := start; seq < min(start+per, n); seq++ {
					b, _ := json.Marshal(baseline.NewRecord(seq))
					body.Write(b)
					body.WriteByte('\n')
				}
				for {
					req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body.Bytes()))
					if err != nil {
						errs <- err
						return
					}
					resp, err := client.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							break
						}
					}
					select {
					case <-ctx.Done():
						errs <- ctx.Err()
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
