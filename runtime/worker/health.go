package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
	"github.com/pipectl/pipectl/runtime/metrics"
)

// A task is healthy when it is RUNNING (its plugin opened) and has no
// problem: no operation of it is being retried, and its connector does not
// say that it waits for something (engine.Counters.Problem). A task that
// is starting, retrying, waiting or FAILED is not. The worker writes a
// task's problem to its status record as it changes (once per status
// interval at most), also while the task is starting, when the record is
// UNASSIGNED with Starting set; the REST API shows it as the task's trace
// and pipectl status in its own column; pipectl_task_healthy is 1 or 0.

// problemOf is the task's problem as its status record holds it; "" for
// none.
func problemOf(t *task) string {
	p, _ := t.counters.Problem()
	return p.String()
}

// taskStarting writes the status of a task that has not opened yet, with
// what keeps it from opening: UNASSIGNED with Starting set, which no other
// worker takes as the task's release. Nothing is written once the task
// opened or stopped.
func (s *supervisor) taskStarting(t *task, serial int64) {
	t.statusMu.Lock()
	defer t.statusMu.Unlock()
	if t.final || t.opened.Load() {
		return
	}
	s.putStatus(t.key, control.Unassigned, "", serial, t)
}

// baseCounts returns the counts a task starts from: those its pipeline
// reached before, so that counts run since the pipeline was created. They
// come from the task's last status record, whichever worker wrote it, or
// from this worker's memory of the task it stopped, when that is further
// on (the status view may not have read that task's last record yet). A
// task without a record starts from zero: a new pipeline, or a replaced
// one, whose records apply deletes.
func (s *supervisor) baseCounts(key taskKey) [4]int64 {
	_, sv := s.w.snapshot()
	s.mu.Lock()
	carried, ok := s.carry[key]
	delete(s.carry, key)
	s.mu.Unlock()
	if sv == nil {
		return [4]int64{}
	}
	rec, has := sv.Tasks[key.pipeline][key.task]
	if !has {
		return [4]int64{}
	}
	base := [4]int64{rec.In, rec.Out, rec.Filtered, rec.Failed}
	if ok {
		for i := range base {
			base[i] = max(base[i], carried[i])
		}
	}
	return base
}

// health reports the health of the tasks this worker runs or that failed
// here, for pipectl_task_healthy.
func (s *supervisor) health() []metrics.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]metrics.Health, 0, len(s.tasks)+len(s.failed))
	for key, t := range s.tasks {
		_, problem := t.counters.Problem()
		out = append(out, metrics.Health{Pipeline: key.pipeline, Task: key.task, Healthy: t.opened.Load() && !problem && t.failure == ""})
	}
	for key := range s.failed {
		if _, running := s.tasks[key]; !running {
			out = append(out, metrics.Health{Pipeline: key.pipeline, Task: key.task})
		}
	}
	return out
}

// heartbeats writes this worker's record to the status topic every status
// interval until ctx ends, then deletes it: status says how long ago each
// worker was last heard from, so that the tasks of a worker that died
// without a word (kill -9) are seen as such before the group's session
// timeout moves them.
func (s *supervisor) heartbeats(ctx context.Context) {
	tick := time.NewTicker(s.w.cfg.StatusInterval)
	defer tick.Stop()
	rec := control.WorkerStatus{WorkerID: s.w.id, URL: s.w.url, Interval: s.w.cfg.StatusInterval}
	for {
		wctx, cancel := context.WithTimeout(ctx, statusWriteTimeout)
		rec.Time = time.Now().UTC()
		if err := s.w.ctl.PutWorkerStatus(wctx, rec); err != nil && ctx.Err() == nil {
			s.w.log.Debug("cannot write the worker's status record", "error", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), statusWriteTimeout)
			defer cancel()
			if err := s.w.ctl.DeleteWorkerStatus(dctx, s.w.id); err != nil {
				s.w.log.Debug("cannot delete the worker's status record", "error", err)
			}
			return
		case <-tick.C:
		}
	}
}

// problemTrace is what the REST API shows as the trace of a task that is
// RUNNING or starting and has a problem, Kafka Connect's shape kept (its
// trace holds the error of a FAILED task): "retrying polling the source:
// …", "starting: retrying opening the source: …"; "" otherwise.
func problemTrace(rec control.TaskStatus) string {
	switch {
	case rec.Starting && rec.Problem != "":
		return "starting: " + rec.Problem
	case rec.Starting:
		return "starting"
	case rec.State == control.Running:
		return rec.Problem
	}
	return ""
}

// Counts is a pipeline's record counts since it was created, over all its
// tasks, and what keeps them from their work.
type Counts struct {
	Tasks                     int
	In, Out, Filtered, Failed int64
	// Problem is the first problem of its tasks, in task order: "task 0
	// FAILED: …", "task 1 starting: retrying opening the source: …",
	// "task 0 waiting: no file matches …"; "" when there is none.
	Problem string
}

// Counts returns the counts of every pipeline of the state: those of the
// tasks this worker runs as they are now, those of the others as their
// last status record says (a task that failed here included).
func (w *Worker) Counts() map[string]Counts {
	st, sv := w.snapshot()
	if st == nil {
		return map[string]Counts{}
	}
	type local struct {
		n       [4]int64
		problem string
	}
	here := map[taskKey]local{}
	w.sup.mu.Lock()
	for key, t := range w.sup.tasks {
		l := local{n: counts(t.counters)}
		p := problemOf(t)
		switch {
		case t.failure != "":
			l.problem = "FAILED: " + engine.TraceSummary(t.failure)
		case !t.opened.Load() && p != "":
			l.problem = "starting: " + p
		case !t.opened.Load():
			l.problem = "starting"
		default:
			l.problem = p
		}
		here[key] = l
	}
	w.sup.mu.Unlock()
	out := map[string]Counts{}
	for addr, res := range st.Resources {
		if res.Kind != control.KindPipeline || res.Pipeline == nil {
			continue
		}
		var c Counts
		for i := range max(res.Pipeline.Tasks, 1) {
			c.Tasks++
			var n [4]int64
			var problem string
			if l, ok := here[taskKey{addr, i}]; ok {
				n, problem = l.n, l.problem
			} else if rec, ok := statusOf(sv, addr, i); ok {
				n = [4]int64{rec.In, rec.Out, rec.Filtered, rec.Failed}
				switch {
				case rec.State == control.Failed:
					problem = "FAILED: " + engine.TraceSummary(rec.Trace)
				default:
					problem = problemTrace(rec)
				}
			}
			c.In, c.Out, c.Filtered, c.Failed = c.In+n[0], c.Out+n[1], c.Filtered+n[2], c.Failed+n[3]
			if c.Problem == "" && problem != "" {
				c.Problem = fmt.Sprintf("task %d %s", i, problem)
			}
		}
		out[addr] = c
	}
	return out
}

func statusOf(sv *control.StatusView, addr string, task int) (control.TaskStatus, bool) {
	if sv == nil {
		return control.TaskStatus{}, false
	}
	rec, ok := sv.Tasks[addr][task]
	return rec, ok
}
