package httpconn

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// testSource is a source opened through the SDK, with a loop that polls
// it and acknowledges what it polled as the worker does once Kafka has
// the records; ack false holds the acknowledgements back.
type testSource struct {
	*source
	mu     sync.Mutex
	got    []connector.Record
	ack    chan bool // the loop acknowledges while it holds true
	stop   chan struct{}
	ctx    context.Context
	wg     sync.WaitGroup
	url    string
	client *http.Client
}

func openSource(t *testing.T, config map[string]any, ack bool) *testSource {
	t.Helper()
	ts := &testSource{source: Source().NewSource().(*source), ack: make(chan bool, 1), stop: make(chan struct{}), client: http.DefaultClient}
	cfg := map[string]any{"listen": "127.0.0.1:0", "topic": "hooks"}
	for k, v := range config {
		cfg[k] = v
	}
	coerced, errs := SourceSchema.Coerce(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tc := &connector.TaskContext{Pipeline: "source.http.test", Tasks: 1, Config: coerced}
	if err := ts.Open(t.Context(), tc); err != nil {
		t.Fatal(err)
	}
	ts.url = "http://" + ts.Addr() + ts.cfg.Path
	ts.ack <- ack
	ctx, cancel := context.WithCancel(context.Background())
	ts.ctx = ctx
	ts.wg.Add(1)
	go ts.loop()
	t.Cleanup(func() {
		close(ts.stop)
		cancel()
		ts.wg.Wait()
		if err := ts.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ts
}

// loop is the worker: it polls and, while acknowledging, acknowledges
// every batch; batches held back are acknowledged once it may again.
func (ts *testSource) loop() {
	defer ts.wg.Done()
	ack := <-ts.ack
	var held [][]connector.Record
	for {
		select {
		case <-ts.stop:
			return
		case ack = <-ts.ack:
		default:
		}
		if ack {
			for _, h := range held {
				ts.Acked(h)
			}
			held = nil
		}
		recs, err := ts.Poll(ts.ctx)
		if err != nil {
			return
		}
		if len(recs) == 0 {
			continue
		}
		ts.mu.Lock()
		ts.got = append(ts.got, recs...)
		ts.mu.Unlock()
		if ack {
			ts.Acked(recs)
		} else {
			held = append(held, recs)
		}
	}
}

func (ts *testSource) records() []connector.Record {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]connector.Record(nil), ts.got...)
}

func (ts *testSource) post(t *testing.T, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestSourceNDJSON(t *testing.T) {
	ts := openSource(t, map[string]any{"format": "ndjson", "key_header": "X-Id", "headers": map[string]string{"X-Event": "event"}}, true)
	code, body, _ := ts.post(t, "{\"id\":1}\r\n\n{\"id\":2,\"n\":[1,2]}\n{\"id\":3}", "X-Id", "req-7", "X-Event", "push")
	if code != http.StatusOK || strings.TrimSpace(body) != `{"records":3}` {
		t.Fatalf("answer %d %q, want 200 {\"records\":3}", code, body)
	}
	recs := ts.records()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, r := range recs {
		v, _ := r.Value.(map[string]any)
		if v["id"] != int64(i+1) || r.Key != "req-7" || r.Topic != "hooks" || r.Partition != -1 {
			t.Errorf("record %d: key %v value %#v topic %s partition %d", i, r.Key, r.Value, r.Topic, r.Partition)
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != "event" || string(r.Headers[0].Value) != "push" {
			t.Errorf("record %d headers %v, want event=push", i, r.Headers)
		}
	}
}

func TestSourceRawAndJSON(t *testing.T) {
	raw := openSource(t, map[string]any{"format": "raw"}, true)
	if code, _, _ := raw.post(t, "not json at all\n"); code != http.StatusOK {
		t.Fatalf("raw answer %d", code)
	}
	if r := raw.records(); len(r) != 1 || string(r[0].Value.([]byte)) != "not json at all\n" {
		t.Fatalf("raw records %v", r)
	}
	js := openSource(t, nil, true)
	if code, _, _ := js.post(t, ` [1, {"a": "b"}] `); code != http.StatusOK {
		t.Fatalf("json answer %d", code)
	}
	if r := js.records(); len(r) != 1 || fmt.Sprint(r[0].Value) != "[1 map[a:b]]" {
		t.Fatalf("json records %v", r)
	}
}

func TestSourceRefusals(t *testing.T) {
	ts := openSource(t, map[string]any{"format": "ndjson", "max_body_bytes": int64(100), "queue_size": int64(3), "bearer_token": "s3cret", "path": "/in"}, true)
	auth := []string{"Authorization", "Bearer s3cret"}
	cases := []struct {
		name, body string
		header     []string
		want       int
		says       string
	}{
		{"no token", `{"a":1}`, nil, http.StatusUnauthorized, "unauthorized"},
		{"wrong token", `{"a":1}`, []string{"Authorization", "Bearer s3cres"}, http.StatusUnauthorized, "unauthorized"},
		{"basic instead", `{"a":1}`, []string{"Authorization", "Basic czNjcmV0"}, http.StatusUnauthorized, "unauthorized"},
		{"bad line", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n", auth, http.StatusBadRequest, "line 2 is not a JSON document"},
		{"two documents on a line", "{\"a\":1} {\"a\":2}\n", auth, http.StatusBadRequest, "line 1"},
		{"empty", "\n\n", auth, http.StatusBadRequest, "no JSON document"},
		{"too large", strings.Repeat(`{"a":1}`+"\n", 20), auth, http.StatusRequestEntityTooLarge, "max_body_bytes"},
		{"more records than the queue", strings.Repeat(`{"a":1}`+"\n", 4), auth, http.StatusRequestEntityTooLarge, "queue_size"},
	}
	for _, c := range cases {
		code, body, h := ts.post(t, c.body, c.header...)
		if code != c.want || !strings.Contains(body, c.says) {
			t.Errorf("%s: answer %d %q, want %d saying %q", c.name, code, body, c.want, c.says)
		}
		if code == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
		if strings.Contains(body, "s3cret") {
			t.Errorf("%s: the answer shows the token: %q", c.name, body)
		}
	}
	// A chunked body (no Content-Length) is cut at the limit too.
	req, _ := http.NewRequest(http.MethodPost, ts.url, io.MultiReader(strings.NewReader(strings.Repeat(" ", 200)), strings.NewReader("{}")))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body: %d, want 413", resp.StatusCode)
	}
	if n := len(ts.records()); n != 0 {
		t.Fatalf("refused requests wrote %d records", n)
	}
	if code, _, _ := ts.post(t, "{\"a\":1}\n{\"a\":2}\n", auth...); code != http.StatusOK {
		t.Fatalf("a good request after the refusals: %d", code)
	}
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		req, _ := http.NewRequest(m, ts.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("%s: %d Allow %q, want 405 POST", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	resp, err = http.Post("http://"+ts.Addr()+"/other", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("another path: %d, want 404", resp.StatusCode)
	}
}

// TestSourceBackPressure holds Kafka's acknowledgements back: requests
// wait, those that do not fit in queue_size get 429 with Retry-After, and
// all waiting ones get 200 once the records are acknowledged.
func TestSourceBackPressure(t *testing.T) {
	ts := openSource(t, map[string]any{"format": "ndjson", "queue_size": int64(4)}, false)
	type result struct{ code int }
	results := make(chan result, 2)
	for range 2 {
		go func() {
			code, _, _ := ts.post(t, "{\"a\":1}\n{\"a\":2}\n")
			results <- result{code}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(ts.records()) < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(ts.records()); n != 4 {
		t.Fatalf("%d records polled, want 4", n)
	}
	code, body, h := ts.post(t, "{\"a\":3}\n")
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("a request beyond queue_size: %d %q Retry-After %q, want 429 with Retry-After", code, body, h.Get("Retry-After"))
	}
	select {
	case r := <-results:
		t.Fatalf("a request was answered %d before its records were acknowledged", r.code)
	case <-time.After(300 * time.Millisecond):
	}
	ts.ack <- true
	for range 2 {
		if r := <-results; r.code != http.StatusOK {
			t.Errorf("after the acknowledgement: %d, want 200", r.code)
		}
	}
	if code, _, _ := ts.post(t, "{\"a\":3}\n"); code != http.StatusOK {
		t.Fatalf("after the queue emptied: %d, want 200", code)
	}
}

// TestSourceCloseBeforeAck: records polled but never acknowledged (the
// task stopped) are answered 503, so that the client retries them.
func TestSourceCloseBeforeAck(t *testing.T) {
	s := Source().NewSource().(*source)
	coerced, _ := SourceSchema.Coerce(map[string]any{"listen": "127.0.0.1:0", "topic": "t"})
	if err := s.Open(t.Context(), &connector.TaskContext{Tasks: 1, Config: coerced}); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+s.Addr()+"/", "application/json", strings.NewReader(`{"a":1}`))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	recs, err := s.Poll(t.Context())
	for err == nil && len(recs) == 0 {
		recs, err = s.Poll(t.Context())
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != http.StatusServiceUnavailable {
		t.Fatalf("a request whose records were never acknowledged: %d, want 503", code)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pipectl test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return cert, key, pool
}

func TestSourceTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	ts := openSource(t, map[string]any{"tls_cert_file": cert, "tls_key_file": key, "bearer_token": "tok"}, true)
	ts.url = strings.Replace(ts.url, "http://", "https://", 1)
	ts.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if code, body, _ := ts.post(t, `{"secure":true}`, "Authorization", "Bearer tok"); code != http.StatusOK {
		t.Fatalf("HTTPS POST: %d %q", code, body)
	}
	if r := ts.records(); len(r) != 1 {
		t.Fatalf("%d records, want 1", len(r))
	}
	// Plain HTTP to the TLS port is not served.
	resp, err := http.Post("http://"+ts.Addr()+"/", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was accepted on the TLS listener")
		}
	}
}

// TestSourceCurl posts with curl, a client pipectl did not write.
func TestSourceCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (.ci/run installs it)")
	}
	ts := openSource(t, map[string]any{"format": "ndjson", "bearer_token": "tok", "max_body_bytes": int64(1000)}, true)
	var body bytes.Buffer
	for i := range 50 {
		fmt.Fprintf(&body, "{\"id\":%d}\n", i)
	}
	file := filepath.Join(t.TempDir(), "body.ndjson")
	if err := os.WriteFile(file, body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		out, err := exec.Command(curl, append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if code := run("-H", "Authorization: Bearer tok", "-H", "Content-Type: application/x-ndjson", "--data-binary", "@"+file, ts.url); code != "200" {
		t.Fatalf("curl POST: %s, want 200", code)
	}
	recs := ts.records()
	if len(recs) != 50 {
		t.Fatalf("%d records, want 50", len(recs))
	}
	for i, r := range recs {
		if b, _ := json.Marshal(r.Value); string(b) != fmt.Sprintf(`{"id":%d}`, i) {
			t.Fatalf("record %d is %s", i, b)
		}
	}
	if code := run("-H", "Authorization: Bearer nope", "--data-binary", "@"+file, ts.url); code != "401" {
		t.Errorf("curl with a wrong token: %s, want 401", code)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("{}\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run("-H", "Authorization: Bearer tok", "--data-binary", "@"+big, ts.url); code != "413" {
		t.Errorf("curl with an oversized body: %s, want 413", code)
	}
}

// TestSourceRecordTooLarge posts a record over max_record_bytes (the
// producer's limit) in a body max_body_bytes allows: the request is
// refused whole with 413 and nothing reaches the poll loop, where the
// producer would have failed the task.
func TestSourceRecordTooLarge(t *testing.T) {
	ts := openSource(t, map[string]any{"format": "ndjson", "max_body_bytes": int64(10 << 20), "max_record_bytes": int64(1000)}, true)
	body := `{"a":1}` + "\n" + `{"big":"` + strings.Repeat("x", 2000) + `"}` + "\n"
	code, msg, _ := ts.post(t, body)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "record 2") || !strings.Contains(msg, "max_record_bytes") {
		t.Fatalf("a record over max_record_bytes: %d %q, want 413 naming record 2 and max_record_bytes", code, msg)
	}
	if code, _, _ := ts.post(t, `{"a":1}`+"\n"); code != http.StatusOK {
		t.Fatalf("a small request after it: %d", code)
	}
	if n := len(ts.records()); n != 1 {
		t.Fatalf("got %d records, want only the small request's 1", n)
	}
	// The defaults agree: a body the source takes holds no record the
	// producer refuses.
	def := openSource(t, map[string]any{"format": "raw"}, true)
	if def.cfg.MaxBodyBytes > def.cfg.MaxRecordBytes || def.cfg.MaxRecordBytes >= 1000012 {
		t.Errorf("defaults max_body_bytes %d, max_record_bytes %d: want max_body_bytes <= max_record_bytes < 1000012", def.cfg.MaxBodyBytes, def.cfg.MaxRecordBytes)
	}
}

// TestSourceSlowBody opens a request whose body never comes: the
// connection is answered and closed after read_timeout instead of being
// held, and while it holds its bytes of max_inflight_bytes, another
// request is answered 429 with Retry-After.
func TestSourceSlowBody(t *testing.T) {
	ts := openSource(t, map[string]any{"max_body_bytes": int64(1000), "max_inflight_bytes": int64(1500), "read_timeout": "1s"}, true)
	conn, err := net.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":")
	// The server has the request once a second request finds the bytes taken.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, h := ts.post(t, strings.Repeat(" ", 600)+`{"b":1}`, "Content-Type", "application/json")
		if code == http.StatusTooManyRequests {
			if h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a request beside a stalled 1000-byte body: %d, want 429 (max_inflight_bytes 1500)", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the stalled request still holds the connection after %s (read_timeout 1s)", time.Since(start))
	}
	if !strings.Contains(string(b), "408") {
		t.Errorf("the stalled request was answered %q, want 408", b)
	}
	// Its bytes are free again.
	if code, _, _ := ts.post(t, strings.Repeat(" ", 600)+`{"b":1}`); code != http.StatusOK {
		t.Errorf("after the stalled request: %d, want 200", code)
	}
}

// TestSourceAckTimeout holds Kafka's acknowledgement back past
// ack_timeout: the request is answered 503 with Retry-After, not held,
// and the source keeps serving (the records stay polled, at least once).
func TestSourceAckTimeout(t *testing.T) {
	ts := openSource(t, map[string]any{"ack_timeout": "300ms"}, false)
	start := time.Now()
	code, body, h := ts.post(t, `{"a":1}`)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, "ack_timeout") {
		t.Fatalf("unacknowledged records: %d %q Retry-After %q, want 503 naming ack_timeout with Retry-After", code, body, h.Get("Retry-After"))
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("answered after %s, before ack_timeout", d)
	}
	if n := len(ts.records()); n != 1 {
		t.Errorf("%d records polled, want 1", n)
	}
}
