package views

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

// The plans of the golden files are computed by the planner from
// configurations, so that they hold what real plans hold.

const goldenBase = `
fleet {
  name = "shop"
}
variable "password" {
  type      = string
  sensitive = true
  default   = "hunter2-old"
}
topic "orders" {
  name       = "shop.orders"
  partitions = 3
  config     = { "retention.ms" = "604800000" }
}
transform "big" {
  filter = "value.amount >= 10"
}
source "generator" "orders" {
  topic      = topic.orders.name
  rate       = 100
  value      = "{'amount': seq % 100}"
  transforms = [transform.big]
}
sink "kafka" "mirror" {
  topics         = [topic.orders.name]
  brokers        = ["backup:9092"]
  sasl_mechanism = "PLAIN"
  sasl_username  = "mirror"
  sasl_password  = var.password
  transforms     = [transform.big]
}
`

type goldenCase struct {
	name   string
	prior  string // "" for a fleet never applied
	config string
	live   func(*planner.Live)
	opts   func(*planner.Input)
}

var goldenCases = []goldenCase{{
	name:   "create",
	config: goldenBase,
}, {
	name:   "update",
	prior:  goldenBase,
	config: strings.NewReplacer("partitions = 3", "partitions = 6", ">= 10", ">= 20").Replace(goldenBase),
}, {
	name:   "replace",
	prior:  goldenBase,
	config: strings.NewReplacer(`"shop.orders"`, `"shop.orders.v2"`, "rate       = 100", "rate       = 100\n  seed       = 7").Replace(goldenBase),
}, {
	name:  "delete",
	prior: goldenBase,
	config: `
fleet {
  name = "shop"
}
`,
}, {
	name:   "drift",
	prior:  goldenBase,
	config: goldenBase,
	live: func(l *planner.Live) {
		l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}}
	},
}, {
	name:   "notes",
	prior:  goldenBase,
	config: goldenBase,
	live: func(l *planner.Live) {
		l.Status.Targets["source.generator.orders"] = control.Target{Paused: true, Time: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), By: "ops@host"}
		l.Status.Tasks["sink.kafka.mirror"] = map[int]control.TaskStatus{0: {State: control.Failed, WorkerID: "w1", Trace: "dial tcp backup:9092: no such host\n\tat connect"}}
	},
}, {
	name:   "noop",
	prior:  goldenBase,
	config: goldenBase,
}, {
	name:   "sensitive",
	prior:  goldenBase,
	config: strings.Replace(goldenBase, "hunter2-old", "hunter2-new", 1),
}, {
	name:   "moved_import",
	prior:  strings.NewReplacer(`topic "orders" {`, `topic "unused" {`, `"shop.orders"`, `"shop.unused"`, "topic.orders.name", `"shop.orders"`).Replace(goldenBase),
	config: strings.Replace(goldenBase, `"generator" "orders"`, `"generator" "orders_v2"`, 1) + "moved {\n  from = source.generator.orders\n  to   = source.generator.orders_v2\n}\nimport {\n  to = topic.orders\n  id = \"shop.orders\"\n}\n",
	live: func(l *planner.Live) {
		l.Topics["shop.orders"] = planner.LiveTopic{Partitions: 3, ReplicationFactor: 1, Config: map[string]string{"retention.ms": "604800000"}}
	},
}, {
	name:  "import_offsets",
	prior: goldenBase,
	config: goldenBase + `
sink "file" "archive" {
  topics = ["shop.orders"]
  path   = "/data/archive.jsonl"
}
import {
  to             = sink.file.archive
  consumer_group = "connect-archive"
}
source "file" "logs" {
  paths = ["/var/log/app.log"]
  topic = "shop.logs"
}
import {
  to                    = source.file.logs
  connect_offsets_topic = "connect-offsets"
  connector             = "logs"
}
import {
  to             = sink.kafka.mirror
  consumer_group = "connect-mirror"
}
`,
	live: func(l *planner.Live) {
		l.GroupOffsets = map[string][]plan.PartitionOffset{"connect-archive": {
			{Topic: "shop.orders", Partition: 0, Offset: 42}, {Topic: "shop.orders", Partition: 1, Offset: 17},
		}}
		l.ConnectOffsets = map[string][]control.SourceOffset{"connect-offsets\x00logs": {
			{Partition: map[string]any{"filename": "/var/log/app.log"}, Offset: map[string]any{"position": float64(2048)}},
		}}
	},
}}

