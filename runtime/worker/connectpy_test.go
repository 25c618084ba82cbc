package worker_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// connectPy returns the python of a virtual environment that has PyPI's
// kafka-connect-py, a Kafka Connect REST client that pipectl did not
// write: PIPECTL_KAFKA_CONNECT_PY, else ~/.cache/pipectl-kafka-connect-py
// (.ci/run installs it there), else skip.
func connectPy(t *testing.T) string {
	t.Helper()
	venv := os.Getenv("PIPECTL_KAFKA_CONNECT_PY")
	if venv == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skip("no home directory to find kafka-connect-py in")
		}
		venv = filepath.Join(home, ".cache", "pipectl-kafka-connect-py")
	}
	py := filepath.Join(venv, "bin", "python")
	if out, err := exec.Command(py, "-c", "import kafka_connect, requests").CombinedOutput(); err != nil {
		t.Skipf("kafka-connect-py is not installed in %s (python3 -m venv %s && %s/bin/pip install kafka-connect-py; .ci/run does this): %v %s",
			venv, venv, venv, err, strings.TrimSpace(string(out)))
	}
	return py
}

// pyConnect drives a pipectl worker with kafka-connect-py's KafkaConnect
// client and prints what it saw as one JSON object. Where the client has
// no method for a route (stop and offsets came with KIP-875, after some
// of its versions), it says so in "fallbacks" and uses requests, the
// library the client itself uses.
const pyConnect = `
import json, sys, time, requests
from kafka_connect import KafkaConnect

url, sink, source = sys.argv[1], sys.argv[2], sys.argv[3]
kc = KafkaConnect(url=url)
out = {"fallbacks": []}

def call(names, fallback):
    for n in names:
        if hasattr(kc, n):
            return getattr(kc, n)
    out["fallbacks"].append(names[0])
    return fallback

def wait_state(name, want, tasks=None):
    deadline = time.time() + 60
    while True:
        st = kc.get_connector_status(name)
        if (st["connector"]["state"] == want and (tasks is None or len(st["tasks"]) == tasks)
                and all(t["state"] == want for t in st["tasks"])):
            return st
        if time.time() > deadline:
            raise SystemExit("%s did not reach %s: %s" % (name, want, st))
        time.sleep(0.2)

def http(method, path, body=None):
    r = requests.request(method, url + path, json=body)
    r.raise_for_status()
    return r.json() if r.content else None

out["info"] = kc.get_cluster_info()
out["list"] = sorted(kc.list_connectors())
out["expanded"] = {n: v["status"]["connector"]["state"] for n, v in kc.list_connectors(expand="status").items()}
out["connector"] = kc.get_connector(sink)
out["config"] = kc.get_connector_config(sink)
out["tasks"] = kc.list_connector_tasks(sink)
out["task_status"] = kc.get_connector_task_status(sink, 0)
out["plugins"] = sorted(p["class"] for p in kc.list_connector_plugins())

kc.pause_connector(sink)
out["paused"] = wait_state(sink, "PAUSED")["tasks"][0]["state"]
out["paused_list"] = sorted(kc.list_connectors(expand="status", state="paused"))
kc.resume_connector(sink)
out["resumed"] = wait_state(sink, "RUNNING")["connector"]["state"]

restarted = kc.restart_connector(sink, include_tasks=True, only_failed=False)
out["restart"] = [t["state"] for t in restarted["tasks"]]
wait_state(sink, "RUNNING")
kc.restart_connector_task(sink, 0)

stop = call(["stop_connector"], lambda n: http("PUT", "/connectors/%s/stop" % n))
stop(sink)
st = wait_state(sink, "STOPPED", tasks=0)
out["stopped_tasks"] = st["tasks"]

get_offsets = call(["get_connector_offsets", "list_connector_offsets"], lambda n: http("GET", "/connectors/%s/offsets" % n))
alter_offsets = call(["alter_connector_offsets", "update_connector_offsets"], lambda n, o: http("PATCH", "/connectors/%s/offsets" % n, o))
reset_offsets = call(["reset_connector_offsets", "delete_connector_offsets"], lambda n: http("DELETE", "/connectors/%s/offsets" % n))
out["offsets_before"] = get_offsets(sink)
alter_offsets(sink, {"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 5}}]})
out["offsets_altered"] = get_offsets(sink)
reset_offsets(sink)
out["offsets_reset"] = get_offsets(sink)

kc.resume_connector(sink)
out["resumed_after_stop"] = wait_state(sink, "RUNNING", tasks=1)["connector"]["state"]

out["topics"] = kc.list_connector_topics(source)
kc.reset_connector_topics(source)
out["topics_reset"] = kc.list_connector_topics(source)

v = kc.validate_connector_config("sink.file", {"connector.class": "sink.file", "topics": "t", "path": "x.jsonl", "tasks.max": "2"})
out["validate"] = {"name": v["name"], "error_count": v["error_count"]}
bad = kc.validate_connector_config("sink.file", {"topics": "t", "format": "xml"})
out["validate_bad"] = sorted(c["value"]["name"] for c in bad["configs"] if c["value"]["errors"])

try:
    kc.create_connector({"name": "x", "config": {"connector.class": "sink.file"}})
    out["create"] = "accepted"
except requests.exceptions.HTTPError as e:
    out["create"] = [e.response.status_code, e.response.json()["message"]]
print(json.dumps(out))
`

