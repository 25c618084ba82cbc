package worker

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/control"
)

// TestTaskLags sums a sink group's lag by the task each partition's member
// is, from instance ids built by control.TaskID, for an address whose
// for_each key holds dots.
func TestTaskLags(t *testing.T) {
	const fleet, address = "shop.eu", `sink.file.out["a.1"]`
	member := func(id string) *kadm.DescribedGroupMember {
		return &kadm.DescribedGroupMember{MemberID: "m-" + id, InstanceID: &id}
	}
	task0, task1 := member(control.TaskID(fleet, address, 0)), member(control.TaskID(fleet, address, 1))
	other := member(control.TaskID(fleet, "sink.file.other", 0))
	plain := &kadm.DescribedGroupMember{MemberID: "m-plain"} // no instance id
	gl := kadm.DescribedGroupLag{Group: control.SinkGroup(fleet, address), Lag: kadm.GroupLag{
		"in": {
			0: {Member: task0, Lag: 5},
			1: {Member: task0, Lag: 2},
			2: {Member: task1, Lag: 7},
			3: {Member: task1, Lag: -1}, // unknown: not counted
			4: {Lag: 3},                 // no member
			5: {Member: other, Lag: 11}, // another pipeline's task
			6: {Member: plain, Lag: 13},
		},
		"in.b": {0: {Member: task1, Lag: 1}},
	}}
	want := map[int]int64{0: 7, 1: 8, unowned: 27}
	if diff := cmp.Diff(want, taskLags(fleet, address, gl)); diff != "" {
		t.Errorf("taskLags (-want +got):\n%s", diff)
	}
}
