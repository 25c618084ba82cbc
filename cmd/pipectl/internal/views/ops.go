package views

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/worker"
)

// Status prints pipectl status: every pipeline and its tasks, what keeps
// a task from its work, and how long ago each task's worker was last
// heard from.
func (v *View) Status(r *worker.StatusReport, asJSON bool) {
	if asJSON {
		pipelines, workers := r.Pipelines, r.Workers
		if pipelines == nil {
			pipelines = []worker.PipelineReport{}
		}
		if workers == nil {
			workers = []worker.WorkerReport{}
		}
		v.json(map[string]any{"format_version": "1.0", "time": r.At, "pipelines": pipelines, "workers": workers})
		return
	}
	if len(r.Pipelines) == 0 {
		v.out("No pipelines: the fleet's state is empty. Run pipectl apply.\n")
		return
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tTASK\tSTATE\tWORKER\tHEARD\tRECORDS/S\tOUT\tFAILED\tLAG\tPROBLEM")
	for _, p := range r.Pipelines {
		fmt.Fprintf(tw, "%s\t-\t%s\t\t\t\t\t\t\t\n", p.Address, p.State)
		for _, t := range p.Tasks {
			lag := "-"
			if t.Lag != nil {
				lag = fmt.Sprint(*t.Lag)
			}
			if t.LagSeconds > 0 {
				// A source that is behind: the largest age of a
				// partition's last polled record, when polled.
				lag += " (" + time.Duration(t.LagSeconds*float64(time.Second)).Round(100*time.Millisecond).String() + ")"
			}
			heard := ""
			if t.WorkerHeard != nil {
				heard = ago(r.At.Sub(*t.WorkerHeard)) + " ago"
				if t.WorkerSilent {
					heard += "!"
				}
			}
			fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t%.1f\t%d\t%d\t%s\t%s\n", t.ID, t.State, t.WorkerID, heard, t.Rate, t.Out, t.Failed, lag, taskProblem(t, r.At))
		}
	}
	tw.Flush()
	for _, w := range r.Workers {
		switch {
		case w.InGroup != nil && !*w.InGroup && w.Silent:
			fmt.Fprintf(&sb, "\nWorker %s was last heard from %s ago and is no longer in the fleet's worker group: it is down, and its tasks move to the other workers.\n", w.WorkerID, ago(r.At.Sub(w.Heard)))
		case w.Silent:
			fmt.Fprintf(&sb, "\nWorker %s was last heard from %s ago, and it reports every %s: it may be down. Its tasks stay RUNNING here until the worker group's session timeout expires it; then they move to the other workers.\n",
				w.WorkerID, ago(r.At.Sub(w.Heard)), w.Interval)
		}
	}
	v.out(sb.String())
}

// taskProblem is the PROBLEM column: the error of a FAILED task, what a
// starting or running task is retrying or waiting for, a silent worker.
func taskProblem(t worker.TaskReport, now time.Time) string {
	var parts []string
	switch {
	case t.State == "FAILED" && t.Error != "":
		parts = append(parts, t.Error)
	case t.State == "FAILED":
		first, _, _ := strings.Cut(t.Trace, "\n")
		parts = append(parts, first)
	case t.Starting && t.Problem != "":
		parts = append(parts, "starting: "+t.Problem)
	case t.Starting:
		parts = append(parts, "starting")
	case t.Problem != "":
		parts = append(parts, t.Problem)
	}
	if t.ProblemSince != nil && t.State != "FAILED" && len(parts) > 0 {
		parts[0] += " (for " + ago(now.Sub(*t.ProblemSince)) + ")"
	}
	if t.WorkerSilent && t.WorkerHeard != nil {
		parts = append(parts, "worker not heard from for "+ago(now.Sub(*t.WorkerHeard)))
	}
	return strings.Join(parts, "; ")
}

// ago renders a duration as status shows ages: 3s, 2m5s, 1h2m.
func ago(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// Workers prints pipectl workers: the members of the fleet's group.
func (v *View) Workers(members []worker.Member, state string, now time.Time, asJSON bool) {
	if asJSON {
		if members == nil {
			members = []worker.Member{}
		}
		v.json(map[string]any{"format_version": "1.0", "group_state": state, "workers": members})
		return
	}
	if len(members) == 0 {
		v.out("No workers are running for this fleet.\n")
		return
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tURL\tHEARD\tWEIGHT\tTASKS")
	for _, m := range members {
		var tasks []string
		for _, t := range m.Tasks {
			tasks = append(tasks, fmt.Sprintf("%s#%d", t.Pipeline, t.Task))
		}
		sort.Strings(tasks)
		heard := "-"
		if m.Heard != nil {
			heard = ago(now.Sub(*m.Heard)) + " ago"
			if m.Silent {
				heard += "!"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.WorkerID, m.URL, heard, m.Weight, strings.Join(tasks, " "))
	}
	tw.Flush()
	v.out(sb.String())
}

// Requested confirms an operational request (pause, resume, restart).
func (v *View) Requested(what string) { v.out(what + "\n") }

// Offsets prints a pipeline's offsets in KIP-875's shape.
func (v *View) Offsets(address string, o api.Offsets, asJSON bool) {
	if asJSON {
		v.json(o)
		return
	}
	if len(o.Offsets) == 0 {
		v.out(fmt.Sprintf("%s has no saved offsets.\n", address))
		return
	}
	var sb strings.Builder
	for _, po := range o.Offsets {
		fmt.Fprintf(&sb, "%s  →  %s\n", compact(po.Partition), compact(po.Offset))
	}
	v.out(sb.String())
}

func compact(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(parts, " ")
}
