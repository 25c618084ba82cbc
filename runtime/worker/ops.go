package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/control"
)

// Member is one worker of the fleet's group, as pipectl workers shows it.
type Member struct {
	WorkerID string    `json:"worker_id"`
	URL      string    `json:"url"`
	MemberID string    `json:"member_id"`
	Host     string    `json:"host"`
	Weight   int       `json:"weight"`
	Tasks    []TaskRef `json:"tasks"` // assigned by the leader in the current generation
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

// TaskReport is one task as pipectl status shows it.
type TaskReport struct {
	ID        int     `json:"id"`
	State     string  `json:"state"`
	WorkerID  string  `json:"worker_id"`
	RecordsIn int64   `json:"records_in"`
	Out       int64   `json:"records_out"`
	Filtered  int64   `json:"records_filtered"`
	Failed    int64   `json:"records_failed"`
	Rate      float64 `json:"records_per_second"` // out since the task started
	Lag       *int64  `json:"lag,omitempty"`      // sinks: records behind the end of their partitions
	Trace     string  `json:"trace,omitempty"`
}

// PipelineReport is one pipeline as pipectl status shows it.
type PipelineReport struct {
	Address string       `json:"address"`
	Type    string       `json:"type"`
	State   string       `json:"state"`
	Tasks   []TaskReport `json:"tasks"`
}

// Report reads the fleet's state and status topics (no worker needed) and
// the consumer lag of sink groups.
func Report(ctx context.Context, ctl *control.Control, fleetName string) ([]PipelineReport, error) {
	f := ControlPlane(fleetName, "", ctl).(*fleet)
	st, sv, err := f.state(ctx)
	if err != nil {
		return nil, err
	}
	var out []PipelineReport
	var sinkGroups []string
	for _, res := range st.Sorted() {
		if res.Kind != control.KindPipeline {
			continue
		}
		s := f.status(res, sv)
		pr := PipelineReport{Address: res.Address, Type: string(s.Type), State: string(s.Connector.State)}
		for _, ts := range s.Tasks {
			tr := TaskReport{ID: ts.ID, State: string(ts.State), WorkerID: ts.WorkerID, Trace: ts.Trace}
			if rec, ok := sv.Tasks[res.Address][ts.ID]; ok {
				tr.RecordsIn, tr.Out, tr.Filtered, tr.Failed = rec.In, rec.Out, rec.Filtered, rec.Failed
				if d := rec.Time.Sub(rec.Started); !rec.Started.IsZero() && d > time.Second && ts.State == api.StateRunning {
					tr.Rate = float64(rec.Out) / d.Seconds()
				}
			}
			pr.Tasks = append(pr.Tasks, tr)
		}
		switch res.Pipeline.Kind {
		case configschema.Sink:
			sinkGroups = append(sinkGroups, f.group(res.Address))
		case configschema.Source: // no consumer group, no lag
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
	return out, nil
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
