package control_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// addresses are pipeline addresses as lang writes them, for_each keys
// with dots and quotes included.
var addresses = []string{
	"sink.file.out",
	"source.generator.orders",
	`source.kafka.mirror["a.b"]`,
	`sink.file.by_day["2026.12.01"]`,
	`sink.s3.lake["x.3"]`,
	`source.http.poll["say \"hi\". 7"]`,
	`sink.kafka.copy["."]`,
}

func TestNames(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{control.ConfigsTopic("shop"), "shop.configs"},
		{control.OffsetsTopic("shop"), "shop.offsets"},
		{control.StatusTopic("shop"), "shop.status"},
		{control.WorkersGroup("shop"), "shop.workers"},
		{control.ApplyTransactionalID("shop"), "shop.apply"},
		{control.SinkGroup("shop", "sink.file.out"), "shop.sink.file.out"},
		{control.SinkGroup("shop.eu", `sink.kafka.mirror["a.b"]`), `shop.eu.sink.kafka.mirror["a.b"]`},
		{control.TaskID("shop", "sink.file.out", 0), "shop.sink.file.out.0"},
		{control.TaskID("shop", `source.kafka.mirror["a.b"]`, 12), `shop.source.kafka.mirror["a.b"].12`},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestControlNames checks that a Control names its fleet's topics and
// groups as the functions do.
func TestControlNames(t *testing.T) {
	c, err := control.New("shop.eu", kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range []struct{ got, want string }{
		{c.ConfigsTopic(), "shop.eu.configs"},
		{c.OffsetsTopic(), "shop.eu.offsets"},
		{c.StatusTopic(), "shop.eu.status"},
		{c.SinkGroup(`sink.s3.lake["x.3"]`), `shop.eu.sink.s3.lake["x.3"]`},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestInternalTopics(t *testing.T) {
	compact := map[string]string{"cleanup.policy": "compact"}
	want := []kafka.Topic{
		{Name: "prod.configs", Partitions: 1, ReplicationFactor: -1, Configs: compact},
		{Name: "prod.offsets", Partitions: 25, ReplicationFactor: -1, Configs: compact},
		{Name: "prod.status", Partitions: 5, ReplicationFactor: -1, Configs: compact},
		{Name: "prod.schemas", Partitions: 1, ReplicationFactor: -1, Configs: compact},
	}
	got := control.InternalTopics("prod")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Every internal topic is recognised as one, under the role its
	// name ends with.
	for _, topic := range got {
		role, ok := control.InternalTopic("prod", topic.Name)
		if !ok || "prod."+role != topic.Name {
			t.Errorf("InternalTopic(prod, %q) = %q, %v", topic.Name, role, ok)
		}
	}
}

func TestInternalTopic(t *testing.T) {
	for _, tt := range []struct {
		fleet, topic, role string
	}{
		{"shop", "shop.configs", "configs"},
		{"shop", "shop.offsets", "offsets"},
		{"shop", "shop.status", "status"},
		{"shop", "shop.schemas", "schemas"},
		{"shop.eu", "shop.eu.status", "status"},
		{"shop", "shop.orders", ""},
		{"shop", "shop.workers", ""}, // a group, not a topic
		{"shop", "shop.configsx", ""},
		{"shop", "shopconfigs", ""},
		{"shop", "other.configs", ""},
		{"shop", "shop.eu.configs", ""}, // fleet shop.eu's
		{"shop", "configs", ""},
	} {
		role, ok := control.InternalTopic(tt.fleet, tt.topic)
		if role != tt.role || ok != (tt.role != "") {
			t.Errorf("InternalTopic(%q, %q) = %q, %v; want %q", tt.fleet, tt.topic, role, ok, tt.role)
		}
	}
}

func TestTaskIDRoundTrip(t *testing.T) {
	for _, fleet := range []string{"shop", "shop.eu", "a-b_c"} {
		for _, address := range addresses {
			for _, task := range []int{0, 1, 10, 123} {
				id := control.TaskID(fleet, address, task)
				if !strings.HasPrefix(id, control.SinkGroup(fleet, address)+".") {
					t.Errorf("TaskID(%q, %q, %d) = %q, not inside the sink group's name", fleet, address, task, id)
				}
				a, n, ok := control.ParseTaskID(fleet, id)
				if !ok || a != address || n != task {
					t.Errorf("ParseTaskID(%q, %q) = %q, %d, %v; want %q, %d", fleet, id, a, n, ok, address, task)
				}
			}
		}
	}
}

func TestParseTaskIDRefuses(t *testing.T) {
	for _, id := range []string{
		"",
		"shop",
		"shop.",
		"shop.sink.file.out",    // a group, no task
		"shop.sink.file.out.",   // an empty task
		"shop.sink.file.out.-1", // a negative task
		"shop.sink.file.out.+1", // a sign TaskID never writes
		"shop.sink.file.out.01", // a leading zero TaskID never writes
		"shop.sink.file.out.1a", // not a number
		"shop.sink.file.out.1 ", // trailing space
		"other.sink.file.out.0", // another fleet's
		"shopx.sink.file.out.0", // another fleet's, sharing a prefix
		"shop.topic.orders.0",   // not a pipeline
		"shop.sink.0",           // no type or name
		"shop.workers.0",        // not a pipeline
		"shop.sink.file.out.99999999999999999999999", // out of range
	} {
		if a, n, ok := control.ParseTaskID("shop", id); ok {
			t.Errorf("ParseTaskID(shop, %q) = %q, %d, true; want it refused", id, a, n)
		}
	}
}

func FuzzTaskIDRoundTrip(f *testing.F) {
	f.Add("shop", "a.b", 3)
	f.Add("shop.eu", `say "hi".7`, 0)
	f.Fuzz(func(t *testing.T, fleet, key string, task int) {
		if task < 0 {
			task = -(task + 1)
		}
		address := "source.kafka.mirror[" + strconv.Quote(key) + "]"
		a, n, ok := control.ParseTaskID(fleet, control.TaskID(fleet, address, task))
		if !ok || a != address || n != task {
			t.Errorf("ParseTaskID(TaskID(%q, %q, %d)) = %q, %d, %v", fleet, address, task, a, n, ok)
		}
	})
}

// storedPipelines are pipeline resources as state records held them before
// PipelineSpec.Kind was typed, with the hashes that pipectl computed then.
var storedPipelines = []struct {
	json, hash string
	kind       configschema.Kind
}{{
	json: `{"address":"sink.file.out","kind":"pipeline","pipeline":{"kind":"sink","type":"file","tasks":2,"config":{"path":"/data/out.jsonl"},` +
		`"key_converter":{"type":"string"},"value_converter":{"type":"json"},"errors":{"tolerance":"none","retry_timeout":"1m0s","retry_backoff_max":"10s"},"topics":["shop.orders"]}}`,
	hash: "cc4b54c264ec87848b542067f8b3fb905c4ff9b70bf08c4973a4719f423753b7",
	kind: configschema.Sink,
}, {
	json: `{"address":"source.kafka.mirror[\"a.b\"]","kind":"pipeline","pipeline":{"kind":"source","type":"kafka","tasks":1,"delivery":"exactly_once","config":{"topics":["a.b"]},` +
		`"key_converter":{"type":"bytes"},"value_converter":{"type":"bytes"},"errors":{"tolerance":"all","dead_letter_topic":"dlq","retry_timeout":"1m0s","retry_backoff_max":"10s"}}}`,
	hash: "8f8ceb89fdcf797bb5f1891a2baa3f43171ac085422b6ad0046e9e09b360b190",
	kind: configschema.Source,
}}

// TestStoredPipelineKind checks that state written before
// PipelineSpec.Kind was a configschema.Kind reads as the typed kind, keeps
// its hash, and is written back byte for byte.
func TestStoredPipelineKind(t *testing.T) {
	for _, s := range storedPipelines {
		var r control.Resource
		if err := json.Unmarshal([]byte(s.json), &r); err != nil {
			t.Fatal(err)
		}
		if r.Pipeline == nil || r.Pipeline.Kind != s.kind {
			t.Fatalf("%s: read kind %+v, want %q", r.Address, r.Pipeline, s.kind)
		}
		if got := r.Hash(); got != s.hash {
			t.Errorf("%s: Hash() = %s, want the stored %s", r.Address, got, s.hash)
		}
		b, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != s.json {
			t.Errorf("%s: written back as\n%s\nwant\n%s", r.Address, b, s.json)
		}
	}
}

// TestBuiltPipelineKind checks that a resource built with the typed kind
// hashes as the same resource did with the string kind.
func TestBuiltPipelineKind(t *testing.T) {
	r := &control.Resource{Address: "sink.file.out", Kind: control.KindPipeline, Pipeline: &control.PipelineSpec{
		Kind: configschema.Sink, Type: "file", Tasks: 2, Config: map[string]any{"path": "/data/out.jsonl"},
		KeyConverter: control.ConverterSpec{Type: "string"}, ValueConverter: control.ConverterSpec{Type: "json"},
		Errors: control.ErrorsSpec{Tolerance: "none", RetryTimeout: "1m0s", RetryBackoffMax: "10s"}, Topics: []string{"shop.orders"}}}
	if got, want := r.Hash(), storedPipelines[0].hash; got != want {
		t.Errorf("Hash() = %s, want %s", got, want)
	}
}
