package worker_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// patch sends a PATCH with body and returns the status code and the body
// of the answer.
func patch(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAlterOffsetsValidation changes the offsets of a paused sink and a
// paused source through the REST API against a real broker: offsets for a
// topic or partition the cluster does not have, negative partitions and
// negative offsets are the client's errors (400, Kafka Connect's error
// shape, a message naming the fault); valid ones are stored.
func TestAlterOffsetsValidation(t *testing.T) {
	f := newFixture(t, "offsets")
	f.apply(`
topic "t" {
  partitions = 2
}
source "generator" "g" {
  topic  = topic.t.name
  value  = "{'id': seq}"
  state  = "paused"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
  state  = "paused"
}
`)
	base, _ := f.startWorker()
	eventually(t, 30*time.Second, "the worker has read the state", func() (bool, string) {
		st := pipelineState(t, base, "sink.file.out")
		return st == "PAUSED", st
	})
	const topic = "t"
	sink := base + "/connectors/sink.file.out/offsets"
	source := base + "/connectors/source.generator.g/offsets"
	sinkBody := func(partition, offset string) string {
		return `{"offsets":[{"partition":{"kafka_topic":"` + topic + `","kafka_partition":` + partition + `},"offset":` + offset + `}]}`
	}
	for _, tc := range []struct {
		name, url, body string
		wantCode        int
		wantMessage     string // a part of it
	}{
		{"unknown topic", sink, `{"offsets":[{"partition":{"kafka_topic":"nope","kafka_partition":0},"offset":{"kafka_offset":1}}]}`,
			400, `topic "nope" does not exist`},
		{"unknown partition", sink, sinkBody("5", `{"kafka_offset":1}`), 400, `has no partition 5 (it has 2 partitions)`},
		{"unknown partition reset", sink, sinkBody("7", `null`), 400, `has no partition 7`},
		{"negative partition", sink, sinkBody("-1", `{"kafka_offset":1}`), 400, `offsets[0]: kafka_partition is -1: want a partition number, 0 or more`},
		{"partition not a number", sink, sinkBody(`"0"`, `{"kafka_offset":1}`), 400, `kafka_partition is "0"`},
		{"negative offset", sink, sinkBody("0", `{"kafka_offset":-9}`), 400, `offsets[0]: kafka_offset is -9: want an offset, 0 or more`},
		{"fractional offset", sink, sinkBody("0", `{"kafka_offset":1.5}`), 400, `kafka_offset is 1.5`},
		{"no kafka_offset", sink, sinkBody("0", `{"offset":3}`), 400, `a sink offset is {"kafka_offset": N}`},
		{"negative source offset", source, `{"offsets":[{"partition":{"task":0},"offset":{"seq":-1}}]}`, 400, `offsets[0]: seq is -1: source offsets are positions, 0 or more`},
		{"sink offset", sink, sinkBody("1", `{"kafka_offset":3}`), 200, "altered successfully"},
		{"sink reset", sink, sinkBody("0", `null`), 200, "altered successfully"},
		{"source offset", source, `{"offsets":[{"partition":{"task":0},"offset":{"seq":5}}]}`, 200, "altered successfully"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := patch(t, tc.url, tc.body)
			var answer struct {
				ErrorCode int    `json:"error_code"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &answer); err != nil {
				t.Fatalf("PATCH %s: %d %s: %v", tc.body, code, body, err)
			}
			if code != tc.wantCode || !strings.Contains(answer.Message, tc.wantMessage) {
				t.Fatalf("PATCH %s: %d %s, want %d with %q", tc.body, code, body, tc.wantCode, tc.wantMessage)
			}
			if code >= 400 && answer.ErrorCode != code {
				t.Errorf("the error body %s is not {\"error_code\": %d, \"message\": ...}", body, code)
			}
		})
	}
	var got struct {
		Offsets []struct {
			Partition map[string]any `json:"partition"`
			Offset    map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	getJSON(t, sink, &got)
	if len(got.Offsets) != 1 || got.Offsets[0].Partition["kafka_partition"] != 1.0 || got.Offsets[0].Offset["kafka_offset"] != 3.0 {
		t.Errorf("sink offsets after the changes: %+v, want partition 1 at 3 only", got.Offsets)
	}
}
