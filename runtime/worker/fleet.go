package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/control"
)

// fleet answers the REST API for the whole fleet from the state and the
// status topic; requests that change something go through the control
// topics, so any worker can take them. pipectl's operational commands use
// the same code without a worker (ControlPlane).
type fleet struct {
	name     string // the fleet's name
	by       string // who makes requests, for the records
	version  string
	ctl      *control.Control
	admin    *kadm.Client
	registry interface{ Schemas() []*configschema.Schema }
	// snapshot returns the state and status to answer from.
	snapshot func(ctx context.Context) (*control.State, *control.StatusView, error)
}

var _ api.Fleet = (*fleet)(nil)

// workerFleet answers from the worker's live view of the control topics.
func workerFleet(w *Worker) *fleet {
	return &fleet{name: w.cfg.Fleet, by: "rest:" + w.id, version: w.cfg.Version, ctl: w.ctl, admin: w.admin, registry: w.cfg.Registry,
		snapshot: func(context.Context) (*control.State, *control.StatusView, error) {
			st, sv := w.snapshot()
			if !w.connected.Load() {
				return nil, nil, api.Errorf(api.ErrUnavailable, "the worker is waiting for the fleet's Kafka cluster (brokers %s)", strings.Join(w.cfg.Kafka.Brokers, ","))
			}
			if st == nil || sv == nil {
				return nil, nil, api.Errorf(api.ErrUnavailable, "the worker is still reading the fleet's state; try again in a moment")
			}
			return st, sv, nil
		}}
}

// ControlPlane is the fleet's REST API without a worker: it reads the
// control topics at each call. pipectl status, pause, resume, restart and
// offsets use it, so that they work wherever the tasks run.
func ControlPlane(fleetName, by string, ctl *control.Control) api.Fleet {
	return &fleet{name: fleetName, by: by, ctl: ctl, admin: ctl.Admin(),
		snapshot: func(ctx context.Context) (*control.State, *control.StatusView, error) {
			st, err := ctl.ReadState(ctx)
			if err != nil {
				return nil, nil, err
			}
			sv, err := ctl.ReadStatus(ctx)
			if err != nil {
				return nil, nil, err
			}
			return st, sv, nil
		}}
}

func (f *fleet) ClusterID(ctx context.Context) (string, error) {
	m, err := f.admin.BrokerMetadata(ctx)
	if err != nil {
		return "", err
	}
	return m.Cluster, nil
}

func (f *fleet) state(ctx context.Context) (*control.State, *control.StatusView, error) {
	return f.snapshot(ctx)
}

// masked renders a pipeline's configuration with secrets hidden.
func masked(cfg map[string]any) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		if _, ok := control.SecretOf(v); ok {
			out[k] = api.SensitiveValue
			continue
		}
		out[k] = maskValue(v)
	}
	return out
}

func maskValue(v any) any {
	if _, ok := control.SecretOf(v); ok {
		return api.SensitiveValue
	}
	switch v := v.(type) {
	case map[string]any:
		return masked(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = maskValue(e)
		}
		return out
	}
	return v
}

func info(res *control.Resource, sv *control.StatusView) api.PipelineInfo {
	p := res.Pipeline
	out := api.PipelineInfo{Address: res.Address, Type: api.PipelineType(p.Kind), PluginType: p.Type,
		Config: connectConfig(res), Tasks: max(p.Tasks, 1)}
	if control.Desired(res, sv) == control.Stopped && !tasksRunning(res, sv) {
		out.Tasks, out.Stopped = 0, true
	}
	return out
}

func (f *fleet) Pipelines(ctx context.Context) ([]api.PipelineInfo, error) {
	st, sv, err := f.state(ctx)
	if err != nil {
		return nil, err
	}
	var out []api.PipelineInfo
	for _, res := range st.Sorted() {
		if res.Kind == control.KindPipeline {
			out = append(out, info(res, sv))
		}
	}
	return out, nil
}

