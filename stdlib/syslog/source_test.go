package syslog

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
)

// testSource is a source opened through the SDK, as the worker opens it.
type testSource struct {
	*source
	dropped atomic.Int64
}

func open(t *testing.T, config map[string]any) *testSource {
	t.Helper()
	ts := &testSource{source: Source().NewSource().(*source)}
	cfg := map[string]any{"listen": "127.0.0.1:0", "topic": "logs"}
	for k, v := range config {
		cfg[k] = v
	}
	tc := &connector.TaskContext{Pipeline: "source.syslog.test", Tasks: 1, Config: cfg, OnDropped: func(n int64) { ts.dropped.Add(n) }}
	if err := ts.Open(t.Context(), tc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ts.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ts
}

func (ts *testSource) port() string {
	_, port, _ := net.SplitHostPort(ts.addr.String())
	return port
}

// collect polls until it has n records or the deadline passes; with ack
// it acknowledges every batch, as the worker does once Kafka has it.
func (ts *testSource) collect(t *testing.T, n int, ack bool) []connector.Record {
	t.Helper()
	var out []connector.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		recs, err := ts.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
		if ack && len(recs) > 0 {
			ts.Acked(recs)
		}
	}
	if len(out) < n {
		t.Fatalf("got %d records within 30 s, want %d: %v", len(out), n, out)
	}
	return out
}

// logger runs util-linux logger against the source.
func logger(t *testing.T, stdin string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("util-linux logger is not installed")
	}
	cmd := exec.Command(path, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger %v: %v\n%s", args, err, out)
	}
}

func value(t *testing.T, r connector.Record) map[string]any {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("record failed: %v", r.Err)
	}
	if r.ValueSchema != ValueSchema || r.KeySchema != KeySchema {
		t.Errorf("record schemas %v / %v, want the package's", r.KeySchema, r.ValueSchema)
	}
	if err := ValueSchema.CheckValue(r.Value); err != nil {
		t.Errorf("value does not fit its schema: %v", err)
	}
	if r.Topic != "logs" || r.Partition != -1 || r.SourceOffset != nil {
		t.Errorf("record topic %q partition %d offset %v, want logs, -1, none", r.Topic, r.Partition, r.SourceOffset)
	}
	v := r.Value.(map[string]any)
	if s, _ := v[fieldSender].(string); !strings.HasPrefix(s, "127.0.0.1:") {
		t.Errorf("sender %q, want 127.0.0.1:PORT", s)
	}
	return v
}

// without returns v without the fields that vary from run to run.
func without(v map[string]any, names ...string) map[string]any {
	out := map[string]any{}
	for k, x := range v {
		if !slices.Contains(names, k) {
			out[k] = x
		}
	}
	return out
}

func TestLoggerRFC5424UDP(t *testing.T) {
	s := open(t, map[string]any{"protocol": "udp"})
	before := time.Now().Add(-time.Second)
	logger(t, "", "--rfc5424", "--udp", "-n", "127.0.0.1", "-P", s.port(), "-t", "billing", "-p", "local3.warning",
		"--msgid", "ID47", "--sd-id", "order@32473", "--sd-param", `id="42"`, "--sd-param", `state="paid"`, "payment received")
	r := s.collect(t, 1, true)[0]
	v := value(t, r)
	ts, ok := v[fieldTimestamp].(time.Time)
	if !ok || ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp %v, want about now", v[fieldTimestamp])
	}
	host, _ := v[fieldHostname].(string)
	if host == "" || r.Key != host {
		t.Errorf("hostname %q key %v: want logger's host name as both", host, r.Key)
	}
	sd, _ := v[fieldStructuredData].(map[string]any)
	if d := cmp.Diff(map[string]any{"id": "42", "state": "paid"}, sd["order@32473"]); d != "" {
		t.Errorf("structured data %v (-want +got):\n%s", sd, d)
	}
	want := map[string]any{
		fieldFacility: int64(19), fieldFacilityName: "local3", fieldSeverity: int64(4), fieldSeverityName: "warning",
		fieldVersion: int64(1), fieldAppName: "billing", fieldMsgID: "ID47", fieldMessage: "payment received", fieldFormat: "rfc5424",
	}
	got := without(v, fieldTimestamp, fieldHostname, fieldStructuredData, fieldSender, fieldProcID)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("value (-want +got):\n%s", d)
	}
}

