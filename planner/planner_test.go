package planner_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

func registry(t testing.TB) *connector.Registry {
	t.Helper()
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// load loads a configuration given as the text of main.hcl, in dir
// (paths in the configuration resolve against it), or a new directory when
// dir is "".
func load(t testing.TB, dir, src string) *lang.Config {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: registry(t), LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return cfg
}

func testKeys(t testing.TB) *control.Keys {
	t.Helper()
	k, err := control.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stateOf is the state an apply of cfg would have left, as read back
// from the configs topic (through JSON, as ReadState gives it).
func stateOf(t testing.TB, cfg *lang.Config, keys *control.Keys) *control.State {
	t.Helper()
	st := &control.State{Serial: 7, Resources: map[string]*control.Resource{}}
	if cfg == nil {
		st.Serial = control.NoSerial
		return st
	}
	res, err := control.Resources(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back control.Resource
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		st.Resources[r.Address] = &back
	}
	return st
}

// liveOf is what Kafka says when it matches the state exactly.
func liveOf(st *control.State) *planner.Live {
	live := &planner.Live{Topics: map[string]planner.LiveTopic{}, Intents: map[string]int64{}, Status: &control.StatusView{Tasks: map[string]map[int]control.TaskStatus{}, Targets: map[string]control.Target{}}}
	for _, r := range st.Resources {
		if r.Kind == control.KindTopic {
			rf := r.Topic.ReplicationFactor
			if rf == -1 {
				rf = 1
			}
			cfg := map[string]string{}
			for k, v := range r.Topic.Config {
				cfg[k] = v
			}
			live.Topics[r.Topic.Name] = planner.LiveTopic{Partitions: r.Topic.Partitions, ReplicationFactor: rf, Config: cfg}
		}
	}
	return live
}

// summary renders a plan compactly: one line per change that is not a
// no-op, then drift and notes.
func summary(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if !c.Pending() {
			continue
		}
		line := c.Action.Symbol() + " " + c.Address
		if c.Moved() {
			line += " (from " + c.PrevAddress + ")"
		}
		if c.Importing() {
			line += " (import " + c.ImportID + ")"
		}
		var changed []string
		if c.Action == plan.Update || c.Action == plan.Replace {
			for _, a := range c.Attrs {
				if a.Changed() {
					mark := ""
					if a.ForcesReplacement {
						mark = "!"
					}
					changed = append(changed, a.Path+mark)
				}
			}
			line += " [" + strings.Join(changed, " ") + "]"
		}
		if c.Reason != "" {
			line += " " + string(c.Reason)
		}
		if c.Offsets != "" {
			line += " offsets=" + string(c.Offsets)
		}
		out = append(out, line)
	}
	for _, d := range p.Drift {
		var changed []string
		for _, a := range d.Attrs {
			if a.Changed() && d.Action == plan.Update {
				changed = append(changed, a.Path)
			}
		}
		out = append(out, fmt.Sprintf("drift %s %s [%s]", d.Action, d.Address, strings.Join(changed, " ")))
	}
	for _, n := range p.Notes {
		out = append(out, "note "+string(n.Kind)+" "+n.Address)
	}
	return out
}

const base = `
fleet {
  name = "shop"
}
topic "orders" {
  name       = "shop.orders"
  partitions = 3
  config     = { "retention.ms" = "1000" }
}
transform "big" {
  filter = "value.amount >= 10"
}
source "generator" "orders" {
  topic      = topic.orders.name
  value      = "{'amount': seq}"
  transforms = [transform.big]
}
sink "file" "out" {
  topics     = [topic.orders.name]
  path       = "out.jsonl"
  transforms = [transform.big]
}
`

// edit applies replacements to the base configuration.
func edit(src string, pairs ...string) string {
	return strings.NewReplacer(pairs...).Replace(src)
}

func TestPlan(t *testing.T) {
	type tc struct {
		name    string
		prior   string // configuration last applied ("" for none)
		config  string
		live    func(*planner.Live) // nil: live matches the state
		noLive  bool                // -refresh=false
		destroy bool
		replace []string
		targets []string
		want    []string
		wantErr string // a diagnostic summary
	}
	tests := []tc{{
		name:   "create everything, topics first",
		config: base,
		want: []string{
			"+ topic.orders",
			"+ sink.file.out",
			"+ source.generator.orders",
		},
	}, {
		name:   "no changes",
		prior:  base,
		config: base,
		want:   nil,
	}, {
		name:   "partitions grow and a config changes in place",
		prior:  base,
		config: edit(base, "partitions = 3", "partitions = 6", `"1000"`, `"2000"`),
		want:   []string{`~ topic.orders [partitions config["retention.ms"]]`},
	}, {
		name:    "partitions cannot shrink",
		prior:   base,
		config:  edit(base, "partitions = 3", "partitions = 2"),
		wantErr: "Cannot reduce partitions",
	}, {
		name:   "an edited transform updates every pipeline that uses it",
		prior:  base,
		config: edit(base, ">= 10", ">= 20"),
		want: []string{
			"~ sink.file.out [transform.big.filter] offsets=kept",
			"~ source.generator.orders [transform.big.filter] offsets=kept",
		},
	}, {
		name:   "a forces-replacement attribute replaces the pipeline and resets offsets",
		prior:  base,
		config: edit(base, "value      = \"{'amount': seq}\"", "value      = \"{'amount': seq}\"\n  seed = 42"),
		want:   []string{"-/+ source.generator.orders [seed!] replace_because_cannot_update offsets=reset"},
	}, {
		name:   "renaming a topic replaces it, and the pipelines follow",
		prior:  base,
		config: edit(base, `"shop.orders"`, `"shop.orders.v2"`),
		want: []string{
			"-/+ topic.orders [name!] replace_because_cannot_update",
			"~ sink.file.out [topics] offsets=kept",
			"~ source.generator.orders [topic] offsets=kept",
		},
	}, {
		name:  "removed resources are deleted, pipelines before topics",
		prior: base,
		config: `
fleet {
  name = "shop"
}
`,
		want: []string{
			"- sink.file.out delete_because_no_resource_config offsets=deleted",
			"- source.generator.orders delete_because_no_resource_config offsets=deleted",
			"- topic.orders delete_because_no_resource_config",
		},
	}, {
		name:    "destroy",
		prior:   base,
		config:  base,
		destroy: true,
		want: []string{
			"- sink.file.out offsets=deleted",
			"- source.generator.orders offsets=deleted",
			"- topic.orders",
		},
	}, {
		name:    "prevent_destroy refuses a destroy",
		prior:   base,
		config:  edit(base, `config     = { "retention.ms" = "1000" }`, `config     = { "retention.ms" = "1000" }`+"\n  lifecycle {\n    prevent_destroy = true\n  }"),
		destroy: true,
		wantErr: "Instance cannot be destroyed",
	}, {
		name:   "moved renames without replacing and moves offsets",
		prior:  base,
		config: edit(base, `"generator" "orders"`, `"generator" "orders_v2"`) + "moved {\n  from = source.generator.orders\n  to = source.generator.orders_v2\n}\n",
		want:   []string{"  source.generator.orders_v2 (from source.generator.orders) offsets=moved"},
	}, {
		name:   "moved and changed",
		prior:  base,
		config: edit(base, `"generator" "orders"`, `"generator" "orders_v2"`, ">= 10", ">= 5") + "moved {\n  from = source.generator.orders\n  to = source.generator.orders_v2\n}\n",
		want: []string{
			"~ sink.file.out [transform.big.filter] offsets=kept",
			"~ source.generator.orders_v2 (from source.generator.orders) [transform.big.filter] offsets=moved",
		},
	}, {
		name:   "an existing topic unknown to the state is an error",
		config: base,
		live: func(l *planner.Live) {
			l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 3, ReplicationFactor: 1}
		},
		wantErr: "Topic already exists",
	}, {
		name:   "import adopts an existing topic",
		config: base + "import {\n  to = topic.orders\n  id = \"shop.orders\"\n}\n",
		live: func(l *planner.Live) {
			l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "1000"}}
		},
		want: []string{
			"  topic.orders (import shop.orders)",
			"+ sink.file.out",
			"+ source.generator.orders",
		},
	}, {
		name:   "import with other settings updates the adopted topic",
		config: base + "import {\n  to = topic.orders\n  id = \"shop.orders\"\n}\n",
		live: func(l *planner.Live) {
			l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 1, ReplicationFactor: 1}
		},
		want: []string{
			`~ topic.orders (import shop.orders) [partitions config["retention.ms"]]`,
			"+ sink.file.out",
			"+ source.generator.orders",
		},
	}, {
		name:    "import of a missing topic",
		config:  base + "import {\n  to = topic.orders\n  id = \"shop.orders\"\n}\n",
		wantErr: "Cannot import non-existent topic",
	}, {
		name:    "import needs refresh",
		config:  base + "import {\n  to = topic.orders\n  id = \"shop.orders\"\n}\n",
		noLive:  true,
		wantErr: "Cannot import without refreshing",
	}, {
		name:   "an import block of a managed topic does nothing",
		prior:  base,
		config: base + "import {\n  to = topic.orders\n  id = \"shop.orders\"\n}\n",
		want:   nil,
	}, {
		name:   "drift is shown and undone",
		prior:  base,
		config: base,
		live: func(l *planner.Live) {
			l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "5", "cleanup.policy": "compact"}}
		},
		want: []string{
			`~ topic.orders [config["cleanup.policy"] config["retention.ms"]]`,
			`drift update topic.orders [config["cleanup.policy"] config["retention.ms"]]`,
		},
	}, {
		name:   "partitions added outside pipectl cannot be undone",
		prior:  base,
		config: base,
		live: func(l *planner.Live) {
			l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 8, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "1000"}}
		},
		wantErr: "Cannot reduce partitions",
	}, {
		name:   "a topic deleted outside pipectl is created again",
		prior:  base,
		config: base,
		live:   func(l *planner.Live) { delete(l.Topics, "shop.orders") },
		want: []string{
			"+ topic.orders",
			"drift delete topic.orders []",
		},
	}, {
		name:   "ignore_changes keeps the state's value",
		prior:  base,
		config: edit(base, "partitions = 3", "partitions = 6\n  lifecycle {\n    ignore_changes = [partitions, config[\"retention.ms\"]]\n  }", `"1000"`, `"2000"`),
		want:   nil,
	}, {
		name:    "-replace",
		prior:   base,
		config:  base,
		replace: []string{"sink.file.out"},
		want:    []string{"-/+ sink.file.out [] replace_by_request offsets=reset"},
	}, {
		name:    "-replace of an unknown address",
		prior:   base,
		config:  base,
		replace: []string{"sink.file.ou"},
		wantErr: "No such resource",
	}, {
		name:    "-target keeps the target and the topics it uses",
		config:  base,
		targets: []string{"source.generator.orders"},
		want: []string{
			"+ topic.orders",
			"+ source.generator.orders",
			"note targeting ",
		},
	}, {
		name:   "an operational pause and a failed task are notes, not changes",
		prior:  base,
		config: base,
		live: func(l *planner.Live) {
			l.Status.Targets["sink.file.out"] = control.Target{Paused: true, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), By: "ops"}
			l.Status.Tasks["source.generator.orders"] = map[int]control.TaskStatus{0: {State: control.Failed, WorkerID: "w1", Trace: "boom\nat line 2"}}
		},
		want: []string{"note paused sink.file.out", "note failed source.generator.orders"},
	}, {
		name:   "an operational stop is a note, not a change",
		prior:  base,
		config: base,
		live: func(l *planner.Live) {
			l.Status.Targets["sink.file.out"] = control.Target{Paused: true, Stopped: true, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), By: "ops"}
		},
		want: []string{"note stopped sink.file.out"},
	}, {
		name:  "state = \"stopped\" is an update in place",
		prior: base,
		config: edit(base, `path       = "out.jsonl"`, `path       = "out.jsonl"
  state      = "stopped"`),
		want: []string{"~ sink.file.out [state] offsets=kept"},
	}, {
		name:   "replication factor -1 to the live value changes only the state",
		prior:  base,
		config: edit(base, "partitions = 3", "partitions = 3\n  replication_factor = 1"),
		want:   []string{"~ topic.orders [replication_factor]"},
	}, {
		name:   "replication factor change replaces the topic",
		prior:  base,
		config: edit(base, "partitions = 3", "partitions = 3\n  replication_factor = 3"),
		want:   []string{"-/+ topic.orders [replication_factor!] replace_because_cannot_update"},
	}, {
		name:   "a topic an interrupted apply created is adopted",
		config: base,
		live: func(l *planner.Live) {
			l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "1000"}}
			l.Intents["shop.orders"] = control.NoSerial
		},
		want: []string{
			"  topic.orders (import shop.orders)",
			"+ sink.file.out",
			"+ source.generator.orders",
			"note adopted topic.orders",
		},
	}, {
		name:   "spec fields the planner does not name are diffed too",
		prior:  base,
		config: edit(base, "transforms = [transform.big]\n}\nsink", "transforms = [transform.big]\n  delivery   = \"exactly_once\"\n}\nsink"),
		want:   []string{"~ source.generator.orders [delivery] offsets=kept"},
	}, {
		name:   "-refresh=false",
		prior:  base,
		config: base,
		noLive: true,
		want:   []string{"note no_refresh "},
	}}
	keys := testKeys(t)
	reg := registry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var prior *lang.Config
			if tt.prior != "" {
				prior = load(t, dir, tt.prior)
			}
			st := stateOf(t, prior, keys)
			live := liveOf(st)
			if tt.live != nil {
				tt.live(live)
			}
			if tt.noLive {
				live = nil
			}
			p, diags := planner.Plan(planner.Input{
				Config: load(t, dir, tt.config), Plugins: reg, Keys: keys, State: st, Live: live,
				Destroy: tt.destroy, Replace: tt.replace, Targets: tt.targets,
			})
			if tt.wantErr != "" {
				if !hasSummary(diags, tt.wantErr) {
					t.Fatalf("diagnostics %v, want %q", diags, tt.wantErr)
				}
				if p != nil {
					t.Error("a plan with errors was returned")
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("plan: %s", diags.Error())
			}
			if diff := cmp.Diff(tt.want, summary(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if p.Serial != st.Serial || p.Fleet != "shop" || !strings.HasPrefix(p.ConfigHash, "sha256:") {
				t.Errorf("plan header: fleet %q serial %d hash %q", p.Fleet, p.Serial, p.ConfigHash)
			}
			if got, want := p.HasChanges(), len(tt.want) > 0 && !strings.HasPrefix(tt.want[0], "note") && !strings.HasPrefix(tt.want[0], "drift"); got != want {
				t.Errorf("HasChanges = %v, want %v", got, want)
			}
		})
	}
}

