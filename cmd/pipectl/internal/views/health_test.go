package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/worker"
)

func bufferView() (*View, *bytes.Buffer) {
	var out bytes.Buffer
	return NewView(Streams{Stdout: &out, Stderr: &out}), &out
}

// TestCountsProblem checks that dev's live line of a pipeline says what
// keeps its tasks from their work, a FAILED one's reason included.
func TestCountsProblem(t *testing.T) {
	v, out := bufferView()
	lines := 0
	v.Counts(map[string]PipelineCounts{
		"source.generator.orders": {State: "FAILED", In: 3, Failed: 1, Problem: "task 0 FAILED: failed in stage transform: division by zero"},
		"sink.file.out":           {State: "RUNNING", In: 5, Out: 5},
	}, &lines)
	want := "  sink.file.out                            RUNNING    in 5         out 5         filtered 0         failed 0\n" +
		"  source.generator.orders                  FAILED     in 3         out 0         filtered 0         failed 1  task 0 FAILED: failed in stage transform: division by zero\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestStatusHealth checks pipectl status's rows: how long ago each task's
// worker was heard from, what keeps a task from its work, and a note on a
// worker that fell silent.
func TestStatusHealth(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *time.Time { t := now.Add(-ago); return &t }
	out := func(b bool) *bool { return &b }
	v, buf := bufferView()
	v.Status(&worker.StatusReport{At: now, Pipelines: []worker.PipelineReport{{
		Address: "source.kafka.orders", State: "RUNNING", Tasks: []worker.TaskReport{
			{ID: 0, State: "UNASSIGNED", WorkerID: "w1:8083", Starting: true, Problem: "retrying opening the source: no such host", ProblemSince: at(12 * time.Second), WorkerHeard: at(time.Second)},
			{ID: 1, State: "RUNNING", WorkerID: "w2:8083", WorkerHeard: at(34 * time.Second), WorkerSilent: true},
			{ID: 2, State: "FAILED", WorkerID: "w1:8083", Trace: "source.kafka.orders task 2 failed in stage source\nerror: boom", Error: "failed in stage source: boom"},
		},
	}}, Workers: []worker.WorkerReport{
		{WorkerID: "w1:8083", Heard: *at(time.Second), Interval: 5 * time.Second, InGroup: out(true)},
		{WorkerID: "w2:8083", Heard: *at(34 * time.Second), Interval: 5 * time.Second, Silent: true, InGroup: out(true)},
	}}, false)
	got := buf.String()
	for _, want := range []string{
		"starting: retrying opening the source: no such host (for 12s)",
		"w1:8083  1s ago",
		"w2:8083  34s ago!",
		"worker not heard from for 34s",
		"failed in stage source: boom",
		"Worker w2:8083 was last heard from 34s ago, and it reports every 5s: it may be down.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q:\n%s", want, got)
		}
	}
}

// TestStatusSourceLag checks the LAG column of a source that reports its
// lag (records, and the age of its last polled record), of a caught-up
// one, and of a sink (records only).
func TestStatusSourceLag(t *testing.T) {
	n := func(i int64) *int64 { return &i }
	v, buf := bufferView()
	v.Status(&worker.StatusReport{At: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Pipelines: []worker.PipelineReport{
		{Address: "source.kafka.dr", State: "RUNNING", Tasks: []worker.TaskReport{
			{ID: 0, State: "RUNNING", Lag: n(1234), LagSeconds: 2.54},
			{ID: 1, State: "RUNNING", Lag: n(0)},
		}},
		{Address: "sink.file.out", State: "RUNNING", Tasks: []worker.TaskReport{{ID: 0, State: "RUNNING", Lag: n(7)}}},
	}}, false)
	var lags []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) > 2 && fields[1] != "-" {
			// TASK STATE RECORDS/S OUT FAILED LAG…: no worker, no heard.
			lags = append(lags, strings.Join(fields[5:], " "))
		}
	}
	want := []string{"1234 (2.5s)", "0", "7"}
	if strings.Join(lags, "|") != strings.Join(want, "|") {
		t.Errorf("LAG column = %q, want %q\n%s", lags, want, buf)
	}
}
