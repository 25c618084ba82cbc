package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// endlessOffsets is a request body that never ends: an offsets array
// with one more entry at every read. It counts the bytes read from it.
type endlessOffsets struct {
	n       int64
	started bool
}

func (e *endlessOffsets) Read(p []byte) (int, error) {
	chunk := `{"partition":{"kafka_topic":"orders","kafka_partition":0},"offset":null},`
	if !e.started {
		chunk, e.started = `{"offsets":[`, true
	}
	n := copy(p, chunk)
	e.n += int64(n)
	return n, nil
}

// TestBodyTooLargeIsNotRead sends a PATCH that declares a 1 GiB body: it
// is refused with 413 before the handler reads a byte of it.
func TestBodyTooLargeIsNotRead(t *testing.T) {
	h := NewHandler(newFake(), nil, Options{Logger: discard()})
	body := &endlessOffsets{}
	req := httptest.NewRequest(http.MethodPatch, "/connectors/"+sinkOut+"/offsets", body)
	req.ContentLength = 1 << 30
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	check(t, rec, http.StatusRequestEntityTooLarge, errBody(413, fmt.Sprintf("Request body is larger than %d bytes", maxBodyBytes)))
	if body.n != 0 {
		t.Errorf("the handler read %d bytes of a body it refused by its Content-Length", body.n)
	}
}

// TestChunkedBodyTooLarge sends a body of unknown length that never ends:
// it is decoded as it streams in and refused with 413 once past the
// limit, having read little more than the limit.
func TestChunkedBodyTooLarge(t *testing.T) {
	h := NewHandler(newFake(), nil, Options{Logger: discard()})
	body := &endlessOffsets{}
	req := httptest.NewRequest(http.MethodPatch, "/connectors/"+sinkOut+"/offsets", body)
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	check(t, rec, http.StatusRequestEntityTooLarge, errBody(413, fmt.Sprintf("Request body is larger than %d bytes", maxBodyBytes)))
	if body.n > maxBodyBytes+64<<10 {
		t.Errorf("the handler read %d bytes of a body over the %d-byte limit", body.n, maxBodyBytes)
	}
}

// TestServerRefusesDeclaredLargeBody talks HTTP over TCP to a served
// handler: the headers of a 50 MB PATCH and a few bytes of its body get a
// 413 at once, without the server waiting for the rest.
func TestServerRefusesDeclaredLargeBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, NewHandler(newFake(), nil, Options{Logger: discard()}), "", "") }()
	defer func() { cancel(); <-served }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PATCH /connectors/%s/offsets HTTP/1.1\r\nHost: worker\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"offsets\":[",
		sinkOut, 50_000_000)
	// A deadline against a hang only: a server that waits for the body
	// never answers.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	defer resp.Body.Close()
	var e errorBody
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || e.ErrorCode != 413 || !strings.Contains(e.Message, "larger than") {
		t.Errorf("answer %s %+v, want 413 with a JSON error", resp.Status, e)
	}
}
