package views

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/worker"
)

// Status prints pipectl status: every pipeline and its tasks.
func (v *View) Status(reports []worker.PipelineReport, asJSON bool) {
	if asJSON {
		if reports == nil {
			reports = []worker.PipelineReport{}
		}
		v.json(map[string]any{"format_version": "1.0", "pipelines": reports})
		return
	}
	if len(reports) == 0 {
		v.out("No pipelines: the fleet's state is empty. Run pipectl apply.\n")
		return
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PIPELINE\tTASK\tSTATE\tWORKER\tRECORDS/S\tOUT\tFAILED\tLAG\tLAST ERROR")
	for _, p := range reports {
		fmt.Fprintf(tw, "%s\t-\t%s\t\t\t\t\t\t\n", p.Address, p.State)
		for _, t := range p.Tasks {
			lag := "-"
			if t.Lag != nil {
				lag = fmt.Sprint(*t.Lag)
			}
			trace, _, _ := strings.Cut(t.Trace, "\n")
			fmt.Fprintf(tw, "\t%d\t%s\t%s\t%.1f\t%d\t%d\t%s\t%s\n", t.ID, t.State, t.WorkerID, t.Rate, t.Out, t.Failed, lag, trace)
		}
	}
	tw.Flush()
	v.out(sb.String())
}

// Workers prints pipectl workers: the members of the fleet's group.
func (v *View) Workers(members []worker.Member, state string, asJSON bool) {
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
	fmt.Fprintln(tw, "WORKER\tURL\tWEIGHT\tTASKS")
	for _, m := range members {
		var tasks []string
		for _, t := range m.Tasks {
			tasks = append(tasks, fmt.Sprintf("%s#%d", t.Pipeline, t.Task))
		}
		sort.Strings(tasks)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", m.WorkerID, m.URL, m.Weight, strings.Join(tasks, " "))
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
