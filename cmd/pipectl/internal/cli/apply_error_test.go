package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// TestApplyErrorStale: an apply that lost the race to commit says so in
// one sentence, with what it did with the topics it had created, and
// what to do.
func TestApplyErrorStale(t *testing.T) {
	deleted := planner.UndoneTopic{Address: "topic.a", Name: "race.a", Outcome: planner.TopicDeleted}
	for _, tc := range []struct {
		name string
		err  *planner.StaleError
		want string
	}{
		{
			name: "nothing created",
			err:  &planner.StaleError{Planned: 3, Found: -2, Err: control.ErrStaleState},
			want: `Error: The fleet's state changed during apply ` +
				`Another apply committed to the fleet "race" while this one ran, so this one changed nothing. ` +
				`Run "pipectl apply" again to plan against the new state.`,
		},
		{
			name: "created and deleted",
			err:  &planner.StaleError{Planned: 3, Found: -2, Topics: []planner.UndoneTopic{deleted}},
			want: `Error: The fleet's state changed during apply ` +
				`Another apply committed to the fleet "race" while this one ran, so this one committed nothing and deleted the topic it had created (topic.a [name=race.a]). ` +
				`Run "pipectl apply" again to plan against the new state.`,
		},
		{
			name: "every outcome",
			err: &planner.StaleError{Planned: 3, Found: -2, Topics: []planner.UndoneTopic{
				deleted,
				{Address: "topic.b", Name: "race.b", Outcome: planner.TopicDeleted},
				{Address: "topic.c", Name: "race.c", Outcome: planner.TopicCommitted},
				{Address: "topic.d", Name: "race.d", Outcome: planner.TopicNotDeleted, Err: errors.New(`delete topic "race.d": broker unreachable`)},
			}},
			want: `Error: The fleet's state changed during apply ` +
				`Another apply committed to the fleet "race" while this one ran, so this one committed nothing and deleted the 2 topics it had created (topic.a [name=race.a]; topic.b [name=race.b]), ` +
				`kept the topic that the other apply committed too (topic.c [name=race.c]), ` +
				`and could not delete the topic it had created (topic.d [name=race.d]: delete topic "race.d": broker unreachable): delete it or adopt it with an import block. ` +
				`Run "pipectl apply" again to plan against the new state.`,
		},
		{
			name: "saved plan, kept for the next plan",
			err: &planner.StaleError{Saved: true, Planned: 3, Found: -2, Topics: []planner.UndoneTopic{
				{Address: "topic.a", Name: "race.a", Outcome: planner.TopicAdoptable},
			}},
			want: `Error: Saved plan is stale ` +
				`The plan was made against serial 3 of the fleet "race", and its state has moved: another apply committed since, ` +
				`so this apply committed nothing and kept the topic it had created (topic.a [name=race.a]), which the next plan adopts. ` +
				`Run "pipectl plan" again, review the new plan, and apply it.`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			m := &meta{streams: views.Streams{Stdout: &out, Stderr: &errb}, noColor: true}
			m.applyError(tc.err, &plan.Plan{Fleet: "race"})
			got := strings.Join(strings.Fields(errb.String()), " ")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
