package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/worker"
	"github.com/pipectl/pipectl/stdlib/restauth"
)

func hashed(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// TestRESTRoles runs a worker whose REST API takes tokens with roles from
// a file (the built-in REST extension): a read token sees status but
// cannot pause, an operate token pauses, nothing but the probes answers
// without a token (/metrics neither), every operation leaves an audit line
// naming who, what and the result, and a rewritten file takes effect
// without a restart: a revoked token stops working, a new one works.
func TestRESTRoles(t *testing.T) {
	f := newFixture(t, "shop")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 10
  value = "{'id': seq}"
}
`)
	tokens := filepath.Join(t.TempDir(), "tokens")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(tokens+".tmp", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tokens+".tmp", tokens); err != nil {
			t.Fatal(err)
		}
	}
	write("# role name sha256\nread grafana " + hashed("r-secret") + "\noperate ci " + hashed("o-secret") + "\n")
	ext, err := restauth.New(restauth.Config{TokensFile: tokens})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.reg.RegisterRESTExtension(ext); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys,
		StatusInterval: 500 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := w.URL()

	call := func(method, path, token string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const pipeline = "/connectors/source.generator.g"
	eventually(t, 30*time.Second, "the pipeline RUNNING", func() (bool, string) {
		var st struct {
			Connector struct{ State string } `json:"connector"`
		}
		req, _ := http.NewRequest("GET", base+pipeline+"/status", nil)
		req.Header.Set("Authorization", "Bearer r-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return st.Connector.State == "RUNNING", st.Connector.State
	})
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/health", "", 200},
		{"GET", "/metrics", "", 401},
		{"GET", "/connectors", "", 401},
		{"GET", "/connectors", "wrong", 401},
		{"GET", "/metrics", "r-secret", 200},
		{"GET", pipeline + "/status", "r-secret", 200},
		{"PUT", pipeline + "/pause", "r-secret", 403},
		{"PUT", "/admin/loggers/root", "o-secret", 403},
		{"PUT", pipeline + "/pause", "o-secret", 202},
		{"PUT", pipeline + "/resume", "o-secret", 202},
	} {
		if got := call(c.method, c.path, c.token); got != c.want {
			t.Errorf("%s %s with %q: %d; want %d", c.method, c.path, c.token, got, c.want)
		}
	}
	// The audit trail: the refused pause by grafana, the pause by ci.
	eventually(t, 5*time.Second, "audit lines", func() (bool, string) {
		var refused, paused bool
		for _, line := range strings.Split(logs.String(), "\n") {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) != nil || e["msg"] != "audit" {
				continue
			}
			if e["who"] == "grafana" && e["path"] == pipeline+"/pause" && e["status"] == float64(403) && e["pipeline"] == "source.generator.g" {
				refused = true
			}
			if e["who"] == "ci" && e["role"] == "operate" && e["method"] == "PUT" && e["path"] == pipeline+"/pause" && e["status"] == float64(202) {
				paused = true
			}
		}
		return refused && paused, logs.String()
	})
	if strings.Contains(logs.String(), "o-secret") || strings.Contains(logs.String(), hashed("o-secret")) {
		t.Error("the log holds a token or its hash")
	}

	// Rotation: grafana revoked, a new admin added; no restart.
	write("admin ops " + hashed("a-secret") + "\noperate ci " + hashed("o-secret") + "\n")
	eventually(t, 10*time.Second, "the rewritten tokens file in effect", func() (bool, string) {
		old, added := call("GET", "/connectors", "r-secret"), call("GET", "/connectors", "a-secret")
		return old == 401 && added == 200, "revoked token " + http.StatusText(old) + ", new token " + http.StatusText(added)
	})
	if got := call("PUT", "/admin/loggers/root", "a-secret"); got == 401 || got == 403 {
		t.Errorf("PUT /admin/loggers/root with the admin token: %d", got)
	}
}
