package file_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/file"
)

// TestNewFileNoWarning checks that a sink that opens a new, empty file
// warns of nothing: there is no torn line to cut (it used to log "cut what
// a stopped worker left … bytes=0" at every first start).
func TestNewFileNoWarning(t *testing.T) {
	var logged bytes.Buffer
	s := file.Sink().NewSink()
	tc := &connector.TaskContext{Pipeline: "sink.file.quiet", Tasks: 1,
		Config: map[string]any{"path": filepath.Join(t.TempDir(), "out", "new.jsonl"), "format": "value"},
		Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	if err := s.Open(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if logged.Len() > 0 {
		t.Errorf("opening a new file logged:\n%s", logged.String())
	}
}