func (f *fleet) resource(ctx context.Context, address string) (*control.Resource, *control.StatusView, error) {
	st, sv, err := f.state(ctx)
	if err != nil {
		return nil, nil, err
	}
	res, ok := st.Resources[address]
	if !ok || res.Kind != control.KindPipeline {
		return nil, nil, api.Errorf(api.ErrNotFound, "no pipeline %s in the fleet's state", address)
	}
	return res, sv, nil
}

func (f *fleet) Pipeline(ctx context.Context, address string) (api.PipelineInfo, bool, error) {
	res, sv, err := f.resource(ctx, address)
	if errors.Is(err, api.ErrNotFound) {
		return api.PipelineInfo{}, false, nil
	}
	if err != nil {
		return api.PipelineInfo{}, false, err
	}
	return info(res, sv), true, nil
}

func (f *fleet) status(res *control.Resource, sv *control.StatusView) api.Status {
	s := api.Status{Name: res.Address, Type: api.PipelineType(res.Pipeline.Kind)}
	n := max(res.Pipeline.Tasks, 1)
	running, failed := 0, 0
	var trace, worker string
	for i := range n {
		ts := api.TaskStatus{ID: i, State: api.StateUnassigned}
		if rec, ok := sv.Tasks[res.Address][i]; ok {
			ts.State, ts.WorkerID, ts.Trace = api.State(rec.State), rec.WorkerID, rec.Trace
			if t := problemTrace(rec); t != "" {
				ts.Trace = t
			}
		}
		switch ts.State {
		case api.StateRunning:
			running++
		case api.StateFailed:
			failed++
			trace = ts.Trace
		}
		if worker == "" {
			worker = ts.WorkerID
		}
		s.Tasks = append(s.Tasks, ts)
	}
	s.Connector = api.ConnectorStatus{State: api.StateUnassigned, WorkerID: worker}
	desired := control.Desired(res, sv)
	switch {
	case desired == control.Stopped && !tasksRunning(res, sv):
		// As Kafka Connect's STOPPED connector: no tasks at all. Until
		// its tasks have stopped it shows them, as Connect shows the
		// connector until its worker has stopped it, so that a client
		// that waits for STOPPED can change the offsets next.
		s.Connector.State, s.Tasks = api.StateStopped, []api.TaskStatus{}
	case desired == control.Stopped:
		s.Connector.State = api.StateRunning
	case desired == control.Paused:
		s.Connector.State = api.StatePaused
	case failed == n:
		s.Connector.State, s.Connector.Trace = api.StateFailed, trace
	case running > 0 || failed > 0:
		s.Connector.State = api.StateRunning
	}
	return s
}

// tasksRunning reports whether a task of the pipeline still runs or
// starts, by its status record.
func tasksRunning(res *control.Resource, sv *control.StatusView) bool {
	for i, rec := range sv.Tasks[res.Address] {
		if i < max(res.Pipeline.Tasks, 1) && (rec.State == control.Running || rec.Starting) {
			return true
		}
	}
	return false
}

func (f *fleet) Status(ctx context.Context, address string) (api.Status, bool, error) {
	res, sv, err := f.resource(ctx, address)
	if errors.Is(err, api.ErrNotFound) {
		return api.Status{}, false, nil
	}
	if err != nil {
		return api.Status{}, false, err
	}
	return f.status(res, sv), true, nil
}

func (f *fleet) setTarget(ctx context.Context, address string, t control.Target) error {
	if _, _, err := f.resource(ctx, address); err != nil {
		return err
	}
	t.By = f.by
	return f.ctl.PutTarget(ctx, address, t)
}

func (f *fleet) Pause(ctx context.Context, address string) error {
	return f.setTarget(ctx, address, control.Target{Paused: true})
}

func (f *fleet) Stop(ctx context.Context, address string) error {
	return f.setTarget(ctx, address, control.Target{Paused: true, Stopped: true})
}

func (f *fleet) Resume(ctx context.Context, address string) error {
	return f.setTarget(ctx, address, control.Target{})
}

