package worker_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// connectClientJS returns node and the node_modules directory that has
// npm's kafka-connect-client, a Kafka Connect REST client pipectl did not
// write (.ci/run installs it beside kafkajs, in PIPECTL_KAFKAJS_DIR).
func connectClientJS(t *testing.T) (node, modules string) {
	t.Helper()
	node, modules = kafkajsDir(t)
	if _, err := os.Stat(filepath.Join(modules, "kafka-connect-client")); err != nil {
		t.Skipf("kafka-connect-client is not installed in %s (npm install kafka-connect-client@2; .ci/run does this)", modules)
	}
	return node, modules
}

// jsConnect drives a pipectl worker with kafka-connect-client and prints
// what it saw as one JSON object. Every call goes through the client's
// own methods; a call that throws is recorded under "errors" with the
// HTTP status and message, so that the test says which route failed.
const jsConnect = `
const { KafkaConnectClient } = require('kafka-connect-client');
const [host, port, sink, source] = process.argv.slice(1);
const kc = new KafkaConnectClient({ protocol: 'http', host, port: Number(port) });
const out = { errors: {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function step(name, fn) {
  try { out[name] = await fn(); } catch (e) {
    out.errors[name] = e.response ? [e.response.status, (e.response.data && e.response.data.message) || String(e.response.data)] : [0, String(e)];
  }
}
async function waitState(name, want, tasks) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const st = (await kc.connector(name).getStatus()).data;
    if (st.connector.state === want && (tasks === undefined || st.tasks.length === tasks) && st.tasks.every((t) => t.state === want)) return st;
    if (Date.now() > deadline) throw new Error(name + ' did not reach ' + want + ': ' + JSON.stringify(st));
    await sleep(200);
  }
}
(async () => {
  const c = kc.connector(sink);
  await step('cluster', async () => (await kc.getCluster()).data.kafka_cluster_id !== undefined);
  await step('list', async () => (await kc.getConnectors()).data.sort());
  await step('expanded', async () => {
    const m = (await kc.getConnectors({ expand: ['status'] })).data;
    return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.status.connector.state]));
  });
  await step('connector', async () => { const d = (await c.get()).data; return [d.name, d.type]; });
  await step('config', async () => (await c.getConfig()).data);
  await step('tasks', async () => (await c.getTasks()).data.length);
  await step('task_status', async () => (await c.getTaskStatus(0)).data.state);
  await step('plugins', async () => (await kc.getConnectorPlugins()).data.length > 0);

  await step('pause', async () => (await c.pause()).status);
  await step('paused', async () => (await waitState(sink, 'PAUSED')).tasks[0].state);
  await step('resume', async () => (await c.resume()).status);
  await step('resumed', async () => (await waitState(sink, 'RUNNING')).connector.state);
  await step('restart', async () => (await c.restart()).status);
  await waitState(sink, 'RUNNING');
  await step('restart_task', async () => (await c.restartTask(0)).status);
  await waitState(sink, 'RUNNING');

  await step('stop', async () => (await c.stop()).status);
  await step('stopped_tasks', async () => (await waitState(sink, 'STOPPED', 0)).tasks.length);
  await step('offsets_before', async () => (await c.getOffsets()).data.offsets.map((o) => o.offset.kafka_offset));
  await step('alter', async () => (await c.alterOffsets([{ partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 5 } }])).status);
  await step('offsets_altered', async () => (await c.getOffsets()).data.offsets.map((o) => o.offset.kafka_offset));
  await step('reset', async () => (await c.resetOffsets()).status);
  await step('offsets_reset', async () => (await c.getOffsets()).data.offsets.length);
  await step('resume_after_stop', async () => (await c.resume()).status);
  await step('resumed_after_stop', async () => (await waitState(sink, 'RUNNING', 1)).connector.state);

  const s = kc.connector(source);
  // The client's getTopics unwraps {NAME: {topics}} in a
  // transformResponse that replaces axios's JSON parsing, so it reads a
  // string and throws, against Kafka Connect too: the route is read
  // through the client's own axios instance instead.
  await step('topics_raw', async () => (await s.axios.get('topics')).data);
  await step('topics_reset', async () => (await s.resetTopics()).status);

  await step('validate', async () => {
    const v = (await kc.validateConnectorConfig('sink.file', { 'connector.class': 'sink.file', topics: 't', path: 'x.jsonl', 'tasks.max': '2' })).data;
    return [v.name, v.error_count];
  });
  await step('validate_bad', async () => {
    const v = (await kc.validateConnectorConfig('sink.file', { topics: 't', format: 'xml' })).data;
    return v.configs.filter((x) => x.value.errors.length > 0).map((x) => x.value.name).sort();
  });
  await step('create', async () => (await kc.createConnector('x', { 'connector.class': 'sink.file' })).status);
  await step('delete', async () => (await c.delete()).status);
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestKafkaConnectClientJS drives a worker on kfake with npm's
// kafka-connect-client, written for Kafka Connect: list, status, pause,
// resume, restart, stop, offsets, topics and validation work as Connect's,
// and a create or delete is refused with a message that says to apply
// instead.
func TestKafkaConnectClientJS(t *testing.T) {
	node, modules := connectClientJS(t)
	f := newFixture(t, "connectjs")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  count = 50
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
`)
	base, _ := f.startWorker()
	eventually(t, 60*time.Second, "the sink runs and has written", func() (bool, string) {
		n := len(readLines(filepath.Join(f.dir, "out.jsonl")))
		return n == 50 && pipelineState(t, base, "sink.file.out") == "RUNNING", pipelineState(t, base, "sink.file.out")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", jsConnect, u.Hostname(), u.Port(), "sink.file.out", "source.generator.g")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("kafka-connect-client: %v\n%s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("kafka-connect-client printed %s: %v", raw, err)
	}
	errs, _ := got["errors"].(map[string]any)
	refused := func(step string) bool {
		e, ok := errs[step].([]any)
		return ok && len(e) == 2 && e[0] == 405.0 && strings.Contains(fmt.Sprint(e[1]), "pipectl apply")
	}
	for step := range errs {
		if step != "create" && step != "delete" {
			t.Errorf("%s failed: %v", step, errs[step])
		}
	}
	config, _ := got["config"].(map[string]any)
	checks := []struct {
		what      string
		got, want any
	}{
		{"cluster id given", got["cluster"], true},
		{"list", got["list"], []any{"sink.file.out", "source.generator.g"}},
		{"expand=status", got["expanded"], map[string]any{"sink.file.out": "RUNNING", "source.generator.g": "RUNNING"}},
		{"connector", got["connector"], []any{"sink.file.out", "sink"}},
		{"config topics", config["topics"], "t"},
		{"config class", config["connector.class"], "sink.file"},
		{"tasks", got["tasks"], 1.0},
		{"task status", got["task_status"], "RUNNING"},
		{"plugins listed", got["plugins"], true},
		{"pause", got["pause"], 202.0},
		{"paused task", got["paused"], "PAUSED"},
		{"resume", got["resume"], 202.0},
		{"resumed", got["resumed"], "RUNNING"},
		{"stop", got["stop"], 202.0},
		{"stopped tasks", got["stopped_tasks"], 0.0},
		{"offsets before", got["offsets_before"], []any{50.0}},
		{"offsets altered", got["offsets_altered"], []any{5.0}},
		{"offsets reset", got["offsets_reset"], 0.0},
		{"resumed after stop", got["resumed_after_stop"], "RUNNING"},
		{"topics", got["topics_raw"], map[string]any{"source.generator.g": map[string]any{"topics": []any{"t"}}}},
		{"topics reset", got["topics_reset"], 202.0},
		{"validate", got["validate"], []any{"sink.file", 0.0}},
		{"validate errors", got["validate_bad"], []any{"format", "path"}},
		{"create refused", refused("create"), true},
		{"delete refused", refused("delete"), true},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, diff)
		}
	}
	// After the reset the sink started over: every record is written
	// again.
	eventually(t, 60*time.Second, "the sink read its topic again from the start", func() (bool, string) {
		n := len(readLines(filepath.Join(f.dir, "out.jsonl")))
		return n == 100, fmt.Sprint(n)
	})
}
