package httpconn

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/runtime/connector"
)

// compile compiles an expression attribute as lang does.
func compile(t *testing.T, s *configschema.Schema, attr, src string) connector.Expr {
	t.Helper()
	a, ok := s.Attribute(attr)
	if !ok {
		t.Fatalf("no attribute %s", attr)
	}
	vars := make([]expr.Var, len(a.ExprVars))
	for i, v := range a.ExprVars {
		vars[i] = expr.Var{Name: v.Name, Type: v.Type}
	}
	env, err := expr.NewEnv(vars)
	if err != nil {
		t.Fatal(err)
	}
	prog, issues := env.Compile(src, expr.Dyn)
	if len(issues) > 0 {
		t.Fatalf("compile %q: %v", src, issues)
	}
	return prog
}

// taskContext checks config against the schema as the worker does and
// compiles its expression attributes.
func taskContext(t *testing.T, s *configschema.Schema, config map[string]any) *connector.TaskContext {
	t.Helper()
	coerced, errs := s.Coerce(config)
	if len(errs) > 0 {
		t.Fatalf("config: %v", configschema.Errors(errs))
	}
	compiled := map[string]connector.Expr{}
	for _, a := range s.Attributes {
		if src, ok := coerced[a.Name].(string); ok && a.Type == configschema.Expression {
			compiled[a.Name] = compile(t, s, a.Name, src)
		}
	}
	return &connector.TaskContext{Pipeline: "test", Tasks: 1, Config: coerced, Exprs: compiled}
}

// seen is what a test endpoint received.
type seen struct {
	mu       sync.Mutex
	bodies   map[string][]string // path → bodies
	headers  []http.Header
	times    []time.Time
	answer   func(n int, r *http.Request, body string) (int, http.Header)
	requests int
}

