package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pipectl/pipectl/runtime/metrics"
)

// fakeFleet stands in for the worker, which is not written yet: what is
// under test here is the HTTP layer. It records the calls that change
// something.
type fakeFleet struct {
	mu        sync.Mutex
	pipelines map[string]PipelineInfo
	status    map[string]Status
	offsets   map[string]Offsets
	calls     []string

	clusterErr error
	healthErr  error
	panicOn    string // a Pipeline lookup of this address panics
}

const (
	srcOrders = "source.file.orders"
	sinkOut   = "sink.file.orders_out"
	mirrorEU  = `source.kafka.mirror["eu"]`
	lakeAB    = `sink.s3.lake["a/b"]`
)

func newFake() *fakeFleet {
	return &fakeFleet{
		pipelines: map[string]PipelineInfo{
			srcOrders: {Address: srcOrders, Type: TypeSource, PluginType: "file", Tasks: 1,
				Config: map[string]any{"path": "in.jsonl", "topic": "orders", "password": SensitiveValue}},
			sinkOut: {Address: sinkOut, Type: TypeSink, PluginType: "file", Tasks: 2,
				Config: map[string]any{"path": "out.jsonl", "topics": []any{"orders"}}},
			mirrorEU: {Address: mirrorEU, Type: TypeSource, PluginType: "kafka", Tasks: 1,
				Config: map[string]any{"topics": []any{"a", "b"}, "max_poll": 500}},
			lakeAB: {Address: lakeAB, Type: TypeSink, PluginType: "s3", Tasks: 1, Config: map[string]any{}},
		},
		status: map[string]Status{
			srcOrders: {Name: srcOrders, Type: TypeSource,
				Connector: ConnectorStatus{State: StateRunning, WorkerID: "10.0.0.1:8083"},
				Tasks:     []TaskStatus{{ID: 0, State: StateRunning, WorkerID: "10.0.0.1:8083"}}},
			sinkOut: {Name: sinkOut, Type: TypeSink,
				Connector: ConnectorStatus{State: StatePaused, WorkerID: "10.0.0.2:8083"},
				Tasks: []TaskStatus{
					{ID: 0, State: StatePaused, WorkerID: "10.0.0.2:8083"},
					{ID: 1, State: StateFailed, WorkerID: "10.0.0.1:8083", Trace: "sink: disk full"},
				}},
			mirrorEU: {Name: mirrorEU, Type: TypeSource,
				Connector: ConnectorStatus{State: StateUnassigned, WorkerID: "10.0.0.1:8083"}},
			// lakeAB has no status: it was deleted while a request ran.
		},
		offsets: map[string]Offsets{
			sinkOut: {Offsets: []PartitionOffset{{
				Partition: map[string]any{"kafka_topic": "orders", "kafka_partition": 0},
				Offset:    map[string]any{"kafka_offset": 42},
			}}},
		},
	}
}

func (f *fakeFleet) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeFleet) ClusterID(context.Context) (string, error) {
	return "Yx1-cluster", f.clusterErr
}

func (f *fakeFleet) Pipelines(context.Context) ([]PipelineInfo, error) {
	var out []PipelineInfo
	for _, p := range f.pipelines {
		out = append(out, p)
	}
	return out, nil
}

func (f *fakeFleet) Pipeline(_ context.Context, addr string) (PipelineInfo, bool, error) {
	if addr == f.panicOn {
		panic("fake: lookup of " + addr)
	}
	if addr == "source.broken.x" {
		return PipelineInfo{}, false, errors.New("reading state: broker gone")
	}
	p, ok := f.pipelines[addr]
	return p, ok, nil
}

func (f *fakeFleet) Status(_ context.Context, addr string) (Status, bool, error) {
	s, ok := f.status[addr]
	return s, ok, nil
}

func (f *fakeFleet) Pause(_ context.Context, addr string) error {
	f.record("Pause %s", addr)
	return nil
}

func (f *fakeFleet) Stop(_ context.Context, addr string) error {
	f.record("Stop %s", addr)
	return nil
}

func (f *fakeFleet) Resume(_ context.Context, addr string) error {
	f.record("Resume %s", addr)
	return nil
}

