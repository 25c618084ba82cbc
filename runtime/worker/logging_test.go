package worker_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/worker"
)

// syncBuffer is a bytes.Buffer for a logger written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logWorker runs a worker that logs at level into a buffer until the test
// ends, and returns the buffer.
func logWorker(t *testing.T, f *fixture, level slog.Level) *syncBuffer {
	t.Helper()
	var buf syncBuffer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &buf
}

// TestDebugLogging runs a worker at debug: it logs its group join with the
// generation, its assignment, the state it read, and its Kafka clients'
// connections. At info the same start logs no debug line.
func TestDebugLogging(t *testing.T) {
	f := newFixture(t, "debuglog")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 10
  value = "{'id': seq}"
}
`)
	debug := logWorker(t, f, slog.LevelDebug)
	for _, want := range []string{
		`level=DEBUG msg="joined the worker group"`,
		`level=DEBUG msg="worker group assignment"`,
		`level=DEBUG msg="read the fleet's state"`,
		`level=DEBUG msg="connection opened to broker"`,
		`level=DEBUG msg="saved source offsets"`,
	} {
		eventually(t, 30*time.Second, "a debug line "+want, func() (bool, string) {
			return strings.Contains(debug.String(), want), ""
		})
	}
	if !strings.Contains(debug.String(), "generation=") {
		t.Errorf("no debug line names the generation:\n%s", debug)
	}

	f2 := newFixture(t, "infolog")
	info := logWorker(t, f2, slog.LevelInfo)
	eventually(t, 30*time.Second, "the info worker's assignment", func() (bool, string) {
		return strings.Contains(info.String(), `msg=assignment`), ""
	})
	if strings.Contains(info.String(), "level=DEBUG") {
		t.Errorf("a worker at info logged debug lines:\n%s", info)
	}
}
