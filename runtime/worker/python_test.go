package worker_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pythonKafka returns Debian's python3 when it has confluent_kafka
// (python3-confluent-kafka, which .ci/run installs).
func pythonKafka(t *testing.T) string {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import confluent_kafka").Run(); err != nil {
		t.Skip("python3-confluent-kafka is not installed (apt-get install python3-confluent-kafka; .ci/run installs it)")
	}
	return py
}

const pyProduce = `
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
for i in range(int(sys.argv[3])):
    p.produce(sys.argv[2], key=str(i), value='{"id": %d, "by": "python"}' % i)
p.flush(30)
`

const pyConsume = `
import sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "py", "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
c.subscribe([sys.argv[2]])
seen, want, idle = set(), int(sys.argv[3]), 0
while len(seen) < want and idle < 60:
    m = c.poll(1.0)
    if m is None:
        idle += 1
        continue
    if m.error():
        continue
    seen.add(m.value())
c.close()
print(len(seen))
`

// TestPythonConfluentKafka checks interop with librdkafka's Python client:
// it produces records that a pipectl file sink writes, and consumes what
// a pipectl generator (exactly once, so in transactions) produces.
func TestPythonConfluentKafka(t *testing.T) {
	py := pythonKafka(t)
	f := newFixture(t, "py")
	f.apply(`
topic "in" {}
topic "gen" {}
sink "file" "out" {
  topics = [topic.in.name]
  path   = "out.jsonl"
}
source "generator" "g" {
  topic    = topic.gen.name
  count    = 300
  value    = "{'id': seq}"
  delivery = "exactly_once"
}
`)
	if out, err := exec.Command(py, "-c", pyProduce, f.kcfg.Brokers[0], "in", "200").CombinedOutput(); err != nil {
		t.Fatalf("python producer: %v\n%s", err, out)
	}
	f.startWorker()
	out := filepath.Join(f.dir, "out.jsonl")
	eventually(t, 60*time.Second, "200 records written", func() (bool, string) {
		n := len(readLines(out))
		return n == 200, strconv.Itoa(n)
	})
	for _, line := range readLines(out) {
		if !strings.Contains(line, `"by": "python"`) {
			t.Fatalf("unexpected line %q", line)
		}
	}
	got, err := exec.Command(py, "-c", pyConsume, f.kcfg.Brokers[0], "gen", "300").Output()
	if err != nil {
		t.Fatalf("python consumer: %v", err)
	}
	if strings.TrimSpace(string(got)) != "300" {
		t.Errorf("the python consumer saw %s distinct records, want 300", strings.TrimSpace(string(got)))
	}
}
