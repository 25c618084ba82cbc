package worker_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// registryjsDir is kafkajsDir for the tests that also need npm's
// @kafkajs/confluent-schema-registry (.ci/run installs it beside kafkajs).
func registryjsDir(t *testing.T) (node, modules string) {
	node, modules = kafkajsDir(t)
	if _, err := os.Stat(filepath.Join(modules, "@kafkajs", "confluent-schema-registry")); err != nil {
		t.Skipf("@kafkajs/confluent-schema-registry is not installed in %s", modules)
	}
	return node, modules
}

const jsAvro = `{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": "string"},
  {"name": "amount", "type": "double"},
  {"name": "paid", "type": "boolean"},
  {"name": "email", "type": ["null", "string"], "default": null},
  {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "attrs", "type": {"type": "map", "values": "long"}}
]}`

const jsProto = `syntax = "proto3";
package shop;

message Order {
  int64 id = 1;
  string name = 2;
  double amount = 3;
  bool paid = 4;
  Status status = 5;
  repeated string tags = 6;
  map<string, int64> attrs = 7;
  Address addr = 8;
  enum Status { NEW = 0; PAID = 1; }
}
message Address { string city = 1; }
`

// The script registers both schemas in the registry, encodes n records of
// each with @kafkajs/confluent-schema-registry and produces them with
// kafkajs, then consumes what pipectl wrote and prints each record decoded
// by the same library, one JSON line per record.
const jsRegistryScript = `
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
const [broker, registryURL, avsc, proto, n] = process.argv.slice(1);
const kafka = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING, clientId: 'registry-interop' });
const registry = new SchemaRegistry({ host: registryURL });
(async () => {
  const avro = await registry.register({ type: SchemaType.AVRO, schema: avsc }, { subject: 'jsavro-value' });
  const pb = await registry.register({ type: SchemaType.PROTOBUF, schema: proto }, { subject: 'jsproto-value' });
  const producer = kafka.producer();
  await producer.connect();
  const am = [], pm = [];
  for (let i = 0; i < Number(n); i++) {
    const v = { id: i, name: 'order-' + i, amount: i + 0.5, paid: i % 2 === 1, status: i % 2 ? 'PAID' : 'NEW',
      tags: ['t' + i], attrs: { k: i } };
    am.push({ key: String(i), value: await registry.encode(avro.id, { ...v, email: i % 3 ? null : 'u' + i + '@x' }) });
    pm.push({ key: String(i), value: await registry.encode(pb.id, { ...v, status: i % 2, addr: { city: 'c' + i } }) });
  }
  await producer.send({ topic: 'jsavro', messages: am });
  await producer.send({ topic: 'jsproto', messages: pm });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'registry-interop' });
  await consumer.connect();
  await consumer.subscribe({ topics: ['jsavro_out', 'jsproto_out'], fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 60000);
    consumer.run({ eachMessage: async ({ topic, message }) => {
      try {
        const value = await registry.decode(message.value);
        console.log(JSON.stringify({ topic, key: message.key.toString(), value }));
      } catch (e) { console.log(JSON.stringify({ topic, error: String(e) })); }
      if (++seen >= 2 * Number(n)) { clearTimeout(timer); resolve(); }
    } });
  });
  await consumer.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestSchemaRegistryJS checks interop with npm's
// @kafkajs/confluent-schema-registry: pipectl decodes the Avro and
// Protobuf records it encoded (a kafka source that changes a field, and a
// file sink), and it decodes what pipectl encoded. The registry is
// franz-go's srfake.
func TestSchemaRegistryJS(t *testing.T) {
	node, modules := registryjsDir(t)
	reg := srfake.New()
	t.Cleanup(reg.Close)
	f := newFixture(t, "regjs")
	f.apply(`