func TestLoggerRFC3164TCP(t *testing.T) {
	s := open(t, map[string]any{"protocol": "tcp", "timezone": "UTC"})
	// Without --octet-count logger frames TCP messages with newlines, one
	// message per line of its input.
	logger(t, "first line\nsecond line\nthird line\n", "--rfc3164", "--tcp", "-n", "127.0.0.1", "-P", s.port(), "-t", "cron", "-p", "cron.err")
	recs := s.collect(t, 3, true)
	for i, msg := range []string{"first line", "second line", "third line"} {
		v := value(t, recs[i])
		if v[fieldTimestamp] == nil {
			t.Errorf("record %d has no timestamp", i)
		}
		want := map[string]any{fieldFacility: int64(9), fieldFacilityName: "cron", fieldSeverity: int64(3), fieldSeverityName: "err",
			fieldAppName: "cron", fieldMessage: msg, fieldFormat: "rfc3164"}
		if d := cmp.Diff(want, without(v, fieldTimestamp, fieldHostname, fieldSender, fieldProcID)); d != "" {
			t.Errorf("record %d (-want +got):\n%s", i, d)
		}
	}
}

func TestLoggerOctetCountingTCP(t *testing.T) {
	for _, format := range []string{"auto", "rfc5424"} {
		t.Run(format, func(t *testing.T) {
			s := open(t, map[string]any{"protocol": "tcp", "format": format})
			var lines []string
			for i := range 50 {
				lines = append(lines, fmt.Sprintf("message %d with a trailing space ", i))
			}
			logger(t, strings.Join(lines, "\n")+"\n", "--rfc5424", "--tcp", "--octet-count", "-n", "127.0.0.1", "-P", s.port(), "-t", "app", "--msgid", "M")
			recs := s.collect(t, 50, true)
			for i, r := range recs {
				v := value(t, r)
				if v[fieldMessage] != lines[i] || v[fieldFormat] != "rfc5424" || v[fieldMsgID] != "M" {
					t.Errorf("record %d: message %q format %v msg_id %v, want %q rfc5424 M", i, v[fieldMessage], v[fieldFormat], v[fieldMsgID], lines[i])
				}
			}
		})
	}
}