func (f *fakeFleet) Restart(_ context.Context, addr string, opts RestartOptions) (Status, error) {
	f.record("Restart %s %+v", addr, opts)
	st := f.status[addr]
	st.Connector.State = StateRestarting
	st.Tasks = slices.Clone(st.Tasks)
	for i := range st.Tasks {
		if opts.IncludeTasks && (!opts.OnlyFailed || st.Tasks[i].State == StateFailed) {
			st.Tasks[i].State = StateRestarting
		}
	}
	return st, nil
}

func (f *fakeFleet) RestartTask(_ context.Context, addr string, task int) error {
	f.record("RestartTask %s %d", addr, task)
	return nil
}

func (f *fakeFleet) Offsets(_ context.Context, addr string) (Offsets, error) {
	return f.offsets[addr], nil
}

// running says whether offsets may not change, as the worker will.
func (f *fakeFleet) running(addr string) error {
	if f.status[addr].Connector.State == StateRunning {
		return Errorf(ErrConflict, "pipeline %s is running: pause it before changing its offsets (pipectl pause %s)", addr, addr)
	}
	return nil
}

func (f *fakeFleet) AlterOffsets(_ context.Context, addr string, o Offsets) error {
	if err := f.running(addr); err != nil {
		return err
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	// %T of a value shows that numbers arrive as json.Number.
	f.record("AlterOffsets %s %s %T", addr, b, o.Offsets[0].Offset["kafka_offset"])
	return nil
}

func (f *fakeFleet) ResetOffsets(_ context.Context, addr string) error {
	if err := f.running(addr); err != nil {
		return err
	}
	f.record("ResetOffsets %s", addr)
	return nil
}

func (f *fakeFleet) Topics(_ context.Context, addr string) ([]string, error) {
	if addr == sinkOut {
		return []string{"orders"}, nil
	}
	return nil, nil
}

func (f *fakeFleet) ResetTopics(_ context.Context, addr string) error {
	f.record("ResetTopics %s", addr)
	return nil
}

// fakePlugins answers for sink.file: path is required.
type fakePlugins struct{ f *fakeFleet }

func (p fakePlugins) PluginConfig(plugin string) ([]ConfigKeyInfo, error) {
	if plugin != "sink.file" {
		return nil, Errorf(ErrNotFound, "No plugin %s", plugin)
	}
	return []ConfigKeyInfo{{Name: "path", Type: "STRING", Required: true, Importance: "HIGH", Group: "sink.file", Order: 1, Width: "NONE", DisplayName: "path", Dependents: []string{}}}, nil
}

func (p fakePlugins) ValidateConfig(plugin string, cfg map[string]any) (ConfigInfos, error) {
	defs, err := p.PluginConfig(plugin)
	if err != nil {
		return ConfigInfos{}, err
	}
	p.f.record("ValidateConfig %s %v", plugin, cfg)
	v := ConfigValueInfo{Name: "path", RecommendedValues: []string{}, Errors: []string{}, Visible: true}
	if s, ok := cfg["path"].(string); ok {
		v.Value = &s
	} else {
		v.Errors = append(v.Errors, "The attribute \"path\" is required.")
	}
	return ConfigInfos{Name: plugin, ErrorCount: len(v.Errors), Groups: []string{"sink.file"}, Configs: []ConfigInfo{{Definition: defs[0], Value: v}}}, nil
}

func (f *fakeFleet) Plugins() []PluginInfo {
	return []PluginInfo{
		{Class: "source.file", Type: "source", Version: "0.1.0"},
		{Class: "converter.json", Type: "converter", Version: "0.1.0"},
		{Class: "sink.file", Type: "sink", Version: "0.1.0"},
	}
}

func (f *fakeFleet) Health(context.Context) error { return f.healthErr }

// esc is how a client puts an address in a path.
func esc(addr string) string {
	r := strings.NewReplacer(`[`, "%5B", `]`, "%5D", `"`, "%22", `/`, "%2F")
	return r.Replace(addr)
}

type exchange struct {
	name      string
	method    string
	path      string
	body      string
	wantCode  int
	wantBody  string // JSON; "" for an empty body
	wantCalls []string
	wantAllow string
}

// Kafka Connect's documented shapes, with pipeline addresses as names.
var (
	statusSrc = `{"name":"source.file.orders","connector":{"state":"RUNNING","worker_id":"10.0.0.1:8083"},
		"tasks":[{"id":0,"state":"RUNNING","worker_id":"10.0.0.1:8083"}],"type":"source"}`
	statusSink = `{"name":"sink.file.orders_out","connector":{"state":"PAUSED","worker_id":"10.0.0.2:8083"},
		"tasks":[{"id":0,"state":"PAUSED","worker_id":"10.0.0.2:8083"},
		         {"id":1,"state":"FAILED","worker_id":"10.0.0.1:8083","trace":"sink: disk full"}],"type":"sink"}`
	statusMirror = `{"name":"source.kafka.mirror[\"eu\"]","connector":{"state":"UNASSIGNED","worker_id":"10.0.0.1:8083"},
		"tasks":[],"type":"source"}`
	configSrc = `{"connector.class":"source.file","name":"source.file.orders","path":"in.jsonl","topic":"orders",
		"password":"(sensitive value)"}`
	configMirror = `{"connector.class":"source.kafka","name":"source.kafka.mirror[\"eu\"]","topics":["a","b"],"max_poll":500}`
	infoSrc      = `{"name":"source.file.orders","config":` + configSrc + `,
		"tasks":[{"connector":"source.file.orders","task":0}],"type":"source"}`
	infoMirror = `{"name":"source.kafka.mirror[\"eu\"]","config":` + configMirror + `,
		"tasks":[{"connector":"source.kafka.mirror[\"eu\"]","task":0}],"type":"source"}`
	infoSink = `{"name":"sink.file.orders_out","config":{"connector.class":"sink.file","name":"sink.file.orders_out",
		"path":"out.jsonl","topics":["orders"]},"tasks":[{"connector":"sink.file.orders_out","task":0},
		{"connector":"sink.file.orders_out","task":1}],"type":"sink"}`
	infoLake = `{"name":"sink.s3.lake[\"a/b\"]","config":{"connector.class":"sink.s3","name":"sink.s3.lake[\"a/b\"]"},
		"tasks":[{"connector":"sink.s3.lake[\"a/b\"]","task":0}],"type":"sink"}`
)

func errBody(code int, msg string) string {
	b, _ := json.Marshal(errorBody{code, msg})
	return string(b)
}

func TestRoutes(t *testing.T) {
	tests := []exchange{
		{name: "server info", method: "GET", path: "/", wantCode: 200,
			wantBody: `{"version":"1.2.3","commit":"abc123","kafka_cluster_id":"Yx1-cluster"}`},
		{name: "list", method: "GET", path: "/connectors", wantCode: 200,
			wantBody: `["sink.file.orders_out","sink.s3.lake[\"a/b\"]","source.file.orders","source.kafka.mirror[\"eu\"]"]`},
		{name: "list with trailing slash", method: "GET", path: "/connectors/", wantCode: 200,
			wantBody: `["sink.file.orders_out","sink.s3.lake[\"a/b\"]","source.file.orders","source.kafka.mirror[\"eu\"]"]`},
		{name: "expand status leaves out a pipeline without status", method: "GET", path: "/connectors?expand=status", wantCode: 200,
			wantBody: `{"source.file.orders":{"status":` + statusSrc + `},"sink.file.orders_out":{"status":` + statusSink + `},
				"source.kafka.mirror[\"eu\"]":{"status":` + statusMirror + `},"sink.s3.lake[\"a/b\"]":{}}`},
		{name: "expand info", method: "GET", path: "/connectors?expand=info", wantCode: 200,
			wantBody: `{"source.file.orders":{"info":` + infoSrc + `},"sink.file.orders_out":{"info":` + infoSink + `},
				"source.kafka.mirror[\"eu\"]":{"info":` + infoMirror + `},"sink.s3.lake[\"a/b\"]":{"info":` + infoLake + `}}`},
		{name: "expand both", method: "GET", path: "/connectors?expand=status&expand=info", wantCode: 200,
			wantBody: `{"source.file.orders":{"status":` + statusSrc + `,"info":` + infoSrc + `},
				"sink.file.orders_out":{"status":` + statusSink + `,"info":` + infoSink + `},
				"source.kafka.mirror[\"eu\"]":{"status":` + statusMirror + `,"info":` + infoMirror + `},
				"sink.s3.lake[\"a/b\"]":{"info":` + infoLake + `}}`},
		{name: "unknown expansion ignored", method: "GET", path: "/connectors?expand=bogus", wantCode: 200,
			wantBody: `{"source.file.orders":{},"sink.file.orders_out":{},"source.kafka.mirror[\"eu\"]":{},"sink.s3.lake[\"a/b\"]":{}}`},

		{name: "info", method: "GET", path: "/connectors/" + srcOrders, wantCode: 200, wantBody: infoSrc},
		{name: "info of escaped for_each address", method: "GET", path: "/connectors/" + esc(mirrorEU), wantCode: 200, wantBody: infoMirror},
		{name: "info of address with escaped slash", method: "GET", path: "/connectors/" + esc(lakeAB), wantCode: 200, wantBody: infoLake},
		{name: "info of address with raw brackets", method: "GET", path: `/connectors/source.kafka.mirror[%22eu%22]`, wantCode: 200, wantBody: infoMirror},
		{name: "config", method: "GET", path: "/connectors/" + esc(mirrorEU) + "/config", wantCode: 200, wantBody: configMirror},
		{name: "unknown pipeline", method: "GET", path: "/connectors/source.file.nope", wantCode: 404,
			wantBody: errBody(404, "Pipeline source.file.nope not found")},
		{name: "unknown for_each key", method: "GET", path: "/connectors/" + esc(`source.kafka.mirror["us"]`) + "/status", wantCode: 404,
			wantBody: errBody(404, `Pipeline source.kafka.mirror["us"] not found`)},
		{name: "fleet error is 500 with its message", method: "GET", path: "/connectors/source.broken.x", wantCode: 500,
			wantBody: errBody(500, "reading state: broker gone")},

		{name: "status", method: "GET", path: "/connectors/" + srcOrders + "/status", wantCode: 200, wantBody: statusSrc},
		{name: "status with failed task and no tasks", method: "GET", path: "/connectors/" + sinkOut + "/status", wantCode: 200, wantBody: statusSink},
		{name: "status null tasks become a list", method: "GET", path: "/connectors/" + esc(mirrorEU) + "/status", wantCode: 200, wantBody: statusMirror},
		{name: "status gone", method: "GET", path: "/connectors/" + esc(lakeAB) + "/status", wantCode: 404,
			wantBody: errBody(404, `Pipeline sink.s3.lake["a/b"] not found`)},
		{name: "task status", method: "GET", path: "/connectors/" + sinkOut + "/tasks/1/status", wantCode: 200,
			wantBody: `{"id":1,"state":"FAILED","worker_id":"10.0.0.1:8083","trace":"sink: disk full"}`},
		{name: "task status of a task without status", method: "GET", path: "/connectors/" + esc(mirrorEU) + "/tasks/0/status", wantCode: 404,
			wantBody: errBody(404, `Task 0 of pipeline source.kafka.mirror["eu"] has no status yet`)},
		{name: "tasks", method: "GET", path: "/connectors/" + srcOrders + "/tasks", wantCode: 200,
			wantBody: `[{"id":{"connector":"source.file.orders","task":0},"config":` + configSrc + `}]`},

		{name: "pause", method: "PUT", path: "/connectors/" + esc(mirrorEU) + "/pause", wantCode: 202,
			wantCalls: []string{`Pause source.kafka.mirror["eu"]`}},
		{name: "resume", method: "PUT", path: "/connectors/" + sinkOut + "/resume", wantCode: 202,
			wantCalls: []string{"Resume sink.file.orders_out"}},
		{name: "stop", method: "PUT", path: "/connectors/" + esc(mirrorEU) + "/stop", wantCode: 202,
			wantCalls: []string{`Stop source.kafka.mirror["eu"]`}},
		{name: "topics", method: "GET", path: "/connectors/" + sinkOut + "/topics", wantCode: 200,
			wantBody: `{"sink.file.orders_out":{"topics":["orders"]}}`},
		{name: "topics none", method: "GET", path: "/connectors/" + esc(mirrorEU) + "/topics", wantCode: 200,
			wantBody: `{"source.kafka.mirror[\"eu\"]":{"topics":[]}}`},
		{name: "topics reset", method: "PUT", path: "/connectors/" + sinkOut + "/topics/reset", wantCode: 202,
			wantCalls: []string{"ResetTopics sink.file.orders_out"}},
		{name: "stop unknown", method: "PUT", path: "/connectors/source.file.nope/stop", wantCode: 404,
			wantBody: errBody(404, "Pipeline source.file.nope not found")},
		{name: "pause unknown", method: "PUT", path: "/connectors/source.file.nope/pause", wantCode: 404,
			wantBody: errBody(404, "Pipeline source.file.nope not found")},
		{name: "restart connector only", method: "POST", path: "/connectors/" + sinkOut + "/restart", wantCode: 204,
			wantCalls: []string{"Restart sink.file.orders_out {IncludeTasks:false OnlyFailed:false}"}},
		{name: "restart explicit false", method: "POST", path: "/connectors/" + sinkOut + "/restart?includeTasks=false&onlyFailed=false", wantCode: 204,
			wantCalls: []string{"Restart sink.file.orders_out {IncludeTasks:false OnlyFailed:false}"}},
		{name: "restart with tasks", method: "POST", path: "/connectors/" + sinkOut + "/restart?includeTasks=true", wantCode: 202,
			wantBody: `{"name":"sink.file.orders_out","connector":{"state":"RESTARTING","worker_id":"10.0.0.2:8083"},
				"tasks":[{"id":0,"state":"RESTARTING","worker_id":"10.0.0.2:8083"},
				         {"id":1,"state":"RESTARTING","worker_id":"10.0.0.1:8083","trace":"sink: disk full"}],"type":"sink"}`,
			wantCalls: []string{"Restart sink.file.orders_out {IncludeTasks:true OnlyFailed:false}"}},
		{name: "restart only failed", method: "POST", path: "/connectors/" + sinkOut + "/restart?includeTasks=true&onlyFailed=true", wantCode: 202,
			wantBody: `{"name":"sink.file.orders_out","connector":{"state":"RESTARTING","worker_id":"10.0.0.2:8083"},
				"tasks":[{"id":0,"state":"PAUSED","worker_id":"10.0.0.2:8083"},
				         {"id":1,"state":"RESTARTING","worker_id":"10.0.0.1:8083","trace":"sink: disk full"}],"type":"sink"}`,
			wantCalls: []string{"Restart sink.file.orders_out {IncludeTasks:true OnlyFailed:true}"}},
		{name: "restart bad flag", method: "POST", path: "/connectors/" + sinkOut + "/restart?includeTasks=yes", wantCode: 400,
			wantBody: errBody(400, `Query parameter includeTasks must be true or false, not "yes"`)},
		{name: "restart task", method: "POST", path: "/connectors/" + sinkOut + "/tasks/1/restart", wantCode: 204,
			wantCalls: []string{"RestartTask sink.file.orders_out 1"}},
		{name: "restart task not a number", method: "POST", path: "/connectors/" + sinkOut + "/tasks/one/restart", wantCode: 400,
			wantBody: errBody(400, `Task index "one" is not a non-negative integer`)},
		{name: "restart task negative", method: "POST", path: "/connectors/" + sinkOut + "/tasks/-1/restart", wantCode: 400,
			wantBody: errBody(400, `Task index "-1" is not a non-negative integer`)},
		{name: "restart task out of range", method: "POST", path: "/connectors/" + sinkOut + "/tasks/2/restart", wantCode: 404,
			wantBody: errBody(404, "Task 2 of pipeline sink.file.orders_out not found: it has 2 tasks")},

		{name: "offsets", method: "GET", path: "/connectors/" + sinkOut + "/offsets", wantCode: 200,
			wantBody: `{"offsets":[{"partition":{"kafka_topic":"orders","kafka_partition":0},"offset":{"kafka_offset":42}}]}`},
		{name: "offsets none", method: "GET", path: "/connectors/" + srcOrders + "/offsets", wantCode: 200,
			wantBody: `{"offsets":[]}`},
		{name: "alter offsets", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets",
			body:     `{"offsets":[{"partition":{"kafka_topic":"orders","kafka_partition":0},"offset":{"kafka_offset":9007199254740993}}]}`,
			wantCode: 200, wantBody: `{"message":"The offsets for this pipeline have been altered successfully"}`,
			wantCalls: []string{`AlterOffsets sink.file.orders_out {"offsets":[{"partition":{"kafka_partition":0,"kafka_topic":"orders"},"offset":{"kafka_offset":9007199254740993}}]} json.Number`}},
		{name: "alter offsets on a running pipeline", method: "PATCH", path: "/connectors/" + srcOrders + "/offsets",
			body:     `{"offsets":[{"partition":{"filename":"in.jsonl"},"offset":{"position":10}}]}`,
			wantCode: 409, wantBody: errBody(409, "pipeline source.file.orders is running: pause it before changing its offsets (pipectl pause source.file.orders)")},
		{name: "alter offsets bad JSON", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets", body: `{"offsets":[`,
			wantCode: 400, wantBody: errBody(400, "Request body is not valid JSON: unexpected EOF")},
		{name: "alter offsets trailing data", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets", body: `{"offsets":[]} {}`,
			wantCode: 400, wantBody: errBody(400, "Request body is not valid JSON: unexpected data after the JSON value")},
		{name: "alter offsets wrong shape", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets", body: `{"offsets":{}}`,
			wantCode: 400, wantBody: errBody(400, `Request body does not have the expected shape: "offsets" is a JSON object`)},
		{name: "alter offsets empty body", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets",
			wantCode: 400, wantBody: errBody(400, "Request body is empty: a JSON object is required")},
		{name: "alter offsets none given", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets", body: `{"offsets":[]}`,
			wantCode: 400, wantBody: errBody(400, `Partitions / offsets need to be provided for an alter offsets request: {"offsets": [{"partition": {...}, "offset": {...}}]}`)},
		{name: "alter offsets without partition", method: "PATCH", path: "/connectors/" + sinkOut + "/offsets", body: `{"offsets":[{"offset":null}]}`,
			wantCode: 400, wantBody: errBody(400, "Offset 0 has no partition")},
		{name: "reset offsets", method: "DELETE", path: "/connectors/" + sinkOut + "/offsets", wantCode: 200,
			wantBody:  `{"message":"The offsets for this pipeline have been reset successfully"}`,
			wantCalls: []string{"ResetOffsets sink.file.orders_out"}},
		{name: "reset offsets on a running pipeline", method: "DELETE", path: "/connectors/" + srcOrders + "/offsets", wantCode: 409,
			wantBody: errBody(409, "pipeline source.file.orders is running: pause it before changing its offsets (pipectl pause source.file.orders)")},

		{name: "plugins", method: "GET", path: "/connector-plugins", wantCode: 200,
			wantBody: `[{"class":"sink.file","type":"sink","version":"0.1.0"},{"class":"source.file","type":"source","version":"0.1.0"}]`},
		{name: "plugins with converters", method: "GET", path: "/connector-plugins?connectorsOnly=false", wantCode: 200,
			wantBody: `[{"class":"converter.json","type":"converter","version":"0.1.0"},{"class":"sink.file","type":"sink","version":"0.1.0"},
				{"class":"source.file","type":"source","version":"0.1.0"}]`},
		{name: "plugin config", method: "GET", path: "/connector-plugins/sink.file/config", wantCode: 200,
			wantBody: `[{"name":"path","type":"STRING","required":true,"default_value":null,"importance":"HIGH","documentation":"","group":"sink.file","order":1,"width":"NONE","display_name":"path","dependents":[]}]`},
		{name: "plugin config of an unknown plugin", method: "GET", path: "/connector-plugins/sink.nope/config", wantCode: 404,
			wantBody: errBody(404, "No plugin sink.nope")},
		{name: "validate", method: "PUT", path: "/connector-plugins/sink.file/config/validate", body: `{"connector.class":"sink.file"}`, wantCode: 200,
			wantBody: `{"name":"sink.file","error_count":1,"groups":["sink.file"],"configs":[{"definition":{"name":"path","type":"STRING","required":true,"default_value":null,"importance":"HIGH","documentation":"","group":"sink.file","order":1,"width":"NONE","display_name":"path","dependents":[]},
				"value":{"name":"path","value":null,"recommended_values":[],"errors":["The attribute \"path\" is required."],"visible":true}}]}`,
			wantCalls: []string{"ValidateConfig sink.file map[connector.class:sink.file]"}},
		{name: "validate another class", method: "PUT", path: "/connector-plugins/sink.file/config/validate", body: `{"connector.class":"source.file"}`, wantCode: 400,
			wantBody: errBody(400, "Included connector type source.file does not match request type sink.file")},
		{name: "validate a list", method: "PUT", path: "/connector-plugins/sink.file/config/validate", body: `[]`, wantCode: 400,
			wantBody: errBody(400, "Request body does not have the expected shape: the body is a JSON array")},
		{name: "healthz", method: "GET", path: "/healthz", wantCode: 200, wantBody: `{"status":"healthy","message":"Worker is ready to serve requests"}`},
		{name: "health (Connect's path)", method: "GET", path: "/health", wantCode: 200, wantBody: `{"status":"healthy","message":"Worker is ready to serve requests"}`},

		{name: "create refused", method: "POST", path: "/connectors", body: `{"name":"x","config":{}}`, wantCode: 405, wantAllow: "GET, HEAD",
			wantBody: errBody(405, msgApply)},
		{name: "update refused", method: "PUT", path: "/connectors/" + srcOrders + "/config", body: `{}`, wantCode: 405, wantAllow: "GET, HEAD",
			wantBody: errBody(405, msgApply)},
		{name: "delete refused", method: "DELETE", path: "/connectors/" + srcOrders, wantCode: 405, wantAllow: "GET, HEAD",
			wantBody: errBody(405, msgDestroy)},
		{name: "wrong method", method: "POST", path: "/connectors/" + srcOrders + "/status", wantCode: 405, wantAllow: "GET, HEAD",
			wantBody: errBody(405, "Method POST is not allowed on /connectors/source.file.orders/status")},
		{name: "wrong method on pause", method: "GET", path: "/connectors/" + srcOrders + "/pause", wantCode: 405, wantAllow: "PUT",
			wantBody: errBody(405, "Method GET is not allowed on /connectors/source.file.orders/pause")},
		{name: "wrong method on offsets", method: "PUT", path: "/connectors/" + srcOrders + "/offsets", wantCode: 405, wantAllow: "GET, PATCH, DELETE, HEAD",
			wantBody: errBody(405, "Method PUT is not allowed on /connectors/source.file.orders/offsets")},
		{name: "unknown route", method: "GET", path: "/nope", wantCode: 404, wantBody: errBody(404, "No route for GET /nope")},
		{name: "unknown sub-route", method: "PUT", path: "/connectors/" + srcOrders + "/frobnicate", wantCode: 404,
			wantBody: errBody(404, "No route for PUT /connectors/source.file.orders/frobnicate")},
		{name: "metrics without Metrics", method: "GET", path: "/metrics", wantCode: 404, wantBody: errBody(404, "No route for GET /metrics")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			h := NewHandler(f, nil, Options{Version: "1.2.3", Commit: "abc123", Logger: discard(), Plugins: fakePlugins{f}})
			rec := do(h, tt.method, tt.path, tt.body, "")
			check(t, rec, tt.wantCode, tt.wantBody)
			if tt.wantAllow != "" {
				if got := rec.Header().Get("Allow"); got != tt.wantAllow {
					t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
				}
			}
			if d := cmp.Diff(tt.wantCalls, f.calls); d != "" {
				t.Errorf("fleet calls (-want +got):\n%s", d)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func do(h http.Handler, method, path, body, token string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// check compares the status code and the body, as JSON values so that
// layout and key order do not matter.
func check(t *testing.T, rec *httptest.ResponseRecorder, wantCode int, wantBody string) {
	t.Helper()
	if rec.Code != wantCode {
		t.Errorf("status = %d, want %d (body %s)", rec.Code, wantCode, rec.Body)
	}
	if wantBody == "" {
		if rec.Body.Len() != 0 {
			t.Errorf("body = %s, want none", rec.Body)
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var want, got any
	if err := json.Unmarshal([]byte(wantBody), &want); err != nil {
		t.Fatalf("bad wantBody %s: %v", wantBody, err)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, rec.Body)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
}

func TestFleetErrorKinds(t *testing.T) {
	tests := []struct {
		err      error
		wantCode int
	}{
		{Errorf(ErrUnavailable, "worker is still reading the configs topic"), 503},
		{Errorf(ErrNotFound, "worker is still reading the configs topic"), 404},
		{Errorf(ErrBadRequest, "worker is still reading the configs topic"), 400},
		{Errorf(ErrConflict, "worker is still reading the configs topic"), 409},
		{fmt.Errorf("wrapped: %w", Errorf(ErrUnavailable, "worker is still reading the configs topic")), 503},
		{errors.New("worker is still reading the configs topic"), 500},
	}
	for _, tt := range tests {
		f := newFake()
		f.clusterErr = tt.err
		rec := do(NewHandler(f, nil, Options{Logger: discard()}), "GET", "/", "", "")
		check(t, rec, tt.wantCode, errBody(tt.wantCode, tt.err.Error()))
	}
}

func TestErrorfWrapsKindAndCause(t *testing.T) {
	cause := errors.New("broker gone")
	err := Errorf(ErrUnavailable, "reading state: %w", cause)
	if err.Error() != "reading state: broker gone" {
		t.Errorf("Error() = %q", err.Error())
	}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, cause) || errors.Is(err, ErrConflict) {
		t.Errorf("Errorf(ErrUnavailable, ...%%w) must be ErrUnavailable and its cause, and nothing else")
	}
}

func TestUnhealthy(t *testing.T) {
	f := newFake()
	f.healthErr = errors.New("not a member of group shop.workers yet")
	rec := do(NewHandler(f, nil, Options{}), "GET", "/healthz", "", "")
	check(t, rec, 503, `{"status":"unhealthy","message":"not a member of group shop.workers yet"}`)
}

func TestPanicBecomes500(t *testing.T) {
	f := newFake()
	f.panicOn = srcOrders
	var logged strings.Builder
	h := NewHandler(f, nil, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	rec := do(h, "GET", "/connectors/"+srcOrders+"/status", "", "")
	check(t, rec, 500, errBody(500, "Internal server error: the worker's log has the details"))
	if strings.Contains(rec.Body.String(), "fake: lookup") {
		t.Errorf("the panic value reached the client: %s", rec.Body)
	}
	if !strings.Contains(logged.String(), "fake: lookup of source.file.orders") {
		t.Errorf("the panic was not logged: %s", logged.String())
	}
	// The handler still serves after a panic.
	check(t, do(h, "GET", "/connectors/"+sinkOut, "", ""), 200, infoSink)
}

// TestPanicAfterWriteAborts checks that a panic after the response started
// cuts the connection rather than appending an error to a partial body.
func TestPanicAfterWriteAborts(t *testing.T) {
	h := recoverPanics(discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"partial":`))
		w.(http.Flusher).Flush()
		panic("late")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	srv.Config.ErrorLog = nil
	resp, err := http.Get(srv.URL)
	if err != nil {
		return // the connection was cut before the headers: also an abort
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Errorf("read a complete body %q after a late panic, want the connection cut", body)
	}
}

func TestMetricsRoute(t *testing.T) {
	m, err := metrics.New(metrics.Options{WorkerID: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())
	m.Task(mirrorEU, 0).AddIn(7)
	m.Task(mirrorEU, 0).AddOut(5)
	h := NewHandler(newFake(), m, Options{Logger: discard()})
	rec := do(h, "GET", "/metrics", "", "")
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	for _, want := range []string{
		`pipectl_records_in_total{pipeline="source.kafka.mirror[\"eu\"]",task="0"} 7`,
		`pipectl_records_out_total{pipeline="source.kafka.mirror[\"eu\"]",task="0"} 5`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, rec.Body)
		}
	}
}

// TestSchemaRegistryMount checks that the registry's prefixes reach the
// registry handler and that Connect's routes do not.
func TestSchemaRegistryMount(t *testing.T) {
	reg := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		_, _ = io.WriteString(w, `{"path":"`+r.URL.Path+`"}`)
	})
	h := NewHandler(newFake(), nil, Options{Logger: discard(), SchemaRegistry: reg,
		SchemaRegistryPrefixes: []string{"/subjects", "/schemas", "/config", "/mode", "/compatibility"}})
	for _, path := range []string{"/subjects", "/subjects/a-value/versions/latest", "/schemas/ids/1", "/config", "/config/a", "/mode", "/compatibility/subjects/a/versions"} {
		rec := do(h, "GET", path, "", "")
		if want := `{"path":"` + path + `"}`; rec.Code != 200 || rec.Body.String() != want {
			t.Errorf("GET %s: %d %s, want 200 %s", path, rec.Code, rec.Body, want)
		}
	}
	rec := do(h, "GET", "/connectors/"+srcOrders, "", "")
	check(t, rec, 200, infoSrc)
}
