package planner

import (
	"context"
	"errors"
	"fmt"

	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// ProblemHooks is an optional extension of Hooks. While apply waits for a
// pipeline to run, it calls TaskProblem each time what keeps one of its
// tasks from running changes: "starting: retrying opening the source: …"
// for a task that cannot reach its outside system, "" when that is over.
type ProblemHooks interface {
	TaskProblem(address string, task int, problem string)
}

// taskProblem returns what a task's status record says keeps it from
// running ("starting: retrying …", or the problem of a RUNNING one), and
// tells the hooks when that changed since the last call.
func (a *applier) taskProblem(addr string, task int, ts control.TaskStatus) string {
	p := ""
	switch {
	case ts.Starting && ts.Problem != "":
		p = "starting: " + ts.Problem
	case ts.Starting:
		p = "starting"
	case ts.State == control.Running:
		p = ts.Problem
	}
	key := fmt.Sprintf("%s#%d", addr, task)
	if a.problems == nil {
		a.problems = map[string]string{}
	}
	if p != a.problems[key] {
		a.problems[key] = p
		if h, ok := a.hooks.(ProblemHooks); ok {
			h.TaskProblem(addr, task, p)
		}
	}
	return p
}

// runningWord names a task that has not stopped: RUNNING, or starting.
func runningWord(ts control.TaskStatus) string {
	if ts.Starting {
		return "starting"
	}
	return string(ts.State)
}

// resetCounts deletes the status records of a replaced pipeline's tasks
// while it is paused, so that its new tasks count from zero, as its
// offsets start over (the workers count since a pipeline was created, and
// go on from a task's last record).
func (a *applier) resetCounts(ctx context.Context, c *plan.Change) error {
	n := 1
	for _, r := range []*control.Resource{c.Before, c.After} {
		if r != nil && r.Pipeline != nil {
			n = max(n, r.Pipeline.Tasks)
		}
	}
	for id := range a.status.Tasks[c.Address] {
		n = max(n, id+1)
	}
	var errs []error
	for id := range n {
		errs = append(errs, a.ctl.DeleteTaskStatus(ctx, c.Address, id))
	}
	return errors.Join(errs...)
}
