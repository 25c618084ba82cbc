package schemaregistry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// stuckLog is a log whose end is a record that never arrives.
type stuckLog struct{}

func (stuckLog) append(context.Context, []byte, []byte) (int64, error) { return 0, nil }
func (stuckLog) end(context.Context) (int64, error)                    { return 1 << 40, nil }

// TestNotReadyAndDeadline: before the registry has read its topic every
// route is 503 (50003); after, a request that waits for the topic ends at
// the deadline with 50002 instead of hanging.
func TestNotReadyAndDeadline(t *testing.T) {
	r := newRegistry(stuckLog{})
	srv := httptest.NewServer(Handler(r, nil))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	if st, body := get("/subjects"); st != 503 || !strings.Contains(body, `"error_code":50003`) {
		t.Fatalf("not ready: %d %s", st, body)
	}
	old := requestTimeout
	requestTimeout = 200 * time.Millisecond
	defer func() { requestTimeout = old }()
	r.markReady()
	start := time.Now()
	if st, body := get("/subjects"); st != 500 || !strings.Contains(body, `"error_code":50002`) {
		t.Fatalf("stuck: %d %s", st, body)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("the request was not bounded")
	}
}
