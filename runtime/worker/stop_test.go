package worker_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestStopResume stops a running sink through the REST API (KIP-875):
// its status is STOPPED with no tasks, nothing more is written, its
// offsets can be changed (and not while it runs), and resume brings it
// back from where the new offsets say. A pipeline deployed with state =
// "stopped" starts STOPPED.
func TestStopResume(t *testing.T) {
	f := newFixture(t, "stop")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  count = 100
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
source "generator" "idle" {
  topic = topic.t.name
  value = "{'id': seq}"
  state = "stopped"
}
`)
	base, _ := f.startWorker()
	out := filepath.Join(f.dir, "out.jsonl")
	eventually(t, 60*time.Second, "100 records written", func() (bool, string) {
		n := len(readLines(out))
		return n == 100, fmt.Sprint(n)
	})
	var st struct {
		Connector struct{ State string }
		Tasks     []struct{ State string }
	}
	if getJSON(t, base+"/connectors/source.generator.idle/status", &st); st.Connector.State != "STOPPED" || st.Tasks == nil || len(st.Tasks) != 0 {
		t.Errorf("a pipeline deployed stopped: %+v, want STOPPED with tasks []", st)
	}

	sinkURL := base + "/connectors/sink.file.out"
	offsets := `{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":90}}]}`
	if code, body := patch(t, sinkURL+"/offsets", offsets); code != http.StatusConflict || !strings.Contains(body, "pipectl stop sink.file.out") {
		t.Errorf("PATCH offsets of a running sink: %d %s, want 409 saying to stop it", code, body)
	}
	if code := send(t, http.MethodPut, sinkURL+"/stop"); code != http.StatusAccepted {
		t.Fatalf("stop: %d, want 202", code)
	}
	eventually(t, 30*time.Second, "STOPPED", func() (bool, string) {
		st.Tasks = nil
		getJSON(t, sinkURL+"/status", &st)
		return st.Connector.State == "STOPPED" && st.Tasks != nil && len(st.Tasks) == 0, fmt.Sprintf("%+v", st)
	})
	// The topics it used (KIP-558) stay recorded while it is stopped, and
	// reset forgets them; the source's are its own.
	topics := func(addr string) []string {
		var got map[string]struct{ Topics []string }
		getJSON(t, base+"/connectors/"+addr+"/topics", &got)
		return got[addr].Topics
	}
	eventually(t, 30*time.Second, "the topics used", func() (bool, string) {
		sink, source := topics("sink.file.out"), topics("source.generator.g")
		return cmp.Equal(sink, []string{"t"}) && cmp.Equal(source, []string{"t"}), fmt.Sprint(sink, source)
	})
	if got := topics("source.generator.idle"); got == nil || len(got) != 0 {
		t.Errorf("topics of a pipeline that never ran: %v, want []", got)
	}
	if code := send(t, http.MethodPut, sinkURL+"/topics/reset"); code != http.StatusAccepted {
		t.Fatalf("topics/reset: %d, want 202", code)
	}
	eventually(t, 30*time.Second, "the topics forgotten", func() (bool, string) {
		got := topics("sink.file.out")
		return got != nil && len(got) == 0, fmt.Sprint(got)
	})
	if got := topics("source.generator.g"); !cmp.Equal(got, []string{"t"}) {
		t.Errorf("the source's topics after the sink's reset: %v, want [t]", got)
	}
	var tasks []any
	if getJSON(t, sinkURL+"/tasks", &tasks); tasks == nil || len(tasks) != 0 {
		t.Errorf("tasks of a stopped sink: %v, want []", tasks)
	}
	var info struct{ Tasks []any }
	if getJSON(t, sinkURL, &info); info.Tasks == nil || len(info.Tasks) != 0 {
		t.Errorf("connector info of a stopped sink lists tasks %v, want []", info.Tasks)
	}
	// Its task has stopped (the worker reports it before the offsets may
	// change); from then on the offsets can be altered.
	eventually(t, 30*time.Second, "the offsets can change", func() (bool, string) {
		code, body := patch(t, sinkURL+"/offsets", offsets)
		return code == http.StatusOK, fmt.Sprint(code, body)
	})
	var got struct {
		Offsets []struct {
			Partition map[string]any
			Offset    map[string]any
		}
	}
	getJSON(t, sinkURL+"/offsets", &got)
	want := []map[string]any{{"kafka_offset": 90.0}}
	var gotOffsets []map[string]any
	for _, o := range got.Offsets {
		gotOffsets = append(gotOffsets, o.Offset)
	}
	if diff := cmp.Diff(want, gotOffsets); diff != "" {
		t.Errorf("offsets after the PATCH (-want +got):\n%s", diff)
	}
	if code := send(t, http.MethodPut, sinkURL+"/resume"); code != http.StatusAccepted {
		t.Fatalf("resume: %d, want 202", code)
	}
	// Resumed from offset 90: the last 10 records are written again.
	eventually(t, 60*time.Second, "records 90 to 99 written again", func() (bool, string) {
		n := len(readLines(out))
		return n == 110, fmt.Sprint(n)
	})
	if s := pipelineState(t, base, "sink.file.out"); s != "RUNNING" {
		t.Errorf("after resume: %s, want RUNNING", s)
	}
	eventually(t, 30*time.Second, "the topic recorded again", func() (bool, string) {
		got := topics("sink.file.out")
		return cmp.Equal(got, []string{"t"}), fmt.Sprint(got)
	})
}
