package worker

import "testing"

func TestPartitionLabel(t *testing.T) {
	for _, c := range []struct {
		p    map[string]any
		want string
	}{
		{map[string]any{"topic": "orders", "partition": int64(3)}, "orders/3"},
		{map[string]any{"file": "/var/log/app.log"}, "file=/var/log/app.log"},
		{map[string]any{"topic": "orders", "shard": "b"}, "shard=b,topic=orders"},
		{map[string]any{"topic": 1, "partition": 2}, "partition=2,topic=1"},
		{nil, ""},
	} {
		if got := partitionLabel(c.p); got != c.want {
			t.Errorf("partitionLabel(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}
