package httpconn

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPollRelativeNextAndAuth follows relative next links over three
// pages with a bearer token, saves each page's next URL as the offset,
// ends the run on a null next, and resumes from a saved offset.
func TestPollRelativeNextAndAuth(t *testing.T) {
	pages := map[string]string{
		"/api/v1/things":        `{"data":[{"id":1},{"id":2}],"links":{"next":"things?page=2"}}`,
		"/api/v1/things?page=2": `{"data":[{"id":3}],"links":{"next":"/api/v1/things?page=3"}}`,
		"/api/v1/things?page=3": `{"data":[],"links":{"next":null}}`,
	}
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		b, ok := pages[r.URL.RequestURI()]
		if !ok {
			http.Error(w, "no such page", http.StatusNotFound)
			return
		}
		w.Write([]byte(b))
	}))
	defer srv.Close()
	cfg := map[string]any{"url": srv.URL + "/api/v1/things", "topic": "things", "records": "body.data", "next": "body.links.next",
		"key": "item.id", "bearer_token": "tok", "interval": "10ms"}
	open := func(offset map[string]any) *pollSource {
		s := PollSource().NewSource().(*pollSource)
		tc := taskContext(t, &PollSchema, cfg)
		tc.Offset = func(map[string]any) map[string]any { return offset }
		if err := s.Open(t.Context(), tc); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(nil)
	var ids []string
	var offsets []string
	for range 3 {
		recs, err := s.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.Skip {
				b, _ := json.Marshal(r.Value)
				ids = append(ids, string(b))
				if r.Key != r.Value.(map[string]any)["id"] {
					t.Errorf("key %v of %v", r.Key, r.Value)
				}
			}
		}
		offsets = append(offsets, recs[len(recs)-1].SourceOffset["url"].(string))
	}
	if strings.Join(ids, ",") != `{"id":1},{"id":2},{"id":3}` {
		t.Fatalf("records %v", ids)
	}
	want := []string{srv.URL + "/api/v1/things?page=2", srv.URL + "/api/v1/things?page=3", ""}
	if strings.Join(offsets, " ") != strings.Join(want, " ") {
		t.Fatalf("offsets %q, want %q", offsets, want)
	}
	for _, a := range auth {
		if a != "Bearer tok" {
			t.Fatalf("Authorization %q", a)
		}
	}
	// A new task resumes at the saved page.
	r := open(map[string]any{"url": srv.URL + "/api/v1/things?page=2"})
	recs, err := r.Poll(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Value.(map[string]any)["id"] != int64(3) {
		t.Fatalf("resumed poll: %v %v", recs, err)
	}
	// A 404 is an error that names the status, not retriable.
	r.cur = srv.URL + "/gone"
	r.due = r.due.Add(-r.cfg.Interval)
	if _, err := r.Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a 404 page: %v", err)
	}
}

// TestPollLimits checks what an endpoint cannot make http_poll do: read a
// response over max_response_bytes, follow a redirect to another host with
// the credentials, show a secret of the url in the offsets topic (the
// partition is a digest; resuming still finds the saved offset), or have
// an error quote a next value.
func TestPollLimits(t *testing.T) {
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = append(elsewhere, r.Header.Get("Authorization")+r.Header.Get("X-Api-Key"))
		w.Write([]byte(`[]`))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(`[` + strings.Repeat(`{"a":1},`, 200) + `{"a":1}]`))
		case "/moved":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/badnext":
			w.Write([]byte(`{"items":[],"next":"ht!tp://secret-cursor"}`))
		default:
			w.Write([]byte(`[{"a":1}]`))
		}
	}))
	defer srv.Close()
	open := func(path string, extra map[string]any, offsets map[string]map[string]any) *pollSource {
		cfg := map[string]any{"url": srv.URL + path, "topic": "t", "bearer_token": "tok", "headers": map[string]string{"X-Api-Key": "k3y"}, "max_response_bytes": int64(1000)}
		for k, v := range extra {
			cfg[k] = v
		}
		s := PollSource().NewSource().(*pollSource)
		tc := taskContext(t, &PollSchema, cfg)
		tc.Offset = func(p map[string]any) map[string]any { b, _ := json.Marshal(p); return offsets[string(b)] }
		if err := s.Open(t.Context(), tc); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := open("/big", nil, nil).Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "max_response_bytes") {
		t.Errorf("a response over max_response_bytes: %v", err)
	}
	if _, err := open("/moved", nil, nil).Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "302") {
		t.Errorf("a redirect: %v, want an error naming 302", err)
	}
	if len(elsewhere) > 0 {
		t.Errorf("the redirect was followed, carrying %q", elsewhere)
	}
	if _, err := open("/badnext", map[string]any{"records": "body.items", "next": "body.next"}, nil).Poll(t.Context()); err == nil || strings.Contains(err.Error(), "secret-cursor") {
		t.Errorf("a bad next: %v, want an error not quoting it", err)
	}
	secret := "/items?api_key=s3cret"
	s := open(secret, nil, nil)
	recs, err := s.Poll(t.Context())
	if err != nil || len(recs) != 1 {
		t.Fatalf("poll: %v %v", recs, err)
	}
	part, _ := json.Marshal(recs[0].SourcePartition)
	if strings.Contains(string(part), "s3cret") {
		t.Errorf("the source partition %s shows the url's secret", part)
	}
	// Resuming finds the offset saved under that partition, and one
	// saved under the url by an earlier version.
	legacy, _ := json.Marshal(map[string]any{"url": srv.URL + secret})
	for _, key := range []string{string(part), string(legacy)} {
		r := open(secret, nil, map[string]map[string]any{key: {"url": srv.URL + "/resumed"}})
		if r.cur != srv.URL+"/resumed" {
			t.Errorf("offset under %s: resumed at %q", key, r.cur)
		}
	}
}