// Restart restarts a pipeline's tasks. pipectl has no connector instance
// apart from its tasks, so without includeTasks the failed tasks restart
// (a failed "connector" is a pipeline whose tasks all failed); with it,
// all tasks, or only the failed ones with onlyFailed.
func (f *fleet) Restart(ctx context.Context, address string, opts api.RestartOptions) (api.Status, error) {
	res, sv, err := f.resource(ctx, address)
	if err != nil {
		return api.Status{}, err
	}
	s := f.status(res, sv)
	onlyFailed := opts.OnlyFailed || !opts.IncludeTasks
	for i, ts := range s.Tasks {
		if onlyFailed && ts.State != api.StateFailed {
			continue
		}
		s.Tasks[i].State = api.StateRestarting
	}
	err = f.ctl.PutRestart(ctx, address, control.RestartRequest{Task: -1, OnlyFailed: onlyFailed, By: f.by})
	return s, err
}

func (f *fleet) RestartTask(ctx context.Context, address string, task int) error {
	res, _, err := f.resource(ctx, address)
	if err != nil {
		return err
	}
	if task < 0 || task >= max(res.Pipeline.Tasks, 1) {
		return api.Errorf(api.ErrNotFound, "pipeline %s has no task %d", address, task)
	}
	return f.ctl.PutRestart(ctx, address, control.RestartRequest{Task: task, By: f.by})
}

// group is a sink's consumer group.
func (f *fleet) group(address string) string { return control.SinkGroup(f.name, address) }

// kindError is the error of a pipeline in the state whose kind is neither
// source nor sink: a state this binary cannot run.
func kindError(res *control.Resource) error {
	return fmt.Errorf("pipeline %s has the kind %q: this pipectl knows only %s and %s pipelines",
		res.Address, res.Pipeline.Kind, configschema.Source, configschema.Sink)
}

func (f *fleet) Offsets(ctx context.Context, address string) (api.Offsets, error) {
	res, _, err := f.resource(ctx, address)
	if err != nil {
		return api.Offsets{}, err
	}
	out := api.Offsets{Offsets: []api.PartitionOffset{}}
	switch res.Pipeline.Kind {
	case configschema.Source:
		m, err := f.ctl.LoadOffsets(ctx, address)
		if err != nil {
			return out, err
		}
		for _, so := range m {
			out.Offsets = append(out.Offsets, api.PartitionOffset{Partition: so.Partition, Offset: so.Offset})
		}
	case configschema.Sink:
		offs, err := f.admin.FetchOffsets(ctx, f.group(address))
		if err != nil {
			return out, err
		}
		offs.Each(func(o kadm.OffsetResponse) {
			out.Offsets = append(out.Offsets, api.PartitionOffset{
				Partition: map[string]any{"kafka_topic": o.Topic, "kafka_partition": o.Partition},
				Offset:    map[string]any{"kafka_offset": o.At},
			})
		})
	default:
		return out, kindError(res)
	}
	sort.Slice(out.Offsets, func(i, j int) bool {
		return control.PartitionKey(out.Offsets[i].Partition) < control.PartitionKey(out.Offsets[j].Partition)
	})
	return out, nil
}

// stopped checks that no task of a pipeline runs before its offsets
// change. KIP-875 asks for a STOPPED connector; pipectl takes a paused
// one too, whose tasks have stopped as well.
func (f *fleet) stopped(res *control.Resource, sv *control.StatusView) error {
	if control.Desired(res, sv) == control.Running {
		return api.Errorf(api.ErrConflict, "pipeline %s is not stopped: stop it first (pipectl stop %s) or pause it, wait for its tasks to stop, then change its offsets", res.Address, res.Address)
	}
	if tasksRunning(res, sv) {
		return api.Errorf(api.ErrConflict, "pipeline %s still has a running task: wait for its tasks to stop (pipectl status), then change its offsets", res.Address)
	}
	return nil
}

