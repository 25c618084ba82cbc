package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
)

// HTTPRequestRecords is how many NDJSON lines one request of the
// http_source scenario carries.
const HTTPRequestRecords = 500

// HTTPClients is how many clients POST at the same time in the
// http_source scenario.
const HTTPClients = 4

// HTTPSource is the hand-written net/http listener → franz-go loop of the
// http_source scenario: it listens on a.Listen, takes POSTed NDJSON
// bodies, checks each line is JSON (as pipectl's source does), produces
// each line as a record to Output, and answers 200 once the request's
// records are acknowledged; it exits once a.Records are.
func HTTPSource(ctx context.Context, a Args) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Brokers...), kgo.ProducerLinger(ProducerLinger), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	l, err := net.Listen("tcp", a.Listen)
	if err != nil {
		return err
	}
	var (
		acked atomic.Int64
		done  = make(chan struct{})
		once  sync.Once
		mu    sync.Mutex
		first error
	)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var lines [][]byte
		for rest := body; len(rest) > 0; {
			var line []byte
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				line, rest = rest, nil
			}
			if line = bytes.TrimSpace(line); len(line) == 0 {
				continue
			}
			if !json.Valid(line) {
				http.Error(w, "a line is not JSON", http.StatusBadRequest)
				return
			}
			lines = append(lines, line)
		}
		var wg sync.WaitGroup
		var failed atomic.Bool
		wg.Add(len(lines))
		for _, line := range lines {
			cl.Produce(r.Context(), &kgo.Record{Topic: a.Output, Value: line}, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Store(true)
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
				}
				wg.Done()
			})
		}
		wg.Wait()
		if failed.Load() {
			http.Error(w, "produce failed", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "{\"records\":%d}\n", len(lines))
		if acked.Add(int64(len(lines))) >= a.Records {
			once.Do(func() { close(done) })
		}
	})}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			mu.Lock()
			first = cmpOr(first, err)
			mu.Unlock()
			once.Do(func() { close(done) })
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		srv.Close()
		return ctx.Err()
	}
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	return first
}
