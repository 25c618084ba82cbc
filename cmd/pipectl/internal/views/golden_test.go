package views

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update rewrites the golden files instead of comparing with them:
// PIPECTL_UPDATE=1 go test ./cmd/pipectl/internal/views/
var update = os.Getenv("PIPECTL_UPDATE") == "1"

// golden compares got with testdata/name, or writes it there when updating.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with PIPECTL_UPDATE=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got), refresh with PIPECTL_UPDATE=1 if intended:\n%s", path, diff)
	}
}

// testView returns a View writing to two buffers, without colour.
func testView() (*View, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return NewView(Streams{Stdout: &stdout, Stderr: &stderr}), &stdout, &stderr
}
