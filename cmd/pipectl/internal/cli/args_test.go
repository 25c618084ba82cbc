package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArgumentsInTheWrongPlace checks that an address where the
// directory goes, or a directory where the address goes, is recognised
// before anything reads the directory or reaches Kafka.
func TestArgumentsInTheWrongPlace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pipes")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string // in stderr, in order
	}{{
		args: []string{"offsets", dir, "sink.file.payments_out"},
		want: []string{"Error: Arguments in the wrong place", "offsets takes the pipeline address first and then the configuration directory", "pipectl offsets sink.file.payments_out " + dir},
	}, {
		args: []string{"pause", dir, `source.kafka.mirror["eu"]`},
		want: []string{"Arguments in the wrong place", `pipectl pause source.kafka.mirror["eu"] ` + dir},
	}, {
		args: []string{"restart", "-task", "1", dir},
		want: []string{"Arguments in the wrong place", "is a directory, and restart takes a pipeline address first", "pipectl restart ADDRESS " + dir},
	}, {
		args: []string{"status", "sink.file.payments_out"},
		want: []string{"Arguments in the wrong place", "status takes the configuration directory, not a pipeline address"},
	}, {
		args: []string{"offsets"},
		want: []string{"Error: Missing pipeline address", "pipectl offsets source.generator.orders"},
	}}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, append(tt.args, "-no-color")...)
			if code != exitError {
				t.Errorf("exit code %d; want %d", code, exitError)
			}
			flat := strings.Join(strings.Fields(stderr), " ")
			at := 0
			for _, w := range tt.want {
				i := strings.Index(flat[at:], w)
				if i < 0 {
					t.Fatalf("stderr lacks %q after position %d:\n%s", w, at, stderr)
				}
				at += i + len(w)
			}
			if strings.Contains(stderr, "cannot be read") {
				t.Errorf("the address was read as a directory:\n%s", stderr)
			}
		})
	}
	// In the right order the arguments pass: the command goes on to read
	// the (empty) directory.
	_, _, stderr := runCLI(t, "offsets", "sink.file.payments_out", dir, "-no-color")
	if strings.Contains(stderr, "wrong place") || stderr == "" {
		t.Errorf("the right order was refused, or nothing happened:\n%s", stderr)
	}
}
