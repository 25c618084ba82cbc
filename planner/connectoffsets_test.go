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
		config  map[string]any
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
		{typ: "postgres_cdc", config: map[string]any{"slot": "debezium"},
			in: []control.SourceOffset{
				// Streaming: lsn_commit is the last transaction handled whole.
				so(map[string]any{"server": "shop"}, map[string]any{"lsn": float64(0x1_006B_37A8), "lsn_commit": float64(0x1_006B_3748), "txId": float64(770)}),
				// An old one without lsn_commit.
				so(map[string]any{"server": "shop2"}, map[string]any{"lsn": float64(0x2A_00000010)}),
				// A snapshot in progress, and a foreign shape.
				so(map[string]any{"server": "shop"}, map[string]any{"lsn": float64(5), "snapshot": true}),
				so(map[string]any{"filename": "x"}, map[string]any{"position": float64(1)}),
			},
			want: []control.SourceOffset{
				so(map[string]any{"slot": "debezium"}, map[string]any{"lsn": "1/6B3748"}),
				so(map[string]any{"slot": "debezium"}, map[string]any{"lsn": "2A/10"}),
			},
			skipped: 2,
		},
		{typ: "generator", err: true},
	}
	for _, tt := range tests {
		got, skipped, err := mapConnectOffsets(tt.typ, tt.config, tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%s: err = %v", tt.typ, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || skipped != tt.skipped {
			t.Errorf("%s: skipped %d, want %d; offsets (-want +got):\n%s", tt.typ, skipped, tt.skipped, diff)
		}
	}
}
