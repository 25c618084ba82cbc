package views

import "fmt"

// TaskProblem says, while apply waits for a pipeline to run, what keeps
// one of its tasks from running (planner.ProblemHooks); "" (the problem is
// over) prints nothing.
func (v *applyHuman) TaskProblem(address string, task int, problem string) {
	if problem == "" {
		return
	}
	v.out(fmt.Sprintf("%stask %d %s\n", paint(v.streams.StdoutColor, address+": ", ansiBold), task, problem))
}

// TaskProblem is a pipeline_problem line: what keeps a task from running
// while apply waits for it; an empty problem says it is over.
func (v *applyJSON) TaskProblem(address string, task int, problem string) {
	level, msg := "warn", fmt.Sprintf("%s: task %d %s", address, task, problem)
	if problem == "" {
		level, msg = "info", fmt.Sprintf("%s: task %d has no problem any more", address, task)
	}
	v.line(applyEvent{Type: "pipeline_problem", Level: level, Message: msg, Address: address, Fields: map[string]any{"task": task, "problem": problem}})
}
