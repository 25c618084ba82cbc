package restauth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"

	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// The roles, each allowing what the one before it does and more.
const (
	// RoleRead may call every GET (and HEAD) route: status, configs,
	// offsets, metrics, the schema registry's reads.
	RoleRead = "read"
	// RoleOperate may also pause, resume, stop and restart pipelines and
	// tasks and change their offsets.
	RoleOperate = "operate"
	// RoleAdmin may call every route: log levels, schema registrations.
	RoleAdmin = "admin"
)

var roles = []string{RoleRead, RoleOperate, RoleAdmin}

// DefaultPublic are the paths answered without a token: the probes.
var DefaultPublic = []string{"/health", "/healthz"}

// Config configures the extension.
type Config struct {
	// TokensFile holds one token a line: ROLE NAME SHA256, the SHA-256 of
	// the token in hex (printf %s "$TOKEN" | sha256sum); # starts a
	// comment. It is read again when it changes.
	TokensFile string
	// Token, when set, is one more token, of role admin, named "token"
	// (the worker's -http-token).
	Token string
	// Public are the paths that need no token; nil means DefaultPublic.
	// Every other route, /metrics included, needs one.
	Public []string
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// token is one line of the tokens file.
type token struct {
	role, name string
	sum        [sha256.Size]byte
}

// Extension is the built-in REST extension.
type Extension struct {
	cfg Config

	mu      sync.Mutex
	tokens  []token
	stamp   fileStamp // of the file tokens were read from
	checked time.Time // when the file was last looked at
}

// fileStamp tells a changed file.
type fileStamp struct {
	mod  time.Time
	size int64
}

// reloadEvery is how often, at most, a request looks for a changed file.
const reloadEvery = time.Second

// New reads the tokens file; a file that cannot be read or holds a bad
// line is an error (naming the line, never a hash).
func New(cfg Config) (*Extension, error) {
	if cfg.Public == nil {
		cfg.Public = DefaultPublic
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokensFile == "" && cfg.Token == "" {
		return nil, fmt.Errorf("rest tokens: neither a tokens file nor a token")
	}
	e := &Extension{cfg: cfg, checked: cfg.Now()}
	if cfg.TokensFile != "" {
		tokens, stamp, err := readTokens(cfg.TokensFile)
		if err != nil {
			return nil, err
		}
		e.tokens, e.stamp = tokens, stamp
	}
	return e, nil
}

// Name is "tokens".
func (e *Extension) Name() string { return "tokens" }

func readTokens(path string) ([]token, fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("tokens file: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("tokens file: %w", err)
	}
	tokens, err := parseTokens(b)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return tokens, fileStamp{st.ModTime(), st.Size()}, nil
}

// parseTokens reads the lines of a tokens file.
func parseTokens(b []byte) ([]token, error) {
	var out []token
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want ROLE NAME SHA256, %d fields", n, len(f))
		}
		if !slices.Contains(roles, f[0]) {
			return nil, fmt.Errorf("line %d: unknown role %q (read, operate or admin)", n, f[0])
		}
		if names[f[1]] {
			return nil, fmt.Errorf("line %d: the name %s is used twice", n, f[1])
		}
		names[f[1]] = true
		sum, err := hex.DecodeString(strings.TrimPrefix(f[2], "sha256:"))
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("line %d: the hash of %s is not 64 hex digits (printf %%s \"$TOKEN\" | sha256sum)", n, f[1])
		}
		t := token{role: f[0], name: f[1]}
		copy(t.sum[:], sum)
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// current returns the tokens, reading the file again when it changed
// (looked at once a second at most). A file that became unreadable or
// bad keeps the tokens read before, and says so in the log.
func (e *Extension) current(log *slog.Logger) []token {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.TokensFile == "" {
		return e.tokens
	}
	now := e.cfg.Now()
	if now.Sub(e.checked) < reloadEvery {
		return e.tokens
	}
	e.checked = now
	st, err := os.Stat(e.cfg.TokensFile)
	if err == nil && (fileStamp{st.ModTime(), st.Size()}) == e.stamp {
		return e.tokens
	}
	tokens, stamp, err := readTokens(e.cfg.TokensFile)
	if err != nil {
		log.Error("rest: keeping the tokens read before", "error", err)
		return e.tokens
	}
	e.tokens, e.stamp = tokens, stamp
	log.Info("rest: tokens file reloaded", "file", e.cfg.TokensFile, "tokens", len(tokens))
	return e.tokens
}

// match returns the token whose hash is sum's. Every token is compared,
// in constant time, so that timing shows neither which one matched nor
// how much of one did.
func match(tokens []token, sum [sha256.Size]byte) (token, bool) {
	var found token
	ok := 0
	for _, t := range tokens {
		if subtle.ConstantTimeCompare(t.sum[:], sum[:]) == 1 {
			found, ok = t, 1
		}
	}
	return found, ok == 1
}

// Needed returns the role a request needs: read for GET and HEAD,
// operate for the routes that pause, resume, stop or restart pipelines
// and tasks or change their offsets, admin for everything else.
func Needed(method, path string) string {
	if method == http.MethodGet || method == http.MethodHead {
		return RoleRead
	}
	rest, ok := strings.CutPrefix(path, "/connectors/")
	if !ok {
		return RoleAdmin
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && method == http.MethodPut && (parts[1] == "pause" || parts[1] == "resume" || parts[1] == "stop"),
		len(parts) == 2 && method == http.MethodPost && parts[1] == "restart",
		len(parts) == 2 && parts[1] == "offsets" && (method == http.MethodPatch || method == http.MethodDelete),
		len(parts) == 4 && method == http.MethodPost && parts[1] == "tasks" && parts[3] == "restart":
		return RoleOperate
	}
	return RoleAdmin
}

// allows reports whether role may do what needed asks.
func allows(role, needed string) bool {
	return slices.Index(roles, role) >= slices.Index(roles, needed)
}

// Wrap authenticates every request but those to public paths, checks its
// role and writes an audit line for every call that is not a read.
func (e *Extension) Wrap(next http.Handler, env connector.RESTEnv) (http.Handler, error) {
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(e.cfg.Public, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		needed := Needed(r.Method, r.URL.Path)
		scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		t, found := match(e.current(log), sum)
		if e.cfg.Token != "" {
			want := sha256.Sum256([]byte(e.cfg.Token))
			if subtle.ConstantTimeCompare(want[:], sum[:]) == 1 {
				t, found = token{role: RoleAdmin, name: "token"}, true
			}
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || !found {
			audit(log, "", "", r, http.StatusUnauthorized, needed)
			w.Header().Set("WWW-Authenticate", `Bearer realm="pipectl"`)
			writeError(w, http.StatusUnauthorized, "A valid bearer token is required: send the header Authorization: Bearer TOKEN")
			return
		}
		if !allows(t.role, needed) {
			audit(log, t.name, t.role, r, http.StatusForbidden, needed)
			writeError(w, http.StatusForbidden, fmt.Sprintf("The token %s has the role %s; %s %s needs %s.", t.name, t.role, r.Method, r.URL.Path, needed))
			return
		}
		r = connector.WithCaller(r, connector.RESTCaller{Name: t.name, Role: t.role})
		if needed == RoleRead {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		audit(log, t.name, t.role, r, sw.code, needed)
	}), nil
}

// audit writes one structured line: who (the token's name and role, empty
// when none matched), what (method and path), which pipeline, the result.
func audit(log *slog.Logger, who, role string, r *http.Request, code int, needed string) {
	pipeline := ""
	if rest, ok := strings.CutPrefix(r.URL.Path, "/connectors/"); ok {
		pipeline, _, _ = strings.Cut(rest, "/")
	}
	level := slog.LevelInfo
	if code >= 400 {
		level = slog.LevelWarn
	}
	log.Log(r.Context(), level, "audit", "who", who, "role", role, "needs", needed, "method", r.Method, "path", r.URL.Path,
		"pipeline", pipeline, "status", code, "remote", r.RemoteAddr)
}

// statusWriter notes the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeError answers as Kafka Connect does: {"error_code": N, "message": …}.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"error_code": code, "message": msg})
	_, _ = w.Write(b)
}
