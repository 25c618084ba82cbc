package plan_test

import (
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/planner/plan"
)

func TestChangeKind(t *testing.T) {
	for _, tt := range []struct {
		kind  string
		topic bool
		want  configschema.Kind
	}{
		{"topic", true, ""}, // as plan files hold it
		{"source", false, configschema.Source},
		{"sink", false, configschema.Sink},
	} {
		c := &plan.Change{Kind: tt.kind}
		if tt.topic && plan.KindTopic != tt.kind {
			t.Errorf("KindTopic = %q, want %q", plan.KindTopic, tt.kind)
		}
		if got := c.IsTopic(); got != tt.topic {
			t.Errorf("Kind %q: IsTopic() = %v, want %v", tt.kind, got, tt.topic)
		}
		if got := c.PipelineKind(); got != tt.want {
			t.Errorf("Kind %q: PipelineKind() = %q, want %q", tt.kind, got, tt.want)
		}
	}
}
