package planner

import (
	"sort"
	"strings"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// A pipeline with errors.tolerance = "all" names a dead-letter topic. One
// that no topic block declares is a resource of its own, at
// plan.DeadLetterAddress(name): plan shows it, apply creates it with the
// pipeline (1 partition, the broker's replication factor, as the worker
// would), and it is destroyed, with the warning every topic deletion
// carries, once no pipeline names it. A topic block that names it later
// takes it over without an import block (a move, records kept), and a
// dead-letter topic whose topic block is removed while pipelines still
// name it goes back to its own resource the same way. Workers still
// create a dead-letter topic that is missing when a task starts (one
// deleted by hand must not fail tasks).

// deadLetterTopics returns the dead-letter topics the configuration's
// pipelines write to, each with the addresses of the pipelines that name
// it, sorted.
func deadLetterTopics(cfg *lang.Config) map[string][]string {
	out := map[string][]string{}
	if cfg == nil {
		return out
	}
	for _, p := range cfg.Pipelines {
		if p.Errors.Tolerance == "all" && p.Errors.DeadLetterTopic != "" {
			out[p.Errors.DeadLetterTopic] = append(out[p.Errors.DeadLetterTopic], p.Address)
		}
	}
	for _, users := range out {
		sort.Strings(users)
	}
	return out
}

// deadLetters adds the dead-letter topics no topic block declares to the
// desired resources, moves a dead-letter topic between its own address and
// a topic block's as the configuration now declares it, and adopts the
// dead-letter topics that workers created before the state knew them.
func (pl *planner) deadLetters() {
	cfg := pl.in.Config
	declared := map[string]bool{}
	for _, t := range cfg.Topics {
		declared[t.Name] = true
	}
	ours := pl.workerMade()
	users := deadLetterTopics(cfg)
	for _, name := range sortedKeys(users) {
		if declared[name] {
			continue
		}
		addr := plan.DeadLetterAddress(name)
		used := strings.Join(users[name], ", ")
		switch owner := pl.topicOwner(name); {
		case owner == addr:
		case owner != "" && pl.desired[owner] == nil:
			// Its topic block was removed, and pipelines still name it:
			// it goes back to a resource of its own, records kept.
			pl.moveTopic(owner, addr)
		case owner != "":
			// Another resource still manages the name (a topic block
			// renaming away from it): creating it is the error
			// checkCreate reports.
		case pl.in.Live != nil && pl.liveTopic(name) && ours[name]:
			pl.adoptDeadLetter(addr, name, used)
		case pl.in.Live != nil && pl.liveTopic(name):
			// Someone else's topic, or one an interrupted apply created
			// (adopt takes that over): checkCreate decides.
		default:
			pl.note(plan.NoteDeadLetter, addr, "%s is the dead-letter topic of %s, which no topic block declares: apply creates it with 1 partition, and a later plan destroys it once no pipeline names it. To choose its settings, declare a topic block named %q: it takes the topic over, with no import block.", addr, used, name)
		}
		if pr, ok := pl.prior[addr]; ok {
			// Nothing is declared about it: it stays as it is.
			kept := *pr
			pl.desired[addr] = &kept
			continue
		}
		pl.desired[addr] = &control.Resource{Address: addr, Kind: control.KindTopic,
			Topic: &control.TopicSpec{Name: name, Partitions: 1, ReplicationFactor: -1}}
	}
	for _, t := range cfg.Topics {
		if _, known := pl.prior[t.Address]; known {
			continue
		}
		// A topic block that declares a dead-letter topic the state
		// holds at its own address takes it over.
		if from := plan.DeadLetterAddress(t.Name); pl.prior[from] != nil && pl.desired[from] == nil {
			pl.moveTopic(from, t.Address)
			continue
		}
		// One that declares a dead-letter topic a worker created adopts it.
		if pl.in.Live != nil && pl.liveTopic(t.Name) && ours[t.Name] && pl.topicOwner(t.Name) == "" {
			pl.adoptDeadLetter(t.Address, t.Name, "the fleet's pipelines")
		}
	}
}

// workerMade returns the dead-letter topics that the workers create when
// they are missing: those the pipelines of the state name. One that
// exists without being in the state was made by a worker (before pipectl
// planned dead-letter topics, or after someone deleted it), so it is
// pipectl's own to adopt.
func (pl *planner) workerMade() map[string]bool {
	out := map[string]bool{}
	for _, r := range pl.in.State.Resources {
		if r.Kind == control.KindPipeline && r.Pipeline != nil && r.Pipeline.Errors.Tolerance == "all" && r.Pipeline.Errors.DeadLetterTopic != "" {
			out[r.Pipeline.Errors.DeadLetterTopic] = true
		}
	}
	return out
}

// adoptDeadLetter takes over an existing dead-letter topic that a worker
// created, as it is, at addr.
func (pl *planner) adoptDeadLetter(addr, name, used string) {
	lt := pl.in.Live.Topics[name]
	d := pl.desired[addr]
	pl.prior[addr] = liveResource(addr, name, lt, d == nil || d.Topic.ReplicationFactor == -1)
	pl.imports[addr] = name
	pl.note(plan.NoteDeadLetter, addr, "The dead-letter topic %q of %s exists in Kafka, created by a worker, and the state does not know it: %s adopts it, with no import block.", name, used, addr)
}

// liveTopic reports whether the topic exists in Kafka.
func (pl *planner) liveTopic(name string) bool {
	_, ok := pl.in.Live.Topics[name]
	return ok
}

// moveTopic moves a prior topic resource to another address, as a moved
// block would.
func (pl *planner) moveTopic(from, to string) {
	moved := *pl.prior[from]
	moved.Address = to
	delete(pl.prior, from)
	pl.prior[to] = &moved
	orig := from
	if p, ok := pl.prev[from]; ok {
		orig = p
		delete(pl.prev, from)
	}
	pl.prev[to] = orig
}

// deadLetterOf returns the addresses of the dead-letter topic resources a
// pipeline writes to that no topic block declares (for -target).
func deadLetterOf(c *plan.Change) []string {
	if c.IsTopic() || c.After == nil || c.After.Pipeline == nil {
		return nil
	}
	e := c.After.Pipeline.Errors
	if e.Tolerance != "all" || e.DeadLetterTopic == "" {
		return nil
	}
	return []string{plan.DeadLetterAddress(e.DeadLetterTopic)}
}

// reservedDeadLetters refuses dead-letter topics that would be the
// fleet's own topics.
func (pl *planner) reservedDeadLetters() {
	fleet := pl.in.Config.Fleet.Name
	for _, p := range pl.in.Config.Pipelines {
		name := p.Errors.DeadLetterTopic
		for _, suffix := range []string{".configs", ".offsets", ".status"} {
			if name != "" && name == fleet+suffix {
				pl.errorf(ptr(p.DeclRange), "Reserved topic name",
					"%s names %q as its dead-letter topic, which is the fleet's own %s topic. Choose another name.", p.Address, name, strings.TrimPrefix(suffix, "."))
			}
		}
	}
}
