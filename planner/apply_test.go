package planner_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
	"github.com/pipectl/pipectl/runtime/worker"
)

// fleet is a broker, a control client and, when started, a worker.
type fleet struct {
	t    *testing.T
	kcfg kafka.Config
	ctl  *control.Control
	keys *control.Keys
	dir  string
}

func newFleet(t *testing.T, name string) *fleet {
	t.Helper()
	_, kcfg := kafkatest.Start(t)
	opts, err := kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := control.New(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	return &fleet{t: t, kcfg: kcfg, ctl: ctl, keys: testKeys(t), dir: t.TempDir()}
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startWorker runs a worker until the test ends; keys may differ from the
// fleet's.
func (f *fleet) startWorker(keys *control.Keys) {
	t := f.t
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.ctl.Fleet(), Kafka: f.kcfg, Registry: registry(t), Listener: ln, Keys: keys, StatusInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// plan plans src (main.hcl) against the fleet, refreshing.
func (f *fleet) plan(src string, opts ...func(*planner.Input)) *plan.Plan {
	t := f.t
	t.Helper()
	ctx := ctxOf(t)
	cfg := load(t, f.dir, src)
	st, err := planner.ReadState(ctx, f.ctl)
	if err != nil {
		t.Fatal(err)
	}
	live, err := planner.Refresh(ctx, f.ctl, planner.TopicNames(cfg, st), cfg.Imports...)
	if err != nil {
		t.Fatal(err)
	}
	in := planner.Input{Config: cfg, Plugins: registry(t), Keys: f.keys, State: st, Live: live}
	for _, o := range opts {
		o(&in)
	}
	p, diags := planner.Plan(in)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

func (f *fleet) apply(p *plan.Plan, wait bool) (*planner.Result, error) {
	return planner.Apply(ctxOf(f.t), planner.ApplyArgs{Plan: p, Control: f.ctl, Wait: wait, Timeout: 30 * time.Second, By: "test"})
}

const genOnly = `
fleet {
  name = "shop"
}
topic "orders" {
  name       = "shop.orders"
  partitions = 2
  config     = { "retention.ms" = "60000" }
}
source "generator" "orders" {
  topic = topic.orders.name
  rate  = 20
  value = "{'n': seq}"
}
`

// TestApplyRace applies one plan twice at once: exactly one commits.
func TestApplyRace(t *testing.T) {
	f := newFleet(t, "shop")
	p := f.plan(genOnly)
	const n = 3
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.apply(p, false)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		var stale *planner.StaleError
		switch {
		case err == nil:
			won++
		case !errors.As(err, &stale) || !errors.Is(err, control.ErrStaleState):
			t.Errorf("a losing apply failed with %v, want a StaleError", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d applies committed, want 1: %v", won, errs)
	}
	if again := f.plan(genOnly); again.HasChanges() {
		t.Errorf("after the race the plan still has changes: %v", summary(again))
	}
}

// TestApplyInterrupted stops an apply after it created its topic and
// before it committed: the state is unchanged, the topic exists, and the
// next plan adopts it.
func TestApplyInterrupted(t *testing.T) {
	f := newFleet(t, "shop")
	p := f.plan(genOnly)
	stop := errors.New("killed")
	_, err := planner.Apply(ctxOf(t), planner.ApplyArgs{Plan: p, Control: f.ctl, By: "test", BeforeCommit: func() error { return stop }})
	if !errors.Is(err, stop) {
		t.Fatalf("apply = %v, want the hook's error", err)
	}
	st, err := f.ctl.ReadState(ctxOf(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != control.NoSerial || len(st.Resources) != 0 {
		t.Fatalf("the interrupted apply changed the state: serial %d, %d resources", st.Serial, len(st.Resources))
	}
	next := f.plan(genOnly)
	if diff := cmp.Diff([]string{"  topic.orders (import shop.orders)", "+ source.generator.orders", "note adopted topic.orders"}, summary(next)); diff != "" {
		t.Errorf("next plan (-want +got):\n%s", diff)
	}
	if _, err := f.apply(next, false); err != nil {
		t.Fatal(err)
	}
	if last := f.plan(genOnly); last.HasChanges() {
		t.Errorf("changes left: %v", summary(last))
	}
}

// TestApplyTopics creates a topic, grows it, changes and removes configs,
// and deletes it, checking Kafka each time.
func TestApplyTopics(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	describe := func() (int, map[string]string) {
		live, err := planner.Refresh(ctx, f.ctl, []string{"shop.orders"})
		if err != nil {
			t.Fatal(err)
		}
		lt, ok := live.Topics["shop.orders"]
		if !ok {
			return 0, nil
		}
		return int(lt.Partitions), lt.Config
	}
	if _, err := f.apply(f.plan(genOnly), false); err != nil {
		t.Fatal(err)
	}
	if n, cfg := describe(); n != 2 || cfg["retention.ms"] != "60000" {
		t.Fatalf("created: %d partitions, %v", n, cfg)
	}
	grown := edit(genOnly, "partitions = 2", "partitions = 5", `{ "retention.ms" = "60000" }`, `{ "cleanup.policy" = "compact" }`)
	p := f.plan(grown)
	if diff := cmp.Diff([]string{`~ topic.orders [partitions config["cleanup.policy"] config["retention.ms"]]`}, summary(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if _, err := f.apply(p, false); err != nil {
		t.Fatal(err)
	}
	if n, cfg := describe(); n != 5 || cfg["cleanup.policy"] != "compact" || cfg["retention.ms"] != "" {
		t.Fatalf("updated: %d partitions, %v", n, cfg)
	}
	p = f.plan(grown, func(in *planner.Input) { in.Destroy = true })
	if _, err := f.apply(p, false); err != nil {
		t.Fatal(err)
	}
	if n, _ := describe(); n != 0 {
		t.Fatalf("the topic still has %d partitions after destroy", n)
	}
}

// TestApplyMovesOffsets moves a source and a sink: their offsets follow
// them to the new address and leave the old one.
func TestApplyMovesOffsets(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	src := genOnly + `
sink "file" "out" {
  topics = [topic.orders.name]
  path   = "out.jsonl"
}
`
	if _, err := f.apply(f.plan(src), false); err != nil {
		t.Fatal(err)
	}
	part := map[string]any{"task": 0}
	if err := f.ctl.SaveOffsets(ctx, "source.generator.orders", []control.SourceOffset{{Partition: part, Offset: map[string]any{"seq": 41}}}); err != nil {
		t.Fatal(err)
	}
	set := kadm.Offsets{}
	set.AddOffset("shop.orders", 1, 17, -1)
	if resp, err := f.ctl.Admin().CommitOffsets(ctx, f.ctl.SinkGroup("sink.file.out"), set); err != nil || resp.Error() != nil {
		t.Fatal(err, resp.Error())
	}

	moved := edit(src, `"generator" "orders"`, `"generator" "orders2"`, `"file" "out"`, `"file" "out2"`) + `
moved {
  from = source.generator.orders
  to   = source.generator.orders2
}
moved {
  from = sink.file.out
  to   = sink.file.out2
}
`
	p := f.plan(moved)
	if diff := cmp.Diff([]string{
		"  sink.file.out2 (from sink.file.out) offsets=moved",
		"  source.generator.orders2 (from source.generator.orders) offsets=moved",
	}, summary(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if _, err := f.apply(p, false); err != nil {
		t.Fatal(err)
	}
	got, err := f.ctl.LoadOffsets(ctx, "source.generator.orders2")
	if err != nil {
		t.Fatal(err)
	}
	if o := got[control.PartitionKey(part)].Offset; o["seq"] != float64(41) {
		t.Errorf("source offsets at the new address: %v", got)
	}
	if old, _ := f.ctl.LoadOffsets(ctx, "source.generator.orders"); len(old) != 0 {
		t.Errorf("source offsets left at the old address: %v", old)
	}
	offs, err := f.ctl.Admin().FetchOffsets(ctx, f.ctl.SinkGroup("sink.file.out2"))
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("shop.orders", 1); !ok || o.At != 17 {
		t.Errorf("sink offsets at the new group: %+v", o)
	}
	st, err := f.ctl.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Resources["source.generator.orders"] != nil || st.Resources["source.generator.orders2"] == nil {
		t.Errorf("state after the move: %v", st.Resources)
	}
}

// TestApplyWaitsForPause: apply pauses a pipeline it replaces and waits
// until its tasks stop. UNASSIGNED, which a worker writes in a rebalance,
// is not enough while a worker is in the fleet's group: the task may run
// again, and save offsets after apply reset them, before that worker sees
// the pause. PAUSED is; so is UNASSIGNED when no worker is in the group.
func TestApplyWaitsForPause(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	if _, err := f.apply(f.plan(genOnly), false); err != nil {
		t.Fatal(err)
	}
	const addr = "source.generator.orders"
	status := func(state control.TaskState) {
		t.Helper()
		if err := f.ctl.PutTaskStatus(ctx, control.TaskStatus{Pipeline: addr, Task: 0, State: state, WorkerID: "w1"}); err != nil {
			t.Fatal(err)
		}
	}
	workers := func(want int) {
		t.Helper()
		for {
			n, err := f.ctl.LiveWorkers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == want {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%d members in the worker group, want %d", n, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// A member of the worker group that runs nothing and writes no status.
	opts, err := f.kcfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	member, err := kgo.NewClient(append(opts, kgo.ConsumerGroup(control.WorkersGroup("shop")), kgo.ConsumeTopics("shop.orders"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	workers(1)

	status(control.Unassigned)
	replace := func(seed string) planner.ApplyArgs {
		p := f.plan(edit(genOnly, "rate  = 20", "rate  = 20\n  seed  = "+seed))
		return planner.ApplyArgs{Plan: p, Control: f.ctl, Timeout: time.Second, By: "test"}
	}
	args := replace("9")
	_, err = planner.Apply(ctx, args)
	var te *planner.TimeoutError
	if !errors.As(err, &te) || te.What != "stop" || len(te.Addresses) != 1 || !strings.Contains(te.Addresses[0], "UNASSIGNED") {
		t.Fatalf("apply with a task UNASSIGNED and a worker in the group = %v, want a TimeoutError to stop it", err)
	}
	st, err := f.ctl.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serial != args.Plan.Serial {
		t.Fatalf("the timed-out apply committed: serial %d, planned against %d", st.Serial, args.Plan.Serial)
	}

	// The worker saw the pause.
	status(control.Paused)
	if _, err := planner.Apply(ctx, args); err != nil {
		t.Fatalf("apply with the task PAUSED: %v", err)
	}

	// No worker in the group: nothing runs the task.
	member.Close()
	workers(0)
	status(control.Unassigned)
	if _, err := planner.Apply(ctx, replace("10")); err != nil {
		t.Fatalf("apply with the task UNASSIGNED and no worker: %v", err)
	}
}

// TestApplyWaits applies with a worker: apply returns once the pipeline
// runs; a replacement resets its offsets; a pipeline that cannot start
// fails the apply with its trace.
func TestApplyWaits(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	f.startWorker(nil) // no state key: an encrypted secret cannot be opened
	if _, err := f.apply(f.plan(genOnly), true); err != nil {
		t.Fatal(err)
	}
	sv, err := f.ctl.ReadStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ts := sv.Tasks["source.generator.orders"][0]; ts.State != control.Running {
		t.Fatalf("after apply the task is %+v, want RUNNING", ts)
	}

	// Replace: the generator's offsets go, and it runs again.
	replaced := edit(genOnly, "rate  = 20", "rate  = 20\n  seed  = 9")
	p := f.plan(replaced)
	if diff := cmp.Diff([]string{"-/+ source.generator.orders [seed!] replace_because_cannot_update offsets=reset"}, summary(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	// Let the generator get some way first.
	seq := func() float64 {
		o, err := f.ctl.LoadOffsets(ctx, "source.generator.orders")
		if err != nil {
			t.Fatal(err)
		}
		for _, so := range o {
			n, _ := so.Offset["seq"].(float64)
			return n
		}
		return -1
	}
	for seq() < 30 {
		if ctx.Err() != nil {
			t.Fatal("the generator did not get to seq 30")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := f.apply(p, true); err != nil {
		t.Fatal(err)
	}
	if n := seq(); n >= 30 {
		t.Errorf("after the replacement the generator is at seq %v: its offsets were not reset", n)
	}

	// A secret the worker cannot decrypt: the task fails to start.
	secret := edit(genOnly, `fleet {`, "variable \"pw\" {\n  default   = \"hunter2\"\n  sensitive = true\n}\nfleet {") + `
sink "kafka" "out" {
  topics         = [topic.orders.name]
  brokers        = ["127.0.0.1:1"]
  sasl_mechanism = "PLAIN"
  sasl_username  = "u"
  sasl_password  = var.pw
}
`
	_, err = f.apply(f.plan(secret), true)
	var pe *planner.PipelineError
	if !errors.As(err, &pe) || pe.Address != "sink.kafka.out" || pe.Trace == "" {
		t.Fatalf("apply = %v, want a PipelineError of sink.kafka.out with its trace", err)
	}

	// Destroy stops the pipelines and deletes their offsets.
	if _, err := f.apply(f.plan(secret, func(in *planner.Input) { in.Destroy = true }), true); err != nil {
		t.Fatal(err)
	}
	if o, _ := f.ctl.LoadOffsets(ctx, "source.generator.orders"); len(o) != 0 {
		t.Errorf("offsets of a destroyed pipeline: %v", o)
	}
}
