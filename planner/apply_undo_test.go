package planner_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// topics lists the fleet's topics that are not its control topics.
func (f *fleet) topics() []string {
	f.t.Helper()
	td, err := f.ctl.Admin().ListTopics(ctxOf(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, name := range td.Names() {
		if _, internal := control.InternalTopic(f.ctl.Fleet(), name); !internal && !strings.HasPrefix(name, "__") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestApplyRaceDistinctTopics races applies that each create a topic of
// their own, all planned against the same serial and all past creating
// their topic before any commits: one commits, and every other deletes
// its topic, so that only the winner's is left and the winner's
// configuration plans no change.
func TestApplyRaceDistinctTopics(t *testing.T) {
	f := newFleet(t, "shop")
	const n = 10
	srcs := make([]string, n)
	plans := make([]*plan.Plan, n)
	for i := range n {
		srcs[i] = fmt.Sprintf("fleet {\n  name = \"shop\"\n}\ntopic \"t%d\" {\n  name       = \"shop.t%d\"\n  partitions = 1\n}\n", i, i)
		plans[i] = f.plan(srcs[i])
	}
	var created sync.WaitGroup
	created.Add(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = planner.Apply(ctxOf(t), planner.ApplyArgs{Plan: plans[i], Control: f.ctl, By: "test", Timeout: 30 * time.Second,
				BeforeCommit: func() error {
					created.Done()
					created.Wait()
					return nil
				}})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		var stale *planner.StaleError
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("applies %d and %d both committed", winner, i)
		case err == nil:
			winner = i
		case !errors.As(err, &stale):
			t.Fatalf("apply %d failed with %v, want a StaleError", i, err)
		default:
			want := []planner.UndoneTopic{{Address: fmt.Sprintf("topic.t%d", i), Name: fmt.Sprintf("shop.t%d", i), Outcome: planner.TopicDeleted}}
			if diff := cmp.Diff(want, stale.Topics, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("losing apply %d did with its topic (-want +got):\n%s", i, diff)
			}
		}
	}
	if winner < 0 {
		t.Fatalf("no apply committed: %v", errs)
	}
	// Deleting a topic takes a moment to show.
	want := []string{fmt.Sprintf("shop.t%d", winner)}
	deadline := time.Now().Add(30 * time.Second)
	for got := f.topics(); !cmp.Equal(want, got); got = f.topics() {
		if time.Now().After(deadline) {
			t.Fatalf("topics after the race: %v, want only the winner's %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p := f.plan(srcs[winner]); p.HasChanges() {
		t.Errorf("the winner's configuration still plans changes: %v", summary(p))
	}
}

// TestApplyLoserKeepsOthersTopics: an apply whose commit is refused
// deletes the topic it created and nothing else: not a topic that existed
// before it created it, nor one that the apply that won committed too.
func TestApplyLoserKeepsOthersTopics(t *testing.T) {
	f := newFleet(t, "shop")
	ctx := ctxOf(t)
	topic := func(name string) string {
		return fmt.Sprintf("topic %q {\n  name       = \"shop.%s\"\n  partitions = 1\n}\n", name, name)
	}
	const fleet = "fleet {\n  name = \"shop\"\n}\n"
	mine := fleet + topic("existing") + topic("mine") + topic("shared")
	other := fleet + topic("shared") + topic("other")
	p, q := f.plan(mine), f.plan(other)
	// Made outside pipectl after the plan, before the apply.
	if _, err := f.ctl.Admin().CreateTopic(ctx, 1, 1, nil, "shop.existing"); err != nil {
		t.Fatal(err)
	}
	_, err := planner.Apply(ctx, planner.ApplyArgs{Plan: p, Control: f.ctl, By: "test", Timeout: 30 * time.Second,
		// The other apply commits while this one is about to: it finds
		// shop.shared made by this one, and commits it.
		BeforeCommit: func() error {
			_, err := f.apply(q, false)
			return err
		}})
	var stale *planner.StaleError
	if !errors.As(err, &stale) {
		t.Fatalf("apply = %v, want a StaleError", err)
	}
	want := []planner.UndoneTopic{
		{Address: "topic.mine", Name: "shop.mine", Outcome: planner.TopicDeleted},
		{Address: "topic.shared", Name: "shop.shared", Outcome: planner.TopicCommitted},
	}
	if diff := cmp.Diff(want, stale.Topics, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("what the losing apply did with its topics (-want +got):\n%s", diff)
	}
	wantTopics := []string{"shop.existing", "shop.other", "shop.shared"}
	deadline := time.Now().Add(30 * time.Second)
	for got := f.topics(); !cmp.Equal(wantTopics, got); got = f.topics() {
		if time.Now().After(deadline) {
			t.Fatalf("topics: %v, want %v", got, wantTopics)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p := f.plan(other); p.HasChanges() {
		t.Errorf("the winner's configuration still plans changes: %v", summary(p))
	}
}
