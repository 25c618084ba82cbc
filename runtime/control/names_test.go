package control_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

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
