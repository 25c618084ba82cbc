package planner_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/planner/connectimport"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// TestImportConnectSinkOffsets imports a Kafka Connect FileStreamSink
// whose consumer group (connect-NAME) committed offsets in the middle of
// its topic: plan shows the offsets it copies, apply copies them before
// the sink starts, and the sink writes only the records after them, as
// Connect would have next. Planned again, the import block does nothing.
func TestImportConnectSinkOffsets(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	opts, err := f.kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, -1, nil, "shop.orders"); err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		for n := 0; n < 10; n++ {
			r := &kgo.Record{Topic: "shop.orders", Partition: p, Value: fmt.Appendf(nil, `{"p":%d,"n":%d}`, p, n)}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// What Kafka Connect's sink committed before it was stopped: it wrote
	// records 0-5 of partition 0 and 0-3 of partition 1.
	committed := kadm.Offsets{}
	committed.Add(kadm.Offset{Topic: "shop.orders", Partition: 0, At: 6, LeaderEpoch: -1})
	committed.Add(kadm.Offset{Topic: "shop.orders", Partition: 1, At: 4, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(ctx, "connect-orders-archive", committed); err != nil || resp.Error() != nil {
		t.Fatalf("commit Connect's offsets: %v %v", err, resp.Error())
	}

	out := filepath.Join(f.dir, "out.jsonl")
	connectJSON := fmt.Sprintf(`{"name": "orders-archive", "config": {
	  "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
	  "topics": "shop.orders", "file": %q,
	  "value.converter": "org.apache.kafka.connect.json.JsonConverter",
	  "value.converter.schemas.enable": "false"}}`, out)
	conns, err := connectimport.Parse([]byte(connectJSON), "orders-archive.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := connectimport.Convert(conns)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || len(res.Warnings) != 0 {
		t.Fatalf("import: %d files, warnings %v", len(res.Files), res.Warnings)
	}
	src := "fleet {\n  name = \"shop\"\n}\n" + string(res.Files[0].Src)

	p := f.plan(src)
	var sink *plan.Change
	for _, c := range p.Changes {
		if c.Address == "sink.file.orders-archive" {
			sink = c
		}
	}
	if sink == nil || sink.Action != plan.Create {
		t.Fatalf("no creation of sink.file.orders-archive in the plan: %+v", p.Changes)
	}
	want := &plan.GroupOffsets{Group: "connect-orders-archive", Partitions: []plan.PartitionOffset{
		{Topic: "shop.orders", Partition: 0, Offset: 6}, {Topic: "shop.orders", Partition: 1, Offset: 4},
	}}
	if sink.Offsets != plan.OffsetsImported || !cmp.Equal(want, sink.OffsetsFrom) {
		t.Fatalf("sink offsets = %q from %s, want imported from %s", sink.Offsets, cmp.Diff(want, sink.OffsetsFrom), want.Group)
	}

	f.startWorker(f.keys)
	if _, err := f.apply(p, true); err != nil {
		t.Fatal(err)
	}
	var wantLines []string
	for n := 6; n < 10; n++ {
		wantLines = append(wantLines, fmt.Sprintf(`{"n":%d,"p":0}`, n))
	}
	for n := 4; n < 10; n++ {
		wantLines = append(wantLines, fmt.Sprintf(`{"n":%d,"p":1}`, n))
	}
	sort.Strings(wantLines)
	var got []string
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		got = readLines(t, out)
		if len(got) >= len(wantLines) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if diff := cmp.Diff(wantLines, got); diff != "" {
		t.Fatalf("records the imported sink wrote (-want +got):\n%s", diff)
	}

	again := f.plan(src)
	found := false
	for _, n := range again.Notes {
		if n.Kind == plan.NoteImportIgnored && n.Address == "sink.file.orders-archive" && strings.Contains(n.Message, "connect-orders-archive") {
			found = true
		}
	}
	if !found {
		t.Errorf("planned again, no note says the import block does nothing: %+v", again.Notes)
	}
	for _, c := range again.Changes {
		if c.Address == "sink.file.orders-archive" && (c.Action != plan.NoOp || c.OffsetsFrom != nil) {
			t.Errorf("planned again, the sink is %s with offsets from %v, want a no-op", c.Action, c.OffsetsFrom)
		}
	}
}

// readLines reads the JSON lines of a file, each re-encoded with sorted
// keys, sorted; none when the file does not exist yet.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			continue // a line being written
		}
		c, _ := json.Marshal(v)
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

// TestImportConnectFileSourceOffsets imports a Kafka Connect
// FileStreamSource whose saved position (in Connect's offsets topic) is in
// the middle of its file: plan shows it, apply saves it as the file
// source's offset, and the source produces only the lines after it.
func TestImportConnectFileSourceOffsets(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	opts, err := f.kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, topic := range []string{"connect-offsets", "logs"} {
		if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	logFile := filepath.Join(f.dir, "app.log")
	var content strings.Builder
	for n := 0; n < 10; n++ {
		fmt.Fprintf(&content, "line %d\n", n)
	}
	if err := os.WriteFile(logFile, []byte(content.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Kafka Connect saved position 7 and then 35 (after "line 4"), and
	// another connector saved its own.
	key := func(name string) []byte {
		return fmt.Appendf(nil, `[%q,{"filename":%q}]`, name, logFile)
	}
	for _, r := range []*kgo.Record{
		{Topic: "connect-offsets", Key: key("local-file-source"), Value: []byte(`{"position":7}`)},
		{Topic: "connect-offsets", Key: key("other"), Value: []byte(`{"position":63}`)},
		{Topic: "connect-offsets", Key: key("local-file-source"), Value: []byte(`{"position":35}`)},
	} {
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	connectJSON := fmt.Sprintf(`{"name": "local-file-source", "config": {
	  "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
	  "file": %q, "topic": "logs",
	  "value.converter": "org.apache.kafka.connect.storage.StringConverter"}}`, logFile)
	conns, err := connectimport.Parse([]byte(connectJSON), "local-file-source.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := connectimport.Convert(conns)
	if err != nil {
		t.Fatal(err)
	}
	src := "fleet {\n  name = \"shop\"\n}\n" + string(res.Files[0].Src)

	p := f.plan(src)
	var source *plan.Change
	for _, c := range p.Changes {
		if c.Address == "source.file.local-file-source" {
			source = c
		}
	}
	if source == nil || source.Action != plan.Create || source.Offsets != plan.OffsetsImported || source.ConnectOffsetsFrom == nil {
		t.Fatalf("no creation of the source with imported offsets in the plan: %+v", source)
	}
	wantOffsets := []control.SourceOffset{{Partition: map[string]any{"file": logFile}, Offset: map[string]any{"position": int64(35)}}}
	if diff := cmp.Diff(wantOffsets, source.ConnectOffsetsFrom.Offsets); diff != "" {
		t.Fatalf("offsets the plan imports (-want +got):\n%s", diff)
	}

	f.startWorker(f.keys)
	if _, err := f.apply(p, true); err != nil {
		t.Fatal(err)
	}
	consumer, err := kgo.NewClient(append(opts, kgo.ConsumeTopics("logs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []string
	for len(got) < 5 {
		fs := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	// Give a wrongly started source time to produce more.
	time.Sleep(2 * time.Second)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	consumer.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	cancel()
	want := []string{"line 5", "line 6", "line 7", "line 8", "line 9"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("lines the imported source produced (-want +got):\n%s", diff)
	}
}
