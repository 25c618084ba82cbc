package worker_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/metrics"
)

// TestOTLPTraces points OTEL_EXPORTER_OTLP_ENDPOINT at an OTLP/HTTP
// receiver: a worker running a generator exports batch spans to it.
func TestOTLPTraces(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if r.URL.Path == "/v1/traces" {
			bodies = append(bodies, b)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
	shutdown, err := metrics.SetupTracing(context.Background(), os.LookupEnv, "w1", "test")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "traced")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  count = 100
  value = "{'id': seq}"
}
`)
	_, stop := f.startWorker()
	eventually(t, 30*time.Second, "records produced", func() (bool, string) {
		v, err := f.ctl.ReadStatus(context.Background())
		return err == nil && v.Tasks["source.generator.g"][0].In == 100, ""
	})
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	all := bytes.Join(bodies, nil)
	for _, want := range []string{"pipectl.source.batch", "source.generator.g", "service.name", "pipectl"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("the exported spans lack %q (%d requests)", want, len(bodies))
		}
	}
}
