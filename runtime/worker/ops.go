package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
)

// Member is one worker of the fleet's group, as pipectl workers shows it.
type Member struct {
	WorkerID string    `json:"worker_id"`
	URL      string    `json:"url"`
	MemberID string    `json:"member_id"`
	Host     string    `json:"host"`
	Weight   int       `json:"weight"`
	Tasks    []TaskRef `json:"tasks"` // assigned by the leader in the current generation
	// Heard is when the worker last wrote its record to the status
	// topic (every status interval); nil when it wrote none. Silent: more
	// than two intervals ago.
	Heard  *time.Time `json:"heard,omitempty"`
	Silent bool       `json:"silent,omitempty"`
}

// Members describes the fleet's worker group.
func Members(ctx context.Context, adm *kadm.Client, fleetName string) ([]Member, string, error) {
	group := control.WorkersGroup(fleetName)
	groups, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, "", err
	}
	g, ok := groups[group]
	if !ok {
		return nil, "", fmt.Errorf("the worker group %s was not described", group)
	}
	if g.Err != nil {
		return nil, "", g.Err
	}
	var out []Member
	for _, m := range g.Members {
		mem := Member{MemberID: m.MemberID, Host: m.ClientHost, Tasks: []TaskRef{}}
		if raw, ok := m.Join.Raw(); ok {
			var meta memberMeta
			if json.Unmarshal(raw, &meta) == nil {
				mem.WorkerID, mem.URL, mem.Weight = meta.WorkerID, meta.URL, max(meta.Weight, 1)
			}
		}
		if raw, ok := m.Assigned.Raw(); ok && len(raw) > 0 {
			var a memberAssignment
			if json.Unmarshal(raw, &a) == nil {
				mem.Tasks = a.Tasks
			}
		}
		out = append(out, mem)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].WorkerID < out[j].WorkerID })
	return out, g.State, nil
}

// Heard fills in when each member was last heard from, from the workers'
// records in the status topic.
func Heard(ctx context.Context, ctl *control.Control, members []Member, now time.Time) error {
	sv, err := ctl.ReadStatus(ctx)
	if err != nil {
		return err
	}
	for i := range members {
		if w, ok := sv.Workers[members[i].WorkerID]; ok {
			heard := w.Time
			members[i].Heard = &heard
			_, members[i].Silent = w.Silent(now)
		}
	}
	return nil
}

// TaskReport is one task as pipectl status shows it.
type TaskReport struct {
	ID        int     `json:"id"`
	State     string  `json:"state"`
	WorkerID  string  `json:"worker_id"`
	RecordsIn int64   `json:"records_in"` // counts since the pipeline was created
	Out       int64   `json:"records_out"`
	Filtered  int64   `json:"records_filtered"`
	Failed    int64   `json:"records_failed"`
	Rate      float64 `json:"records_per_second"` // out since the task started
	// Lag: a sink's records behind the end of its partitions; a source's
	// records that its outside system holds past the last ones polled,
	// when it reports them (connector.LagReporter). LagSeconds: the
	// source's largest age of a partition's last polled record when it
	// was polled, 0 when caught up.
	Lag        *int64  `json:"lag,omitempty"`
	LagSeconds float64 `json:"lag_seconds,omitempty"`
	Trace      string  `json:"trace,omitempty"`
	// Error is a FAILED task's trace in one line ("failed in stage
	// transform: …").
	Error string `json:"error,omitempty"`
	// Healthy: RUNNING, nothing retried, nothing waited for, on a worker
	// heard from lately.
	Healthy bool `json:"healthy"`
	// Starting: the worker runs the task and it has not opened yet.
	Starting bool `json:"starting,omitempty"`
	// Problem is what keeps the task from its work while it keeps trying
	// ("retrying opening the source: …", "waiting: no file matches …"),
	// since ProblemSince.
	Problem      string     `json:"problem,omitempty"`
	ProblemSince *time.Time `json:"problem_since,omitempty"`
	// WorkerHeard is when the task's worker was last heard from (its
	// status record, or the task's); WorkerSilent is set when that is
	// longer ago than two of its status intervals: it may be down.
	WorkerHeard  *time.Time `json:"worker_heard,omitempty"`
	WorkerSilent bool       `json:"worker_silent,omitempty"`
}