// send writes raw bytes to a TCP listener and closes the connection.
func send(t *testing.T, port string, data string) {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

const good5424 = "<165>1 2026-12-03T10:00:00.123456Z web-1 nginx 4242 ACCESS - GET /index.html"

func TestParseErrorRecord(t *testing.T) {
	s := open(t, map[string]any{"protocol": "tcp", "format": "rfc5424", "max_message_bytes": 480})
	long := "<13>1 - - - - - - " + strings.Repeat("x", 500)
	send(t, s.port(), "this is not syslog\n"+good5424+"\n"+long+"\n"+"<13>1 - - - - - - after\n")
	recs := s.collect(t, 4, true)
	bad := value(t, recs[0])
	if d := cmp.Diff(map[string]any{fieldFormat: "rfc5424", fieldRaw: "this is not syslog"}, without(bad, fieldSender, fieldParseError)); d != "" {
		t.Errorf("unparseable record (-want +got):\n%s", d)
	}
	if e, _ := bad[fieldParseError].(string); e == "" {
		t.Error("unparseable record without parse_error")
	}
	if recs[0].Key != "127.0.0.1" {
		t.Errorf("key of an unparseable record %v, want the sender's IP", recs[0].Key)
	}
	good := value(t, recs[1])
	want := map[string]any{fieldFacility: int64(20), fieldFacilityName: "local4", fieldSeverity: int64(5), fieldSeverityName: "notice",
		fieldVersion: int64(1), fieldTimestamp: time.Date(2026, 12, 3, 10, 0, 0, 123456000, time.UTC), fieldHostname: "web-1",
		fieldAppName: "nginx", fieldProcID: "4242", fieldMsgID: "ACCESS", fieldMessage: "GET /index.html", fieldFormat: "rfc5424"}
	if d := cmp.Diff(want, without(good, fieldSender)); d != "" {
		t.Errorf("good record (-want +got):\n%s", d)
	}
	tooLong := value(t, recs[2])
	if raw, _ := tooLong[fieldRaw].(string); len(raw) != 480 || tooLong[fieldParseError] != errTooLong.Error() {
		t.Errorf("a message over max_message_bytes gave raw of %d bytes and parse_error %v, want 480 and %q", len(raw), tooLong[fieldParseError], errTooLong)
	}
	if m := value(t, recs[3])[fieldMessage]; m != "after" {
		t.Errorf("message after the long one %v, want after: the framing lost its place", m)
	}
}

func TestParseErrorDeadLetter(t *testing.T) {
	s := open(t, map[string]any{"protocol": "udp", "on_parse_error": "dead_letter"})
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", s.port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range []string{"<999>garbage\xff\n", good5424} {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	recs := s.collect(t, 2, true)
	bad := recs[0]
	if bad.Err == nil || string(bad.Value.([]byte)) != "<999>garbage\xff" || string(bad.Key.([]byte)) != "127.0.0.1" {
		t.Fatalf("unparseable datagram gave %+v, want a failed record with the raw bytes", bad)
	}
	if len(bad.Headers) != 1 || bad.Headers[0].Key != "syslog.sender" || !strings.HasPrefix(string(bad.Headers[0].Value), "127.0.0.1:") {
		t.Errorf("headers %v, want syslog.sender", bad.Headers)
	}
	if v := value(t, recs[1]); v[fieldMessage] != "GET /index.html" {
		t.Errorf("good datagram after a bad one: %v", v)
	}
}

// TestTCPBackPressure checks that a TCP sender is held back, not dropped:
// with queue_size 5 and nothing acknowledged, the source reads no more
// than 5 messages; once they are acknowledged, it reads on, and every
// message arrives.
func TestTCPBackPressure(t *testing.T) {
	s := open(t, map[string]any{"protocol": "tcp", "queue_size": 5})
	const n = 200
	go func() {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", s.port()))
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for i := range n {
			if _, err := fmt.Fprintf(c, "<13>1 - h a - - - m%d\n", i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	first := s.collect(t, 5, false)
	// Nothing acknowledged: a poll gives nothing more.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		recs, err := s.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			t.Fatalf("read %d more messages with queue_size 5 and none acknowledged", len(recs))
		}
	}
	s.Acked(first)
	rest := s.collect(t, n-5, true)
	for i, r := range append(first, rest...) {
		if m := value(t, r)[fieldMessage]; m != fmt.Sprintf("m%d", i) {
			t.Fatalf("record %d is %v, want m%d", i, m, i)
		}
	}
	if d := s.dropped.Load(); d != 0 {
		t.Errorf("TCP dropped %d messages", d)
	}
}

// TestUDPDropsCounted checks that datagrams that find the queue full are
// counted as dropped, and that the others arrive.
func TestUDPDropsCounted(t *testing.T) {
	s := open(t, map[string]any{"protocol": "udp", "queue_size": 3})
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", s.port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 20
	for i := range n {
		if _, err := fmt.Fprintf(c, "<13>1 - h a - - - m%d", i); err != nil {
			t.Fatal(err)
		}
	}
	// Poll without acknowledging: three are read, the rest dropped.
	got := s.collect(t, 3, false)
	deadline := time.Now().Add(30 * time.Second)
	for s.dropped.Load() < n-3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := s.dropped.Load(); d != n-3 {
		t.Errorf("dropped %d datagrams, want %d", d, n-3)
	}
	s.Acked(got)
	if _, err := fmt.Fprint(c, "<13>1 - h a - - - later"); err != nil {
		t.Fatal(err)
	}
	if m := value(t, s.collect(t, 1, true)[0])[fieldMessage]; m != "later" {
		t.Errorf("after the acknowledgement got %v, want later", m)
	}
}

func TestCloseWithBlockedReaders(t *testing.T) {
	s := Source().NewSource().(*source)
	tc := &connector.TaskContext{Tasks: 1, Config: map[string]any{"listen": "127.0.0.1:0", "topic": "logs", "protocol": "tcp", "queue_size": 1}}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, err := net.Dial("tcp", s.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "<13>1 - h a - - - m\n<13>1 - h a - - - m\n")
	}
	time.Sleep(100 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close hangs with readers waiting for a full queue")
	}
}

func TestOpenRefusesTasks(t *testing.T) {
	s := Source().NewSource()
	err := s.Open(context.Background(), &connector.TaskContext{Tasks: 2, Config: map[string]any{"listen": "127.0.0.1:0", "topic": "logs"}})
	if err == nil || !strings.Contains(err.Error(), "one task") {
		t.Errorf("Open with 2 tasks = %v, want a refusal", err)
	}
}

func TestListenAddressInUseIsRetriable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := Source().NewSource()
	err = s.Open(context.Background(), &connector.TaskContext{Tasks: 1, Config: map[string]any{"listen": l.Addr().String(), "topic": "logs", "protocol": "tcp"}})
	if err == nil || !connector.IsRetriable(err) {
		t.Errorf("Open on a taken address = %v, want a retriable error", err)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		values map[string]any
		want   []string // attribute: summary
	}{
		{map[string]any{"listen": "0.0.0.0:5514"}, nil},
		{map[string]any{"listen": "[::1]:0", "tasks": int64(1)}, nil},
		{map[string]any{"listen": "5514"}, []string{"listen: Invalid listen address"}},
		{map[string]any{"listen": "host:99999"}, []string{"listen: Invalid listen address"}},
		{map[string]any{"listen": ":5514", "tasks": int64(3)}, []string{"tasks: Too many tasks"}},
		{map[string]any{"listen": ":5514", "timezone": "Mars/Olympus"}, []string{"timezone: Unknown time zone"}},
		{map[string]any{"listen": ":5514", "tls_cert_file": "/c.pem", "tls_key_file": "/k.pem"}, []string{"tls_cert_file: TLS needs TCP"}},
		{map[string]any{"listen": ":5514", "protocol": "tcp", "tls_cert_file": "/c.pem", "tls_key_file": "/k.pem"}, nil},
	} {
		var got []string
		for _, e := range check(tc.values) {
			got = append(got, e.Attribute+": "+e.Summary)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("check(%v) (-want +got):\n%s", tc.values, d)
		}
	}
}

