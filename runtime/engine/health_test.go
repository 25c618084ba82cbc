package engine

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// healthSource fails to open with a retriable error until open is set,
// then, until found is set, says it waits for something.
type healthSource struct {
	nopSource
	open, found *atomic.Bool
	tc          *connector.TaskContext
}

func (s *healthSource) Open(_ context.Context, tc *connector.TaskContext) error {
	if !s.open.Load() {
		return connector.Retriable(errors.New("dial tcp: lookup origin.example: no such host"))
	}
	s.tc = tc
	return nil
}

func (s *healthSource) Poll(ctx context.Context) ([]connector.Record, error) {
	if s.found.Load() {
		s.tc.Waiting("")
	} else {
		s.tc.Waiting("no file matches /logs/*.log")
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(10 * time.Millisecond):
		return nil, nil
	}
}

// TestTaskProblem checks that a task says what keeps it from its work
// while it keeps trying: an Open retried (before the task counts as
// RUNNING), then its connector waiting; and that both clear when over.
func TestTaskProblem(t *testing.T) {
	c := startCluster(t)
	var open, found atomic.Bool
	reg := testRegistry(t, func() connector.Source { return &healthSource{open: &open, found: &found} }, nil)
	spec := &control.PipelineSpec{Kind: "source", Type: "test", Errors: control.ErrorsSpec{RetryTimeout: "5m", RetryBackoffMax: "50ms"}}
	counters := &Counters{}
	var running atomic.Bool
	a := TaskArgs{Pipeline: mustCompile(t, "source.test.health", spec, reg), Producer: c.producer, Offsets: newMemOffsets(),
		Counters: counters, OnRunning: func() { running.Store(true) }}
	runTask(t, a)

	problem := func(kind ProblemKind) func() bool {
		return func() bool {
			p, ok := counters.Problem()
			return ok && p.Kind == kind || !ok && kind == ProblemNone
		}
	}
	waitFor(t, "the retried Open as the task's problem", problem(ProblemRetrying))
	p, _ := counters.Problem()
	if p.Operation != "opening the source" || !strings.Contains(p.Message, "no such host") || p.Since.IsZero() ||
		p.String() != "retrying opening the source: dial tcp: lookup origin.example: no such host" {
		t.Errorf("problem while Open is retried: %+v (%q)", p, p.String())
	}
	waitFor(t, "a second failed attempt", func() bool { p, _ := counters.Problem(); return p.Attempts >= 2 })
	if running.Load() {
		t.Error("the task counts as RUNNING while its Open is retried")
	}

	open.Store(true)
	waitFor(t, "the task to open", running.Load)
	waitFor(t, "the connector's reason to wait", problem(ProblemWaiting))
	if p, _ := counters.Problem(); p.String() != "waiting: no file matches /logs/*.log" {
		t.Errorf("problem while waiting: %q", p.String())
	}
	found.Store(true)
	waitFor(t, "no problem once the connector has something to do", problem(ProblemNone))
}

// TestSeed checks that a task's counts go on from those it was seeded
// with.
func TestSeed(t *testing.T) {
	var c Counters
	c.Seed(10, 7, 2, 1)
	c.In.Add(1)
	if got := [4]int64{c.In.Load(), c.Out.Load(), c.Filtered.Load(), c.Failed.Load()}; got != [4]int64{11, 7, 2, 1} {
		t.Errorf("counts %v", got)
	}
}