func (f *fleet) AlterOffsets(ctx context.Context, address string, o api.Offsets) error {
	res, sv, err := f.resource(ctx, address)
	if err != nil {
		return err
	}
	if err := f.stopped(res, sv); err != nil {
		return err
	}
	switch res.Pipeline.Kind {
	case configschema.Source:
		if err := checkSourceOffsets(o); err != nil {
			return err
		}
		var offs []control.SourceOffset
		for _, po := range o.Offsets {
			offs = append(offs, control.SourceOffset{Partition: po.Partition, Offset: plainJSON(po.Offset)})
		}
		return f.ctl.SaveOffsets(ctx, address, offs)
	case configschema.Sink: // below: the sink's consumer group
	default:
		return kindError(res)
	}
	set, reset, err := sinkOffsets(o)
	if err != nil {
		return err
	}
	if err := f.checkPartitions(ctx, set, reset); err != nil {
		return err
	}
	if err := f.emptyGroup(ctx, address); err != nil {
		return err
	}
	if len(set) > 0 {
		resp, err := f.admin.CommitOffsets(ctx, f.group(address), set)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return unknownPartition(err)
		}
	}
	if len(reset) > 0 {
		if err := f.deleteOffsets(ctx, address, reset); err != nil {
			return unknownPartition(err)
		}
	}
	return nil
}

// unknownPartition makes the broker's UNKNOWN_TOPIC_OR_PARTITION (a topic
// deleted since checkPartitions) the client's error.
func unknownPartition(err error) error {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return api.Errorf(api.ErrBadRequest, "%v", err)
	}
	return err
}

// emptyGroup removes a paused sink's static members from its group: they
// stay in it after their tasks stop, and offsets of a group with members
// cannot change.
func (f *fleet) emptyGroup(ctx context.Context, address string) error {
	if _, err := f.ctl.RemoveStaticMembers(ctx, f.group(address)); err != nil {
		return fmt.Errorf("removing the stopped consumers of %s: %w", address, err)
	}
	return nil
}

// deleteOffsets deletes a sink group's committed offsets, failing on any
// partition's error.
func (f *fleet) deleteOffsets(ctx context.Context, address string, ts kadm.TopicsSet) error {
	resp, err := f.admin.DeleteOffsets(ctx, f.group(address), ts)
	if err != nil {
		return err
	}
	return resp.Error()
}

func (f *fleet) ResetOffsets(ctx context.Context, address string) error {
	res, sv, err := f.resource(ctx, address)
	if err != nil {
		return err
	}
	if err := f.stopped(res, sv); err != nil {
		return err
	}
	switch res.Pipeline.Kind {
	case configschema.Source:
		return f.ctl.DeleteOffsets(ctx, address)
	case configschema.Sink: // below: the sink's consumer group
	default:
		return kindError(res)
	}
	if err := f.emptyGroup(ctx, address); err != nil {
		return err
	}
	offs, err := f.admin.FetchOffsets(ctx, f.group(address))
	if err != nil {
		return err
	}
	ts := kadm.TopicsSet{}
	offs.Each(func(o kadm.OffsetResponse) { ts.Add(o.Topic, o.Partition) })
	if len(ts) == 0 {
		return nil
	}
	return f.deleteOffsets(ctx, address, ts)
}

// plainJSON turns json.Number values into int64 or float64.
func plainJSON(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				out[k] = i
			} else if fl, err := n.Float64(); err == nil {
				out[k] = fl
			}
			continue
		}
		out[k] = v
	}
	return out
}

func number(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), n == float64(int64(n))
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

func (f *fleet) Topics(ctx context.Context, address string) ([]string, error) {
	res, sv, err := f.resource(ctx, address)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(sv.Topics[res.Address])), nil
}

func (f *fleet) ResetTopics(ctx context.Context, address string) error {
	topics, err := f.Topics(ctx, address)
	if err != nil {
		return err
	}
	return f.ctl.ResetTopics(ctx, address, topics)
}

func (f *fleet) Plugins() []api.PluginInfo {
	var out []api.PluginInfo
	if f.registry == nil {
		return nil
	}
	for _, s := range f.registry.Schemas() {
		out = append(out, api.PluginInfo{Class: s.Address(), Type: string(s.Kind), Version: f.version})
	}
	return out
}

func (f *fleet) Health(ctx context.Context) error {
	if _, _, err := f.state(ctx); err != nil {
		return err
	}
	if _, err := f.admin.BrokerMetadata(ctx); err != nil {
		return fmt.Errorf("the fleet's Kafka cluster does not answer: %w", err)
	}
	return nil
}
