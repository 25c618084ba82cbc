package connectimport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/planner/connectimport"
)

// TestParseShapes reads each shape of Kafka Connect's REST API.
func TestParseShapes(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // name/type of each connector
		err      string
	}{
		{"POST body", `{"name":"a","config":{"connector.class":"X","tasks.max":2}}`, []string{"a/"}, ""},
		{"bare config named by name", `{"connector.class":"X","name":"b"}`, []string{"b/"}, ""},
		{"bare config named by the file", `{"connector.class":"X"}`, []string{"my-conn/"}, ""},
		{"GET /connectors/NAME", `{"name":"c","config":{"connector.class":"X"},"tasks":[],"type":"sink"}`, []string{"c/sink"}, ""},
		{"expand=info", `{"z":{"info":{"name":"z","config":{"connector.class":"X"},"type":"source"}},"a":{"info":{"config":{"connector.class":"Y"},"type":"sink"},"status":{}}}`, []string{"a/sink", "z/source"}, ""},
		{"array", `[{"connector.class":"X","name":"p"},{"name":"q","config":{"connector.class":"Y"}}]`, []string{"p/", "q/"}, ""},
		{"not JSON", `{`, nil, "not JSON"},
		{"two values", `{"connector.class":"X"} {}`, nil, "more than one JSON value"},
		{"no class", `{"name":"a","config":{"topics":"t"}}`, nil, `connector "a" has no connector.class`},
		{"nested value", `{"connector.class":"X","bad":{"a":1}}`, nil, `the setting "bad" is an object`},
		{"unrelated", `{"hello":"world"}`, nil, "not a Kafka Connect connector configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := connectimport.Parse([]byte(tt.in), "dir/my-conn.json")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Name+"/"+c.Type)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("connectors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetch reads GET /connectors?expand=info from a server that answers
// with a response recorded from Kafka Connect (testdata/connect's
// MirrorMaker dump) and with Connect's error shape.
func TestFetch(t *testing.T) {
	body, err := os.ReadFile("testdata/connect/mirrormaker.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/connectors" && r.URL.Query().Get("expand") == "info":
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error_code":404,"message":"HTTP 404 Not Found"}`))
		}
	}))
	defer srv.Close()
	cs, err := connectimport.Fetch(context.Background(), srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"mm2-checkpoint", "mm2-heartbeat", "mm2-source"}, names); diff != "" {
		t.Errorf("connectors (-want +got):\n%s", diff)
	}
	// Kafka Connect before 2.3 answers expand=info with the names.
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/connectors":
			w.Write([]byte(`["a b", "c"]`))
		case "/connectors/a b":
			w.Write([]byte(`{"name":"a b","config":{"connector.class":"X","name":"a b"},"tasks":[]}`))
		case "/connectors/c":
			w.Write([]byte(`{"name":"c","config":{"connector.class":"Y","name":"c"},"tasks":[]}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer old.Close()
	cs, err = connectimport.Fetch(context.Background(), old.Client(), old.URL)
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, c := range cs {
		names = append(names, c.Name+"="+c.Config["connector.class"])
	}
	if diff := cmp.Diff([]string{"a b=X", "c=Y"}, names); diff != "" {
		t.Errorf("connectors of an old Connect (-want +got):\n%s", diff)
	}
	_, err = connectimport.Fetch(context.Background(), srv.Client(), srv.URL+"/nope")
	if err == nil || !strings.Contains(err.Error(), "404 Not Found: HTTP 404 Not Found") {
		t.Errorf("err = %v, want Connect's error message", err)
	}
}