// TestPlanReservedTopics checks that a topic may not take the name of one
// of the fleet's internal topics, and that the error names which.
func TestPlanReservedTopics(t *testing.T) {
	keys, reg := testKeys(t), registry(t)
	for name, role := range map[string]string{"shop.configs": "configs", "shop.offsets": "offsets", "shop.status": "status", "shop.workers": "", "shop.apply": ""} {
		t.Run(name, func(t *testing.T) {
			cfg := load(t, "", edit(base, `"shop.orders"`, fmt.Sprintf("%q", name)))
			st := stateOf(t, nil, keys)
			_, diags := planner.Plan(planner.Input{Config: cfg, Plugins: reg, Keys: keys, State: st, Live: liveOf(st)})
			var got []string
			for _, d := range diags {
				if d.Summary == "Reserved topic name" {
					got = append(got, d.Detail)
				}
			}
			var want []string
			if role != "" {
				want = []string{fmt.Sprintf("topic.orders names the topic %q, which is the fleet's own %s topic. Choose another name.", name, role)}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Reserved topic name diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func hasSummary(diags hcl.Diagnostics, summary string) bool {
	for _, d := range diags {
		if d.Summary == summary {
			return true
		}
	}
	return false
}

// TestPlanSensitive checks that a sensitive value is compared by its
// digest and appears nowhere in the plan in clear.
func TestPlanSensitive(t *testing.T) {
	src := `
fleet {
  name = "shop"
}
variable "pw" {
  type      = string
  sensitive = true
}
topic "t" {}
sink "kafka" "out" {
  topics         = [topic.t.name]
  brokers        = ["other:9092"]
  sasl_mechanism = "PLAIN"
  sasl_username  = "u"
  sasl_password  = var.pw
}
`
	keys := testKeys(t)
	reg := registry(t)
	cfgOf := func(pw string) *lang.Config {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := lang.Load(dir, lang.Options{Plugins: reg, Vars: []lang.VarArg{{Raw: "pw=" + pw}}, LookupEnv: func(string) (string, bool) { return "", false }})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return cfg
	}
	st := stateOf(t, cfgOf("hunter2-old"), keys)
	same, diags := planner.Plan(planner.Input{Config: cfgOf("hunter2-old"), Plugins: reg, Keys: keys, State: st, Live: liveOf(st)})
	if diags.HasErrors() || same.HasChanges() {
		t.Fatalf("the same secret again: changes %v, %v", summary(same), diags)
	}
	p, diags := planner.Plan(planner.Input{Config: cfgOf("hunter2-new"), Plugins: reg, Keys: keys, State: st, Live: liveOf(st)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if diff := cmp.Diff([]string{"~ sink.kafka.out [sasl_password] offsets=kept"}, summary(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	for _, a := range p.Changes[len(p.Changes)-1].Attrs {
		if a.Path == "sasl_password" && (!a.Before.Sensitive || !a.After.Sensitive || a.After.V != nil) {
			t.Errorf("sasl_password is not shown as sensitive: %+v %+v", a.Before, a.After)
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") {
		t.Error("the plan holds a sensitive value in clear")
	}
	// Without a key the secret cannot be stored: a clear error, no value.
	_, diags = planner.Plan(planner.Input{Config: cfgOf("hunter2-new"), Plugins: reg, State: st})
	if !hasSummary(diags, "Cannot store a sensitive value") || strings.Contains(diags.Error(), "hunter2") || !strings.Contains(diags.Error(), control.StateKeyEnv) {
		t.Errorf("without a key: %v", diags)
	}
}

// TestPlanOrderIsDeterministic plans a configuration with many resources
// twice and expects the same order: topics, pipeline deletions, pipelines,
// topic deletions.
func TestPlanOrder(t *testing.T) {
	dir := t.TempDir()
	prior := load(t, dir, `
fleet {
  name = "shop"
}
topic "gone" {}
source "generator" "gone" {
  topic = "gone"
  value = "seq"
}
`)
	cfg := load(t, dir, base)
	keys := testKeys(t)
	st := stateOf(t, prior, keys)
	p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: registry(t), Keys: keys, State: st, Live: liveOf(st)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Action.Symbol()+" "+c.Address)
	}
	want := []string{"+ topic.orders", "- source.generator.gone", "+ sink.file.out", "+ source.generator.orders", "- topic.gone"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if !sort.SliceIsSorted(p.Drift, func(i, j int) bool { return p.Drift[i].Address < p.Drift[j].Address }) {
		t.Error("drift is not sorted")
	}
}

// TestPlanNewDefaults checks that a pipeline stored by an older pipectl,
// before its plugin gained attributes with defaults, plans as unchanged
// while the configuration leaves them at their defaults, and as an update
// of just that attribute when it sets another value.
func TestPlanNewDefaults(t *testing.T) {
	reg, keys := registry(t), testKeys(t)
	const src = `
fleet {
  name = "shop"
}

source "kafka" "dr" {
  brokers      = ["origin:9092"]
  topics       = ["orders"]
  topic_prefix = "backup."
}
`
	cfg := load(t, "", src)
	st := stateOf(t, cfg, keys)
	// As if every attribute with a default were new.
	old := st.Resources["source.kafka.dr"].Pipeline
	schema, _ := reg.Schema(configschema.Source, "kafka")
	dropped := 0
	for _, a := range schema.Attributes {
		if a.Default == nil {
			continue
		}
		v, ok := old.Config[a.Name]
		if !ok {
			t.Fatalf("the stored pipeline has no %s: %v", a.Name, old.Config)
		}
		stored, _ := json.Marshal(v)
		def, _ := json.Marshal(a.Default)
		if string(stored) != string(def) {
			continue // set to another value: not new
		}
		delete(old.Config, a.Name)
		dropped++
	}
	if dropped < 10 {
		t.Fatalf("only %d attributes with defaults dropped", dropped)
	}
	p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: reg, Keys: keys, State: st, Live: liveOf(st)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := summary(p); len(got) != 0 {
		t.Errorf("plan of a pipeline stored without the new defaults: %v; want no changes", got)
	}
	p, diags = planner.Plan(planner.Input{Config: load(t, "", edit(src, `topic_prefix = "backup."`, "topic_prefix = \"backup.\"\n  offset_lag_max = 10")),
		Plugins: reg, Keys: keys, State: st, Live: liveOf(st)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if diff := cmp.Diff([]string{"~ source.kafka.dr [offset_lag_max] offsets=kept"}, summary(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}
