package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/control"
)

// TestMapConnectOffsets maps offsets as Kafka Connect saves them (numbers
// come back from JSON as float64) onto the built-in sources'.
func TestMapConnectOffsets(t *testing.T) {
	so := func(p, o map[string]any) control.SourceOffset { return control.SourceOffset{Partition: p, Offset: o} }
	tests := []struct {
		typ     string
		in      []control.SourceOffset
		want    []control.SourceOffset
		skipped int
		err     bool
	}{
		{typ: "file",
			in: []control.SourceOffset{
				so(map[string]any{"filename": "/var/log/a.log"}, map[string]any{"position": float64(120)}),
				so(map[string]any{"filename": "/var/log/b.log"}, map[string]any{"offset": float64(1)}),
			},
			want:    []control.SourceOffset{so(map[string]any{"file": "/var/log/a.log"}, map[string]any{"position": int64(120)})},
			skipped: 1,
		},
		{typ: "kafka",
			in: []control.SourceOffset{
				so(map[string]any{"cluster": "us-east", "topic": "orders", "partition": float64(2)}, map[string]any{"offset": float64(41)}),
				so(map[string]any{"cluster": "us-east", "topic": "orders"}, map[string]any{"offset": float64(1)}),
			},
			want:    []control.SourceOffset{so(map[string]any{"topic": "orders", "partition": int64(2)}, map[string]any{"offset": int64(42)})},
			skipped: 1,
		},
		{typ: "generator", err: true},
	}
	for _, tt := range tests {
		got, skipped, err := mapConnectOffsets(tt.typ, tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v", tt.typ, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || skipped != tt.skipped {
			t.Errorf("%s: skipped %d, want %d; offsets (-want +got):\n%s", tt.typ, skipped, tt.skipped, diff)
		}
	}
}