topic "jsavro" {}
topic "jsavro_out" {}
topic "jsproto" {}
topic "jsproto_out" {}
converter "avro" {
  type = "avro"
  registry {
    url = ` + strconv.Quote(reg.URL()) + `
  }
}
converter "proto" {
  type    = "protobuf"
  schema  = ` + strconv.Quote(jsProto) + `
  message = "shop.Order"
  registry {
    url = ` + strconv.Quote(reg.URL()) + `
  }
}
transform "shout" {
  set = { "value.name" = "value.name + '!'" }
}
source "kafka" "avro" {
  topics          = [topic.jsavro.name]
  topic           = topic.jsavro_out.name
  value_converter = converter.avro
  transforms      = [transform.shout]
}
source "kafka" "proto" {
  topics          = [topic.jsproto.name]
  topic           = topic.jsproto_out.name
  value_converter = converter.proto
  transforms      = [transform.shout]
}
sink "file" "avro" {
  topics          = [topic.jsavro.name]
  path            = "avro.jsonl"
  value_converter = converter.avro
}
`)
	f.startWorker()
	const n = 25
	cmd := exec.Command(node, "-e", jsRegistryScript, f.kcfg.Brokers[0], reg.URL(), jsAvro, jsProto, strconv.Itoa(n))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	done := make(chan struct{})
	var out []byte
	var err error
	var stderr strings.Builder
	cmd.Stderr = &stderr
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the script did not finish")
	}
	if err != nil {
		t.Fatalf("script: %v\n%s\n%s", err, out, stderr.String())
	}
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Topic, Key, Error string
			Value             map[string]any
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if r.Error != "" {
			t.Errorf("%s: the library cannot decode what pipectl wrote: %s", r.Topic, r.Error)
			continue
		}
		i, _ := strconv.Atoi(r.Key)
		if r.Topic == "jsproto_out" {
			// protobufjs leaves proto3 fields at their default out.
			for k, zero := range map[string]any{"id": "0", "status": "NEW"} {
				if _, ok := r.Value[k]; !ok {
					r.Value[k] = zero
				}
			}
		}
		if r.Value["name"] != "order-"+r.Key+"!" {
			t.Errorf("%s %s: name %v", r.Topic, r.Key, r.Value["name"])
		}
		if fmtNum(r.Value["id"]) != r.Key || fmtNum(r.Value["amount"]) != strconv.FormatFloat(float64(i)+0.5, 'f', -1, 64) {
			t.Errorf("%s %s: id %v amount %v", r.Topic, r.Key, r.Value["id"], r.Value["amount"])
		}
		if want := []string{"NEW", "PAID"}[i%2]; r.Value["status"] != want {
			t.Errorf("%s %s: status %v, want %s", r.Topic, r.Key, r.Value["status"], want)
		}
		if r.Topic == "jsproto_out" {
			if addr, _ := r.Value["addr"].(map[string]any); addr["city"] != "c"+r.Key {
				t.Errorf("jsproto_out %s: addr %v", r.Key, r.Value["addr"])
			}
		}
		got[r.Topic] = append(got[r.Topic], r.Key)
	}
	for _, topic := range []string{"jsavro_out", "jsproto_out"} {
		if len(got[topic]) != n {
			sort.Strings(got[topic])
			t.Errorf("%s: %d records decoded (%v), want %d", topic, len(got[topic]), got[topic], n)
		}
	}
	// The file sink decoded the library's Avro.
	eventually(t, 30*time.Second, "the file sink", func() (bool, string) {
		lines := readLines(filepath.Join(f.dir, "avro.jsonl"))
		return len(lines) == n, strconv.Itoa(len(lines)) + " lines"
	})
	for _, l := range readLines(filepath.Join(f.dir, "avro.jsonl")) {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil || !strings.HasPrefix(v["name"].(string), "order-") {
			t.Errorf("file sink line %s (%v)", l, err)
		}
	}
}

// fmtNum prints a JSON number or a protobufjs int64 (a string) alike.
func fmtNum(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	return ""
}
