package worker_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kafkajsDir returns a node_modules directory holding kafkajs: the one in
// PIPECTL_KAFKAJS_DIR (.ci/run installs it there with npm), else skip.
func kafkajsDir(t *testing.T) (node, modules string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	dir := os.Getenv("PIPECTL_KAFKAJS_DIR")
	if dir == "" {
		t.Skip("PIPECTL_KAFKAJS_DIR is not set (.ci/run installs kafkajs with npm and sets it)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs")); err != nil {
		t.Skipf("kafkajs is not installed in %s", dir)
	}
	return node, filepath.Join(dir, "node_modules")
}

const jsScript = `
const { Kafka, logLevel } = require('kafkajs');
const [broker, inTopic, outTopic, n] = process.argv.slice(1); // node -e: no script path
const kafka = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING, clientId: 'kafkajs-interop' });
(async () => {
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < Number(n); i++) messages.push({ key: String(i), value: JSON.stringify({ id: i, by: 'kafkajs' }) });
  await producer.send({ topic: inTopic, messages });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'kafkajs-interop' });
  await consumer.connect();
  await consumer.subscribe({ topic: outTopic, fromBeginning: true });
  const seen = new Set();
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 60000);
    consumer.run({ eachMessage: async ({ message }) => {
      seen.add(message.value.toString());
      if (seen.size >= Number(n)) { clearTimeout(timer); resolve(); }
    } });
  });
  await consumer.disconnect();
  console.log(seen.size);
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestKafkaJS checks interop with npm's kafkajs: it produces records that
// a pipectl kafka→kafka pipeline copies, and consumes the copies in a
// consumer group.
func TestKafkaJS(t *testing.T) {
	node, modules := kafkajsDir(t)
	f := newFixture(t, "js")
	f.apply(`
topic "in" {}
topic "out" {}
sink "kafka" "copy" {
  topics          = [topic.in.name]
  brokers         = [` + strconv.Quote(f.kcfg.Brokers[0]) + `]
  topic           = topic.out.name
  key_converter   = "bytes"
  value_converter = "bytes"
}
`)
	f.startWorker()
	cmd := exec.Command(node, "-e", jsScript, f.kcfg.Brokers[0], "in", "out", "150")
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the kafkajs script did not finish")
	}
	if err != nil {
		t.Fatalf("kafkajs: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "150" {
		t.Errorf("kafkajs consumed %s distinct copies, want 150", got)
	}
}