// TestIdleConnectionsHoldNoSlot checks that connections that send nothing
// do not take the queue: with queue_size 1 and three idle connections, a
// fourth one's message arrives.
func TestIdleConnectionsHoldNoSlot(t *testing.T) {
	s := open(t, map[string]any{"protocol": "tcp", "queue_size": 1})
	for range 3 {
		c, err := net.Dial("tcp", s.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	time.Sleep(100 * time.Millisecond) // the idle ones are accepted first
	send(t, s.port(), "<13>1 - h a - - - from the fourth\n")
	if m := value(t, s.collect(t, 1, true)[0])[fieldMessage]; m != "from the fourth" {
		t.Errorf("got %v", m)
	}
}

// TestUDPTooLong checks that a datagram over max_message_bytes is a parse
// error with its first max_message_bytes bytes, not a message cut short.
func TestUDPTooLong(t *testing.T) {
	s := open(t, map[string]any{"protocol": "udp", "max_message_bytes": 480})
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", s.port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprint(c, "<13>1 - h a - - - "+strings.Repeat("y", 600)); err != nil {
		t.Fatal(err)
	}
	v := value(t, s.collect(t, 1, true)[0])
	if raw, _ := v[fieldRaw].(string); len(raw) != 480 || v[fieldParseError] != errTooLong.Error() || v[fieldMessage] != nil {
		t.Errorf("a datagram over max_message_bytes gave %v, want raw of 480 bytes and parse_error %q", v, errTooLong)
	}
}
