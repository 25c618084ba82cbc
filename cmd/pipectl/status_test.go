package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
)

// countedCmd waits until every task of a pipeline runs the fleet's
// current state and their records_out add up to N:
//
//	counted shop source.generator.g 20
func countedCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: counted FLEET ADDRESS N")
	}
	want, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	ctl, err := control.New(args[0], kgo.SeedBrokers(strings.Split(ts.Getenv("PIPECTL_BROKERS"), ",")...))
	ts.Check(err)
	defer ctl.Close()
	saw := "nothing"
	waitFor(ts, fmt.Sprintf("%s to count %d records out at the current serial", args[1], want), func(ctx context.Context) bool {
		st, err := ctl.ReadState(ctx)
		if err != nil {
			return false
		}
		sv, err := ctl.ReadStatus(ctx)
		if err != nil {
			return false
		}
		res, ok := st.Resources[args[1]]
		if !ok || res.Pipeline == nil {
			return false
		}
		var out int64
		for i := range max(res.Pipeline.Tasks, 1) {
			rec, ok := sv.Tasks[args[1]][i]
			if !ok || rec.Serial < st.Serial || rec.State != control.Running {
				saw = fmt.Sprintf("task %d: %+v", i, rec)
				return false
			}
			out += rec.Out
		}
		saw = fmt.Sprintf("%d out", out)
		return out == want
	}, func() string { return saw })
}

// firstRunningCmd waits for the first RUNNING status record of a
// pipeline's task 0 at the fleet's current serial (or later), reading the
// status topic from its start, and checks the records_out it carries:
// what the task counted from when it opened.
//
//	firstrunning shop source.generator.g 0
func firstRunningCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: firstrunning FLEET ADDRESS OUT")
	}
	want, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	brokers := strings.Split(ts.Getenv("PIPECTL_BROKERS"), ",")
	ctl, err := control.New(args[0], kgo.SeedBrokers(brokers...))
	ts.Check(err)
	defer ctl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), exampleDeadline)
	defer cancel()
	st, err := ctl.ReadState(ctx)
	ts.Check(err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(ctl.StatusTopic()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ts.Check(err)
	defer cl.Close()
	key := fmt.Sprintf(`{"v":1,"kind":"task","address":%q,"task":0}`, args[1])
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			ts.Fatalf("no RUNNING record of %s at serial %d or later within %s", args[1], st.Serial, exampleDeadline)
		}
		var found *control.TaskStatus
		fetches.EachRecord(func(r *kgo.Record) {
			if found != nil || string(r.Key) != key || r.Value == nil {
				return
			}
			var rec control.TaskStatus
			if json.Unmarshal(r.Value, &rec) == nil && rec.State == control.Running && rec.Serial >= st.Serial {
				found = &rec
			}
		})
		if found != nil {
			if found.Out != want {
				ts.Fatalf("the first RUNNING record of %s at serial %d counts %d out; want %d", args[1], found.Serial, found.Out, want)
			}
			return
		}
	}
}
