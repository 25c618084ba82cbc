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
