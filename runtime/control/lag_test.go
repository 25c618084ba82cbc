package control_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/control"
)

// TestTaskStatusLagCompatible checks that a task status record without a
// lag (every task but a source that reports one) is written as before,
// that a record of an older writer reads back with no lag, and that a lag
// of 0 (caught up) survives the round trip.
func TestTaskStatusLagCompatible(t *testing.T) {
	b, err := json.Marshal(control.TaskStatus{Pipeline: "sink.file.out", State: control.Running})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "lag") {
		t.Errorf("a record without a lag holds %s", b)
	}
	var old control.TaskStatus
	if err := json.Unmarshal([]byte(`{"v":1,"pipeline":"source.kafka.dr","task":0,"state":"RUNNING","worker_id":"w1","generation":1,"serial":2,"time":"2026-12-01T12:00:00Z","records_in":5,"records_out":5,"records_filtered":0,"records_failed":0}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Lag != nil || old.LagSeconds != 0 {
		t.Errorf("an older record read back with a lag: %+v", old)
	}
	zero := int64(0)
	b, err = json.Marshal(control.TaskStatus{Pipeline: "source.kafka.dr", State: control.Running, Lag: &zero})
	if err != nil {
		t.Fatal(err)
	}
	var back control.TaskStatus
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Lag == nil || *back.Lag != 0 || !strings.Contains(string(b), `"lag":0`) {
		t.Errorf("a lag of 0 did not survive: %s", b)
	}
}