// TestKafkaConnectPy drives a worker on kfake with kafka-connect-py, a
// client written for Kafka Connect: list, status, pause, resume,
// restart, stop, offsets, topics and validation work as Connect's, and a
// create is refused with a message that says to apply instead.
func TestKafkaConnectPy(t *testing.T) {
	py := connectPy(t)
	f := newFixture(t, "connectpy")
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
	cmd := exec.Command(py, "-c", pyConnect, base, "sink.file.out", "source.generator.g")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("kafka-connect-py: %v\n%s", err, stderr.String())
	}
	var got struct {
		Fallbacks []string
		Info      struct {
			KafkaClusterID string `json:"kafka_cluster_id"`
		}
		List       []string
		Expanded   map[string]string
		Connector  struct{ Name, Type string }
		Config     map[string]any
		Tasks      []struct{ ID struct{ Task int } }
		TaskStatus struct{ State string } `json:"task_status"`
		Plugins    []string
		Paused     string
		PausedList []string `json:"paused_list"`
		Resumed    string
		Restart    []string
		Stopped    []any `json:"stopped_tasks"`
		Before     struct {
			Offsets []struct{ Offset map[string]float64 }
		} `json:"offsets_before"`
		Altered struct {
			Offsets []struct{ Offset map[string]float64 }
		} `json:"offsets_altered"`
		Reset struct {
			Offsets []any
		} `json:"offsets_reset"`
		ResumedAfterStop string                         `json:"resumed_after_stop"`
		Topics           map[string]map[string][]string `json:"topics"`
		TopicsReset      map[string]map[string][]string `json:"topics_reset"`
		Validate         struct {
			Name       string
			ErrorCount int `json:"error_count"`
		}
		ValidateBad []string `json:"validate_bad"`
		Create      []any
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("kafka-connect-py printed %s: %v", raw, err)
	}
	t.Logf("kafka-connect-py had no method for: %v", got.Fallbacks)
	checks := []struct {
		what      string
		got, want any
	}{
		{"cluster id given", got.Info.KafkaClusterID != "", true},
		{"list", got.List, []string{"sink.file.out", "source.generator.g"}},
		{"expand=status", got.Expanded, map[string]string{"sink.file.out": "RUNNING", "source.generator.g": "RUNNING"}},
		{"connector", [2]string{got.Connector.Name, got.Connector.Type}, [2]string{"sink.file.out", "sink"}},
		{"config topics", got.Config["topics"], "t"},
		{"config class", got.Config["connector.class"], "sink.file"},
		{"tasks", len(got.Tasks), 1},
		{"task status", got.TaskStatus.State, "RUNNING"},
		{"plugins listed", len(got.Plugins) > 0, true},
		{"paused task", got.Paused, "PAUSED"},
		{"list state=paused", got.PausedList, []string{"sink.file.out"}},
		{"resumed", got.Resumed, "RUNNING"},
		{"restart", got.Restart, []string{"RESTARTING"}},
		{"stopped tasks", len(got.Stopped), 0},
		{"offsets before", len(got.Before.Offsets) == 1 && got.Before.Offsets[0].Offset["kafka_offset"] == 50, true},
		{"offsets altered", len(got.Altered.Offsets) == 1 && got.Altered.Offsets[0].Offset["kafka_offset"] == 5, true},
		{"offsets reset", len(got.Reset.Offsets), 0},
		{"resumed after stop", got.ResumedAfterStop, "RUNNING"},
		{"topics", got.Topics, map[string]map[string][]string{"source.generator.g": {"topics": {"t"}}}},
		{"topics reset", got.TopicsReset, map[string]map[string][]string{"source.generator.g": {"topics": {}}}},
		{"validate", [2]any{got.Validate.Name, got.Validate.ErrorCount}, [2]any{"sink.file", 0}},
		{"validate errors", got.ValidateBad, []string{"format", "path"}},
		{"create refused", len(got.Create) == 2 && got.Create[0] == 405.0 && strings.Contains(got.Create[1].(string), "pipectl apply"), true},
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
