package planner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/runtime/control"
)

// statesOf returns every state the status topic holds for a pipeline's
// tasks, oldest first.
func (f *fleet) statesOf(addr string) []control.TaskState {
	t := f.t
	t.Helper()
	ctx := ctxOf(t)
	ends, err := f.ctl.Admin().ListEndOffsets(ctx, f.ctl.StatusTopic())
	if err != nil {
		t.Fatal(err)
	}
	opts, err := f.kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(f.ctl.StatusTopic()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var out []control.TaskState
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading the status topic: %v", ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			var ts control.TaskStatus
			if json.Unmarshal(r.Value, &ts) == nil && ts.Pipeline == addr && ts.State != "" {
				out = append(out, ts.State)
			}
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
		})
	}
	return out
}

// TestApplyWaitsForOpen: a task is RUNNING once its plugin opened. A
// pipeline whose Open fails is never reported RUNNING, and apply fails
// with its trace; one that opens runs.
func TestApplyWaitsForOpen(t *testing.T) {
	f := newFleet(t, "shop")
	f.startWorker(f.keys)
	// A kafka source with SASL against a cluster without it: the broker
	// closes the connection, after the client's retries.
	mirror := genOnly + fmt.Sprintf(`
source "kafka" "mirror" {
  brokers        = [%q]
  topics         = ["shop.orders"]
  topic_prefix   = "copy."
  sasl_mechanism = "PLAIN"
  sasl_username  = "u"
  sasl_password  = "p"
  errors {
    retry_timeout = "2s"
  }
}
`, f.kcfg.Brokers[0])
	_, err := f.apply(f.plan(mirror), true)
	var pe *planner.PipelineError
	if !errors.As(err, &pe) || pe.Address != "source.kafka.mirror" {
		t.Fatalf("apply = %v, want a PipelineError of source.kafka.mirror", err)
	}
	for _, want := range []string{"listing the topics of the source cluster", "authentication (SASL) or TLS settings may not match"} {
		if !strings.Contains(pe.Trace, want) {
			t.Errorf("the trace does not say %q:\n%s", want, pe.Trace)
		}
	}
	if states := f.statesOf("source.kafka.mirror"); len(states) == 0 || states[len(states)-1] != control.Failed || slices.Contains(states, control.Running) {
		t.Errorf("source.kafka.mirror was reported %v, want FAILED and never RUNNING", states)
	}

	// A file sink whose directory cannot be created.
	if err := os.WriteFile(filepath.Join(f.dir, "blocker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sink := `
sink "file" "out" {
  topics = [topic.orders.name]
  path   = "%s/out.jsonl"
}
`
	_, err = f.apply(f.plan(mirror+fmt.Sprintf(sink, "blocker")), true)
	if !errors.As(err, &pe) || pe.Address != "sink.file.out" || !strings.Contains(pe.Trace, "not a directory") {
		t.Fatalf("apply = %v, want a PipelineError of sink.file.out saying why", err)
	}
	if states := f.statesOf("sink.file.out"); slices.Contains(states, control.Running) {
		t.Errorf("sink.file.out was reported %v, never RUNNING", states)
	}

	// Where it can write, it runs.
	if _, err := f.apply(f.plan(mirror+fmt.Sprintf(sink, "out")), true); err != nil {
		t.Fatal(err)
	}
	sv, err := f.ctl.ReadStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ts := sv.Tasks["sink.file.out"][0]; ts.State != control.Running {
		t.Errorf("after apply sink.file.out is %+v, want RUNNING", ts)
	}
}
