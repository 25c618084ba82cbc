package planner_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// dlqBase has two pipelines that share the dead-letter topic shop.dlq,
// which no topic block declares.
const dlqBase = `
fleet {
  name = "shop"
}
topic "orders" {
  name = "shop.orders"
}
source "generator" "orders" {
  topic = topic.orders.name
  value = "{'amount': seq}"
  errors {
    tolerance         = "all"
    dead_letter_topic = "shop.dlq"
  }
}
sink "file" "out" {
  topics = [topic.orders.name]
  path   = "out.jsonl"
  errors {
    tolerance         = "all"
    dead_letter_topic = "shop.dlq"
  }
}
`

const dlqAddr = `dead_letter_topic["shop.dlq"]`

// appliedState is the state an apply of p leaves, and liveAfter what
// Kafka then holds.
func appliedState(t *testing.T, prior *control.State, p *plan.Plan) *control.State {
	t.Helper()
	st := &control.State{Serial: prior.Serial + 10, Resources: map[string]*control.Resource{}}
	for addr, r := range prior.Resources {
		st.Resources[addr] = r
	}
	for _, c := range p.Changes {
		if c.Moved() {
			delete(st.Resources, c.PrevAddress)
		}
		if c.Action == plan.Delete {
			delete(st.Resources, c.Address)
			continue
		}
		st.Resources[c.Address] = c.After
	}
	return st
}

func planDLQ(t *testing.T, cfg *lang.Config, st *control.State, live *planner.Live, destroy bool) *plan.Plan {
	t.Helper()
	p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: registry(t), State: st, Live: live, Destroy: destroy})
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

func change(p *plan.Plan, addr string) *plan.Change {
	for _, c := range p.Changes {
		if c.Address == addr {
			return c
		}
	}
	return nil
}

// TestDeadLetterTopicIsPlanned checks that a dead-letter topic that no
// topic block declares is a resource: planned once for the two pipelines
// that share it, created with 1 partition, then no change.
func TestDeadLetterTopicIsPlanned(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, dir, dlqBase)
	empty := stateOf(t, nil, nil)
	p := planDLQ(t, cfg, empty, liveOf(empty), false)
	want := []string{
		"+ " + dlqAddr,
		"+ topic.orders",
		"+ sink.file.out",
		"+ source.generator.orders",
		"note dead_letter " + dlqAddr,
	}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	c := change(p, dlqAddr)
	if c == nil {
		t.Fatalf("no change of %s", dlqAddr)
	}
	if c.Kind != "topic" || c.Name != "shop.dlq" || c.After.Topic.Partitions != 1 || c.After.Topic.ReplicationFactor != -1 {
		t.Errorf("the dead-letter topic's change: kind %q name %q spec %+v", c.Kind, c.Name, c.After.Topic)
	}
	if n := p.Notes[0].Message; !strings.Contains(n, "sink.file.out, source.generator.orders") || !strings.Contains(n, "no import block") {
		t.Errorf("note: %s", n)
	}

	st := appliedState(t, empty, p)
	if again := planDLQ(t, cfg, st, liveOf(st), false); again.HasChanges() || len(again.Notes) > 0 {
		t.Errorf("after the apply: %v", summary(again))
	}
}

// TestDeadLetterTopicDestroyed checks that the dead-letter topic goes,
// with the warning every topic deletion carries, when no pipeline names it
// any more, and with plan -destroy.
func TestDeadLetterTopicDestroyed(t *testing.T) {
	dir := t.TempDir()
	empty := stateOf(t, nil, nil)
	st := appliedState(t, empty, planDLQ(t, load(t, dir, dlqBase), empty, liveOf(empty), false))

	one := load(t, dir, strings.Replace(dlqBase, `    tolerance         = "all"
    dead_letter_topic = "shop.dlq"
  }
}
sink`, `    tolerance = "none"
  }
}
sink`, 1))
	if p := planDLQ(t, one, st, liveOf(st), false); change(p, dlqAddr) == nil || change(p, dlqAddr).Action != plan.NoOp {
		t.Errorf("still named by sink.file.out: %v", summary(p))
	}
	none := load(t, dir, `
fleet {
  name = "shop"
}
topic "orders" {
  name = "shop.orders"
}
`)
	for _, destroy := range []bool{false, true} {
		cfg := none
		if destroy {
			cfg = load(t, dir, dlqBase)
		}
		p := planDLQ(t, cfg, st, liveOf(st), destroy)
		c := change(p, dlqAddr)
		if c == nil || c.Action != plan.Delete {
			t.Fatalf("destroy=%v: %v", destroy, summary(p))
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], `deletes the Kafka topic "shop.dlq" and every record in it`) {
			t.Errorf("destroy=%v: warnings %q", destroy, c.Warnings)
		}
		if !destroy && c.Reason != plan.ReasonNoConfig {
			t.Errorf("reason %q", c.Reason)
		}
	}
}

