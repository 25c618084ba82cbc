package restauth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
)

func TestNeeded(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/connectors", RoleRead},
		{"HEAD", "/metrics", RoleRead},
		{"GET", "/subjects/orders-value/versions", RoleRead},
		{"PUT", "/connectors/source.kafka.m/pause", RoleOperate},
		{"PUT", "/connectors/source.kafka.m/resume", RoleOperate},
		{"PUT", "/connectors/source.kafka.m/stop", RoleOperate},
		{"POST", "/connectors/source.kafka.m/restart", RoleOperate},
		{"POST", "/connectors/source.kafka.m/tasks/0/restart", RoleOperate},
		{"PATCH", "/connectors/source.kafka.m/offsets", RoleOperate},
		{"DELETE", "/connectors/source.kafka.m/offsets", RoleOperate},
		{"PUT", "/connectors/source.kafka.m/config", RoleAdmin},
		{"DELETE", "/connectors/source.kafka.m", RoleAdmin},
		{"PUT", "/admin/loggers/root", RoleAdmin},
		{"POST", "/subjects/orders-value/versions", RoleAdmin},
		{"POST", "/connectors/source.kafka.m/tasks/0/restart/extra", RoleAdmin},
	} {
		if got := Needed(c.method, c.path); got != c.want {
			t.Errorf("Needed(%s %s) = %s; want %s", c.method, c.path, got, c.want)
		}
	}
	if !allows(RoleAdmin, RoleOperate) || !allows(RoleOperate, RoleRead) || allows(RoleRead, RoleOperate) || allows(RoleOperate, RoleAdmin) {
		t.Error("roles do not nest read < operate < admin")
	}
}

func TestParseTokens(t *testing.T) {
	h := strings.Repeat("ab", 32)
	toks, err := parseTokens([]byte("# comment\n\nread a " + h + " # trailing\nadmin b sha256:" + h + "\n"))
	if err != nil || len(toks) != 2 || toks[0].name != "a" || toks[1].role != RoleAdmin {
		t.Fatalf("parseTokens = %+v, %v", toks, err)
	}
	for in, want := range map[string]string{
		"read a":                        "line 1: want ROLE NAME SHA256",
		"owner a " + h:                  `unknown role "owner"`,
		"read a " + h + "\nread a " + h: "line 2: the name a is used twice",
		"read a 1234":                   "the hash of a is not 64 hex digits",
	} {
		if _, err := parseTokens([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTokens(%q) = %v; want %q", in, err, want)
		}
	}
}

// FuzzParseTokens: any file content gives tokens or an error, never a
// panic, and an error never quotes a hash.
func FuzzParseTokens(f *testing.F) {
	f.Add([]byte("read a " + strings.Repeat("0", 64) + "\n"))
	f.Add([]byte("admin x sha256:zz\n# c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		toks, err := parseTokens(b)
		if err == nil {
			for _, tk := range toks {
				if !allows(tk.role, RoleRead) {
					t.Fatalf("a token with role %q", tk.role)
				}
			}
		}
	})
}

// TestStaticToken checks the worker's -http-token: one admin token,
// required on every route but the public ones, sent only as a bearer
// token; a refused request never reaches the API.
func TestStaticToken(t *testing.T) {
	ext, err := New(Config{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	var reached []string
	h, err := ext.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.Method+" "+r.URL.Path)
		_, _ = io.WriteString(w, "ok")
	}), connector.RESTEnv{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const unauthorized = `{"error_code":401,"message":"A valid bearer token is required: send the header Authorization: Bearer TOKEN"}`
	for _, c := range []struct {
		name, method, path, auth string
		wantCode                 int
		wantBody                 string
	}{
		{"no header", "GET", "/connectors", "", 401, unauthorized},
		{"wrong token", "GET", "/connectors", "Bearer s3cre", 401, unauthorized},
		{"longer token", "GET", "/connectors", "Bearer s3cret2", 401, unauthorized},
		{"wrong scheme", "GET", "/connectors", "Basic s3cret", 401, unauthorized},
		{"token alone", "GET", "/connectors", "s3cret", 401, unauthorized},
		{"unknown route needs the token too", "GET", "/nope", "", 401, unauthorized},
		{"action needs the token", "PUT", "/connectors/sink.file.out/pause", "", 401, unauthorized},
		{"metrics need the token", "GET", "/metrics", "", 401, unauthorized},
		{"the schema registry needs the token", "GET", "/subjects", "", 401, unauthorized},
		{"right token", "GET", "/connectors/source.generator.orders", "Bearer s3cret", 200, "ok"},
		{"scheme is case-insensitive", "GET", "/connectors/source.generator.orders", "bearer s3cret", 200, "ok"},
		{"the token is admin", "PUT", "/admin/loggers/root", "Bearer s3cret", 200, "ok"},
		{"healthz without token", "GET", "/healthz", "", 200, "ok"},
		{"health without token", "GET", "/health", "", 200, "ok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(reached)
			req := httptest.NewRequest(c.method, c.path, nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.wantCode || strings.TrimSpace(rec.Body.String()) != c.wantBody {
				t.Errorf("%d %s; want %d %s", rec.Code, rec.Body, c.wantCode, c.wantBody)
			}
			if c.wantCode == 401 {
				if rec.Header().Get("WWW-Authenticate") != `Bearer realm="pipectl"` {
					t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
				}
				if len(reached) != before {
					t.Errorf("the refused request reached the API: %v", reached[before:])
				}
			}
		})
	}
}