func goldenKeys(t *testing.T) *control.Keys {
	k, err := control.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func goldenLoad(t *testing.T, dir, src string, reg *connector.Registry) *lang.Config {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.Load(dir, lang.Options{Plugins: reg, LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return cfg
}

// goldenPlan plans a case: state from the prior configuration (through
// JSON, as it is read back), live matching the state unless changed.
func goldenPlan(t *testing.T, c goldenCase) *plan.Plan {
	t.Helper()
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		t.Fatal(err)
	}
	keys := goldenKeys(t)
	dir := t.TempDir()
	st := &control.State{Serial: control.NoSerial, Resources: map[string]*control.Resource{}}
	live := &planner.Live{Topics: map[string]planner.LiveTopic{}, Intents: map[string]int64{},
		Status: &control.StatusView{Tasks: map[string]map[int]control.TaskStatus{}, Targets: map[string]control.Target{}}}
	if c.prior != "" {
		st.Serial = 12
		res, err := control.Resources(goldenLoad(t, dir, c.prior, reg), keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			b, _ := json.Marshal(r)
			var back control.Resource
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			st.Resources[r.Address] = &back
			if r.Kind == control.KindTopic {
				live.Topics[r.Topic.Name] = planner.LiveTopic{Partitions: r.Topic.Partitions, ReplicationFactor: 1, Config: r.Topic.Config}
			}
		}
	}
	if c.live != nil {
		c.live(live)
	}
	in := planner.Input{Config: goldenLoad(t, dir, c.config, reg), Plugins: reg, Keys: keys, State: st, Live: live}
	if c.opts != nil {
		c.opts(&in)
	}
	p, diags := planner.Plan(in)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p.ConfigHash = "sha256:0000" // the files' contents include the temporary directory
	return p
}

// TestPlanGolden renders every case in the human, JSON and Markdown forms
// and compares them with testdata/plan_CASE.{txt,json,md}. No form ever
// holds the sensitive value.
func TestPlanGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			p := goldenPlan(t, c)
			for _, f := range []struct {
				format PlanFormat
				ext    string
			}{{PlanHuman, "txt"}, {PlanJSON, "json"}, {PlanMarkdown, "md"}} {
				v, stdout, stderr := testView()
				NewPlan(f.format, v).Plan(p)
				if stderr.Len() > 0 {
					t.Errorf("%s: stderr: %s", f.ext, stderr)
				}
				if strings.Contains(stdout.String(), "hunter2") {
					t.Errorf("%s: the sensitive value is shown", f.ext)
				}
				golden(t, "plan_"+c.name+"."+f.ext, stdout.String())
			}
		})
	}
}

// TestPlanSummaryLine pins the last line of a plan, which scripts match.
func TestPlanSummaryLine(t *testing.T) {
	if got := summaryLine(plan.Summary{Add: 1, Change: 2, Replace: 3, Destroy: 4}); got != "Plan: 1 to add, 2 to change, 3 to replace, 4 to destroy." {
		t.Errorf("summary line = %q", got)
	}
	v, stdout, _ := testView()
	NewPlan(PlanHuman, v).Plan(&plan.Plan{Fleet: "shop"})
	if !strings.Contains(stdout.String(), "\nNo changes. Your fleet matches the configuration.\n") {
		t.Errorf("an empty plan reads:\n%s", stdout)
	}
}

func TestDiffMarkers(t *testing.T) {
	in := "  # x will be updated\n  ~ topic \"x\" {\n      ~ partitions = 1 -> 2\n      + config = 1\n      - old = 2 -> null\n        name = \"x\"\n    }\n-/+ source \"a\" \"b\" {\n"
	want := "  # x will be updated\n!   topic \"x\" {\n!       partitions = 1 -> 2\n+       config = 1\n-       old = 2 -> null\n        name = \"x\"\n    }\n!   source \"a\" \"b\" {\n"
	if got := diffMarkers(in); got != want {
		t.Errorf("diffMarkers:\n%s\nwant:\n%s", got, want)
	}
}