// PipelineReport is one pipeline as pipectl status shows it.
type PipelineReport struct {
	Address string       `json:"address"`
	Type    string       `json:"type"`
	State   string       `json:"state"`
	Healthy bool         `json:"healthy"` // every task is
	Tasks   []TaskReport `json:"tasks"`
}

// WorkerReport is one worker as pipectl status shows it: when it was last
// heard from, and whether it is a member of the fleet's group.
type WorkerReport struct {
	WorkerID string    `json:"worker_id"`
	Heard    time.Time `json:"heard"`
	// Interval is how often it says it is alive.
	Interval time.Duration `json:"interval_ns"`
	// Silent: not heard from for more than two intervals.
	Silent bool `json:"silent"`
	// InGroup says whether it is a member of the fleet's worker group;
	// nil when the group could not be described.
	InGroup *bool `json:"in_group,omitempty"`
}

// StatusReport is what pipectl status shows: every pipeline, and the
// workers that run their tasks.
type StatusReport struct {
	Pipelines []PipelineReport `json:"pipelines"`
	Workers   []WorkerReport   `json:"workers"`
	// At is when the report was made, which the ages it shows count
	// from.
	At time.Time `json:"time"`
}

// Report reads the fleet's state and status topics (no worker needed;
// sources' lag is in their status records), the consumer lag of sink
// groups and the members of the worker group.
func Report(ctx context.Context, ctl *control.Control, fleetName string) (*StatusReport, error) {
	f := ControlPlane(fleetName, "", ctl).(*fleet)
	st, sv, err := f.state(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	workers := workerReports(ctx, ctl, fleetName, sv, now)
	var out []PipelineReport
	var sinkGroups []string
	for _, res := range st.Sorted() {
		if res.Kind != control.KindPipeline {
			continue
		}
		s := f.status(res, sv)
		pr := PipelineReport{Address: res.Address, Type: string(s.Type), State: string(s.Connector.State), Healthy: true, Tasks: []TaskReport{}}
		for _, ts := range s.Tasks {
			tr := TaskReport{ID: ts.ID, State: string(ts.State), WorkerID: ts.WorkerID, Trace: ts.Trace}
			if rec, ok := sv.Tasks[res.Address][ts.ID]; ok {
				tr.RecordsIn, tr.Out, tr.Filtered, tr.Failed = rec.In, rec.Out, rec.Filtered, rec.Failed
				if d := rec.Time.Sub(rec.Started); !rec.Started.IsZero() && d > time.Second && ts.State == api.StateRunning {
					tr.Rate = float64(rec.Out-rec.OutAtStart) / d.Seconds()
				}
				tr.Trace, tr.Starting, tr.Problem = rec.Trace, rec.Starting, rec.Problem
				if rec.State == control.Failed {
					tr.Error = engine.TraceSummary(rec.Trace)
				}
				if !rec.ProblemSince.IsZero() {
					since := rec.ProblemSince
					tr.ProblemSince = &since
				}
				tr.Healthy = rec.Healthy()
				if rec.Lag != nil && ts.State == api.StateRunning && res.Pipeline.Kind == configschema.Source {
					n := *rec.Lag
					tr.Lag, tr.LagSeconds = &n, rec.LagSeconds
				}
				if ts.State == api.StateRunning || rec.Starting {
					heard := rec.Time
					if w, ok := sv.Workers[rec.WorkerID]; ok && w.Time.After(heard) {
						heard = w.Time
					}
					tr.WorkerHeard = &heard
					for _, w := range workers {
						if w.WorkerID == rec.WorkerID {
							tr.WorkerSilent = w.Silent || w.InGroup != nil && !*w.InGroup
						}
					}
					tr.Healthy = tr.Healthy && !tr.WorkerSilent
				}
			}
			pr.Healthy = pr.Healthy && tr.Healthy
			pr.Tasks = append(pr.Tasks, tr)
		}
		switch res.Pipeline.Kind {
		case configschema.Sink:
			sinkGroups = append(sinkGroups, f.group(res.Address))
		case configschema.Source: // no consumer group: its lag is in its status record
		}
		out = append(out, pr)
	}
	if len(sinkGroups) > 0 {
		lags, err := ctl.Admin().Lag(ctx, sinkGroups...)
		if err == nil {
			for i := range out {
				gl, ok := lags[f.group(out[i].Address)]
				if !ok {
					continue
				}
				perTask := taskLags(fleetName, out[i].Address, gl)
				// Status shows the lag of partitions that no task holds
				// (between a task's stop and the next rebalance) on task
				// 0, so that none of the pipeline's lag goes unseen.
				perTask[0] += perTask[unowned]
				for j := range out[i].Tasks {
					if n, ok := perTask[out[i].Tasks[j].ID]; ok {
						out[i].Tasks[j].Lag = &n
					}
				}
			}
		}
	}
	return &StatusReport{Pipelines: out, Workers: workers, At: now}, nil
}

// workerReports says of every worker that runs a task, or that wrote a
// status record, when it was last heard from and whether it is a member
// of the fleet's group.
func workerReports(ctx context.Context, ctl *control.Control, fleetName string, sv *control.StatusView, now time.Time) []WorkerReport {
	heard := map[string]WorkerReport{}
	for id, w := range sv.Workers {
		_, silent := w.Silent(now)
		heard[id] = WorkerReport{WorkerID: id, Heard: w.Time, Interval: w.Interval, Silent: silent}
	}
	for _, tasks := range sv.Tasks {
		for _, rec := range tasks {
			if rec.State != control.Running && !rec.Starting || rec.WorkerID == "" {
				continue
			}
			if w, ok := heard[rec.WorkerID]; !ok || rec.Time.After(w.Heard) {
				// A worker of an older pipectl, that writes no worker
				// record: its tasks' records are all there is.
				w.WorkerID = rec.WorkerID
				w.Heard = rec.Time
				heard[rec.WorkerID] = w
			}
		}
	}
	members, _, err := Members(ctx, ctl.Admin(), fleetName)
	inGroup := map[string]bool{}
	for _, m := range members {
		inGroup[m.WorkerID] = true
	}
	out := make([]WorkerReport, 0, len(heard))
	for _, id := range slices.Sorted(maps.Keys(heard)) {
		w := heard[id]
		if err == nil {
			in := inGroup[id]
			w.InGroup = &in
		}
		out = append(out, w)
	}
	return out
}

// ResetToLatest moves a paused sink's consumer group to the end of its
// topics, so that it skips what is there; sources have no "latest".
func ResetToLatest(ctx context.Context, ctl *control.Control, fleetName, address string) error {
	f := ControlPlane(fleetName, "", ctl).(*fleet)
	res, sv, err := f.resource(ctx, address)
	if err != nil {
		return err
	}
	switch res.Pipeline.Kind {
	case configschema.Sink:
	case configschema.Source:
		return api.Errorf(api.ErrBadRequest, "%s is a source: its offsets can only be reset to earliest (start over)", address)
	default:
		return kindError(res)
	}
	if err := f.stopped(res, sv); err != nil {
		return err
	}
	if err := f.emptyGroup(ctx, address); err != nil {
		return err
	}
	topics := res.Pipeline.Topics
	if res.Pipeline.TopicsRegex != "" {
		re, err := regexp.Compile(res.Pipeline.TopicsRegex)
		if err != nil {
			return err
		}
		all, err := ctl.Admin().ListTopics(ctx)
		if err != nil {
			return err
		}
		for _, name := range all.Names() {
			if re.MatchString(name) {
				topics = append(topics, name)
			}
		}
	}
	ends, err := ctl.Admin().ListEndOffsets(ctx, topics...)
	if err != nil {
		return err
	}
	set := kadm.Offsets{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			set.AddOffset(o.Topic, o.Partition, o.Offset, -1)
		}
	})
	resp, err := ctl.Admin().CommitOffsets(ctx, f.group(address), set)
	if err == nil {
		err = resp.Error()
	}
	return err
}

// unowned is the task under which taskLags counts the lag of partitions
// that no task of the pipeline holds.
const unowned = -1

// taskLags sums a sink group's lag by task: each partition counts for the
// task whose consumer holds it, known by its instance id (control.TaskID),
// or for unowned.
func taskLags(fleetName, address string, gl kadm.DescribedGroupLag) map[int]int64 {
	out := map[int]int64{}
	for _, parts := range gl.Lag {
		for _, ml := range parts {
			if ml.Lag < 0 {
				continue
			}
			task := unowned
			if ml.Member != nil && ml.Member.InstanceID != nil {
				if a, n, ok := control.ParseTaskID(fleetName, *ml.Member.InstanceID); ok && a == address {
					task = n
				}
			}
			out[task] += ml.Lag
		}
	}
	return out
}
