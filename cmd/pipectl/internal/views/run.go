package views

import (
	"fmt"
	"sort"
	"strings"
)

// WorkerListening says that a worker serves its REST API. Scripts wait for
// this line.
func (v *View) WorkerListening(id, url string) {
	v.out(fmt.Sprintf("worker %s listening on %s\n", id, url))
}

// DevInfo is where pipectl dev's parts are.
type DevInfo struct {
	Dir, Brokers string
	// ClusterID is the id of the cluster the brokers belong to; "" when
	// it could not be read.
	ClusterID string
	Fleet     string
	URL       string // the REST API
	Embedded  bool   // the brokers are dev's embedded broker
}

// DevStarted tells where pipectl dev's parts are: the brokers and the id
// of the cluster they belong to (so that a run pointed at the wrong
// cluster is seen at once), the fleet and the REST API.
func (v *View) DevStarted(d DevInfo) {
	kind := "Kafka"
	if d.Embedded {
		kind = "embedded broker"
	}
	cluster := ""
	if d.ClusterID != "" {
		cluster = fmt.Sprintf("  %-9s %s\n", "cluster", d.ClusterID)
	}
	v.out(fmt.Sprintf("pipectl dev: %s\n  %-9s %s (%s)\n%s  fleet     %s\n  REST API  %s  (try: curl %s/connectors?expand=status)\n",
		d.Dir, "brokers", d.Brokers, kind, cluster, d.Fleet, d.URL, d.URL))
}

// Applied reports what an apply of pipectl dev changed.
func (v *View) Applied(serial int64, changed []string) {
	if len(changed) == 0 {
		v.out("Apply: no changes; the fleet matches the configuration.\n")
		return
	}
	v.out(fmt.Sprintf("Apply complete at serial %d: %d changed (%s).\n", serial, len(changed), strings.Join(changed, ", ")))
}

// Reloading says that files changed and the configuration is applied again.
func (v *View) Reloading() { v.out("Files changed: applying again.\n") }

// PipelineCounts is one pipeline's counts for the live line: since the
// pipeline was created, so they do not drop when an apply restarts its
// tasks.
type PipelineCounts struct {
	State                     string
	In, Out, Filtered, Failed int64
	// Problem is what keeps one of its tasks from its work ("task 0
	// retrying opening the source: …", "task 0 FAILED: …"); "" for none.
	Problem string
}

// maxProblem bounds the problem shown on a live line.
const maxProblem = 160

// Counts prints the per-pipeline counts. On a terminal it rewrites the
// same lines in place; elsewhere it prints them as a block.
func (v *View) Counts(counts map[string]PipelineCounts, lines *int) {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	if v.streams.StdoutColor && *lines > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", *lines)
	}
	for _, n := range names {
		c := counts[n]
		if v.streams.StdoutColor {
			sb.WriteString("\x1b[2K")
		}
		fmt.Fprintf(&sb, "  %-40s %-10s in %-9d out %-9d filtered %-9d failed %d", n, c.State, c.In, c.Out, c.Filtered, c.Failed)
		if p := c.Problem; p != "" {
			if len(p) > maxProblem {
				p = p[:maxProblem] + "…"
			}
			sb.WriteString("  " + paint(v.streams.StdoutColor, p, ansiYellow))
		}
		sb.WriteString("\n")
	}
	*lines = len(names)
	v.out(sb.String())
}

// Stopping says that a long-running command is shutting down.
func (v *View) Stopping(what string) { v.err(what + ": stopping\n") }
