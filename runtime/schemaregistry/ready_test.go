package schemaregistry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
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

// sharedLog is one log read by several registries, each of which catches
// up with it only when it asks for the end (as a worker's consumer lags).
type sharedLog struct {
	mu      sync.Mutex
	entries []logEntry
	seen    map[*Registry]int
}

func (s *sharedLog) deliver(r *Registry) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ; s.seen[r] < len(s.entries); s.seen[r]++ {
		e := s.entries[s.seen[r]]
		r.apply(int64(s.seen[r]), e.key, e.value)
	}
	return int64(len(s.entries))
}

type sharedView struct {
	s *sharedLog
	r *Registry
}

func (v *sharedView) append(_ context.Context, key, value []byte) (int64, error) {
	v.s.mu.Lock()
	v.s.entries = append(v.s.entries, logEntry{key, value})
	off := int64(len(v.s.entries) - 1)
	v.s.mu.Unlock()
	v.s.deliver(v.r)
	return off, nil
}

func (v *sharedView) end(context.Context) (int64, error) { return v.s.deliver(v.r), nil }

// TestRESTReadsSeeDeletes: a version deleted on one worker is gone at once
// from another worker's REST API, whose copy has not read the delete yet.
func TestRESTReadsSeeDeletes(t *testing.T) {
	ctx := context.Background()
	shared := &sharedLog{seen: map[*Registry]int{}}
	var regs [2]*Registry
	for i := range regs {
		v := &sharedView{s: shared}
		regs[i] = newRegistry(v)
		v.r = regs[i]
		regs[i].markReady()
	}
	a, b := regs[0], regs[1]
	ss, err := a.Register(ctx, "x", connector.RegistrySchema{Schema: `"string"`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Version(ctx, "x", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeleteVersion(ctx, "x", 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeleteVersion(ctx, "x", 1, true); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(b, nil))
	defer srv.Close()
	for path, code := range map[string]string{
		"/subjects/x/versions/1":                          "40401",
		"/schemas/ids/" + strconv.Itoa(ss.ID):             "40403",
		"/schemas/ids/" + strconv.Itoa(ss.ID) + "/schema": "40403",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(body), code) {
			t.Errorf("GET %s after the delete: %d %s, want %s", path, resp.StatusCode, body, code)
		}
	}
}