func (s *seen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.headers = append(s.headers, r.Header.Clone())
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	code, h := http.StatusOK, http.Header(nil)
	if s.answer != nil {
		code, h = s.answer(n, r, string(b))
	}
	if code/100 == 2 {
		s.mu.Lock()
		s.bodies[r.URL.Path] = append(s.bodies[r.URL.Path], string(b))
		s.mu.Unlock()
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(code)
	io.WriteString(w, "answer "+http.StatusText(code))
}

func openSink(t *testing.T, config map[string]any) *sink {
	t.Helper()
	s := Sink().NewSink().(*sink)
	if err := s.Open(t.Context(), taskContext(t, &SinkSchema, config)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSinkBatchesPerURL: records go to the URL of their expression, in
// batches of batch_size, NDJSON, with basic auth and the headers.
func TestSinkBatchesPerURL(t *testing.T) {
	rm := &seen{bodies: map[string][]string{}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	s := openSink(t, map[string]any{"url": "'" + srv.URL + "/' + value.kind", "format": "ndjson", "batch_size": int64(2),
		"basic_username": "u", "basic_password": "p@ss", "headers": map[string]string{"X-A": "b"}})
	recs := []connector.Record{
		{Value: map[string]any{"kind": "a", "n": int64(1)}},
		{Value: map[string]any{"kind": "b", "n": int64(2)}},
		{Value: map[string]any{"kind": "a", "n": int64(3)}},
		{Value: map[string]any{"kind": "a", "n": int64(4)}},
		{Value: "plain"}, // no kind: the url expression fails for it
	}
	err := s.Write(t.Context(), recs)
	var fr interface{ FailedRecord() int }
	if !errors.As(err, &fr) || fr.FailedRecord() != 4 {
		t.Fatalf("Write: %v, want record 4 failed", err)
	}
	want := map[string][]string{
		"/a": {"{\"kind\":\"a\",\"n\":1}\n{\"kind\":\"a\",\"n\":3}\n", "{\"kind\":\"a\",\"n\":4}\n"},
		"/b": {"{\"kind\":\"b\",\"n\":2}\n"},
	}
	for p, bodies := range want {
		if strings.Join(rm.bodies[p], "|") != strings.Join(bodies, "|") {
			t.Errorf("%s got %q, want %q", p, rm.bodies[p], bodies)
		}
	}
	for _, h := range rm.headers {
		if h.Get("Authorization") != "Basic dTpwQHNz" || h.Get("X-A") != "b" || h.Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("request headers %v", h)
		}
	}
}

// TestSinkRetryAfter: a 429 with Retry-After: 1 is retried after about a
// second, and the batch is delivered once.
func TestSinkRetryAfter(t *testing.T) {
	rm := &seen{bodies: map[string][]string{}, answer: func(n int, _ *http.Request, _ string) (int, http.Header) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
		}
		return http.StatusAccepted, nil
	}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	s := openSink(t, map[string]any{"url": "'" + srv.URL + "/in'"})
	if err := s.Write(t.Context(), []connector.Record{{Value: map[string]any{"a": int64(1)}}, {Value: nil}}); err != nil {
		t.Fatal(err)
	}
	if got := rm.bodies["/in"]; len(got) != 1 || got[0] != `[{"a":1},null]` {
		t.Fatalf("delivered %q", got)
	}
	if gap := rm.times[1].Sub(rm.times[0]); gap < 900*time.Millisecond {
		t.Fatalf("retried after %s, Retry-After said 1 s", gap)
	}
}

// TestSinkGivesUp: an endpoint that keeps failing makes Write fail as
// retriable after max_retries, without the credentials in the error.
func TestSinkGivesUp(t *testing.T) {
	rm := &seen{bodies: map[string][]string{}, answer: func(int, *http.Request, string) (int, http.Header) {
		return http.StatusBadGateway, nil
	}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://user:pw-secret@", 1)
	s := openSink(t, map[string]any{"url": "'" + u + "/in'", "max_retries": int64(2), "retry_backoff_max": "10ms", "bearer_token": "tok-secret"})
	err := s.Write(t.Context(), []connector.Record{{Value: "x"}})
	if err == nil || !connector.IsRetriable(err) {
		t.Fatalf("Write: %v, want a retriable error", err)
	}
	if rm.requests != 3 {
		t.Errorf("%d requests, want 3 (1 + max_retries)", rm.requests)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows a credential: %v", err)
	}
}

// TestSinkIsolatesRefusedRecords: a batch refused with 422 is split until
// the refused record stands alone; it fails with the status and body as
// dead-letter headers, and the others are delivered.
func TestSinkIsolatesRefusedRecords(t *testing.T) {
	rm := &seen{bodies: map[string][]string{}, answer: func(_ int, _ *http.Request, body string) (int, http.Header) {
		if strings.Contains(body, `"bad":true`) {
			return http.StatusUnprocessableEntity, nil
		}
		return http.StatusOK, nil
	}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	s := openSink(t, map[string]any{"url": "'" + srv.URL + "/in'"})
	var recs []connector.Record
	for i := range 10 {
		recs = append(recs, connector.Record{Value: map[string]any{"i": int64(i), "bad": i == 3 || i == 7}})
	}
	err := s.Write(t.Context(), recs)
	failed := map[int][]connector.Header{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fr := e.(interface {
			FailedRecord() int
			DeadLetterHeaders() []connector.Header
		})
		failed[fr.FailedRecord()] = fr.DeadLetterHeaders()
	}
	if len(failed) != 2 || failed[3] == nil || failed[7] == nil {
		t.Fatalf("failed records %v, want 3 and 7", failed)
	}
	for _, h := range failed[3] {
		if h.Key == HeaderStatus && string(h.Value) != "422" || h.Key == HeaderBody && string(h.Value) != "answer Unprocessable Entity" {
			t.Errorf("header %s = %q", h.Key, h.Value)
		}
	}
	n := 0
	for _, b := range rm.bodies["/in"] {
		n += strings.Count(b, `"i":`)
	}
	if n != 8 {
		t.Fatalf("%d records delivered, want 8: %q", n, rm.bodies["/in"])
	}
}

func TestEncodeValue(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{[]byte(`{"a": 1}`), `{"a": 1}`},
		{[]byte("not json"), `"not json"`},
		{"text", `"text"`},
		{nil, "null"},
		{map[string]any{"b": []any{int64(1), 2.5}}, `{"b":[1,2.5]}`},
	} {
		got, err := encodeValue(c.v)
		if err != nil || string(got) != c.want {
			t.Errorf("encodeValue(%#v) = %s, %v; want %s", c.v, got, err, c.want)
		}
	}
}

// TestSinkBatchRefusals answers every request with a status that says the
// url, the credentials or the method is wrong: Write fails whole, with the
// status in the error, no record goes to the dead-letter topic and one
// request is sent (no splitting). A record-level refusal (409) is still
// split down to the record.
func TestSinkBatchRefusals(t *testing.T) {
	for _, status := range []int{301, 307, 401, 403, 404, 405, 407, 501, 505} {
		rm := &seen{bodies: map[string][]string{}, answer: func(int, *http.Request, string) (int, http.Header) {
			return status, http.Header{"Location": {"http://elsewhere.invalid/"}}
		}}
		srv := httptest.NewServer(rm)
		s := openSink(t, map[string]any{"url": "'" + srv.URL + "/in'", "max_retries": int64(0)})
		recs := []connector.Record{{Value: map[string]any{"i": int64(1)}}, {Value: map[string]any{"i": int64(2)}}, {Value: map[string]any{"i": int64(3)}}}
		err := s.Write(t.Context(), recs)
		srv.Close()
		if err == nil {
			t.Errorf("%d: Write succeeded", status)
			continue
		}
		if connector.IsRetriable(err) || !strings.Contains(err.Error(), strconv.Itoa(status)) {
			t.Errorf("%d: Write gave %v (retriable %v), want a permanent error naming the status", status, err, connector.IsRetriable(err))
		}
		var fr interface{ FailedRecord() int }
		if errors.As(err, &fr) {
			t.Errorf("%d: record %d sent to the dead-letter topic", status, fr.FailedRecord())
		}
		if n := rm.requests; n != 1 {
			t.Errorf("%d: %d requests, want 1 (a batch refusal is not split)", status, n)
		}
	}
	rm := &seen{bodies: map[string][]string{}, answer: func(_ int, _ *http.Request, body string) (int, http.Header) {
		if strings.Contains(body, `"i":2`) {
			return http.StatusConflict, nil
		}
		return http.StatusOK, nil
	}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	s := openSink(t, map[string]any{"url": "'" + srv.URL + "/in'"})
	err := s.Write(t.Context(), []connector.Record{{Value: map[string]any{"i": int64(1)}}, {Value: map[string]any{"i": int64(2)}}, {Value: map[string]any{"i": int64(3)}}})
	var fr interface{ FailedRecord() int }
	if !errors.As(err, &fr) || fr.FailedRecord() != 1 {
		t.Fatalf("409: Write gave %v, want record 1 refused", err)
	}
}

// TestSinkSensitiveHeaders checks that sensitive_headers reach the
// endpoint beside headers, winning over a header of the same name.
func TestSinkSensitiveHeaders(t *testing.T) {
	rm := &seen{bodies: map[string][]string{}}
	srv := httptest.NewServer(rm)
	defer srv.Close()
	s := openSink(t, map[string]any{"url": "'" + srv.URL + "/in'", "headers": map[string]any{"X-Source": "pipectl", "X-Api-Key": "public"},
		"sensitive_headers": map[string]any{"X-Api-Key": "k3y"}})
	if err := s.Write(t.Context(), []connector.Record{{Value: "v"}}); err != nil {
		t.Fatal(err)
	}
	if len(rm.headers) != 1 || rm.headers[0].Get("X-Api-Key") != "k3y" || rm.headers[0].Get("X-Source") != "pipectl" {
		t.Fatalf("headers sent %v", rm.headers)
	}
}