// TestDeadLetterTopicDeclaredLater checks that a topic block declaring a
// dead-letter topic that the state holds at its own address takes it over
// with no import block: a move, and the update to the block's settings;
// and that removing the block again hands it back while pipelines name it.
func TestDeadLetterTopicDeclaredLater(t *testing.T) {
	dir := t.TempDir()
	empty := stateOf(t, nil, nil)
	st := appliedState(t, empty, planDLQ(t, load(t, dir, dlqBase), empty, liveOf(empty), false))

	declared := load(t, dir, dlqBase+`
topic "dlq" {
  name       = "shop.dlq"
  partitions = 3
}
`)
	p := planDLQ(t, declared, st, liveOf(st), false)
	want := []string{"~ topic.dlq (from " + dlqAddr + ") [partitions]"}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("declaring it (-want +got):\n%s", diff)
	}

	// With an import block, as the old error asked: it has nothing to do.
	imported := load(t, dir, dlqBase+`
topic "dlq" {
  name = "shop.dlq"
}
import {
  to = topic.dlq
  id = "shop.dlq"
}
`)
	p = planDLQ(t, imported, st, liveOf(st), false)
	if diff := cmp.Diff([]string{"  topic.dlq (from " + dlqAddr + ")"}, summary(p)); diff != "" {
		t.Errorf("declared with an import block (-want +got):\n%s", diff)
	}

	// The block removed again: it goes back to its own address.
	st2 := appliedState(t, st, planDLQ(t, declared, st, liveOf(st), false))
	p = planDLQ(t, load(t, dir, dlqBase), st2, liveOf(st2), false)
	if diff := cmp.Diff([]string{"  " + dlqAddr + " (from topic.dlq)"}, summary(p)); diff != "" {
		t.Errorf("block removed (-want +got):\n%s", diff)
	}
}

// TestDeadLetterTopicAdopted checks that a dead-letter topic that exists
// in Kafka but not in the state (a worker created it) is adopted as it
// is, instead of the "Topic already exists" error.
func TestDeadLetterTopicAdopted(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, dir, dlqBase)
	st := stateOf(t, cfg, nil) // the pipelines and topic.orders, no dead-letter topic
	live := liveOf(st)
	live.Topics["shop.dlq"] = planner.LiveTopic{Partitions: 4, ReplicationFactor: 1}
	p := planDLQ(t, cfg, st, live, false)
	want := []string{"  " + dlqAddr + " (import shop.dlq)", "note dead_letter " + dlqAddr}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if c := change(p, dlqAddr); c == nil || c.After.Topic.Partitions != 4 {
		t.Errorf("not adopted with the 4 partitions it has: %+v", c)
	}
}

// TestDeadLetterTopicTargeted checks that -target of a pipeline keeps
// the dead-letter topic it needs.
func TestDeadLetterTopicTargeted(t *testing.T) {
	cfg := load(t, t.TempDir(), dlqBase)
	empty := stateOf(t, nil, nil)
	p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: registry(t), State: empty, Live: liveOf(empty), Targets: []string{"sink.file.out"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if c := change(p, dlqAddr); c == nil || c.Action != plan.Create {
		t.Errorf("-target=sink.file.out: %v", summary(p))
	}
}

// TestDeadLetterTopicMadeByWorker checks a fleet applied before pipectl
// planned dead-letter topics: the worker created shop.dlq, which the state
// does not know. A topic block declaring it then adopts it with no import
// block (it used to fail with "exists in Kafka but pipectl's state does
// not know it"); a dead-letter topic that exists and that no pipeline of
// the state names is someone else's and an error that says what to do.
func TestDeadLetterTopicMadeByWorker(t *testing.T) {
	dir := t.TempDir()
	st := stateOf(t, load(t, dir, dlqBase), nil)
	live := liveOf(st)
	live.Topics["shop.dlq"] = planner.LiveTopic{Partitions: 1, ReplicationFactor: 1}
	declared := load(t, dir, dlqBase+`
topic "dlq" {
  name       = "shop.dlq"
  partitions = 2
}
`)
	p := planDLQ(t, declared, st, live, false)
	want := []string{"~ topic.dlq (import shop.dlq) [partitions]", "note dead_letter topic.dlq"}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("declared (-want +got):\n%s", diff)
	}

	fresh := stateOf(t, nil, nil)
	_, diags := planner.Plan(planner.Input{Config: load(t, dir, dlqBase), Plugins: registry(t), State: fresh, Live: live})
	if !diags.HasErrors() || diags[0].Summary != "Topic already exists" || !strings.Contains(diags[0].Detail, "no pipeline of the state names it") ||
		!strings.Contains(diags[0].Detail, "to = topic.dead_letter") {
		t.Errorf("someone else's topic as a dead-letter topic: %v", diags)
	}
}

// TestDeadLetterTopicReserved checks that a dead-letter topic cannot be
// one of the fleet's own topics.
func TestDeadLetterTopicReserved(t *testing.T) {
	cfg := load(t, t.TempDir(), strings.ReplaceAll(dlqBase, `"shop.dlq"`, `"shop.status"`))
	empty := stateOf(t, nil, nil)
	_, diags := planner.Plan(planner.Input{Config: cfg, Plugins: registry(t), State: empty, Live: liveOf(empty)})
	if !diags.HasErrors() || diags[0].Summary != "Reserved topic name" || !strings.Contains(diags[0].Detail, "the fleet's own status topic") {
		t.Errorf("a dead-letter topic named like the status topic: %v", diags)
	}
}
